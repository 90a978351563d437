"""The job system on PostgreSQL: claims under FOR UPDATE SKIP LOCKED, and a job run by a worker process
that reaches the database through the URL its node hands it."""

from __future__ import annotations

import threading

import pytest

from app.core.config import get_settings
from app.core.jobs import JobCreate, JobState
from app.p2p import store
from app.p2p.local_jobs import LocalJobs
from tests.storage.test_postgres import pg, pg_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.postgres


def test_concurrent_claims_hand_out_each_job_once(pg):  # noqa: F811
    settings = get_settings()
    assert not settings.is_sqlite
    ids = {store.submit(settings, JobCreate(type="sleep")).id for _ in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()

    def node(name: str) -> None:
        while got := store.claim(settings, node_id=name, executor="local", limit=3):
            with lock:
                claimed.extend(c.job_id for c in got)

    threads = [threading.Thread(target=node, args=(f"n{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)
    assert store.list_jobs(settings, state="running").count == 40


def test_a_job_runs_through_a_worker_process_on_postgres(pg):  # noqa: F811
    settings = get_settings()
    with LocalJobs(settings, slots=1) as jobs:
        job = jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 2}), timeout=120)
        assert job.state is JobState.SUCCEEDED and job.result["steps"] == 2 and job.attempts == 1
        cancelled = jobs.cancel(jobs.submit("sleep", {"seconds": 600}, priority=-5))
        assert cancelled.state is JobState.CANCELLED
    assert store.list_jobs(settings).count == 2
