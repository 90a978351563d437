"""Engines and sessions, with migrations applied automatically on first use.

SQLite runs in WAL mode with a busy timeout so several processes (CLI, node, job subprocesses) can share one
data directory. PostgreSQL works through the same code by URL. Migrations are Alembic's, one independent
branch per area (``branch_labels``), upgraded to ``heads``; a file lock (SQLite) or an advisory lock
(PostgreSQL) keeps two processes from migrating at once.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_PG_MIGRATION_LOCK = 0x7A65_726F  # "zero"
READ_ONLY_OPTION = "zeroloop_read_only"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin_immediate(conn) -> None:
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        # A WAL read sees the last commit and never waits for a writer; IMMEDIATE would queue it behind one.
        conn.connection.driver_connection.execute("BEGIN")
        return
    # Take the write lock at BEGIN: a deferred transaction that later upgrades to a writer can fail with
    # "database is locked" without waiting for busy_timeout, which breaks concurrent writers.
    # Straight to the driver: this runs for every transaction, and SQLAlchemy's statement machinery around a
    # constant BEGIN costs more than the BEGIN itself.
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE")


def _alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _make_engine(settings: Settings) -> Engine:
    url = settings.db_url
    if settings.is_sqlite:
        settings.ensure_home()
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "isolation_level": None}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _migrate(engine, settings)
    return engine


def _migrate(engine: Engine, settings: Settings) -> None:
    cfg = _alembic_config(settings.db_url)
    cfg.attributes["home"] = settings.home  # lifecycle_0002 makes artifact paths relative to it
    if settings.is_sqlite and _at_heads(engine, cfg):
        return  # checked with a plain read, so opening a database a writer holds does not wait for it
    if settings.is_sqlite:
        lock_path = settings.home / ".migrate.lock"
        with open(lock_path, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                with engine.connect() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "heads")
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            conn.commit()
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()


def _at_heads(engine: Engine, cfg: Config) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.execution_options(**{READ_ONLY_OPTION: True}).connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == set(ScriptDirectory.from_config(cfg).get_heads())


def get_engine(settings: Settings | None = None) -> Engine:
    """The engine for the installation's database, migrated to the newest schema (cached per URL)."""
    settings = settings or get_settings()
    url = settings.db_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _make_engine(settings)
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests; after fork)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back whole when it raises."""
    factory = sessionmaker(get_engine(settings), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def read_engine(settings: Settings | None = None) -> Engine:
    """The installation's engine for read-only work: its transactions are plain WAL reads on SQLite."""
    return get_engine(settings).execution_options(**{READ_ONLY_OPTION: True})


@contextmanager
def read_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A read-only transaction: on SQLite a plain WAL read that never waits for a writer holding the database.

    Writes inside it are a bug; they would only start waiting for the lock at their first statement.
    """
    factory = sessionmaker(read_engine(settings), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
