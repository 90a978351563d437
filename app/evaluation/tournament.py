"""Round-robins: every lineup of the given players plays the same number of games, seats rotated and openings
paired, and the games are stored so that the anchored rating table of the config key takes them in.

For two-player games every pair of players meets; for P > 2 every combination of P players sits at one table. A
lineup plays ``games_per_lineup`` games: ``games_per_lineup / P`` random openings, each once per seat rotation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.config import Settings, get_settings
from app.core.errors import InvalidConfig
from app.core.progress import ProgressFn, no_progress
from app.evaluation import store
from app.evaluation.arena import PlayedGame, play_rotated
from app.evaluation.players import make_agent, resolve_name
from app.evaluation.ratings import RatingTable
from app.evaluation.scale import scale_fit
from app.games.base import random_openings
from app.games.registry import game_for_key
from app.search.types import Agent


@dataclass(frozen=True)
class TournamentResult:
    """``players``: rating identities in the order given; ``points[i][j]``/``games[i][j]``: points player i
    scored against player j (1 ahead, 0.5 level, 0 behind, per game where both sat) and those games.
    ``ratings``: the config key's anchored table over every stored game, these included."""

    config_key: str
    players: tuple[str, ...]
    points: tuple[tuple[float, ...], ...]
    games: tuple[tuple[int, ...], ...]
    games_played: int
    ratings: RatingTable

    def score(self, i: int, j: int) -> float | None:
        """Player i's mean score against player j; None when they never met."""
        return self.points[i][j] / self.games[i][j] if self.games[i][j] else None


def run_tournament(
    config_key: str,
    players: Sequence[str],
    *,
    games_per_lineup: int = 40,
    num_simulations: int = 64,
    opening_moves: int = 2,
    seed: int = 0,
    settings: Settings | None = None,
    progress: ProgressFn = no_progress,
) -> TournamentResult:
    """Play the round-robin of ``players`` on ``config_key``, store its games, and rate and tabulate them."""
    settings = settings or get_settings()
    game = game_for_key(config_key)
    names = [resolve_name(p, config_key, settings) for p in players]
    _check_lineup(names, players, game.num_players, games_per_lineup, num_simulations)
    agents: dict[str, Agent] = {
        n: make_agent(n, game, settings, num_simulations=num_simulations) for n in names
    }
    rng = np.random.default_rng(seed)
    index = {n: i for i, n in enumerate(names)}
    p = len(names)
    points, counts = np.zeros((p, p)), np.zeros((p, p), dtype=np.int64)
    lineups = list(itertools.combinations(names, game.num_players))
    played_total = 0
    for k, lineup in enumerate(lineups):
        progress(k / len(lineups), " vs ".join(lineup))
        openings = random_openings(
            game, games_per_lineup // game.num_players, num_moves=opening_moves, rng=rng
        )
        groups = play_rotated(game, [agents[n] for n in lineup], openings, rng=rng, first_group=played_total)
        played: list[PlayedGame] = [g for group in groups for g in group]
        store.save_games(settings, config_key, played, purpose="match")
        played_total += len(played)
        for g in played:
            for a, b in itertools.permutations(range(len(lineup)), 2):
                points[index[lineup[a]], index[lineup[b]]] += g.points(a, b)
                counts[index[lineup[a]], index[lineup[b]]] += 1
    progress(1.0, f"{played_total} games")
    return TournamentResult(
        config_key=config_key,
        players=tuple(names),
        points=tuple(tuple(float(x) for x in row) for row in points),
        games=tuple(tuple(int(x) for x in row) for row in counts),
        games_played=played_total,
        ratings=scale_fit(settings, config_key),  # the anchors pinned once calibrated
    )


def _check_lineup(
    names: list[str], given: Sequence[str], seats: int, games_per_lineup: int, num_simulations: int
) -> None:
    if len(set(names)) != len(names):
        twice = sorted({f"{g} ({n})" for g, n in zip(given, names, strict=True) if names.count(n) > 1})
        raise InvalidConfig(f"a player is named twice: {', '.join(twice)}; list each player once")
    if len(names) < seats:
        raise InvalidConfig(
            f"a tournament of a {seats}-player game needs at least {seats} players, got {len(names)}"
        )
    if games_per_lineup < seats or games_per_lineup % seats:
        raise InvalidConfig(
            f"games per {'pair' if seats == 2 else 'table'} must be a positive multiple of {seats} "
            f"(each opening is played once per seat rotation), got {games_per_lineup}"
        )
    if num_simulations < 1:
        raise InvalidConfig(f"simulations must be at least 1, got {num_simulations}")
