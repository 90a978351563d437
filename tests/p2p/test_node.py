import os
import signal
import socket
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core.jobs import JobCreate, JobState, NodeIdentity
from app.p2p import nodes, paths, store
from app.p2p.executors.local import LocalExecutor
from app.p2p.local_jobs import LocalJobs
from app.p2p.node import JOB_STALE_S, Node
from app.storage.base import utcnow
from app.storage.db import session_scope
from app.storage.models.jobs import JobRow
from tests.p2p.nodeproc import eventually


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def jobs(settings):
    with LocalJobs(settings, slots=1) as client:
        yield client


def test_local_jobs_runs_a_job_in_a_subprocess(jobs, settings):
    job_id = jobs.submit("sleep", {"seconds": 0.2, "progress_steps": 2})
    job = jobs.wait(job_id, timeout=60)
    assert job.state is JobState.SUCCEEDED and job.result["steps"] == 2
    assert job.pid not in (None, os.getpid()) and job.executor == "local"
    assert job.node_id == jobs.node.node_id
    # The row says succeeded a moment before the node reaps the process and observes the duration.
    observed = 'zeroloop_job_duration_seconds_count{state="succeeded",type="sleep"} 1.0'

    def rendered_with_duration():
        text = jobs.node.metrics.render().decode()
        return text if observed in text else None

    metrics = eventually(rendered_with_duration, what="the duration to be observed")
    assert 'zeroloop_jobs{state="succeeded",type="sleep"} 1.0' in metrics


def test_cancel_terminates_the_running_process(jobs, settings):
    job_id = jobs.submit("sleep", {"seconds": 600})
    pid = eventually(lambda: jobs.status(job_id).pid, what="the worker to start")
    assert jobs.cancel(job_id).state is JobState.CANCELLED
    eventually(lambda: not pid_alive(pid), what="the worker to be terminated")
    eventually(lambda: not jobs.node.executor.running(), what="the node to reap the worker")
    job = jobs.status(job_id)
    assert job.state is JobState.CANCELLED and job.result is None
    assert "terminated by SIGTERM" in paths.log_path(settings, job_id).read_text()


def test_a_crashed_worker_fails_the_job_with_how_it_died(jobs):
    job_id = jobs.submit("sleep", {"seconds": 600})
    pid = eventually(lambda: jobs.status(job_id).pid, what="the worker to start")
    os.kill(pid, signal.SIGKILL)
    job = jobs.wait(job_id, timeout=30)
    assert job.state is JobState.FAILED
    assert f"worker process {pid} was killed by SIGKILL" in job.error
    assert "last lines of the job log" in job.error and "start type=sleep" in job.error


def test_a_node_never_runs_more_jobs_than_slots(jobs):
    ids = [jobs.submit("sleep", {"seconds": 0.3}) for _ in range(2)]
    a, b = (jobs.wait(i, timeout=60) for i in ids)
    assert a.succeeded and b.succeeded
    assert jobs.list_jobs(state="succeeded").count == 2
    assert a.finished_at <= b.started_at  # the second was claimed only after the first finished


def test_wait_times_out_naming_the_state(settings):
    with LocalJobs(settings, run_jobs=False) as client:
        job_id = client.submit("sleep", {"seconds": 0})
        with pytest.raises(TimeoutError, match="still queued"):
            client.wait(job_id, timeout=0.3)


def test_stopping_a_node_requeues_its_jobs_without_counting_the_attempt(settings):
    client = LocalJobs(settings, slots=1)
    job_id = client.submit("sleep", {"seconds": 600})
    eventually(lambda: client.status(job_id).pid, what="the worker to start")
    client.close()
    job = store.get_job(settings, job_id)
    assert job.state is JobState.QUEUED and job.attempts == 0
    assert "stopped" in job.message


# -- recovery rules, without subprocesses ------------------------------------------------------------------


@pytest.fixture
def idle_node(settings):
    return Node(settings, LocalExecutor(settings), node_id="me", slots=0)


def running_job(settings, *, node_id, worker_host=None, heartbeat_age_s=0.0, max_attempts=3):
    job = store.submit(settings, JobCreate(type="sleep", max_attempts=max_attempts))
    (claim,) = store.claim(settings, node_id=node_id, executor="local", limit=1)
    values = {"heartbeat_at": utcnow() - timedelta(seconds=heartbeat_age_s), "worker_host": worker_host}
    with session_scope(settings) as s:
        s.execute(update(JobRow).where(JobRow.id == job.id).values(**values))
    return job.id, claim.lease


def test_recovery_requeues_jobs_of_a_vanished_node_whose_lock_is_free(settings, idle_node):
    here = socket.gethostname()
    lost, _ = running_job(settings, node_id="ghost", worker_host=here)
    alive, _ = running_job(settings, node_id="ghost", worker_host=here)
    held = paths.take_lock(settings, alive)
    try:
        assert idle_node.recover() == [lost]
    finally:
        held.close()
    assert store.get_job(settings, lost).state is JobState.QUEUED
    assert "ghost stopped beating" in store.get_job(settings, lost).message
    assert store.get_job(settings, alive).state is JobState.RUNNING
    assert idle_node.recover() == [alive]  # once its process is gone


def test_recovery_trusts_heartbeats_for_jobs_on_other_machines(settings, idle_node):
    fresh, _ = running_job(settings, node_id="ghost", worker_host="other-host", heartbeat_age_s=1)
    stale, _ = running_job(
        settings, node_id="ghost", worker_host="other-host", heartbeat_age_s=JOB_STALE_S + 5
    )
    assert idle_node.recover() == [stale]
    assert store.get_job(settings, fresh).state is JobState.RUNNING


def test_recovery_leaves_live_nodes_alone_and_takes_back_its_own_lost_jobs(settings, idle_node):
    here = socket.gethostname()
    nodes.beat(settings, _identity("peer", here, None, os.getpid(), 1, "local"))
    peer_job, _ = running_job(settings, node_id="peer", worker_host=here)
    mine, _ = running_job(settings, node_id="me", worker_host=None)
    assert idle_node.recover() == [mine]
    assert "node me restarted" in store.get_job(settings, mine).message
    assert store.get_job(settings, peer_job).state is JobState.RUNNING
    nodes.mark_stopped(settings, "peer")
    assert idle_node.recover() == [peer_job]


def test_recovery_fails_a_job_that_ran_out_of_attempts(settings, idle_node):
    job_id, _ = running_job(
        settings, node_id="ghost", worker_host="other-host", heartbeat_age_s=999, max_attempts=1
    )
    assert idle_node.recover() == [job_id]
    job = store.get_job(settings, job_id)
    assert job.state is JobState.FAILED and "gave up after 1 of 1 attempts" in job.error


def test_cluster_status_counts_nodes_slots_and_jobs(settings):
    here = socket.gethostname()
    nodes.beat(settings, _identity("a", here, "http://127.0.0.1:1", os.getpid(), 2, "local"))
    nodes.beat(settings, _identity("b", here, None, 2**22 + 12345, 4, "ray"))  # no such process
    running_job(settings, node_id="a")
    store.submit(settings, JobCreate(type="sleep"))
    status = nodes.cluster_status(settings, hostname=here)
    by_id = {n.id: n for n in status.nodes}
    assert by_id["a"].alive and not by_id["b"].alive and by_id["a"].running == 1
    assert (status.slots, status.running, status.queued) == (2, 1, 1)
    assert status.jobs_by_state["succeeded"] == 0


def test_node_refuses_negative_slots(settings):
    with pytest.raises(ValueError, match="slots must be >= 0"):
        Node(settings, LocalExecutor(settings), node_id="x", slots=-1)


# -- the standby worker -------------------------------------------------------------------------------------


def _spare(jobs):
    spares = jobs.node.executor._spares
    return spares[0] if spares else None


def test_the_standby_worker_takes_the_next_job_and_logs_it(jobs, settings):
    first = jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 1}), timeout=60)
    spare = eventually(lambda: _spare(jobs), what="a standby worker")
    second = jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 1, "fail": True}), timeout=60)
    assert first.succeeded and second.state is JobState.FAILED
    # The job ran in the process that had been waiting for it, its output in the job's own log.
    assert second.pid == spare.pid != first.pid
    assert "failed on purpose" in second.error

    # The row is written before the log's last line.
    def failure_logged():
        text = paths.log_path(settings, second.id).read_text()
        return text if "failed on purpose" in text else None

    log = eventually(failure_logged, what="the failure in the job log")
    assert f"pid={spare.pid}" in log
    new_spare = eventually(lambda: _spare(jobs), what="the next standby worker")
    assert new_spare.pid != spare.pid
    jobs.close()
    assert new_spare.poll() is not None  # closing the node leaves no standby behind


def test_a_node_with_two_slots_keeps_two_standby_workers_for_jobs_launched_together(settings):
    with LocalJobs(settings, slots=2) as two:
        two.wait(two.submit("sleep", {"seconds": 0.1, "progress_steps": 1}), timeout=60)
        spares = eventually(
            lambda: list(two.node.executor._spares) if len(two.node.executor._spares) == 2 else None,
            what="two standby workers",
        )
        together = [two.submit("sleep", {"seconds": 0.5, "progress_steps": 1}) for _ in range(2)]
        done = [two.wait(job_id, timeout=60) for job_id in together]
        assert all(j.succeeded for j in done)
        assert {j.pid for j in done} == {p.pid for p in spares}  # both started in a waiting worker
    with pytest.raises(ValueError, match="spares must be >= 1"):
        LocalExecutor(settings, spares=0)


def test_a_standby_without_a_job_exits_on_eof(settings):
    import subprocess
    import sys

    from app.p2p.executors.local import worker_env

    done = subprocess.run(
        [sys.executable, "-m", "app.p2p.worker", "--standby"],
        input=b"",
        env=worker_env(settings),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()


def test_a_dead_standby_is_replaced_by_a_fresh_worker(jobs):
    jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 1}), timeout=60)
    spare = eventually(lambda: _spare(jobs), what="a standby worker")
    os.killpg(spare.pid, signal.SIGKILL)
    spare.wait()
    job = jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 1}), timeout=60)
    assert job.succeeded and job.pid != spare.pid


def _identity(
    node_id: str, hostname: str, address: str | None, pid: int, slots: int, executor: str
) -> NodeIdentity:
    return NodeIdentity(
        id=node_id, hostname=hostname, address=address, pid=pid, slots=slots, executor=executor
    )
