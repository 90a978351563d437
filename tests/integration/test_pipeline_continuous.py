"""mode="continuous": selfplay as a fleet of long-running jobs that pick up the newest model between shards, and a
trainer that publishes a candidate once the fleet has written a cycle's games, at a fixed reuse ratio. The state
stays as consistent as in the synchronous loop, and a kill of the process group anywhere resumes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.core.jobs import JobPublic, JobState
from app.core.names import UNIFORM, parse_model_id
from app.integration import pipeline_stages as stages
from app.integration.pipeline import Pipeline, PipelineStopped
from app.integration.pipeline_config import CycleSettings
from app.p2p import store as job_store
from app.p2p.local_jobs import LocalJobs
from app.selfplay.config import FollowRule
from app.storage.db import session_scope
from app.storage.models.pipeline import StepRow
from app.storage.shards import ShardStore

from .test_pipeline import KEY, check_invariants, kill_at, tiny_config


def continuous_config():
    """Two-game shards and three-shard jobs: a cycle's 8 games take a few jobs, so slots are refilled often."""
    return tiny_config().model_copy(
        update={
            "mode": "continuous",
            "selfplay_jobs": 1,
            "selfplay_shard_games": 2,
            "continuous_job_shards": 3,
            "selfplay_model": "latest",
            "sample_reuse": 2.0,
        }
    )


def _steps(settings, prefix: str) -> list[StepRow]:
    with session_scope(settings) as s:
        query = select(StepRow).where(StepRow.config_key == KEY, StepRow.step.startswith(prefix))
        return list(s.scalars(query.order_by(StepRow.step)))


def _version(model: str) -> int:
    return 0 if model == UNIFORM else parse_model_id(model).version


@pytest.mark.slow
def test_a_continuous_run_trains_each_candidate_on_new_fleet_shards_at_the_reuse_ratio(settings):
    config = continuous_config()
    with LocalJobs(settings, slots=config.job_slots) as jobs:
        cycles = Pipeline(KEY, settings=settings, config=config, jobs=jobs).run(3)
    assert [c.status for c in cycles] == ["done"] * 3
    check_invariants(settings, 3, fleet=True)
    launches = _steps(settings, "fleet:")
    assert len(launches) >= 3  # jobs of three shards: slots were refilled as jobs ended
    assert {row.status for row in launches} <= {"ended", "stopped"}  # the end of the run cancelled the rest
    store = ShardStore(settings)
    for row in launches:
        job = job_store.get_job(settings, row.job_id)
        assert job.config["follow"]["model"] == "latest" and job.config["shard_games"] == 2
        played = [
            s.model_id or UNIFORM for s in store.records(KEY) if s.name.startswith(job.config["shard_name"])
        ]
        # Newest first in the index: a job only ever moves on to newer models, never back.
        assert [_version(m) for m in played] == sorted((_version(m) for m in played), reverse=True)
    for cycle in cycles:
        selfplay = next(r for r in _steps(settings, "selfplay") if r.cycle == cycle.cycle).result
        training = job_store.get_job(
            settings, next(r for r in _steps(settings, "training") if r.cycle == cycle.cycle).job_id
        )
        assert training.config["samples"] == round(selfplay["positions"] * 2.0)  # the ratio, however fast
    # The candidates reached selfplay within the run: some later shard was played by a trained candidate.
    assert any(s.model_id for s in store.records(KEY))


@pytest.mark.slow
def test_a_three_player_config_runs_continuously_for_a_few_candidates(settings):
    key = "connect4_3p"
    config = continuous_config().model_copy(update={"gate_max_games": 6, "anchors_games": 3})
    with LocalJobs(settings, slots=config.job_slots) as jobs:
        cycles = Pipeline(key, settings=settings, config=config, jobs=jobs).run(3)
    assert [c.status for c in cycles] == ["done"] * 3
    check_invariants(settings, 3, key=key, fleet=True)
    assert all(len(c.summary["ratings"]) >= 2 for c in cycles)  # three-player games are rated too


def test_fleet_jobs_split_a_cycles_games_into_shards_and_each_launch_has_its_own_name_and_seed():
    from .test_pipeline_fleet import _cycle

    config, s = continuous_config(), CycleSettings(selfplay_games=160, num_simulations=4)
    follow = FollowRule(model="latest", after_version=3)
    one, two = (
        stages.fleet_job_config(
            config.model_copy(update={"selfplay_shard_games": 64}), _cycle(3), s, board_type="hex5",
            num_players=2, launch=launch, jobs=1, model_id="hex5_2p_v3", follow=follow,
        )
        for launch in (1, 2)
    )  # fmt: skip
    assert (one.shard_games, one.games) == (54, 54 * 3)  # 160 games in three shards of at most 64
    assert (one.shard_name, two.shard_name) == ("fleet0001", "fleet0002") and one.seed != two.seed
    assert one.follow == follow and one.num_simulations == 4
    assert stages.fleet_shard_games(config, CycleSettings(selfplay_games=160), jobs=2) == 2
    assert stages.fleet_size(config.model_copy(update={"selfplay_jobs": 0}), s, lambda: 3) == 2


class _FakeJobs:
    """A job client that runs nothing: submitted jobs stay queued until the test ends them."""

    def __init__(self):
        self.jobs: dict[str, JobPublic] = {}

    def submit(self, job_type, config, **options):
        job_id = f"j{len(self.jobs) + 1}"
        now = datetime.now(UTC)
        self.jobs[job_id] = JobPublic(
            id=job_id, type=job_type, state=JobState.QUEUED, config=config, progress=0.0, created_at=now,
            updated_at=now,
        )  # fmt: skip
        return job_id

    def status(self, job_id):
        return self.jobs[job_id]

    def end(self, job_id, state: JobState, error: str | None = None):
        self.jobs[job_id] = self.jobs[job_id].model_copy(update={"state": state, "error": error})

    def cancel(self, job_id):
        self.end(job_id, JobState.CANCELLED)
        return self.jobs[job_id]

    def slots(self):
        return 2


def _pipeline_with_fake_jobs(settings, **update):
    jobs = _FakeJobs()
    pipeline = Pipeline(
        KEY, settings=settings, config=continuous_config().model_copy(update=update), jobs=jobs
    )
    cycle = pipeline._ensure_cycle(1)
    return pipeline, jobs, cycle


def test_changed_selfplay_settings_replace_the_fleet_and_an_ended_job_gives_its_slot_to_a_new_one(settings):
    pipeline, jobs, cycle = _pipeline_with_fake_jobs(settings, selfplay_jobs=2)
    s = CycleSettings(**cycle.settings)
    first = pipeline._keep_fleet(cycle, s)
    assert [launch.number for launch in first] == [1, 2] and len(jobs.jobs) == 2
    assert [launch.number for launch in pipeline._keep_fleet(cycle, s)] == [1, 2]  # nothing changed: kept
    jobs.end(first[0].job_id, JobState.SUCCEEDED)  # job 1 wrote its shards and ended
    assert sorted(launch.number for launch in pipeline._keep_fleet(cycle, s)) == [2, 3]
    stronger = s.model_copy(update={"num_simulations": s.num_simulations * 2})  # the feedback loop's change
    replaced = pipeline._keep_fleet(cycle, stronger)
    assert sorted(launch.number for launch in replaced) == [4, 5]
    assert jobs.status(first[1].job_id).state is JobState.CANCELLED
    assert jobs.status(replaced[0].job_id).config["num_simulations"] == s.num_simulations * 2
    statuses = {row.step: row.status for row in _steps(settings, "fleet:")}
    assert statuses == {
        "fleet:0001": "ended", "fleet:0002": "replaced", "fleet:0003": "replaced",
        "fleet:0004": "submitted", "fleet:0005": "submitted",
    }  # fmt: skip
    pipeline._stop_fleet()
    assert all(jobs.status(launch.job_id).state is JobState.CANCELLED for launch in replaced)


def test_a_fleet_whose_jobs_keep_failing_stops_the_pipeline_with_the_error(settings):
    pipeline, jobs, cycle = _pipeline_with_fake_jobs(settings, max_step_attempts=2)
    s = CycleSettings(**cycle.settings)
    for _ in range(2):
        (launch,) = pipeline._keep_fleet(cycle, s)
        jobs.end(launch.job_id, JobState.FAILED, "Traceback ...\nRuntimeError: out of shared memory")
    with pytest.raises(
        PipelineStopped, match="last 2 selfplay fleet jobs failed; last error: RuntimeError: out of"
    ):
        pipeline._keep_fleet(cycle, s)


def test_after_a_rollback_the_fleet_is_replaced_and_follows_only_candidates_trained_from_then_on(settings):
    from tests.tiny_models import register_tiny_model

    pipeline, jobs, cycle = _pipeline_with_fake_jobs(settings)
    (before,) = pipeline._keep_fleet(cycle, CycleSettings(**cycle.settings))
    register_tiny_model(settings, f"{KEY}_v5")  # a candidate of the line the rollback abandons
    later = pipeline.state.create_cycle(
        2,
        settings=cycle.settings,
        changes=[{"action": "rollback"}],
        candidate_model_id=f"{KEY}_v6",
        opponent=UNIFORM,
    )
    (after,) = pipeline._keep_fleet(later, CycleSettings(**later.settings))
    assert jobs.status(before.job_id).state is JobState.CANCELLED
    assert jobs.status(after.job_id).config["follow"] == {
        "model": "latest",
        "run": "main",
        "after_version": 5,
    }


def test_a_cycle_takes_the_newest_two_cycles_of_games_and_skips_older_ones_for_good(settings):
    """Selfplay far ahead of the trainer (the generation-0 player needs no network): the cycle trains on fresh data
    at its ratio; the older shards stay in the window, and no later cycle takes them."""
    import numpy as np

    from app.storage.shards import ShardData

    pipeline, jobs, cycle = _pipeline_with_fake_jobs(settings, cycle=CycleSettings(selfplay_games=8))
    store = ShardStore(settings)
    for k in range(5):
        data = ShardData(
            np.zeros((4, 3, 5, 5), np.float32), np.full((4, 25), 0.04, np.float32), np.zeros((4, 2), np.float32),
            np.arange(4),
        )  # fmt: skip
        store.write(KEY, f"fleet0001-{k:03d}", data)
    result = pipeline._collect_step(cycle)
    assert result.shards == [f"fleet0001-{k:03d}" for k in (1, 2, 3, 4)] and result.positions == 16
    assert pipeline.state.step(1, "selfplay").result["skipped"] == ["fleet0001-000"]
    assert pipeline._taken_shards() == {f"fleet0001-{k:03d}" for k in range(5)}
    pipeline._stop_fleet()


@pytest.mark.slow
def test_a_kill_of_the_process_group_anywhere_in_a_continuous_run_then_a_rerun_finishes_consistently(
    settings, home
):
    # Inside a fleet job's shard writing, inside training, inside a gate, and the second candidate's training.
    points = ((1, "fleet:0001"), (1, "training"), (1, "evaluation"), (2, "training"))
    kill_at(settings, home, points, "2", "continuous", signal_group=True)
    config = continuous_config()
    with LocalJobs(get_settings(), slots=config.job_slots) as jobs:
        cycles = Pipeline(KEY, settings=get_settings(), config=config, jobs=jobs).run(2)
    assert [c.status for c in cycles] == ["done", "done"]
    check_invariants(settings, 2, fleet=True)
