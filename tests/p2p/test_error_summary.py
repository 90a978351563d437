"""A failed job's row says why it failed: the exception line, not the traceback's last line of source."""

from fastapi.testclient import TestClient

from app.core.jobs import JobCreate, error_summary
from app.p2p import leased, store
from app.p2p.worker import format_error
from app.web.main import create_app
from tests.cli.zl import run_cli


def _failing() -> None:
    raise ValueError("board_type 'hex99' is unknown")


def test_summary_of_a_worker_error_and_of_a_lost_job():
    try:
        _failing()
    except ValueError as exc:
        text = format_error(exc)
    # The traceback ends in source code, which is what the row showed before.
    assert text.rstrip().splitlines()[-1].strip().startswith("raise ValueError(")
    assert error_summary(text) == "ValueError: board_type 'hex99' is unknown"
    lost = "worker exited with code 1\n\nlast lines of the job log:\nTraceback (most recent call last):\n"
    lost += '  File "x.py", line 3\napp.core.errors.InvalidConfig: no such board\n'
    assert error_summary(lost) == "worker exited with code 1: app.core.errors.InvalidConfig: no such board"
    assert error_summary("lease lost: node gone") == "lease lost: node gone"
    assert error_summary("KeyboardInterrupt\n\nTraceback") == "KeyboardInterrupt"


def test_failed_job_carries_its_summary_to_the_api_and_the_cli(settings, capsys, monkeypatch):
    job = store.submit(settings, JobCreate(type="sleep", config={"seconds": 1}))
    (claim,) = store.claim(settings, node_id="n1", executor="local", limit=1)
    try:
        _failing()
    except ValueError as exc:
        assert leased.record_failure(settings, job.id, claim.lease, format_error(exc))
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        body = api.get(f"/api/jobs/{job.id}").json()
    assert body["state"] == "failed" and body["error_summary"] == "ValueError: board_type 'hex99' is unknown"
    monkeypatch.setenv("COLUMNS", "80")
    listed = run_cli(capsys, monkeypatch, "jobs", "list")
    assert job.id in listed.out and all(len(line) <= 80 for line in listed.out.splitlines())
    assert "ValueError:" in listed.out and "'hex99'" in listed.out
