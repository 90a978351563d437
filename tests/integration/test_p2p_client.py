"""P2PIntegration: in memory against the ASGI app, and over real HTTP against a node process."""

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.errors import InvalidConfig, InvalidTransition, JobNotFound, NodeUnreachable
from app.core.jobs import JobClient, JobState
from app.integration import JobStatus, P2PIntegration
from app.p2p import leased, store
from app.p2p.local_jobs import LocalJobs
from app.web.main import create_app
from tests.p2p.nodeproc import NodeProcess, eventually, free_port

TOKEN = "t0ken"


def in_memory(settings: Settings, **kwargs) -> tuple[TestClient, P2PIntegration]:
    asgi = TestClient(create_app(settings), raise_server_exceptions=False)
    # TestClient is an httpx.Client over an in-memory ASGI transport; hand that transport to our client.
    return asgi, P2PIntegration(transport=asgi._transport, **kwargs)


def test_client_round_trip_in_memory(settings):
    asgi, p2p = in_memory(settings)
    with asgi, p2p:
        job_id = p2p.submit_job(job_type="sleep", config={"seconds": 1})
        status = p2p.get_job_status(job_id)
        assert isinstance(status, JobStatus) and status.state is JobState.QUEUED and not status.done
        assert status.config["seconds"] == 1 and status.created_at is not None
        assert [j.id for j in p2p.list_jobs(state="queued").data] == [job_id]
        assert p2p.list_jobs(job_type="sleep", state=JobState.RUNNING).count == 0
        assert p2p.cancel_job(job_id).state is JobState.CANCELLED
        assert p2p.wait(job_id, timeout=1).state is JobState.CANCELLED
        assert p2p.cluster_status().jobs_by_state["cancelled"] == 1


def test_client_errors_are_typed(settings):
    asgi, p2p = in_memory(settings)
    with asgi, p2p:
        with pytest.raises(JobNotFound, match="no job with id 'nope'"):
            p2p.get_job_status("nope")
        with pytest.raises(ValueError) as err:
            p2p.submit_job("sleep", {"seconds": -5, "colour": "red"})
        assert isinstance(err.value, InvalidConfig)
        assert "config.seconds" in str(err.value) and "config.colour" in str(err.value)
        assert {tuple(e["loc"]) for e in err.value.errors} == {
            ("body", "config", "seconds"),
            ("body", "config", "colour"),
        }
        with pytest.raises(ValueError, match="unknown job type 'nope'"):
            p2p.submit_job("nope", {})
        with pytest.raises(ValueError, match="priority"):
            p2p.submit_job("sleep", {}, priority=10**6)
        with pytest.raises(ValueError, match="plain JSON"):
            p2p.submit_job("sleep", {"seconds": float("nan")})
        with pytest.raises(ValueError, match="job id"):
            p2p.get_job_status("a/b")
        job_id = p2p.submit_job("sleep", {})
        (claim,) = store.claim(settings, node_id="n", executor="local", limit=1)
        leased.record_success(settings, job_id, claim.lease, None)
        with pytest.raises(InvalidTransition, match="already succeeded"):
            p2p.cancel_job(job_id)
        queued = p2p.submit_job("sleep", {})
        with pytest.raises(TimeoutError, match="still queued"):
            p2p.wait(queued, timeout=0.2)


def test_401_is_a_permission_error_saying_a_token_is_needed(home, monkeypatch):
    secured = Settings(home=home, token=TOKEN)
    asgi, anonymous = in_memory(secured)
    with asgi, anonymous:
        with pytest.raises(PermissionError, match="requires a token.*ZEROLOOP_TOKEN"):
            anonymous.submit_job("sleep", {})
        with pytest.raises(PermissionError, match="refused"):
            P2PIntegration(transport=asgi._transport, token="wrong").get_job_status("x")
        assert P2PIntegration(transport=asgi._transport, token=TOKEN).list_jobs().count == 0
        monkeypatch.setenv("ZEROLOOP_TOKEN", TOKEN)
        assert P2PIntegration(transport=asgi._transport).submit_job("sleep", {})
        assert anonymous.health()["status"] == "ok"  # health needs no token


def test_no_node_listening_says_how_to_start_one():
    port = free_port()
    with pytest.raises(NodeUnreachable, match=f"no zeroloop node answers at http://127.0.0.1:{port}") as err:
        P2PIntegration(port=port, timeout=2).get_job_status("x")
    assert f"zeroloop serve --port {port}" in str(err.value)
    assert isinstance(err.value, ConnectionError)


def test_local_jobs_and_the_http_client_are_both_job_clients(settings):
    def run(client: JobClient) -> JobStatus:
        return client.wait(client.submit("sleep", {"seconds": 0}), timeout=60)

    with LocalJobs(settings, slots=1) as local:
        assert run(local).state is JobState.SUCCEEDED
        asgi, p2p = in_memory(settings)
        with asgi, p2p:
            assert run(p2p).state is JobState.SUCCEEDED  # run by the LocalJobs node, watched over "HTTP"
            assert p2p.slots() == local.slots() == 1  # the live node's slot, seen from either client


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with NodeProcess(tmp_path_factory.mktemp("node") / "data", slots=1, token=TOKEN) as proc:
        yield proc


def test_submit_status_cancel_list_over_http(node):
    with node.client() as p2p:
        done = p2p.submit_job("sleep", {"seconds": 0.2, "progress_steps": 2})
        long = p2p.submit_job("sleep", {"seconds": 600}, priority=-1)
        finished = p2p.wait(done, timeout=60)
        assert finished.state is JobState.SUCCEEDED and finished.progress == 1.0
        assert finished.result["steps"] == 2 and finished.node_id == node.node_id_guess()
        eventually(lambda: p2p.get_job_status(long).pid, what="the long job to start")
        assert p2p.cancel_job(long).state is JobState.CANCELLED
        assert {j.id for j in p2p.list_jobs(job_type="sleep").data} >= {done, long}
        assert [j.id for j in p2p.list_jobs(state="succeeded").data] == [done]
        cluster = p2p.cluster_status()
        assert [n.id for n in cluster.nodes] == [node.node_id_guess()] and cluster.nodes[0].alive
        assert p2p.slots() == 1


def test_http_errors_over_the_wire(node):
    with pytest.raises(PermissionError, match="requires a token"):
        P2PIntegration(port=node.port).list_jobs()
    with node.client() as p2p:
        with pytest.raises(JobNotFound):
            p2p.get_job_status("0123456789abcdef")
        with pytest.raises(ValueError, match="config.seconds"):
            p2p.submit_job("sleep", {"seconds": "soon"})
