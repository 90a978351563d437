"""Reads go on while another process holds the SQLite write lock: WAL reads, not BEGIN IMMEDIATE."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.registry import ModelLifecycle
from app.storage import db


@pytest.fixture()
def held_write_lock(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path)
    ModelLifecycle(settings=settings).register_model("hex5_2p_v1")
    db.dispose_engines()
    # A short busy timeout: a read that queued behind the writer would fail fast instead of passing late.
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    writer = sqlite3.connect(tmp_path / "zeroloop.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE models SET stage = stage")
    yield settings
    writer.execute("ROLLBACK")
    writer.close()
    db.dispose_engines()


def test_registry_reads_answer_while_a_writer_holds_the_database(held_write_lock) -> None:
    lifecycle = ModelLifecycle(settings=held_write_lock)
    assert [m.model_id for m in lifecycle.list_models("hex5_2p")] == ["hex5_2p_v1"]
    assert lifecycle.get_model("hex5_2p_v1").model_id == "hex5_2p_v1"
    assert len(lifecycle.history("hex5_2p_v1")) == 1
    with db.read_scope(held_write_lock) as s:
        assert s.execute(text("SELECT count(*) FROM models")).scalar() == 1


def test_writes_still_take_the_lock(held_write_lock) -> None:
    with pytest.raises(Exception, match="locked"):
        ModelLifecycle(settings=held_write_lock).register_model("hex5_2p_v2")


def test_job_reads_answer_while_a_writer_holds_the_database(held_write_lock) -> None:
    from app.p2p import store

    assert store.list_jobs(held_write_lock).count == 0
    assert store.counts_by_state(held_write_lock) == {}


def test_an_offset_past_64_bits_is_refused(tmp_path) -> None:
    from app.p2p import store

    with pytest.raises(ValueError, match="offset must be between"):
        store.list_jobs(Settings(home=tmp_path), offset=152522341407494361841664)


def test_feedback_and_cluster_reads_answer_while_a_writer_holds_the_database(held_write_lock) -> None:
    from app.integration import PipelineFeedback
    from app.p2p import nodes

    feedback = PipelineFeedback(held_write_lock)
    assert feedback.history("hex5_2p") == []
    assert feedback.get_recommendations("hex5_2p") == []
    assert nodes.cluster_status(held_write_lock, hostname="here").nodes == []
