"""Nodes as real processes over real HTTP: a node killed with SIGKILL, and two nodes sharing one data directory."""

from app.core.jobs import JobState
from tests.p2p.nodeproc import NodeProcess, eventually


def starts(home, job_id):
    log = home / "jobs" / "logs" / f"{job_id}.log"
    return [line for line in log.read_text().splitlines() if " start type=" in line]


def test_a_job_survives_its_node_being_killed(tmp_path):
    home = tmp_path / "data"
    first = NodeProcess(home, slots=1).start()
    second = None
    try:
        client = first.client()
        job_id = client.submit_job("sleep", {"seconds": 3, "progress_steps": 3})
        eventually(lambda: client.get_job_status(job_id).pid, what="the job to start")
        first.kill9()
        # Same port, so the same node id: the restarted node finds its own job running with no process.
        second = NodeProcess(home, port=first.port, slots=1).start()
        job = second.client().wait(job_id, timeout=60)
        assert job.state is JobState.SUCCEEDED, job.error
        assert job.attempts == 2 and job.result["steps"] == 3
        log = (home / "jobs" / "logs" / f"{job_id}.log").read_text()
        assert len(starts(home, job_id)) == 2
        assert "is gone" in log  # the first worker stopped itself when its node died
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_two_nodes_sharing_a_data_directory_run_each_job_once(tmp_path):
    home = tmp_path / "data"
    with NodeProcess(home, slots=2) as a, NodeProcess(home, slots=2) as b:
        clients = [a.client(), b.client()]
        ids = [clients[i % 2].submit_job("sleep", {"seconds": 0.2, "progress_steps": 1}) for i in range(20)]
        jobs = [clients[0].wait(job_id, timeout=120) for job_id in ids]
        assert all(j.state is JobState.SUCCEEDED for j in jobs), [j.error for j in jobs if j.error]
        assert all(j.attempts == 1 for j in jobs)
        assert all(len(starts(home, j.id)) == 1 for j in jobs)
        assert {j.node_id for j in jobs} == {f"{a.node_id_guess()}", f"{b.node_id_guess()}"}
        cluster = clients[1].cluster_status()
        assert {n.id for n in cluster.nodes if n.alive} == {a.node_id_guess(), b.node_id_guess()}
        assert cluster.slots == 4 and cluster.jobs_by_state["succeeded"] == 20
