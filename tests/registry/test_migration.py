"""Migration lifecycle_0002: absolute artifact paths inside the data directory become relative to it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from app.registry import ModelLifecycle
from app.storage.db import _alembic_config, get_engine

SHA = "ef" * 32
_INSERT = text(
    "INSERT INTO models (model_id, config_key, version, stage, artifact_path, sha256, training_config, metrics, "
    "metadata, created_at, updated_at) VALUES (:m, 'hex5_2p', :v, 'STAGING', :p, :s, '{}', '{}', '{}', :t, :t)"
)


def _paths(url: str) -> dict[str, str | None]:
    with create_engine(url).connect() as conn:
        return dict(conn.execute(text("SELECT model_id, artifact_path FROM models")).all())


def _database_at_lifecycle_0001(url: str, rows: dict[str, str | None]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg = _alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "lifecycle_0001")
        now = datetime.now(UTC)
        for version, (model_id, path) in enumerate(rows.items()):
            conn.execute(_INSERT, {"m": model_id, "v": version, "p": path, "s": SHA, "t": now})
    engine.dispose()


def _rows(home: Path) -> dict[str, str | None]:
    return {
        "hex5_2p_v0": str(home / "models" / "hex5_2p" / "hex5_2p_v0.safetensors"),
        "hex5_2p_v1": "/elsewhere/hex5_2p_v1.safetensors",
        "hex5_2p_v2": "models/hex5_2p/hex5_2p_v2.safetensors",
        "hex5_2p_v3": None,
    }


def test_absolute_paths_inside_the_home_are_rewritten_relative(settings):
    home = settings.ensure_home()
    url = settings.db_url
    _database_at_lifecycle_0001(url, _rows(home))
    get_engine(settings)  # migrates to heads, lifecycle_0002 with the settings' home
    assert _paths(url) == {
        "hex5_2p_v0": "models/hex5_2p/hex5_2p_v0.safetensors",
        "hex5_2p_v1": "/elsewhere/hex5_2p_v1.safetensors",  # outside the home: left, still readable
        "hex5_2p_v2": "models/hex5_2p/hex5_2p_v2.safetensors",
        "hex5_2p_v3": None,
    }
    lc = ModelLifecycle(settings)
    assert lc.get_model("hex5_2p_v0").artifact_path == str(home / "models/hex5_2p/hex5_2p_v0.safetensors")
    assert lc.get_model("hex5_2p_v1").artifact_path == "/elsewhere/hex5_2p_v1.safetensors"


def test_without_a_home_the_sqlite_file_names_it_and_downgrade_restores_absolute_paths(tmp_path):
    home = tmp_path / "copy"
    home.mkdir()
    url = f"sqlite:///{home / 'zeroloop.db'}"
    _database_at_lifecycle_0001(url, _rows(home))
    cfg = _alembic_config(url)
    command.upgrade(cfg, "lifecycle_0002")  # no home attribute: the database's directory
    assert _paths(url)["hex5_2p_v0"] == "models/hex5_2p/hex5_2p_v0.safetensors"
    command.downgrade(cfg, "lifecycle_0001")
    paths = _paths(url)
    assert paths["hex5_2p_v0"] == str(home.absolute() / "models/hex5_2p/hex5_2p_v0.safetensors")
    assert paths["hex5_2p_v2"] == str(home.absolute() / "models/hex5_2p/hex5_2p_v2.safetensors")
    assert paths["hex5_2p_v1"] == "/elsewhere/hex5_2p_v1.safetensors"


@pytest.mark.parametrize("memory", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_has_no_home_and_is_left_alone(memory):
    engine = create_engine(memory)
    with engine.begin() as conn:
        cfg = _alembic_config(memory)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "lifecycle_0001")
        conn.execute(_INSERT, {"m": "hex5_2p_v0", "v": 0, "p": "/abs/x", "s": SHA, "t": datetime.now(UTC)})
        command.upgrade(cfg, "lifecycle_0002")
        assert conn.execute(text("SELECT artifact_path FROM models")).scalar() == "/abs/x"
