"""The loop's gate settings (``gate_<name>``) reach the evaluation job under the names ``EvalConfig`` gives them."""

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
