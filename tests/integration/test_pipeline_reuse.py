"""The pipeline's fixed sample-reuse ratio: samples trained per cycle = new selfplay positions x ratio."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.integration import pipeline_stages
from app.integration.pipeline import Pipeline
from app.p2p import store as job_store
from app.p2p.local_jobs import LocalJobs

from .test_pipeline import KEY, tiny_config


def _training(pipeline, cycle, positions):
    selfplay = SimpleNamespace(positions=positions)
    return pipeline_stages.training_config(
        pipeline.config,
        cycle,
        pipeline.config.cycle,
        selfplay,
        parent="uniform",
        board_type="hex5",
        num_players=2,
    )


@pytest.mark.parametrize("positions", [37, 4_000])  # slow selfplay (few new positions) and fast (many)
def test_the_training_budget_follows_new_positions_times_the_ratio(settings, positions):
    config = tiny_config().model_copy(update={"sample_reuse": 6.0})
    with Pipeline(KEY, settings=settings, config=config, jobs=object()) as pipeline:
        cycle = pipeline._ensure_cycle(1)
        train = _training(pipeline, cycle, positions)
    assert train.samples == 6 * positions
    assert train.epochs == 1  # still passed on, but the budget decides


def test_without_a_ratio_training_runs_epochs_over_the_window(settings):
    with Pipeline(KEY, settings=settings, config=tiny_config(), jobs=object()) as pipeline:
        cycle = pipeline._ensure_cycle(1)
        train = _training(pipeline, cycle, 500)
    assert "samples" not in pipeline_stages.job_config(train)


def test_a_cycle_trains_exactly_its_new_positions_times_the_ratio(settings):
    config = tiny_config().model_copy(update={"sample_reuse": 2.5})
    with LocalJobs(settings) as jobs, Pipeline(KEY, settings=settings, config=config, jobs=jobs) as pipeline:
        (cycle,) = pipeline.run(1)
    steps = {s: pipeline.state.step(1, s) for s in ("selfplay", "training")}
    positions = steps["selfplay"].result["positions"]
    assert positions > 0 and cycle.status == "done"
    assert steps["training"].result["samples_trained"] == round(positions * 2.5)
    job = job_store.get_job(settings, steps["training"].job_id)
    assert job.config["samples"] == round(positions * 2.5)


def test_the_training_job_runs_on_the_loops_torch_threads(settings):
    config = tiny_config().model_copy(update={"train_threads": 2})
    with Pipeline(KEY, settings=settings, config=config, jobs=object()) as pipeline:
        cycle = pipeline._ensure_cycle(1)
        assert pipeline_stages.job_config(_training(pipeline, cycle, 100))["num_threads"] == 2
    # Unset: every core in the synchronous loop (the trainer runs alone), one when selfplay runs beside it.
    for mode, threads in (("sync", 0), ("async", 1), ("gate_async", 1)):
        config = tiny_config().model_copy(update={"mode": mode})
        with Pipeline(KEY, settings=settings, config=config, jobs=object()) as pipeline:
            assert _training(pipeline, pipeline._ensure_cycle(1), 100).num_threads == threads
