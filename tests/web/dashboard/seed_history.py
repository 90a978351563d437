"""A small loop history for dashboard tests, written through the real service functions.

``hex6_2p`` gets five generations. Arena game outcomes are sampled from a Bradley-Terry model with known
strengths (no networks play, so seeding takes a second), but everything downstream is the real thing: games
stored with ``app.evaluation.store``, the real GSPRT gate deciding on them, ``EvalResult`` rows and evidence,
ratings fitted by ``fit_ratings``, models registered and promoted with ``ModelLifecycle``, events recorded and
a recommendation applied with ``PipelineFeedback``, jobs submitted, claimed and finished with the job store.

- v1: gate against ``random``, accepted, straight to PRODUCTION (later superseded)
- v2, v3: gate against the production model, accepted, STAGING then PRODUCTION (v3 is production)
- v4: gate against v3, rejected, RETIRED
- v5: TRAINING (no games yet: unrated)

``connect4_3p`` gets two models and no games (a config key whose ratings are still empty).
Jobs: a succeeded selfplay and a failed training job of ``hex6_2p`` (finished here), and two ``sleep`` jobs left
queued for the node under test to run: one long with steady progress, one queued behind it on a one-slot node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from app.core.config import Settings
from app.core.jobs import JobCreate
from app.evaluation import store as eval_store
from app.evaluation.arena import PlayedGame
from app.evaluation.config import EvalConfig, EvalResult, RatedPlayer
from app.evaluation.ratings import fit_ratings
from app.evaluation.sprt import GSPRT
from app.integration.feedback import FeedbackType, PipelineFeedback
from app.p2p import leased
from app.p2p import store as job_store
from app.registry import ModelLifecycle, ModelStage

KEY = "hex6_2p"
OTHER_KEY = "connect4_3p"
ANCHORS = ("random", "rollout_mcts_50", "rollout_mcts_200")
# True logistic Elo of each player; the fitted ratings land near these.
STRENGTH = {
    "random": 0.0,
    "rollout_mcts_50": 260.0,
    "rollout_mcts_200": 470.0,
    f"{KEY}_v1": 140.0,
    f"{KEY}_v2": 300.0,
    f"{KEY}_v3": 430.0,
    f"{KEY}_v4": 330.0,
}
EPOCHS = 8


@dataclass
class SeededHistory:
    config_key: str = KEY
    models: list[str] = field(default_factory=list)
    rated_models: list[str] = field(default_factory=list)
    production: str | None = None
    evaluations: list[str] = field(default_factory=list)
    running_job: str | None = None
    queued_job: str | None = None
    failed_job: str | None = None
    succeeded_job: str | None = None
    applied_recommendation: str | None = None


class Arena:
    """Samples paired games (seats swapped over a shared opening) between players of known strength."""

    def __init__(self, settings: Settings, seed: int = 7):
        self.settings = settings
        self.rng = np.random.default_rng(seed)
        self.group = 0

    def pairs(self, a: str, b: str, n: int) -> list[list[PlayedGame]]:
        p_a = 1.0 / (1.0 + 10.0 ** ((STRENGTH[b] - STRENGTH[a]) / 400.0))
        out = []
        for _ in range(n):
            opening = tuple(int(x) for x in self.rng.choice(36, size=2, replace=False))
            pair = []
            for rotation in (0, 1):
                a_wins = bool(self.rng.random() < p_a)
                seats = (a, b) if rotation == 0 else (b, a)
                a_seat = rotation
                returns = [-1.0, -1.0]
                returns[a_seat if a_wins else 1 - a_seat] = 1.0
                moves = opening + tuple(int(x) for x in self.rng.integers(0, 36, size=10))
                pair.append(PlayedGame(seats, tuple(returns), opening, moves, self.group, rotation))
            self.group += 1
            out.append(pair)
        return out

    def store(self, pairs: list[list[PlayedGame]], purpose: str, evaluation_id: str | None) -> int:
        games = [g for pair in pairs for g in pair]
        return eval_store.save_games(self.settings, KEY, games, purpose=purpose, evaluation_id=evaluation_id)


def evaluate(arena: Arena, candidate: str, opponent: str, *, calibrate: bool) -> EvalResult:
    """A gate of ``candidate`` against ``opponent`` as the evaluation stage runs it, on sampled games."""
    cfg = EvalConfig(
        board_type="hex6",
        num_players=2,
        candidate=candidate,
        opponent=opponent,
        max_games=400,
        purpose="gate",
    )
    settings = arena.settings
    evaluation_id = eval_store.create_evaluation(
        settings, config_key=KEY, candidate=candidate, opponent=opponent, config=cfg.model_dump(mode="json")
    )
    test = GSPRT(
        elo0=cfg.elo0, elo1=cfg.elo1, alpha=cfg.alpha, beta=cfg.beta, paired=True, max_games=cfg.max_games
    )
    while not test.finished:
        pairs = arena.pairs(candidate, opponent, 6)
        arena.store(pairs, "gate", evaluation_id)
        test.add_pairs([[g.points(0, 1) for g in pair] for pair in pairs])
    anchor_games = 0
    for anchor in ANCHORS[:2]:
        if anchor != opponent:
            anchor_games += arena.store(arena.pairs(candidate, anchor, 8), "anchor", evaluation_id)
    calibration = 0
    if calibrate:
        for weak, strong in zip(ANCHORS, ANCHORS[1:], strict=False):
            calibration += arena.store(arena.pairs(strong, weak, 8), "calibration", evaluation_id)
    table = fit_ratings(eval_store.game_results(settings, KEY))

    def rated(name: str) -> RatedPlayer | None:
        r = table.get(name)
        return None if r is None else RatedPlayer(**{k: getattr(r, k) for k in RatedPlayer.model_fields})

    r = test.result()
    result = EvalResult(
        **r.model_dump(), evaluation_id=evaluation_id, config_key=KEY, candidate=candidate, opponent=opponent,
        anchor_games=anchor_games,
        calibration_games=calibration, candidate_rating=rated(candidate),
        ratings=[p for p in (rated(n) for n in (candidate, opponent, *ANCHORS)) if p is not None],
        seconds=1.0, games_per_s=float(r.games + anchor_games + calibration),
    )  # fmt: skip
    eval_store.finish_evaluation(
        settings, evaluation_id, decision=result.decision, result=result.model_dump(mode="json")
    )
    return result


def _training_history(generation: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """Per-epoch metrics shaped like ``TrainResult.history``: losses fall, accuracy rises, val trails train."""
    rows = []
    for epoch in range(1, EPOCHS + 1):
        decay = math.exp(-epoch / 3.0)
        base = 1.0 / generation
        noise = lambda: float(rng.normal(0.0, 0.01))  # noqa: E731
        policy = 1.9 + 1.2 * decay * base + 0.25 * base + noise()
        value = 0.55 + 0.35 * decay + 0.1 * base + noise()
        accuracy = 0.62 - 0.3 * decay - 0.08 * base + noise()
        row = {
            "epoch": float(epoch),
            "train/policy_loss": policy,
            "train/value_loss": value,
            "train/loss": policy + value,
            "train/policy_accuracy": accuracy,
            "train/value_mse": value / 2,
            "val/policy_loss": policy + 0.06 + 0.01 * epoch / EPOCHS,
            "val/value_loss": value + 0.04,
            "val/loss": policy + value + 0.1,
            "val/policy_accuracy": accuracy - 0.03,
            "val/value_mse": value / 2 + 0.02,
            "lr": 2e-3 * 0.5 * (1 + math.cos(math.pi * epoch / EPOCHS)),
        }
        rows.append(row)
    return rows


def _register(lifecycle: ModelLifecycle, version: int, parent: str | None, rng: np.random.Generator) -> str:
    model_id = f"{KEY}_v{version}"
    # TrainConfig.hyperparameters() of such a run, written out: importing the training stage loads torch.
    hyperparameters = {
        "board_type": "hex6", "num_players": 2, "epochs": EPOCHS, "batch_size": 256, "learning_rate": 2e-3,
        "weight_decay": 1e-4, "lr_schedule": "cosine", "warmup_fraction": 0.05, "final_lr_fraction": 0.05,
        "value_loss_weight": 1.0, "max_grad_norm": 10.0, "replay_window": 500_000, "validation_fraction": 0.1,
        "augment": True, "net": {"blocks": 4, "channels": 32, "policy_channels": 2, "value_channels": 1,
        "value_hidden": 64}, "parent_model_id": parent, "init": "production" if parent else "scratch",
        "output_model_id": model_id, "seed": version, "amp": True,
    }  # fmt: skip
    history = _training_history(version, rng)
    shards = [f"{KEY}-selfplay-{version:03d}-{i:02d}" for i in range(3, -1, -1)]
    lifecycle.register_model(
        model_id,
        ModelStage.TRAINING,
        parent_model_id=parent,
        training_config=hyperparameters,
        metrics={k: v for k, v in history[-1].items() if k != "epoch"},
        metadata={
            "history": history,
            "shards": shards,
            "positions": {"train": 36_000 * version, "val": 4_000 * version},
            "games": 1_000 * version,
        },
        reason="training job started",
    )
    return model_id


def _finished_job(settings: Settings, job_type: str, config: dict, *, result=None, error=None) -> str:
    """A job taken through the job table's real path: submitted, claimed by a node, finished."""
    job = job_store.submit(settings, JobCreate(type=job_type, config=config))
    (claim,) = job_store.claim(settings, node_id="seed-node", executor="local", limit=1)
    assert claim.job_id == job.id, "seeding expects an empty queue"
    leased.report_progress(settings, job.id, claim.lease, 0.4, "working")
    if error is None:
        leased.record_success(settings, job.id, claim.lease, result)
    else:
        leased.record_failure(settings, job.id, claim.lease, error)
    return job.id


def seed_history(settings: Settings, *, running_seconds: float = 600.0) -> SeededHistory:
    """Write the history described in the module docstring into ``settings``' data directory."""
    rng = np.random.default_rng(11)
    lifecycle = ModelLifecycle(settings)
    feedback = PipelineFeedback(settings)
    arena = Arena(settings)
    out = SeededHistory()

    production: str | None = None
    for version in (1, 2, 3, 4):
        model_id = _register(lifecycle, version, production, rng)
        out.models.append(model_id)
        final = lifecycle.get_model(model_id).metrics
        feedback.record(
            FeedbackType.TRAINING_COMPLETE,
            model_id,
            {
                "policy_loss": final["train/policy_loss"],
                "value_loss": final["train/value_loss"],
                "val_policy_loss": final["val/policy_loss"],
                "val_value_loss": final["val/value_loss"],
            },
        )
        lifecycle.promote_model(model_id, ModelStage.EVALUATION, reason="training finished")
        opponent = production or "random"
        result = evaluate(arena, model_id, opponent, calibrate=version == 1)
        out.evaluations.append(result.evaluation_id)
        evidence = result.evidence()
        feedback.record(
            FeedbackType.EVALUATION_RESULT,
            model_id,
            {k: evidence[k] for k in ("elo_delta", "elo_ci_low", "elo_ci_high", "games", "score", "llr")},
            context={"opponent": opponent},
        )
        promoted = result.decision == "accept"
        if promoted:
            if production is not None:
                lifecycle.promote_model(
                    model_id, ModelStage.STAGING, reason="gate accepted", evidence=evidence
                )
            lifecycle.promote_to_production(
                model_id,
                elo_delta=result.elo_delta,
                reason=f"gate accepted against {opponent}",
                evidence=evidence,
            )
            production = model_id
        else:
            lifecycle.promote_model(
                model_id,
                ModelStage.RETIRED,
                reason=f"gate {result.decision} against {opponent}",
                evidence=evidence,
            )
        feedback.record(FeedbackType.PROMOTION_DECISION, model_id, {"promoted": int(promoted)})
    out.production = production

    # The weak result of v4 against v3 makes the weak_win_rate rule recommend more search; acting on it
    # leaves an applied mark. The pipeline error after it makes the retry rule speak (left open).
    for rec in feedback.get_recommendations(KEY):
        if rec.rule == "weak_win_rate":
            feedback.mark_applied(rec)
            out.applied_recommendation = rec.identity
    feedback.record(
        FeedbackType.PIPELINE_ERROR,
        config_key=KEY,
        metrics={"error": "selfplay worker exited with signal 9 (killed) after 212 of 400 games"},
        context={"stage": "selfplay"},
    )

    v5 = _register(lifecycle, 5, production, rng)
    lifecycle.update_model(v5, metadata={"history": []})  # still training: no finished epoch yet
    out.models.append(v5)
    table = fit_ratings(eval_store.game_results(settings, KEY))
    out.rated_models = [m for m in out.models if table.get(m) is not None]

    lifecycle.register_model(f"{OTHER_KEY}_v1", ModelStage.STAGING, reason="imported")
    lifecycle.promote_to_production(f"{OTHER_KEY}_v1", reason="first model of the config")
    lifecycle.register_model(f"{OTHER_KEY}_v2", ModelStage.EVALUATION, parent_model_id=f"{OTHER_KEY}_v1")

    out.succeeded_job = _finished_job(
        settings,
        "selfplay",
        {"board_type": "hex6", "num_players": 2, "games": 400, "model_id": production},
        result={"games": 400, "positions": 11_873, "shard": f"{KEY}-selfplay-004-00"},
    )
    out.failed_job = _finished_job(
        settings,
        "training",
        {"board_type": "hex6", "num_players": 2, "epochs": 8},
        error=(
            "Traceback (most recent call last):\n"
            '  File "app/training/run.py", line 131, in run_training\n'
            "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
        ),
    )
    steps = max(1, int(running_seconds))
    out.running_job = job_store.submit(
        settings, JobCreate(type="sleep", config={"seconds": running_seconds, "progress_steps": steps})
    ).id
    out.queued_job = job_store.submit(
        settings, JobCreate(type="sleep", config={"seconds": 30}, priority=-1)
    ).id
    return out
