"""What a pipeline cycle asks of each stage and what it reads back: the stages' own pydantic models.

Configs are built and validated here, before they are submitted (a mistake is an error in the pipeline, not a job
that fails later); results come back from the job table through the stages' result models. Only the fields the
pipeline sets are sent (``model_dump(exclude_unset=True)``), so a job reads the same as before a stage gained a
new field with a default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from app.core.cores import threads_for, usable_cores
from app.core.names import MAIN_RUN, UNIFORM, PlayerKind, parse_player
from app.evaluation.config import EvalConfig, EvalResult
from app.integration.feedback_types import TRAINING_METRICS
from app.integration.pipeline_config import CycleSettings, PipelineConfig
from app.integration.pipeline_state import Cycle
from app.selfplay.config import FollowRule, SelfplayConfig, SelfplayResult
from app.training.config import TrainConfig, TrainResult

STAGE_RESULTS: dict[str, type[BaseModel]] = {
    "selfplay": SelfplayResult,
    "training": TrainResult,
    "evaluation": EvalResult,
}


def job_config(config: BaseModel) -> dict[str, Any]:
    """A stage config as the job table stores it: the fields that were set, as JSON values."""
    return config.model_dump(mode="json", exclude_unset=True)


def cycle_seed(config: PipelineConfig, cycle: Cycle) -> int:
    return config.seed * 1000 + cycle.cycle


def shard_prefix(cycle: Cycle) -> str:
    """What a run's shard names start with: nothing in main (``cycle0001``), ``<run>-`` in another run."""
    return "" if cycle.run == MAIN_RUN else f"{cycle.run}-"


def playing_model(cycle: Cycle) -> str:
    """The model that plays selfplay and is the gate's opponent (production when the cycle began, or UNIFORM)."""
    return UNIFORM if parse_player(cycle.opponent).kind is PlayerKind.UNIFORM else cycle.opponent


PART_SEED_STRIDE = 1_000_003
"""Seed offset between the selfplay parts of one cycle (a prime: no part shares another cycle's seed)."""


def selfplay_parts(config: PipelineConfig, s: CycleSettings, slots: Callable[[], int]) -> int:
    """How many jobs the cycle's selfplay is split into: the cycle's ``selfplay_slots`` (lane_balance's), else
    ``selfplay_jobs``, never more than its games. With both 0 one per slot the job system offers now (``slots()``),
    less the other lane's in async mode."""
    wanted = s.selfplay_slots or config.selfplay_jobs or selfplay_slots_max(config, slots)
    return max(1, min(wanted, s.selfplay_games))


def selfplay_slots_max(config: PipelineConfig, slots: Callable[[], int]) -> int:
    """The slots the cycle's selfplay may fill: every slot, less the other lane's in async mode."""
    return max(1, slots() - (1 if config.overlapped else 0))


def trainer_threads(config: PipelineConfig, s: CycleSettings) -> int:
    """The training job's torch threads: the cycle's ``trainer_cores`` (lane_balance's), else the run's."""
    return s.trainer_cores or config.trainer_threads


def selfplay_config(
    config: PipelineConfig,
    cycle: Cycle,
    s: CycleSettings,
    *,
    board_type: str,
    num_players: int,
    part: int = 1,
    parts: int = 1,
    model_id: str | None = None,
    successor: str | None = None,
) -> SelfplayConfig:
    """Part ``part`` of ``parts`` of the cycle's selfplay: its share of the games, its own seed and shard name
    (part 1 is named and seeded as an unsplit selfplay is). ``model_id``: who plays (default: ``playing_model``);
    ``successor``: the model it switches to between shards once that is registered (``Pipeline._successor``)."""
    if not 1 <= part <= parts:
        raise ValueError(f"part must be in 1..{parts}, got {part}")
    games, extra = divmod(s.selfplay_games, parts)
    extras: dict[str, Any] = {}
    # Sent only when changed from their defaults, so jobs stored before these settings existed read the same.
    if config.solver:
        extras["solver"] = True
    if config.full_search_fraction < 1:
        extras.update(
            full_search_fraction=config.full_search_fraction, cheap_simulations=config.cheap_simulations
        )
    if config.selfplay_opening_moves:
        extras["opening_moves"] = config.selfplay_opening_moves
    if successor is not None:
        extras["successor"] = successor
    return SelfplayConfig(
        board_type=board_type,
        num_players=num_players,
        games=games + (1 if part <= extra else 0),
        model_id=model_id or playing_model(cycle),
        num_simulations=s.num_simulations,
        parallel_games=config.parallel_games,
        temperature_moves=config.temperature_moves,
        value_q_weight=config.value_q_weight,
        gumbel=config.gumbel,
        **extras,
        seed=cycle_seed(config, cycle) + PART_SEED_STRIDE * (part - 1),
        shard_name=f"{shard_prefix(cycle)}cycle{cycle.cycle:04d}" + (f"-part{part}" if part > 1 else ""),
        shard_games=config.selfplay_shard_games,
    )


MAX_FLEET_GAMES = 1_000_000  # SelfplayConfig's bound on one job's games


def fleet_size(config: PipelineConfig, s: CycleSettings, slots: Callable[[], int]) -> int:
    """The long-running selfplay jobs of ``mode=continuous``: the cycle's ``selfplay_slots`` (lane_balance's), else
    ``selfplay_jobs``, else one per slot the job system offers less the trainer's lane."""
    return max(1, s.selfplay_slots or config.selfplay_jobs or selfplay_slots_max(config, slots))


def fleet_shard_games(config: PipelineConfig, s: CycleSettings, jobs: int) -> int:
    """Games per shard of a fleet job: each job's share of a cycle's games in equal shards of at most
    ``selfplay_shard_games``, so that the cycle's games are reached without a large overshoot."""
    share = math.ceil(s.selfplay_games / jobs)
    shards = math.ceil(share / (config.selfplay_shard_games or share))
    return math.ceil(share / shards)


def fleet_name(cycle: Cycle, launch: int) -> str:
    """The shard name of fleet job ``launch`` of the cycle's run (its shards are ``<name>-<k>``)."""
    return f"{shard_prefix(cycle)}fleet{launch:04d}"


def fleet_job_config(
    config: PipelineConfig,
    cycle: Cycle,
    s: CycleSettings,
    *,
    board_type: str,
    num_players: int,
    launch: int,
    jobs: int,
    model_id: str,
    follow: FollowRule,
) -> SelfplayConfig:
    """Fleet job ``launch`` (``mode=continuous``): the cycle's selfplay settings, ``continuous_job_shards`` shards
    of ``fleet_shard_games`` games, its own seed and name; it starts with ``model_id`` and plays what ``follow``
    names before each shard."""
    base = selfplay_config(
        config, cycle, s, board_type=board_type, num_players=num_players, model_id=model_id
    )
    size = fleet_shard_games(config, s, jobs)
    return SelfplayConfig.model_validate(
        {
            **job_config(base),
            "games": min(MAX_FLEET_GAMES, size * config.continuous_job_shards),
            "shard_games": size,
            "shard_name": fleet_name(cycle, launch),
            "seed": cycle_seed(config, cycle) + PART_SEED_STRIDE * launch,
            "follow": follow.model_dump(),
        }
    )


def training_config(
    config: PipelineConfig,
    cycle: Cycle,
    s: CycleSettings,
    selfplay: SelfplayResult,
    *,
    parent: str,
    board_type: str,
    num_players: int,
) -> TrainConfig:
    """Train the cycle's candidate from ``parent`` (``UNIFORM``: fresh weights of the configured preset)."""
    extras: dict[str, Any] = {}
    if config.sample_reuse is not None:
        extras["samples"] = max(1, round(selfplay.positions * config.sample_reuse))
    if shard_prefix(cycle):
        extras["shard_prefix"] = shard_prefix(cycle)  # a run trains on its own shards only
    if config.trainer == "continuous":
        extras.update(optimizer_from_parent=True, lr_schedule="constant")
    if parent == UNIFORM:
        extras.update(init="scratch", net=config.net)
    else:
        extras["parent_model_id"] = parent
    return TrainConfig(
        board_type=board_type,
        num_players=num_players,
        epochs=s.epochs,
        batch_size=s.batch_size,
        learning_rate=s.learning_rate,
        replay_window=s.replay_window,
        output_model_id=cycle.candidate_model_id,
        seed=cycle_seed(config, cycle),
        num_threads=trainer_threads(config, s),
        **extras,
    )


def evaluation_config(
    config: PipelineConfig,
    cycle: Cycle,
    s: CycleSettings,
    *,
    opponent: str,
    board_type: str,
    num_players: int,
) -> EvalConfig:
    """The gate: the candidate against ``opponent`` (the production model, or generation 0), then the anchors."""
    return EvalConfig(
        board_type=board_type,
        num_players=num_players,
        candidate=cycle.candidate_model_id,
        opponent=opponent,
        **config.gate_test,
        num_simulations=s.num_simulations,
        anchors=config.anchors,
        anchors_games=config.anchors_games,
        seed=cycle_seed(config, cycle),
        purpose="gate",
    )


def gate_verdict(config: PipelineConfig, evaluation: EvalResult) -> tuple[bool, str]:
    """(promote?, the rule that decided) for a finished evaluation."""
    if evaluation.decision == "accept":
        return True, "SPRT accepted"
    low = evaluation.elo_ci_low
    if evaluation.decision == "inconclusive" and config.gate_accept_significant and low > config.gate_elo0:
        return (
            True,
            f"SPRT inconclusive at the cap, Elo interval above {config.gate_elo0:+g} (low {low:+.1f})",
        )
    return False, f"SPRT {evaluation.decision}"


def staging_evidence(evaluation: EvalResult) -> dict[str, Any]:
    """The gate's evidence plus what STAGING confirms: the candidate's rating on the anchored scale over its
    opponent's (production), both from the evaluation's one fit; left out when either is unrated."""
    evidence = evaluation.evidence()
    rated = {r.name: r.elo for r in evaluation.ratings}
    if evaluation.candidate_rating is not None and evaluation.opponent in rated:
        evidence["opponent_rating"] = rated[evaluation.opponent]
        evidence["rating_gain"] = evaluation.candidate_rating.elo - rated[evaluation.opponent]
    return evidence


def training_feedback(training: TrainResult) -> dict[str, float]:
    """The training result's last-epoch metrics in the feedback loop's (the seed's) vocabulary."""
    final = training.final
    return {
        ours: float(final[theirs])
        for ours, theirs in TRAINING_METRICS.items()
        if final.get(theirs) is not None
    }


def evaluation_feedback(evaluation: EvalResult) -> dict[str, float]:
    metrics = {
        "elo_delta": evaluation.elo_delta,
        "elo_ci_low": evaluation.elo_ci_low,
        "elo_ci_high": evaluation.elo_ci_high,
        "games": evaluation.games,
        "llr": evaluation.llr,
        "score": evaluation.score,
        "win_rate": evaluation.score,
    }
    if evaluation.candidate_rating is not None:
        metrics["elo"] = evaluation.candidate_rating.elo
    return {k: float(v) for k, v in metrics.items()}


def lane_metrics(
    config: PipelineConfig,
    s: CycleSettings,
    selfplay: SelfplayResult,
    training: TrainResult,
    evaluation: EvalResult,
    *,
    parts: int,
    max_parts: int,
) -> dict[str, float]:
    """Each stage's seconds and rate and the compute each lane had: what lane_balance weighs. They ride on the
    PROMOTION_DECISION event that closes the cycle."""
    seconds = evaluation.seconds
    return {
        "overlapped": 1.0 if config.overlapped else 0.0,
        "selfplay_s": selfplay.seconds,
        "training_s": training.seconds,
        "evaluation_s": seconds,
        "positions_per_s": selfplay.positions_per_s,
        "samples_per_s": training.samples_per_s,
        "gate_games_per_s": evaluation.games / seconds if seconds > 0 else 0.0,
        "selfplay_jobs": float(parts),
        "selfplay_slots_max": float(max_parts),
        "train_threads": float(threads_for(trainer_threads(config, s))),
        "cores": float(usable_cores()),
    }


def cycle_summary(
    cycle: Cycle, selfplay: SelfplayResult, training: TrainResult, evaluation: EvalResult, decision: str
) -> dict[str, Any]:
    """What the cycle row keeps for the CLI, the dashboard and the report (metric names as training spells them)."""
    final = training.final
    rating = evaluation.candidate_rating
    return {
        "cycle": cycle.cycle,
        "candidate": cycle.candidate_model_id,
        "opponent": evaluation.opponent,
        "selfplay_model": selfplay.model_id,
        "selfplay_models": list(
            dict.fromkeys(selfplay.shard_models)
        ),  # more than one: it switched between shards
        "selfplay_games": selfplay.games,
        "positions": selfplay.positions,
        "games_per_s": selfplay.games_per_s,
        **{name: final.get(name) for name in ("train/loss", "val/loss", "val/policy_loss", "val/value_loss")},
        "elo_delta": evaluation.elo_delta,
        "elo_ci": [evaluation.elo_ci_low, evaluation.elo_ci_high],
        "elo": rating.elo if rating else None,
        "elo_ci_anchored": [rating.ci_low, rating.ci_high] if rating else None,
        "ratings": [r.model_dump() for r in evaluation.ratings],
        "llr": evaluation.llr,
        "gate_games": evaluation.games,
        # Pairs scoring 0/0.5/1/1.5/2: when nearly all score 1, the openings decide the games, not the models.
        "gate_pentanomial": evaluation.pentanomial,
        "decision": decision,
        "changes": cycle.changes,
        "seconds": {
            "selfplay": selfplay.seconds,
            "training": training.seconds,
            "evaluation": evaluation.seconds,
        },
    }
