"""The evaluation stage: gate the candidate against the opponent, rate it against the anchors, refit the scale.

Every game is stored as it finishes a batch (one transaction per batch), so an evaluation that is killed still
leaves its games for the ratings, and the evaluation row says it did not finish.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from app.core.config import Settings, get_settings
from app.core.errors import InvalidConfig
from app.core.progress import ProgressFn, no_progress
from app.core.records import from_attributes
from app.evaluation import store
from app.evaluation.arena import PlayedGame, play_rotated
from app.evaluation.config import EvalConfig, EvalResult, RatedPlayer
from app.evaluation.players import make_agent, resolve_name
from app.evaluation.ratings import RatingTable
from app.evaluation.scale import scale_fit
from app.evaluation.sprt import GSPRT
from app.games.base import Game, random_openings
from app.games.registry import make_game
from app.search.types import Agent

# Shares of the progress bar: the gate dominates; anchors and calibration follow.
_GATE_SHARE, _ANCHOR_SHARE = 0.8, 0.15


def run_evaluation(
    cfg: EvalConfig, *, settings: Settings | None = None, progress: ProgressFn = no_progress
) -> EvalResult:
    settings = settings or get_settings()
    game = make_game(cfg.board_type, cfg.num_players)
    key = cfg.config_key
    candidate = resolve_name(cfg.candidate, key, settings)
    opponent = resolve_name(cfg.opponent, key, settings)
    if candidate == opponent:
        raise InvalidConfig(
            f"the candidate {candidate!r} is the {cfg.opponent} model itself; nothing to evaluate"
        )

    agents: dict[str, Agent] = {}

    def agent(name: str) -> Agent:
        if name not in agents:
            agents[name] = make_agent(name, game, settings, num_simulations=cfg.num_simulations)
        return agents[name]

    rng = np.random.default_rng(cfg.seed)
    evaluation_id = store.create_evaluation(
        settings, config_key=key, candidate=candidate, opponent=opponent, config=cfg.model_dump(mode="json")
    )
    started = time.perf_counter()
    try:
        lineup = _lineup(game, agent(candidate), agent(opponent))
        test = _gate(
            cfg, game, lineup, rng=rng, settings=settings, evaluation_id=evaluation_id, progress=progress
        )

        anchors = [a for a in cfg.anchors if a not in (candidate, opponent)]
        anchor_games = _anchor_games(
            cfg, game, agent, candidate, anchors,
            rng=rng, settings=settings, evaluation_id=evaluation_id, progress=progress,
        )  # fmt: skip
        calibration_games = _calibrate(
            cfg, game, agent, rng=rng, settings=settings, evaluation_id=evaluation_id
        )
        gate_seconds = time.perf_counter() - started

        progress(0.97, "fitting ratings")
        table = scale_fit(settings, key)  # the anchors pinned once calibrated
        result = _result(
            cfg, test, table,
            evaluation_id=evaluation_id, candidate=candidate, opponent=opponent,
            anchor_games=anchor_games, calibration_games=calibration_games, seconds=gate_seconds,
        )  # fmt: skip
        store.finish_evaluation(
            settings, evaluation_id, decision=result.decision, result=result.model_dump(mode="json")
        )
    except BaseException as exc:
        store.fail_evaluation(settings, evaluation_id, error=f"{type(exc).__name__}: {exc}")
        raise
    progress(
        1.0,
        f"{result.decision}: {result.games} games, score {result.score:.3f}, "
        f"Elo {result.elo_delta:+.0f} [{result.elo_ci_low:+.0f}, {result.elo_ci_high:+.0f}]",
    )
    return result


def _anchor_games(
    cfg: EvalConfig,
    game: Game,
    agent: Callable[[str], Agent],
    candidate: str,
    anchors: list[str],
    *,
    rng: np.random.Generator,
    settings: Settings,
    evaluation_id: str,
    progress: ProgressFn,
) -> int:
    """The candidate's games against each anchor (stored as purpose 'anchor'); how many were played."""
    played = 0
    for i, anchor in enumerate(anchors):
        progress(_GATE_SHARE + _ANCHOR_SHARE * i / max(1, len(anchors)), f"{candidate} vs anchor {anchor}")
        played += _play_and_store(
            cfg, game, _lineup(game, agent(candidate), agent(anchor)), cfg.anchors_games,
            rng=rng, settings=settings, evaluation_id=evaluation_id, purpose="anchor",
        )  # fmt: skip
    return played


def _lineup(game: Game, first: Agent, second: Agent) -> list[Agent]:
    """``first`` against ``second``; in 3-4 player games the other seats are further copies of ``second``."""
    return [first, second] + [second] * (game.num_players - 2)


def _gate(
    cfg: EvalConfig,
    game: Game,
    lineup: Sequence[Agent],
    *,
    rng: np.random.Generator,
    settings: Settings,
    evaluation_id: str,
    progress: ProgressFn,
) -> GSPRT:
    paired = game.num_players == 2
    test = GSPRT(
        elo0=cfg.elo0, elo1=cfg.elo1, alpha=cfg.alpha, beta=cfg.beta, paired=paired, max_games=cfg.max_games
    )
    per_group = game.num_players
    group = 0
    while not test.finished:
        groups = min(max(1, cfg.batch_games // per_group), (cfg.max_games - test.games) // per_group)
        if groups == 0:
            break  # the cap leaves room for less than one group: stop, inconclusive
        openings = random_openings(game, groups, num_moves=cfg.opening_moves, rng=rng)
        played = play_rotated(game, lineup, openings, rng=rng, first_group=group)
        group += groups
        store.save_games(
            settings,
            cfg.config_key,
            [g for grp in played for g in grp],
            purpose="gate",
            evaluation_id=evaluation_id,
        )
        if paired:
            test.add_pairs([[g.points(0, 1) for g in grp] for grp in played])
        else:
            test.add_games([g.points(0, 1) for grp in played for g in grp])
        r = test.result()
        progress(
            _GATE_SHARE * min(1.0, r.games / cfg.max_games),
            f"gate: {r.games} games, score {r.score:.3f}, LLR {r.llr:+.2f} [{r.llr_lower:.2f}, {r.llr_upper:.2f}]",
        )
    return test


def _play_and_store(
    cfg: EvalConfig,
    game: Game,
    lineup: Sequence[Agent],
    games: int,
    *,
    rng: np.random.Generator,
    settings: Settings,
    evaluation_id: str,
    purpose: str,
) -> int:
    """Play at least ``games`` games (whole opening groups, in batches) and store them; returns how many."""
    groups_needed = math.ceil(games / game.num_players)
    per_batch = max(1, cfg.batch_games // game.num_players)
    played_games = 0
    group = 0
    while group < groups_needed:
        n = min(per_batch, groups_needed - group)
        openings = random_openings(game, n, num_moves=cfg.opening_moves, rng=rng)
        played: list[PlayedGame] = [g for grp in play_rotated(game, lineup, openings, rng=rng) for g in grp]
        store.save_games(settings, cfg.config_key, played, purpose=purpose, evaluation_id=evaluation_id)
        played_games += len(played)
        group += n
    return played_games


def _calibrate(
    cfg: EvalConfig,
    game: Game,
    agent: Callable[[str], Agent],
    *,
    rng: np.random.Generator,
    settings: Settings,
    evaluation_id: str,
) -> int:
    """Top up games between neighbouring anchors so the fixed points stay linked to ``random`` and each other."""
    played = 0
    for weaker, stronger in zip(cfg.anchors, cfg.anchors[1:], strict=False):
        have = store.count_games_between(settings, cfg.config_key, [weaker, stronger])
        missing = cfg.calibration_games - have
        if missing > 0:
            played += _play_and_store(
                cfg, game, _lineup(game, agent(stronger), agent(weaker)), missing,
                rng=rng, settings=settings, evaluation_id=evaluation_id, purpose="calibration",
            )  # fmt: skip
    return played


def _rated(table: RatingTable, name: str) -> RatedPlayer | None:
    r = table.get(name)
    if r is None:
        return None
    return from_attributes(RatedPlayer, r)


def _result(
    cfg: EvalConfig,
    test: GSPRT,
    table: RatingTable,
    *,
    evaluation_id: str,
    candidate: str,
    opponent: str,
    anchor_games: int,
    calibration_games: int,
    seconds: float,
) -> EvalResult:
    r = test.result()
    total = r.games + anchor_games + calibration_games
    unrated = EvalResult(
        **r.model_dump(),
        evaluation_id=evaluation_id,
        config_key=cfg.config_key,
        candidate=candidate,
        opponent=opponent,
        anchor_games=anchor_games,
        calibration_games=calibration_games,
        candidate_rating=None,
        ratings=[],
        seconds=seconds,
        games_per_s=total / seconds if seconds > 0 else 0.0,
    )
    return rated_result(unrated, table, cfg.anchors)


def rated_result(result: EvalResult, table: RatingTable, anchors: Sequence[str]) -> EvalResult:
    """``result`` with its ratings read from ``table``: the candidate's, and those of its opponent and the anchors
    (a remote evaluation's games are rated where they are stored, on the node)."""
    candidate, opponent = result.candidate, result.opponent
    names = [candidate, opponent, *[a for a in anchors if a not in (candidate, opponent)]]
    ratings = [p for p in (_rated(table, n) for n in names) if p is not None]
    return result.model_copy(update={"candidate_rating": _rated(table, candidate), "ratings": ratings})


def config_ratings(config_key: str, *, settings: Settings | None = None) -> RatingTable:
    """The rating table of a config key over every stored arena game, the anchors pinned once calibrated."""
    # Imported here: the ratings table is read by the web layer, which needs no game kernels until then.
    from app.games.registry import game_for_key

    game_for_key(config_key)  # a clear error for an unknown or malformed key
    return scale_fit(settings or get_settings(), config_key)
