"""lifecycle: artifact paths relative to the data directory, so that a data directory can be copied whole (2026-12-02)

An absolute ``models.artifact_path`` that lies inside the data directory becomes relative to it (POSIX form);
one outside it stays as it is (the registry still reads it). The data directory is the ``home`` attribute that
``app.storage.db`` passes in, else the directory of the SQLite file. On PostgreSQL, where the database is shared by
nodes with data directories of their own, nothing is rewritten: absolute paths stay and are read as they are.
"""

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision, down_revision, branch_labels = "lifecycle_0002", "lifecycle_0001", None

_SELECT = sa.text("SELECT model_id, artifact_path FROM models WHERE artifact_path IS NOT NULL")
_UPDATE = sa.text("UPDATE models SET artifact_path = :path WHERE model_id = :model_id")


def _home(bind) -> Path | None:
    home = context.config.attributes.get("home")
    if home is not None:
        return Path(home)
    database = bind.engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).parent


def _relative(home: Path, path: str) -> str | None:
    # Written out here rather than imported: a migration must keep doing what it did when it was written.
    for base, full in ((home.absolute(), Path(path)), (home.resolve(), Path(path).resolve())):
        base_text, full_text = os.path.normpath(base), os.path.normpath(full)
        if full_text == base_text:
            continue
        try:
            return Path(full_text).relative_to(base_text).as_posix()
        except ValueError:
            continue
    return None


def _rewrite(to_stored) -> None:
    bind = op.get_bind()
    home = _home(bind) if bind.dialect.name == "sqlite" else None
    if home is None:
        return
    for model_id, path in bind.execute(_SELECT).all():
        new = to_stored(home, path)
        if new is not None and new != path:
            bind.execute(_UPDATE, {"path": new, "model_id": model_id})


def upgrade() -> None:
    _rewrite(lambda home, path: _relative(home, path) if os.path.isabs(path) else None)


def downgrade() -> None:
    _rewrite(lambda home, path: None if os.path.isabs(path) else str(home.absolute() / path))
