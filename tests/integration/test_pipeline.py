"""The loop end to end on a tiny configuration: consistent state after cycles, after kills, and tuning."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.core.files import sha256_file
from app.integration import FeedbackType, ModelLifecycle, ModelStage, PipelineFeedback, pipeline_stages
from app.integration.pipeline import Pipeline
from app.integration.pipeline_config import CycleSettings, PipelineConfig
from app.p2p import store as job_store
from app.p2p.local_jobs import LocalJobs
from app.storage.db import session_scope
from app.storage.models.pipeline import StepRow
from app.storage.shards import ShardStore

KEY = "hex5_2p"
ROOT = Path(__file__).resolve().parents[2]


def tiny_config() -> PipelineConfig:
    return PipelineConfig(
        cycle=CycleSettings(
            selfplay_games=8, num_simulations=4, epochs=1, batch_size=32, replay_window=5_000
        ),
        parallel_games=8,
        gate_max_games=4,
        anchors=["random"],
        anchors_games=2,
    )


def check_invariants(settings, cycles: int, parts: int = 1, key: str = KEY, *, fleet: bool = False) -> None:
    """``parts``: the jobs each cycle's selfplay was split into (``selfplay_jobs``); ``key``: the config key;
    ``fleet``: selfplay was a fleet of long-running jobs (``mode=continuous``)."""
    lifecycle, feedback = ModelLifecycle(settings), PipelineFeedback(settings)
    models = lifecycle.list_models(config_key=key)
    assert sorted(m.model_id for m in models) == [f"{key}_v{i}" for i in range(1, cycles + 1)]
    assert sum(m.stage is ModelStage.PRODUCTION for m in models) <= 1
    assert all(m.stage in (ModelStage.PRODUCTION, ModelStage.RETIRED) for m in models)
    for m in models:
        assert m.sha256 and Path(m.artifact_path).exists()
        for ftype in (
            FeedbackType.TRAINING_COMPLETE,
            FeedbackType.EVALUATION_RESULT,
            FeedbackType.PROMOTION_DECISION,
        ):
            assert len(feedback.history(key, model_id=m.model_id, feedback_type=ftype)) == 1, (
                m.model_id,
                ftype,
            )
        # After its registration (into TRAINING, when the history records it) and training.
        stages = [t.to_stage for t in lifecycle.history(m.model_id) if t.to_stage is not ModelStage.TRAINING]
        assert stages.count(ModelStage.PRODUCTION) <= 1
        # A promoted candidate was confirmed in STAGING first; a rejected one retired from EVALUATION or STAGING.
        if ModelStage.PRODUCTION in stages:
            assert stages[:3] == [ModelStage.EVALUATION, ModelStage.STAGING, ModelStage.PRODUCTION]
        else:
            assert stages[-1] is ModelStage.RETIRED and ModelStage.STAGING not in stages[:-2]
    shards = ShardStore(settings).records(key)
    for shard in shards:  # every indexed shard is whole: its file hashes to what the index recorded
        assert sha256_file(shard.path) == shard.sha256, shard.name
    if fleet:
        check_fleet_shards(settings, shards, cycles, key)
    else:
        assert sorted(s.name for s in shards) == sorted(
            f"cycle{i:04d}" + (f"-part{k}" if k > 1 else "")
            for i in range(1, cycles + 1)
            for k in range(1, parts + 1)
        )
    # Every stage ran to success exactly once per cycle: nothing finished was redone.
    jobs = job_store.list_jobs(settings, config_key=key, limit=1000).data
    succeeded = Counter(
        j.type for j in jobs if j.state.value == "succeeded" and j.type not in ("pipeline", "selfplay")
    )
    assert succeeded == {"training": cycles, "evaluation": cycles}
    if not fleet:
        assert sum(j.type == "selfplay" and j.state.value == "succeeded" for j in jobs) == cycles * parts
    # The loop's evaluations are its gates, kept apart from evaluations a person asks for.
    assert {j.config["purpose"] for j in jobs if j.type == "evaluation"} == {"gate"}
    with session_scope(settings) as s:
        steps = s.scalars(select(StepRow).where(StepRow.config_key == key)).all()
        assert {(r.cycle, r.step) for r in steps if r.status == "done"} == {
            (c, step)
            for c in range(1, cycles + 1)
            for step in ("selfplay", "training", "evaluation", "promotion")
        } | {(c, f"selfplay:{k}") for c in range(1, cycles + 1) for k in range(1, parts + 1) if parts > 1}
    from app.evaluation import config_ratings

    rated = {r.name for r in config_ratings(key, settings=settings).ratings}
    assert {m.model_id for m in models} <= rated and "random" in rated


def check_fleet_shards(settings, shards, cycles: int, key: str) -> None:
    """Every shard is a fleet job's, indexed once, and no two cycles took the same one; each cycle took at least
    its games, and at the end no fleet job is left queued or running."""
    import re

    assert len({s.name for s in shards}) == len(shards)
    assert all(re.fullmatch(r"fleet\d{4}(-\d{3,})?", s.name) for s in shards), [s.name for s in shards]
    by_name = {s.name: s for s in shards}
    taken: list[str] = []
    with session_scope(settings) as s:
        rows = s.scalars(select(StepRow).where(StepRow.config_key == key, StepRow.step == "selfplay")).all()
        for row in rows:
            assert sum(by_name[name].games for name in row.result["shards"]) >= row.result["games"] > 0
            taken += row.result["shards"] + row.result.get("skipped", [])
        fleet = s.scalars(select(StepRow).where(StepRow.config_key == key, StepRow.step.startswith("fleet:")))
        fleet_jobs = [row.job_id for row in fleet if row.job_id]
    assert len(rows) == cycles and len(taken) == len(set(taken))
    assert all(job_store.get_job(settings, job_id).done for job_id in fleet_jobs)


@pytest.mark.slow
def test_two_cycles_leave_consistent_state_and_feedback_tunes_the_next_cycle(settings):
    with (
        LocalJobs(settings) as jobs,
        Pipeline(KEY, settings=settings, config=tiny_config(), jobs=jobs) as pipeline,
    ):
        first = pipeline.run(1)
        assert first[0].status == "done" and first[0].opponent == "uniform_mcts_4"
        # A step failed for lack of memory: the feedback loop recommends halving the batch for what comes next.
        PipelineFeedback(settings).record(
            FeedbackType.PIPELINE_ERROR,
            model_id=f"{KEY}_v1",
            metrics={"error": "RuntimeError: CUDA out of memory"},
            context={"stage": "training"},
        )
        cycles = pipeline.run(2)
    check_invariants(settings, 2)
    second = cycles[1]
    assert second.settings["batch_size"] == 16 and cycles[0].settings["batch_size"] == 32
    assert [c["action"] for c in second.changes] == ["REDUCE_BATCH_SIZE"]
    assert second.changes[0]["changes"] == {"batch_size": [32, 16]}
    assert not [
        r
        for r in PipelineFeedback(settings).get_recommendations(KEY)
        if r.action.value == "REDUCE_BATCH_SIZE"
    ]
    # Running the finished command again does nothing new.
    with (
        LocalJobs(settings) as jobs,
        Pipeline(KEY, settings=settings, config=tiny_config(), jobs=jobs) as pipeline,
    ):
        pipeline.run(2)
    check_invariants(settings, 2)
    check_training_lineage(settings, second)


def check_training_lineage(settings, second) -> None:
    """v2 was trained from v1 whatever v1's gate decided; train_from='production' and a rollback restart from
    the model that played the cycle's selfplay."""
    assert ModelLifecycle(settings).get_model(f"{KEY}_v2").parent_model_id == f"{KEY}_v1"
    played = "uniform" if second.opponent.startswith("uniform_mcts_") else second.opponent
    restart = tiny_config().model_copy(update={"train_from": "production"})
    with Pipeline(KEY, settings=settings, config=restart, jobs=object()) as pipeline:
        assert pipeline._parent(second) == played
    rolled_back = replace(second, changes=[*second.changes, {"action": "rollback"}])
    with Pipeline(KEY, settings=settings, config=tiny_config(), jobs=object()) as pipeline:
        assert pipeline._parent(second) == f"{KEY}_v1"
        assert pipeline._parent(rolled_back) == played


def step_submitted(settings, cycle: int, step: str) -> bool:
    with session_scope(settings) as s:
        row = s.scalar(
            select(StepRow).where(StepRow.config_key == KEY, StepRow.cycle == cycle, StepRow.step == step)
        )
        return row is not None and row.job_id is not None


def kill_at(settings, home, points, *run_args: str, signal_group: bool = False, seed: int = 0) -> None:
    """Run ``tests.integration.pipeline_run CYCLES ...`` once per (cycle, step) in ``points`` and SIGKILL it a
    seeded random 0.2-1.2 s after that step's job was submitted (the pipeline only, or its process group with
    ``signal_group``); a resumed run already past the point is left to exit."""
    env = {**os.environ, "ZEROLOOP_HOME": str(home), "PYTHONPATH": str(ROOT)}
    delays = random.Random(seed)
    for cycle, step in points:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.pipeline_run", *run_args],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 240
        while not step_submitted(settings, cycle, step):
            if proc.poll() is not None:
                break  # it got past this point already on a resumed run
            assert time.monotonic() < deadline, f"pipeline never reached cycle {cycle} {step}"
            time.sleep(0.1)
        time.sleep(0.2 + delays.random())
        if proc.poll() is None:
            # A running job's worker lives in a session of its own and stops once its node is gone.
            (os.killpg if signal_group else os.kill)(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_a_kill_in_the_middle_of_each_stage_then_a_rerun_finishes_consistently(settings, home):
    # The whole process group, inside selfplay's shard writing, inside training and inside the gate.
    points = ((1, "selfplay"), (1, "training"), (1, "evaluation"))
    kill_at(settings, home, points, "1", signal_group=True)
    with LocalJobs(get_settings()) as jobs:
        cycles = Pipeline(KEY, settings=get_settings(), config=tiny_config(), jobs=jobs).run(1)
    assert cycles[0].status == "done"
    check_invariants(settings, 1)


@pytest.mark.slow
def test_a_pipeline_runs_as_a_job(settings):
    with LocalJobs(settings) as jobs:
        job_id = jobs.submit(
            "pipeline",
            {
                "board_type": "hex5",
                "num_players": 2,
                "cycles": 1,
                "pipeline": {**tiny_config().model_dump(), "gumbel": True},
            },
        )
        job = jobs.wait(job_id, timeout=600)
    assert job.state.value == "succeeded", job.error
    assert [c["candidate"] for c in job.result["cycles"]] == [f"{KEY}_v1"]
    check_invariants(settings, 1)
    selfplay = job_store.list_jobs(settings, job_type="selfplay", limit=10).data
    assert [j.config["gumbel"] for j in selfplay] == [True]


def test_a_pipeline_needs_the_callers_job_client(settings):
    with pytest.raises(TypeError, match="jobs"):
        Pipeline(KEY, settings=settings, config=tiny_config())


@pytest.mark.parametrize(
    ("decision", "ci_low", "accept_significant", "promoted"),
    [
        ("accept", 5.0, True, True),
        ("reject", 30.0, True, False),
        ("inconclusive", 21.0, True, True),
        ("inconclusive", -3.0, True, False),
        ("inconclusive", 21.0, False, False),
    ],
)
def test_the_gate_promotes_on_accept_or_a_significant_gain_at_the_cap(
    settings, decision, ci_low, accept_significant, promoted
):
    config = tiny_config().model_copy(update={"gate_accept_significant": accept_significant})
    evaluation = SimpleNamespace(decision=decision, elo_ci_low=ci_low)
    verdict, rule = pipeline_stages.gate_verdict(config, evaluation)
    assert verdict is promoted
    assert ("interval above" in rule) is (promoted and decision == "inconclusive")
