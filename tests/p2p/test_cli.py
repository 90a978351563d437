"""``zeroloop jobs ...`` against the job table, and ``zeroloop serve`` refusing unsafe or impossible settings."""

import json
import socket

import pytest

from app.core.jobs import JobState
from app.p2p import store
from tests.cli.zl import run_cli


@pytest.fixture
def zl(capsys, monkeypatch):
    return lambda *args: run_cli(capsys, monkeypatch, *args)


def test_jobs_submit_list_status_cancel_log(zl, settings):
    r = zl("jobs", "submit", "sleep", "--config", '{"seconds": 5}', "--priority", "2")
    assert r.code == 0, r.err
    job_id = r.out.strip()
    assert store.get_job(settings, job_id).priority == 2
    r = zl("jobs", "list", "--state", "queued")
    assert r.code == 0 and job_id in r.out and "1 of 1 jobs" in r.out
    r = zl("jobs", "status", job_id, "--json")
    assert r.code == 0 and json.loads(r.out)["config"]["seconds"] == 5
    r = zl("jobs", "cancel", job_id)
    assert r.code == 0 and f"{job_id}: cancelled" in r.out
    assert store.get_job(settings, job_id).state is JobState.CANCELLED
    assert zl("jobs", "log", job_id).code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("jobs", "submit", "sleep", "--config", "{oops"), "not valid JSON"),
        (("jobs", "submit", "sleep", "--config", '{"seconds": -1}'), "seconds"),
        (("jobs", "submit", "nope"), "unknown job type 'nope'"),
        (("jobs", "status", "missing"), "no job with id 'missing'"),
        (("jobs", "cancel", "missing"), "no job with id 'missing'"),
        (("jobs", "list", "--config-key", "hex8"), "malformed config key"),
        (("serve", "--host", "0.0.0.0"), "set a token"),
    ],
)
def test_bad_input_exits_2_with_a_message(zl, args, message):
    r = zl(*args)
    assert r.code == 2 and message in " ".join(r.err.split()), (r.code, r.err)


def test_serve_on_a_taken_port_says_so(zl):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = zl("serve", "--port", str(port))
    assert r.code == 2 and f"cannot listen on 127.0.0.1:{port}" in " ".join(r.err.split())
