"""mode="async": the next cycle's selfplay runs beside this cycle's training and gate; mode="gate_async": beside
the gate only, once the candidate is trained. The state stays as consistent as in the synchronous loop, and a kill
anywhere resumes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.core.names import UNIFORM
from app.integration.feedback import FeedbackType, PipelineFeedback
from app.integration.pipeline import Pipeline
from app.p2p.local_jobs import LocalJobs
from app.storage.db import session_scope
from app.storage.models.jobs import JobRow
from app.storage.models.pipeline import StepRow
from app.storage.shards import ShardStore

from .test_pipeline import KEY, check_invariants, kill_at, tiny_config


def _async():
    return tiny_config().model_copy(update={"mode": "async"})


def _job(settings, cycle: int, step: str, key: str = KEY) -> JobRow:
    with session_scope(settings) as s:
        job_id = s.scalar(
            select(StepRow.job_id).where(
                StepRow.config_key == key, StepRow.cycle == cycle, StepRow.step == step
            )
        )
        return s.get(JobRow, job_id)


@pytest.mark.slow
def test_selfplay_of_the_next_cycle_runs_beside_training_and_the_state_stays_consistent(settings):
    with LocalJobs(settings, slots=2) as jobs:
        cycles = Pipeline(KEY, settings=settings, config=_async(), jobs=jobs).run(3)
    assert [c.status for c in cycles] == ["done"] * 3
    check_invariants(settings, 3)
    # Cycle 2's selfplay started before cycle 1's gate finished: the two lanes overlapped.
    assert _job(settings, 2, "selfplay").started_at < _job(settings, 1, "evaluation").finished_at
    # and cycle 3's selfplay waited for cycle 1 to be finished (one cycle of lookahead, no more).
    assert _job(settings, 3, "selfplay").created_at >= _job(settings, 1, "evaluation").finished_at
    # Each cycle's closing decision carries its stage rates, which lane_balance weighs.
    decisions = PipelineFeedback(settings).history(KEY, feedback_type=FeedbackType.PROMOTION_DECISION)
    assert len(decisions) == 3
    for event in decisions:
        assert event.metrics["overlapped"] == 1.0 and event.metrics["selfplay_jobs"] == 1.0
        assert event.metrics["selfplay_s"] > 0 and event.metrics["samples_per_s"] > 0
        assert event.metrics["gate_games_per_s"] > 0
    # Each gate played the production model of its time.
    first, second = cycles[0], cycles[1]
    assert second.summary["opponent"] == (
        f"{KEY}_v1" if first.summary["decision"] == "promoted" else "uniform_mcts_4"
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["async", "gate_async"])
def test_a_three_player_config_runs_asynchronously_for_a_few_candidates(settings, mode):
    key = "connect4_3p"
    config = tiny_config().model_copy(update={"mode": mode, "gate_max_games": 6, "anchors_games": 3})
    with LocalJobs(settings, slots=2) as jobs:
        cycles = Pipeline(key, settings=settings, config=config, jobs=jobs).run(3)
    assert [c.status for c in cycles] == ["done"] * 3
    check_invariants(settings, 3, key=key)
    steps = {
        (c, step): _job(settings, c, step, key) for c in (1, 2, 3) for step in ("selfplay", "evaluation")
    }
    # The lanes overlapped: the next cycle's selfplay started before this cycle's gate was over.
    assert any(steps[n + 1, "selfplay"].started_at < steps[n, "evaluation"].finished_at for n in (1, 2))
    assert all(len(c.summary["ratings"]) >= 2 for c in cycles)  # three-player games are rated too


@pytest.mark.slow
def test_a_kill_while_both_lanes_run_then_a_rerun_finishes_consistently(settings, home):
    points = ((1, "training"), (2, "selfplay"), (1, "evaluation"), (2, "training"))
    kill_at(settings, home, points, "2", "async")
    with LocalJobs(get_settings(), slots=2) as jobs:
        cycles = Pipeline(KEY, settings=get_settings(), config=_async(), jobs=jobs).run(2)
    assert [c.status for c in cycles] == ["done", "done"]
    check_invariants(settings, 2)


def _gate_async():
    return tiny_config().model_copy(update={"mode": "gate_async", "train_threads": 2})


@pytest.mark.slow
def test_gate_async_starts_the_next_selfplay_once_the_candidate_is_trained(settings):
    config = _gate_async()
    assert config.job_slots == 2
    with LocalJobs(settings, slots=config.job_slots) as jobs:
        cycles = Pipeline(KEY, settings=settings, config=config, jobs=jobs).run(3)
    assert [c.status for c in cycles] == ["done"] * 3
    check_invariants(settings, 3)
    for number in (1, 2):
        # The next cycle's selfplay waited for this cycle's candidate, and was under way before its gate ended.
        selfplay = _job(settings, number + 1, "selfplay")
        assert selfplay.created_at >= _job(settings, number, "training").finished_at
        assert selfplay.created_at < _job(settings, number, "evaluation").finished_at
    assert _job(settings, 1, "training").config["num_threads"] == 2  # the trainer had the machine to itself


@pytest.mark.slow
def test_a_kill_in_gate_async_then_a_rerun_finishes_consistently(settings, home):
    kill_at(settings, home, ((1, "evaluation"), (2, "selfplay"), (2, "training")), "2", "gate_async")
    config = tiny_config().model_copy(
        update={"mode": "gate_async"}
    )  # as tests.integration.pipeline_run has it
    with LocalJobs(get_settings(), slots=2) as jobs:
        cycles = Pipeline(KEY, settings=get_settings(), config=config, jobs=jobs).run(2)
    assert [c.status for c in cycles] == ["done", "done"]
    check_invariants(settings, 2)


@pytest.mark.slow
def test_an_async_latest_selfplay_is_sent_the_candidate_training_beside_it_and_records_who_played(settings):
    config = _async().model_copy(
        update={"selfplay_model": "latest", "selfplay_switch": True, "selfplay_shard_games": 2}
    )
    with LocalJobs(settings, slots=2) as jobs:
        cycles = Pipeline(KEY, settings=settings, config=config, jobs=jobs).run(3)
    assert [c.status for c in cycles] == ["done"] * 3
    store = ShardStore(settings)
    for previous, cycle in zip(cycles, cycles[1:], strict=False):
        job = _job(settings, cycle.cycle, "selfplay")
        start, successor = job.config["model_id"], job.config.get("successor")
        # Cycle 1's candidate trains while cycle 2's selfplay starts (and so on): it is the successor.
        assert successor in (None, previous.candidate_model_id) and start != successor
        models = [store.get(KEY, name).model_id or UNIFORM for name in job.result["shards"]]
        assert models == job.result["shard_models"] and models[0] == start
        switched = models.index(successor) if successor in models else len(models)
        assert set(models[:switched]) == {start} and set(models[switched:]) <= {successor}  # once, never back
        assert cycle.summary["selfplay_models"] == list(dict.fromkeys(models))
