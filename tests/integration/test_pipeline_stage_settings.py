"""The loop's settings reach its training and evaluation jobs: the gate's (``gate_<name>``) under the names
``EvalConfig`` gives them, the trainer's as ``TrainConfig`` fields."""

from __future__ import annotations

from app.integration import pipeline_stages
from app.integration.pipeline import Pipeline

from .test_pipeline import KEY, tiny_config


def test_gate_settings_reach_the_evaluation_job(settings):
    gate = {"gate_max_games": 10, "gate_elo0": -5.0, "gate_elo1": 25.0, "gate_alpha": 0.02, "gate_beta": 0.2}
    config = tiny_config().model_copy(update=gate)
    with Pipeline(KEY, settings=settings, config=config, jobs=object()) as pipeline:
        cycle = pipeline._ensure_cycle(1)
        evaluation = pipeline_stages.evaluation_config(
            pipeline.config, cycle, pipeline.config.cycle, opponent="random", board_type="hex5", num_players=2
        )
    assert (evaluation.max_games, evaluation.elo0, evaluation.elo1, evaluation.alpha, evaluation.beta) == (
        10, -5.0, 25.0, 0.02, 0.2
    )  # fmt: skip
    assert evaluation.purpose == "gate" and evaluation.candidate == cycle.candidate_model_id


def _training(settings, **update):
    from app.selfplay import SelfplayResult

    config = tiny_config().model_copy(update=update)
    with Pipeline(KEY, settings=settings, config=config, jobs=object()) as pipeline:
        cycle = pipeline._ensure_cycle(1)
        selfplay = SelfplayResult(
            config_key=KEY, model_id="uniform", shard_name="cycle0001", shard_path="x", games=8, positions=80,
            reused=False, seconds=1.0, games_per_s=8.0, positions_per_s=80.0, mean_length=10.0,
            wins_by_seat=[4, 4], draws=0, resignations=0, false_resignations=0, resign_checks=0,
        )  # fmt: skip
        return pipeline_stages.training_config(
            pipeline.config, cycle, pipeline.config.cycle, selfplay, parent=f"{KEY}_v0", board_type="hex5",
            num_players=2,
        )  # fmt: skip


def test_a_continuous_trainer_continues_the_parents_moments_at_a_constant_learning_rate(settings):
    continuous = _training(settings, trainer="continuous")
    assert continuous.optimizer_from_parent and continuous.lr_schedule == "constant"
    default = _training(settings)
    assert not default.optimizer_from_parent and default.lr_schedule == "cosine"
    assert "optimizer_from_parent" not in default.hyperparameters()  # old runs keep their fingerprint
