import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core.errors import InvalidConfig, InvalidTransition, JobNotFound
from app.core.jobs import JobCreate, JobState, Resources
from app.p2p import leased, store
from app.p2p.jobtypes import JobConfigInvalid
from app.storage.base import utcnow
from app.storage.db import session_scope
from app.storage.models.jobs import JobRow


def sleep_job(settings, **config):
    return store.submit(settings, JobCreate(type="sleep", config=config))


def test_submit_stores_the_validated_config_with_defaults(settings):
    job = sleep_job(settings, seconds=2)
    assert job.state is JobState.QUEUED and job.attempts == 0 and job.progress == 0
    assert job.config == {"seconds": 2.0, "fail": False, "progress_steps": 10}
    assert job.resources == Resources(cpus=0)  # the sleep type's own request
    again = store.get_job(settings, job.id)
    assert again.config == job.config and again.created_at == job.created_at


def test_bad_config_lists_every_bad_field(settings):
    with pytest.raises(JobConfigInvalid) as err:
        sleep_job(settings, seconds=-1, progress_steps=0, colour="red")
    locs = {tuple(e["loc"]) for e in err.value.errors}
    assert locs == {("seconds",), ("progress_steps",), ("colour",)}
    assert "seconds" in str(err.value) and "colour" in str(err.value)
    assert store.list_jobs(settings).count == 0


def test_unknown_job_type_names_the_known_ones(settings):
    with pytest.raises(InvalidConfig, match="unknown job type 'nope'.*sleep"):
        store.submit(settings, JobCreate(type="nope"))


def test_list_filters_and_counts(settings):
    jobs = [sleep_job(settings, seconds=i) for i in range(5)]
    store.cancel(settings, jobs[0].id)
    page = store.list_jobs(settings, state="queued", limit=2)
    assert page.count == 4 and len(page.data) == 2
    assert [j.id for j in page.data] == [jobs[4].id, jobs[3].id]  # newest first
    assert store.list_jobs(settings, state=JobState.CANCELLED).data[0].id == jobs[0].id
    assert store.list_jobs(settings, job_type="sleep", offset=4).count == 5
    assert store.list_jobs(settings, config_key="hex8_2p").count == 0
    with pytest.raises(ValueError, match="unknown job state 'done'"):
        store.list_jobs(settings, state="done")
    with pytest.raises(ValueError, match="malformed config key"):
        store.list_jobs(settings, config_key="hex8")
    with pytest.raises(ValueError, match="limit"):
        store.list_jobs(settings, limit=0)


def test_unknown_job_is_job_not_found(settings):
    with pytest.raises(JobNotFound, match="no job with id 'missing'"):
        store.get_job(settings, "missing")
    with pytest.raises(JobNotFound):
        store.cancel(settings, "missing")


def test_cancel_transitions(settings):
    job = sleep_job(settings)
    cancelled = store.cancel(settings, job.id)
    assert cancelled.state is JobState.CANCELLED and cancelled.finished_at is not None
    assert store.cancel(settings, job.id).state is JobState.CANCELLED  # idempotent
    assert store.claim(settings, node_id="n", executor="local", limit=5) == []

    done = sleep_job(settings)
    (claim,) = store.claim(settings, node_id="n", executor="local", limit=1)
    assert leased.record_success(settings, done.id, claim.lease, {"ok": 1})
    with pytest.raises(InvalidTransition, match="already succeeded"):
        store.cancel(settings, done.id)
    assert store.get_job(settings, done.id).result == {"ok": 1}


def test_claim_takes_best_priority_then_oldest_and_bumps_lease(settings):
    low = sleep_job(settings)
    high = store.submit(settings, JobCreate(type="sleep", priority=5))
    later = sleep_job(settings)
    claims = store.claim(settings, node_id="a", executor="local", limit=2)
    assert [c.job_id for c in claims] == [high.id, low.id]
    assert all(c.lease == 1 for c in claims)
    job = store.get_job(settings, high.id)
    assert (job.state, job.node_id, job.executor, job.attempts) == (JobState.RUNNING, "a", "local", 1)
    assert [c.job_id for c in store.claim(settings, node_id="b", executor="local", limit=5)] == [later.id]


def test_writes_under_a_stale_lease_change_nothing(settings):
    job = sleep_job(settings)
    (first,) = store.claim(settings, node_id="a", executor="local", limit=1)
    assert store.requeue(settings, job.id, first.lease, "node a died") == "queued"
    (second,) = store.claim(settings, node_id="b", executor="local", limit=1)
    assert second.lease == first.lease + 1
    # The first process, still alive somewhere, can no longer touch the job.
    assert not leased.report_progress(settings, job.id, first.lease, 0.5, "old")
    assert not leased.record_success(settings, job.id, first.lease, {"stale": True})
    assert not leased.heartbeat(settings, job.id, first.lease)
    assert store.requeue(settings, job.id, first.lease, "again") is None
    assert leased.report_progress(settings, job.id, second.lease, 0.25, "new")
    assert leased.record_failure(settings, job.id, second.lease, "ValueError: boom\ntraceback")
    final = store.get_job(settings, job.id)
    assert (final.state, final.node_id, final.attempts, final.result) == (JobState.FAILED, "b", 2, None)
    assert final.error.startswith("ValueError: boom") and final.message == "ValueError: boom"


def test_requeue_gives_up_after_max_attempts(settings):
    job = store.submit(settings, JobCreate(type="sleep", max_attempts=2))
    for attempt in (1, 2):
        (c,) = store.claim(settings, node_id="a", executor="local", limit=1)
        state = store.requeue(settings, job.id, c.lease, f"lost #{attempt}")
    assert state == "failed"
    final = store.get_job(settings, job.id)
    assert final.attempts == 2 and "gave up after 2 of 2 attempts; last: lost #2" in final.error


def test_requeue_without_counting_the_attempt(settings):
    job = store.submit(settings, JobCreate(type="sleep", max_attempts=1))
    for _ in range(3):
        (c,) = store.claim(settings, node_id="a", executor="local", limit=1)
        assert store.requeue(settings, job.id, c.lease, "node stopped", count_attempt=False) == "queued"
    assert store.get_job(settings, job.id).attempts == 0


def test_progress_is_clamped_and_messages_truncated(settings):
    job = sleep_job(settings)
    (c,) = store.claim(settings, node_id="a", executor="local", limit=1)
    assert leased.report_progress(settings, job.id, c.lease, 7.0, "x" * 2000)
    got = store.get_job(settings, job.id)
    assert got.progress == 1.0 and len(got.message) == store.MAX_MESSAGE


def test_concurrent_claims_never_hand_out_a_job_twice(settings):
    ids = {sleep_job(settings).id for _ in range(30)}
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            got = store.claim(settings, node_id=name, executor="local", limit=2)
            if not got:
                return
            with lock:
                claimed.extend(c.job_id for c in got)

    threads = [threading.Thread(target=worker, args=(f"n{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)


def test_running_jobs_reports_what_recovery_needs(settings):
    job = sleep_job(settings)
    (c,) = store.claim(settings, node_id="a", executor="local", limit=1)
    leased.worker_started(settings, job.id, c.lease, pid=123, host="elsewhere")
    old = utcnow() - timedelta(minutes=5)
    with session_scope(settings) as s:
        s.execute(update(JobRow).where(JobRow.id == job.id).values(heartbeat_at=old))
    (rj,) = store.running_jobs(settings)
    assert (rj.job_id, rj.lease, rj.node_id, rj.worker_host, rj.heartbeat_at) == (
        job.id,
        1,
        "a",
        "elsewhere",
        old,
    )
