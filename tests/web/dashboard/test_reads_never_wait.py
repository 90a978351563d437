"""The dashboard's reads answer while another process holds the SQLite write lock (plain WAL reads)."""

from __future__ import annotations

import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.storage import db
from app.web.main import create_app
from tests.web.dashboard.seed_history import KEY, seed_history


@pytest.fixture
def locked_api(home, monkeypatch):
    settings = Settings(home=home)
    history = seed_history(settings)
    db.dispose_engines()
    # A short busy timeout: a read queued behind the writer fails fast (a 500 here) instead of passing late.
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        # First uses (the ratings fit, the game kernels' compilation) are not what this test times.
        client.get(f"/api/configs/{KEY}")
        game = client.get("/api/games", params={"config_key": KEY, "limit": 1}).json()["data"][0]["game_id"]
        client.get(f"/api/games/{game}")
        writer = sqlite3.connect(home / "zeroloop.db", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE models SET stage = stage")
        try:
            yield client, history, game
        finally:
            writer.execute("ROLLBACK")
            writer.close()
            db.dispose_engines()


def test_dashboard_and_rating_reads_answer_while_a_writer_holds_the_database(locked_api):
    api, h, game = locked_api
    for url in (
        f"/api/configs/{KEY}",
        f"/api/configs/{KEY}/decisions",
        f"/api/ratings/{KEY}",
        f"/api/models/{h.production}/training",
        f"/api/models/{h.production}",
        "/api/games",
        f"/api/games/{game}",
        "/api/jobs",
    ):
        start = time.perf_counter()
        r = api.get(url)
        assert r.status_code == 200, (url, r.text)
        assert time.perf_counter() - start < 1.0, url
