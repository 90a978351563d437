from sqlalchemy import text

from app.storage.db import get_engine, session_scope


def test_sqlite_runs_in_wal_mode_with_busy_timeout(settings):
    engine = get_engine(settings)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 10_000
    assert (settings.home / "zeroloop.db").exists()


def test_session_scope_rolls_back_whole_on_error(settings):
    with session_scope(settings) as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
    try:
        with session_scope(settings) as s:
            s.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("half-way")
    except RuntimeError:
        pass
    with session_scope(settings) as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 0
