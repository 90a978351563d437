"""Playing many selfplay games at once through one batched search.

Pure: no files, no database. ``play_games`` returns the training positions and a record of every game.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from app.core.errors import InvalidConfig
from app.core.progress import ProgressFn, no_progress
from app.games.base import Game, State, random_openings
from app.search import BatchedMCTS, MCTSConfig, select_action
from app.search.types import EvaluateFn, SearchOutput


@dataclass(frozen=True, kw_only=True)
class PlaySettings:
    """Move choice and resignation (the search's own knobs are in ``MCTSConfig``)."""

    temperature: float = 1.0
    temperature_moves: int = 8
    resign_threshold: float | None = None
    resign_consecutive: int = 3
    resign_disabled_fraction: float = 0.1
    value_q_weight: float = 0.0
    """Value target = (1 - w) * game result + w * the search's root value (KataGo and Oracle's Connect Four
    study average the two: the root value is a lower-variance target than one game's result)."""
    full_search_fraction: float = 1.0
    """Playout cap randomisation (Wu 2019, KataGo): each move gets the full search with this probability and is
    recorded as a training position; the other moves get ``cheap_simulations`` without root noise, are played and
    are not recorded, so more games (and value signal) come from the same CPU time."""
    cheap_simulations: int = 16
    """Simulations of a cheap search (``full_search_fraction`` < 1)."""
    opening_moves: int = 0
    """Uniformly random moves that start each game, neither searched nor recorded (the gate's openings are made
    the same way). Without them a strong network's games repeat: with a Gumbel root the only randomness is the
    root's Gumbel noise, small against a peaked policy, and a long run's value loss falls to nearly nothing."""


@dataclass
class GameRecord:
    index: int
    moves: list[int] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    resigned_by: int | None = None
    resign_disabled: bool = False
    would_resign: int | None = None  # first player who would have resigned in a resign-disabled game

    @property
    def length(self) -> int:
        return len(self.moves)


@dataclass
class Positions:
    """Training positions. planes float32 [N,C,H,W]; policy float32 [N,A]; value float32 [N,P] mover-relative;
    game_id int64 [N] (index of the game within the run)."""

    planes: np.ndarray
    policy: np.ndarray
    value: np.ndarray
    game_id: np.ndarray


@dataclass
class _Live:
    record: GameRecord
    state: State
    planes: list[np.ndarray] = field(default_factory=list)
    policies: list[np.ndarray] = field(default_factory=list)
    movers: list[int] = field(default_factory=list)
    root_values: list[np.ndarray] = field(default_factory=list)
    low_streak: np.ndarray | None = None


def play_games(
    game: Game,
    evaluate_fn: EvaluateFn,
    mcts_config: MCTSConfig,
    *,
    games: int,
    parallel_games: int,
    play: PlaySettings,
    rng: np.random.Generator,
    progress: ProgressFn = no_progress,
) -> tuple[Positions, list[GameRecord]]:
    """Play ``games`` games, ``parallel_games`` at a time, every move chosen by one batched search call."""
    searches = _Searches(game, evaluate_fn, mcts_config, play)
    P = game.num_players
    started = 0
    live: list[_Live] = []
    done: list[_Live] = []

    def start_game() -> _Live:
        nonlocal started
        record = GameRecord(index=started, resign_disabled=bool(rng.random() < play.resign_disabled_fraction))
        started += 1
        state = game.initial_state()
        if play.opening_moves:
            (opening,) = random_openings(game, 1, num_moves=play.opening_moves, rng=rng)
            for action in opening:
                state = game.apply(state, action)
            record.moves = list(opening)
        return _Live(record=record, state=state, low_streak=np.zeros(P, dtype=np.int64))

    while len(live) < parallel_games and started < games:
        live.append(start_game())

    while live:
        results = searches.run([g.state for g in live], rng)
        still: list[_Live] = []
        for g, (out, i, full) in zip(live, results, strict=True):
            (done if _advance(game, g, out, i, full, play, rng) else still).append(g)
        while len(still) < parallel_games and started < games:
            still.append(start_game())
        live = still
        progress(len(done) / games, f"{len(done)}/{games} games")

    done.sort(key=lambda g: g.record.index)
    return _positions(done, P, play.value_q_weight), [g.record for g in done]


def _advance(
    game: Game, g: _Live, out: SearchOutput, i: int, full: bool, play: PlaySettings, rng: np.random.Generator
) -> bool:
    """One move of game ``g`` from its search result (row ``i`` of ``out``); True once the game is over."""
    mover = game.current_player(g.state)
    if full:
        g.planes.append(game.encode(g.state))
        g.policies.append(out.policy[i].astype(np.float32))
        g.movers.append(mover)
        g.root_values.append(out.root_values[i])
    if _resigns(g, mover, out.root_values[i], play):
        g.record.resigned_by = mover
        returns = np.full(game.num_players, 1.0, dtype=np.float32)
        returns[mover] = -1.0
        g.record.returns = returns.tolist()
        return True
    action = _choose(out, i, len(g.record.moves), play, rng)
    g.record.moves.append(action)
    g.state = game.apply(g.state, action)
    if game.is_terminal(g.state):
        g.record.returns = game.returns(g.state).astype(np.float32).tolist()
        return True
    return False


class _Searches:
    """The full search, and with playout cap randomisation the cheap one beside it."""

    def __init__(self, game: Game, evaluate_fn: EvaluateFn, config: MCTSConfig, play: PlaySettings) -> None:
        self.full = BatchedMCTS(game, evaluate_fn, config)
        self.fraction = play.full_search_fraction
        self.cheap = None
        if self.fraction < 1.0:
            cheap = replace(config, num_simulations=play.cheap_simulations)
            if cheap.gumbel:
                cheap = replace(
                    cheap, max_considered_actions=min(cheap.max_considered_actions, cheap.num_simulations)
                )
            self.cheap = BatchedMCTS(game, evaluate_fn, cheap)

    def run(self, states: list[State], rng: np.random.Generator) -> list[tuple[SearchOutput, int, bool]]:
        """For each state: (the search output holding it, its row there, whether it had the full search)."""
        if self.cheap is None:
            out = self.full.run(states, rng, add_noise=True)
            return [(out, i, True) for i in range(len(states))]
        full = rng.random(len(states)) < self.fraction
        results: list[tuple[SearchOutput, int, bool] | None] = [None] * len(states)
        for mask, search, is_full in ((full, self.full, True), (~full, self.cheap, False)):
            rows = np.flatnonzero(mask)
            if rows.size:
                out = search.run([states[r] for r in rows], rng, add_noise=is_full)
                for j, r in enumerate(rows):
                    results[r] = (out, j, is_full)
        return results  # type: ignore[return-value]


def _choose(out, i: int, move_number: int, play: PlaySettings, rng: np.random.Generator) -> int:
    if out.proven_action is not None and out.proven_action[i] >= 0:
        return int(out.proven_action[i])  # the solver's proven win: no temperature sampling past it
    if out.action is not None:
        # The Gumbel root already sampled (noise at the root) and halved down to one action.
        return int(out.action[i])
    temperature = play.temperature if move_number < play.temperature_moves else 0.0
    return int(select_action(out.visit_counts[i], temperature, rng))


def _resigns(g: _Live, mover: int, root_values: np.ndarray, play: PlaySettings) -> bool:
    """Two-player resignation on the mover's own root value; resign-disabled games only note it."""
    if play.resign_threshold is None:
        return False
    if root_values[mover] < play.resign_threshold:
        g.low_streak[mover] += 1
    else:
        g.low_streak[mover] = 0
    if g.low_streak[mover] < play.resign_consecutive:
        return False
    if g.record.resign_disabled:
        if g.record.would_resign is None:
            g.record.would_resign = mover
        return False
    return True


def _positions(done: list[_Live], num_players: int, q_weight: float) -> Positions:
    planes, policy, value, game_id = [], [], [], []
    for g in done:
        returns = np.asarray(g.record.returns, dtype=np.float32)
        for p, pol, mover, q in zip(g.planes, g.policies, g.movers, g.root_values, strict=True):
            planes.append(p)
            policy.append(pol)
            target = (1.0 - q_weight) * returns + q_weight * q if q_weight else returns
            # Mover-relative: index j is player (mover + j) % P, the order the network answers in.
            value.append(np.roll(target, -mover))
            game_id.append(g.record.index)
    if not planes:
        raise InvalidConfig(
            "no training positions: every move had the cheap search; raise full_search_fraction or play more games"
        )
    return Positions(
        planes=np.stack(planes).astype(np.float32),
        policy=np.stack(policy).astype(np.float32),
        value=np.stack(value).astype(np.float32),
        game_id=np.asarray(game_id, dtype=np.int64),
    )
