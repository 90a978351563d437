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


# -- the fork server ----------------------------------------------------------------------------------------


def _server_pid_in_log(settings, job_id: str) -> int:
    def forked_line():
        text = paths.log_path(settings, job_id).read_text()
        return text if "by the fork server pid=" in text else None

    text = eventually(forked_line, what="the fork line in the job log")
    return int(text.split("by the fork server pid=")[1].split()[0])


def test_jobs_are_forked_by_one_warm_server_each_in_a_process_of_its_own(jobs, settings):
    first = jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 1}), timeout=60)
    server = jobs.node.executor._server
    second = jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 1, "fail": True}), timeout=60)
    assert first.succeeded and second.state is JobState.FAILED
    assert "failed on purpose" in second.error  # the job's own error, from its own process
    assert len({first.pid, second.pid, server.process.pid}) == 3
    assert (
        _server_pid_in_log(settings, first.id)
        == _server_pid_in_log(settings, second.id)
        == server.process.pid
    )

    def failure_logged():
        text = paths.log_path(settings, second.id).read_text()
        return text if "failed on purpose" in text else None

    assert f"pid={second.pid}" in eventually(failure_logged, what="the failure in the job log")
    assert jobs.node.executor._server is server  # still the same server, still warm
    jobs.close()
    assert server.process.poll() is not None  # closing the node leaves no server behind


def test_jobs_launched_together_all_start_from_the_server(settings):
    with LocalJobs(settings, slots=2) as two:
        together = [two.submit("sleep", {"seconds": 0.5, "progress_steps": 1}) for _ in range(2)]
        done = [two.wait(job_id, timeout=60) for job_id in together]
        server = two.node.executor._server.process.pid
        assert all(j.succeeded for j in done) and done[0].pid != done[1].pid
        assert [_server_pid_in_log(settings, j.id) for j in done] == [server, server]


def test_a_fork_server_without_a_job_exits_on_eof(settings):
    import subprocess
    import sys

    from app.p2p.executors.local import worker_env

    done = subprocess.run(
        [sys.executable, "-m", "app.p2p.worker", "--forkserver"],
        input=b"",
        env=worker_env(settings),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout == b"", done.stderr.decode()


def test_a_dead_fork_server_is_replaced_by_a_fresh_one(jobs, settings):
    jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 1}), timeout=60)
    dead = jobs.node.executor._server.process
    os.killpg(dead.pid, signal.SIGKILL)
    dead.wait()
    job = jobs.wait(jobs.submit("sleep", {"seconds": 0.1, "progress_steps": 1}), timeout=60)
    assert job.succeeded and _server_pid_in_log(settings, job.id) != dead.pid


def test_a_fork_server_that_cannot_load_is_given_up_and_jobs_start_plainly(settings, monkeypatch):
    import subprocess
    import sys

    spawn = LocalExecutor._spawn

    def broken_server(self, args, **kwargs):
        if args == ["--forkserver"]:  # a server that dies while loading, before it serves any job
            return subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, start_new_session=True)  # fmt: skip
        return spawn(self, args, **kwargs)

    monkeypatch.setattr(LocalExecutor, "_spawn", broken_server)
    with LocalJobs(settings) as local:
        job = local.wait(local.submit("sleep", {"seconds": 0.1, "progress_steps": 1}), timeout=60)
        assert job.succeeded  # handed back when the server died, then run as a plain worker process
        assert local.node.executor.standby is False
        assert "fork server" not in paths.log_path(settings, job.id).read_text()


def test_a_signal_sent_before_the_fork_is_known_is_delivered_once_it_is():
    import subprocess

    from app.p2p.executors.forkserver import Forked

    forked = Forked("job")
    forked.signal_group(signal.SIGTERM)  # cancelled while the server was still loading
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    assert forked.poll() is None
    forked.started(sleeper.pid)
    assert sleeper.wait(timeout=10) == -signal.SIGTERM
    forked.exited(-signal.SIGTERM)
    assert forked.wait(0) == -signal.SIGTERM and forked.pid == sleeper.pid


def _identity(
    node_id: str, hostname: str, address: str | None, pid: int, slots: int, executor: str
) -> NodeIdentity:
    return NodeIdentity(
        id=node_id, hostname=hostname, address=address, pid=pid, slots=slots, executor=executor
    )
