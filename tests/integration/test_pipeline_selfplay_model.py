"""``selfplay_model``: selfplay plays the production model (the gate decides who plays) or the run's newest trained
candidate, accepted or not (the gate then decides only which model is production)."""

from __future__ import annotations

import dataclasses

import pytest

from app.core.names import UNIFORM
from app.integration import pipeline_stages
from app.integration.pipeline import Pipeline
from app.integration.pipeline_stages import playing_model
from app.p2p import store as job_store
from app.p2p.local_jobs import LocalJobs
from app.storage.shards import ShardStore

from .test_pipeline import KEY, tiny_config


def _played(settings, pipeline, cycles):
    """Per cycle: (who played its selfplay, who the gate played against, the candidate)."""
    rows = []
    for cycle in cycles:
        job = job_store.get_job(settings, pipeline.state.step(cycle.cycle, "selfplay").job_id)
        rows.append((job.config["model_id"], cycle.summary["opponent"], cycle.candidate_model_id))
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("who", ["latest", "production"])
def test_selfplay_plays_the_newest_trained_candidate_or_the_production_model(settings, who):
    config = tiny_config().model_copy(update={"selfplay_model": who})
    with LocalJobs(settings) as jobs, Pipeline(KEY, settings=settings, config=config, jobs=jobs) as pipeline:
        cycles = pipeline.run(3)
        assert [c.status for c in cycles] == ["done"] * 3
        played = _played(settings, pipeline, cycles)
        assert played[0][0] == UNIFORM  # nothing is trained before the first cycle
        for (model, _, _), (_, _, previous), cycle in zip(played[1:], played[:-1], cycles[1:], strict=True):
            expected = (
                previous if who == "latest" else playing_model(cycle)
            )  # production at the cycle's start
            assert model == expected and cycle.summary["selfplay_model"] == expected
        # The gate always plays the production model of its time, whoever played selfplay.
        for (_, gate_opponent, _), cycle in zip(played, cycles, strict=True):
            assert gate_opponent == cycle.summary["opponent"]
        third_shards = {
            r.model_id for r in ShardStore(settings).records(KEY) if r.name.startswith("cycle0003")
        }
        assert third_shards == {None if played[2][0] == UNIFORM else played[2][0]}  # recorded per shard

        # A cycle that began with a rollback plays its own playing model: the line before it is abandoned.
        third = cycles[2]
        rolled = dataclasses.replace(third, changes=[*third.changes, {"action": "rollback"}])
        assert pipeline._selfplay_model(rolled) == playing_model(third)
        if who == "latest":
            after = dataclasses.replace(third, cycle=4, changes=[])
            assert pipeline._selfplay_model(after) == third.candidate_model_id


@pytest.mark.parametrize(
    ("update", "switches"),
    [
        ({"mode": "async", "selfplay_model": "latest", "selfplay_switch": True}, True),
        ({"mode": "gate_async", "selfplay_model": "latest", "selfplay_switch": True}, True),
        (
            {"mode": "sync", "selfplay_model": "latest", "selfplay_switch": True},
            False,
        ),  # nothing trains beside it
        ({"mode": "async", "selfplay_model": "production", "selfplay_switch": True}, False),
        ({"mode": "async", "selfplay_model": "latest"}, False),  # off by default
    ],
)
def test_an_overlapped_latest_selfplay_switches_to_the_candidate_training_beside_it(
    settings, update, switches
):
    config = tiny_config().model_copy(update=update)
    with Pipeline(KEY, settings=settings, config=config, jobs=object()) as pipeline:
        first, second = pipeline._ensure_cycle(1), pipeline._ensure_cycle(2)
        playing = pipeline._selfplay_model(second)
        successor = pipeline._successor(second, playing)
        assert successor == (first.candidate_model_id if switches else None)
        job = pipeline_stages.selfplay_config(
            pipeline.config, second, pipeline.config.cycle, board_type="hex5", num_players=2,
            model_id=playing, successor=successor,
        )  # fmt: skip
        assert job.successor == successor and job.model_id == playing
        rolled = dataclasses.replace(second, changes=[{"action": "rollback"}])
        assert pipeline._successor(rolled, playing) is None  # a rollback abandons the line it continues
