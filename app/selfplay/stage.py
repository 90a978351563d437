"""The selfplay stage: resolve the model, play, write the shards and the game records.

A shard name is written once: running the same config again finds the shards and returns their records without
playing, so a job that is retried or re-run after a crash never duplicates data. With ``shard_games`` a run writes
a shard every that many games, and a rerun plays only the shards not yet written.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import select

from app.core.config import Settings, get_settings
from app.core.names import UNIFORM
from app.core.progress import ProgressFn, no_progress
from app.games.base import Game
from app.games.registry import make_game
from app.nn import uniform_evaluator
from app.registry import has_checkpoint, newest_trained, production_model_id, registered_evaluator
from app.search import MCTSConfig
from app.search.types import EvaluateFn
from app.selfplay.config import SelfplayConfig, SelfplayResult
from app.selfplay.play import GameRecord, PlaySettings, play_games
from app.storage.base import utcnow
from app.storage.db import session_scope
from app.storage.models.selfplay import SelfplayGameRow
from app.storage.shards import ShardData, ShardRecord, ShardStore


def run_selfplay(
    cfg: SelfplayConfig, *, settings: Settings | None = None, progress: ProgressFn = no_progress
) -> SelfplayResult:
    settings = settings or get_settings()
    game = make_game(cfg.board_type, cfg.num_players)
    model_id = _resolve_model_id(settings, cfg)
    store = ShardStore(settings)
    name = cfg.shard_name or f"{model_id}_s{cfg.seed}_g{cfg.games}"
    parts = _parts(cfg, name)
    play = PlaySettings(
        temperature=cfg.temperature,
        temperature_moves=cfg.temperature_moves,
        resign_threshold=cfg.resign_threshold,
        resign_consecutive=cfg.resign_consecutive,
        resign_disabled_fraction=cfg.resign_disabled_fraction if cfg.resign_threshold is not None else 0.0,
        value_q_weight=cfg.value_q_weight,
        full_search_fraction=cfg.full_search_fraction,
        cheap_simulations=cfg.cheap_simulations,
        opening_moves=cfg.opening_moves,
    )
    evaluate_fn: EvaluateFn | None = None  # loaded only if a part is left to play
    shards, seconds, done, played = [], 0.0, 0, 0
    for part in parts:
        shard = store.find(cfg.config_key, part.name)
        if shard is None:
            following = next_model(settings, cfg, model_id)
            if following != model_id:
                model_id, evaluate_fn = following, None
            evaluate_fn = evaluate_fn or _evaluator(settings, game, model_id)
            started = time.perf_counter()
            shard = _play_part(settings, cfg, game, evaluate_fn, play, part, model_id, store, done, progress)
            seconds += time.perf_counter() - started
            played += 1
        shards.append(shard)
        done += part.games
    reused = played == 0
    progress(1.0, f"shard {parts[0].name} already exists; nothing replayed" if reused else f"{done} games")
    return selfplay_result(settings, cfg, name, shards, seconds=seconds, reused=reused)


def next_model(settings: Settings, cfg: SelfplayConfig, playing: str) -> str:
    """Who plays the next shard, asked before each one. ``follow``: the model its rule names now (``playing``
    while it names none). ``successor``: that model once it is registered with its checkpoint, so the job
    switches once, never back. Neither: ``playing``."""
    rule = cfg.follow
    if rule is not None:
        if rule.model == "production":
            named = production_model_id(settings, cfg.config_key, rule.run)
        else:
            named = newest_trained(settings, cfg.config_key, rule.run, after_version=rule.after_version)
        return named or playing
    if cfg.successor is not None and playing != cfg.successor and has_checkpoint(settings, cfg.successor):
        return cfg.successor
    return playing


@dataclass(frozen=True)
class _Part:
    name: str
    games: int
    seed: int | list[int]


def _parts(cfg: SelfplayConfig, name: str) -> list[_Part]:
    """The shards of a run: one (``shard_games`` unset) or one every ``shard_games`` games, each seeded apart."""
    size = cfg.shard_games
    if size is None or size >= cfg.games:
        return [_Part(name, cfg.games, cfg.seed)]
    counts = [size] * (cfg.games // size) + ([cfg.games % size] if cfg.games % size else [])
    return [_Part(f"{name}-{k:03d}", n, [cfg.seed, k]) for k, n in enumerate(counts)]


def _play_part(
    settings: Settings,
    cfg: SelfplayConfig,
    game: Game,
    evaluate_fn: EvaluateFn,
    play: PlaySettings,
    part: _Part,
    model_id: str,
    store: ShardStore,
    done: int,
    progress: ProgressFn,
) -> ShardRecord:
    """Play one shard's games and write them: records first, then the shard that marks the part done."""
    positions, records = play_games(
        game,
        evaluate_fn,
        _mcts_config(cfg, game),
        games=part.games,
        parallel_games=min(cfg.parallel_games, part.games),
        play=play,
        rng=np.random.default_rng(part.seed),
        progress=lambda f, m: progress(
            0.98 * (done + f * part.games) / cfg.games, f"{done + round(f * part.games)}/{cfg.games} games"
        ),
    )
    data = ShardData(
        planes=positions.planes, policy=positions.policy, value=positions.value, game_id=positions.game_id
    )
    return store_part(settings, store, cfg.config_key, part.name, model_id, data, records)


def store_part(
    settings: Settings,
    store: ShardStore,
    config_key: str,
    name: str,
    model_id: str,
    data: ShardData,
    records: list[GameRecord],
) -> ShardRecord:
    """Index one played part: its game records, then the shard that marks it done (a Ray job's node calls this
    with what the remote task played)."""
    # Records first: they are keyed by (shard, game) and skipped when present, so a crash between the two
    # writes leaves nothing that a rerun would duplicate; the shard's appearance marks the part as done.
    _write_records(settings, config_key, name, model_id, records)
    return store.write(config_key, name, data, model_id=None if model_id == UNIFORM else model_id)


def _resolve_model_id(settings: Settings, cfg: SelfplayConfig) -> str:
    if cfg.model_id is not None:
        return cfg.model_id
    return production_model_id(settings, cfg.config_key) or UNIFORM


def _evaluator(settings: Settings, game: Game, model_id: str) -> EvaluateFn:
    if model_id == UNIFORM:
        return uniform_evaluator(game.action_size, game.num_players)
    return registered_evaluator(settings, model_id, game)


def _mcts_config(cfg: SelfplayConfig, game: Game) -> MCTSConfig:
    alpha = cfg.dirichlet_alpha
    if alpha is None:
        # AlphaZero scales noise inversely to the branching factor: 0.3 for chess, 0.03 for Go.
        alpha = min(1.0, 10.0 / max(1, int(game.legal_mask(game.initial_state()).sum())))
    base = MCTSConfig(
        num_simulations=cfg.num_simulations,
        c_puct=cfg.c_puct,
        dirichlet_alpha=alpha,
        dirichlet_epsilon=cfg.dirichlet_epsilon,
        gumbel=cfg.gumbel,
        solver=cfg.solver,
    )
    if cfg.gumbel:
        base = replace(base, max_considered_actions=min(16, cfg.num_simulations))
    return base


def _write_records(
    settings: Settings, config_key: str, shard_name: str, model_id: str, records: list[GameRecord]
) -> None:
    now = utcnow()
    with session_scope(settings) as s:
        present = set(
            s.scalars(
                select(SelfplayGameRow.game_index).where(
                    SelfplayGameRow.config_key == config_key, SelfplayGameRow.shard_name == shard_name
                )
            )
        )
        s.add_all(
            SelfplayGameRow(
                config_key=config_key, shard_name=shard_name, model_id=model_id, created_at=now, **_columns(r)
            )
            for r in records
            if r.index not in present
        )


def _columns(record: GameRecord) -> dict[str, Any]:
    """A game record as its row's columns (the row calls the index ``game_index`` and stores the length)."""
    columns = asdict(record)
    columns["game_index"] = columns.pop("index")
    return {**columns, "length": record.length}


def selfplay_result(
    settings: Settings,
    cfg: SelfplayConfig,
    name: str,
    shards: list[ShardRecord],
    *,
    seconds: float,
    reused: bool,
) -> SelfplayResult:
    """The run's result, counted over the game records of ``shards`` as this installation indexed them; the
    model of each shard is the one its index records."""
    with session_scope(settings) as s:
        rows = s.scalars(
            select(SelfplayGameRow).where(
                SelfplayGameRow.config_key == cfg.config_key,
                SelfplayGameRow.shard_name.in_([shard.name for shard in shards]),
            )
        ).all()
    wins = [0] * cfg.num_players
    draws = resignations = false_resign = checks = 0
    for r in rows:
        returns = np.asarray(r.returns)
        best = returns.max()
        if np.all(returns == best):
            draws += 1
        else:
            for seat in np.flatnonzero(returns == best):
                wins[int(seat)] += 1
        resignations += r.resigned_by is not None
        if r.would_resign is not None:
            checks += 1
            false_resign += bool(returns[r.would_resign] > returns.min() or returns.max() == returns.min())
    games = len(rows)
    positions = sum(int(shard.positions) for shard in shards)
    models = [shard.model_id or UNIFORM for shard in shards]
    return SelfplayResult(
        config_key=cfg.config_key,
        model_id=models[0],
        shard_name=name,
        shard_path=str(shards[0].path),
        shards=[shard.name for shard in shards],
        shard_models=models,
        games=games,
        positions=positions,
        reused=reused,
        seconds=round(seconds, 3),
        games_per_s=games / seconds if seconds > 0 else 0.0,
        positions_per_s=positions / seconds if seconds > 0 else 0.0,
        mean_length=float(np.mean([r.length for r in rows])) if rows else 0.0,
        wins_by_seat=wins,
        draws=draws,
        resignations=resignations,
        false_resignations=false_resign,
        resign_checks=checks,
    )
