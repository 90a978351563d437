"""A job's short id, as the dashboard shows it (its first 8 characters), names the job everywhere."""

import pytest
from fastapi.testclient import TestClient

from app.core.errors import InvalidConfig, JobNotFound
from app.core.jobs import JobCreate
from app.p2p import store
from app.storage.db import get_engine
from app.storage.models.jobs import JobRow
from app.web.main import create_app
from tests.cli.zl import run_cli


def _job(settings, job_id: str | None = None) -> str:
    job = store.submit(settings, JobCreate(type="sleep", config={"seconds": 1}))
    if job_id is None:
        return job.id
    table = JobRow.__table__
    with get_engine(settings).begin() as conn:
        conn.execute(table.update().where(table.c.id == job.id).values(id=job_id))
    return job_id


def test_store_resolves_a_unique_prefix_and_refuses_ambiguous_or_short_ones(settings):
    full = _job(settings)
    assert store.get_job(settings, full[:8]).id == full
    assert store.resolve_job_id(settings, full) == full
    _job(settings, "abcd000011112222")
    _job(settings, "abcd000099998888")
    with pytest.raises(InvalidConfig, match="ambiguous: it starts abcd000011112222, abcd000099998888"):
        store.get_job(settings, "abcd0000")
    assert store.get_job(settings, "abcd00001").id == "abcd000011112222"
    with pytest.raises(JobNotFound):
        store.get_job(settings, "abc")  # too short to be taken as a prefix
    with pytest.raises(JobNotFound):
        store.get_job(settings, "ffffffff")
    assert store.cancel(settings, "abcd00009").id == "abcd000099998888"
    assert store.get_job(settings, "abcd000099998888").state.value == "cancelled"


def test_cli_and_api_take_the_short_id(settings, capsys, monkeypatch):
    full = _job(settings)
    r = run_cli(capsys, monkeypatch, "jobs", "status", full[:8], "--json")
    assert r.code == 0 and full in r.out
    assert run_cli(capsys, monkeypatch, "jobs", "log", full[:8]).code == 0
    r = run_cli(capsys, monkeypatch, "jobs", "cancel", full[:8])
    assert r.code == 0 and f"{full}: cancelled" in r.out
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        assert api.get(f"/api/jobs/{full[:8]}").json()["id"] == full
        assert api.get(f"/api/jobs/{full[:8]}/log").status_code == 200
        assert api.get("/api/jobs/0000ffff").status_code == 404
