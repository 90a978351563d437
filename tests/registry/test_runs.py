"""Runs (branches) in the registry: the run is a field of every model, and each run has its own production line."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from app.core.errors import AlreadyExists, InvalidTransition, ModelNotFound
from app.registry import ModelLifecycle, ModelStage
from app.storage.db import _alembic_config, get_engine
from tests.registry.test_migration import _database_at_lifecycle_0001, _rows

KEY = "hex5_2p"


def _to_production(lc: ModelLifecycle, model_id: str, parent: str | None = None) -> None:
    lc.register_model(model_id, ModelStage.EVALUATION, parent_model_id=parent)
    lc.promote_to_production(model_id, reason="test")


def test_the_run_comes_from_the_model_id_and_defaults_to_main(settings):
    lc = ModelLifecycle(settings)
    assert lc.register_model(f"{KEY}_v1").run == "main"
    assert lc.register_model(f"{KEY}_wide_v2", parent_model_id=f"{KEY}_v1").run == "wide"
    assert lc.get_model(f"{KEY}_wide_v2").run == "wide"
    assert lc.register_model("custom-net", config_key=KEY, version=3).run == "main"
    assert [m.model_id for m in lc.list_models(KEY, run="wide")] == [f"{KEY}_wide_v2"]
    assert [m.version for m in lc.list_models(KEY)] == [1, 2, 3]  # one version counter per config key
    with pytest.raises(AlreadyExists, match="version 2 of hex5_2p is already model 'hex5_2p_wide_v2'"):
        lc.register_model(f"{KEY}_v2")
    with pytest.raises(ValueError, match="malformed run name"):
        lc.list_models(KEY, run="Wide")


def test_each_run_has_its_own_production_line_and_rollback(settings):
    lc = ModelLifecycle(settings)
    _to_production(lc, f"{KEY}_v1")
    _to_production(lc, f"{KEY}_wide_v2", parent=f"{KEY}_v1")
    assert lc.get_production(KEY).model_id == f"{KEY}_v1"  # the fork's promotion leaves main's production
    assert lc.get_production(KEY, "wide").model_id == f"{KEY}_wide_v2"
    _to_production(lc, f"{KEY}_wide_v3", parent=f"{KEY}_wide_v2")
    assert lc.get_model(f"{KEY}_wide_v2").stage is ModelStage.RETIRED
    assert lc.get_production(KEY).model_id == f"{KEY}_v1"
    assert lc.rollback_target(KEY) is None and lc.rollback_target(KEY, "wide") == f"{KEY}_wide_v2"
    with pytest.raises(ModelNotFound, match="no earlier production model of hex5_2p to roll back"):
        lc.rollback(KEY, reason="r")
    assert lc.rollback(KEY, run="wide", reason="r").model_id == f"{KEY}_wide_v2"
    assert lc.get_production(KEY).model_id == f"{KEY}_v1"
    with pytest.raises(ModelNotFound, match=r"hex5_2p \(run wide\)"):
        lc.rollback(KEY, run="wide", reason="again")
    lc.register_model(f"{KEY}_v4", ModelStage.EVALUATION)
    lc.promote_to_production(f"{KEY}_v4")
    assert lc.get_production(KEY, "wide").model_id == f"{KEY}_wide_v2"
    with pytest.raises(InvalidTransition):
        lc.promote_to_production(f"{KEY}_wide_v3")  # retired stays retired, in any run


def test_migration_puts_every_stored_model_in_the_main_run_and_keeps_one_production_per_run(settings):
    home, url = settings.ensure_home(), settings.db_url
    _database_at_lifecycle_0001(url, _rows(home))
    get_engine(settings)  # to heads
    lc = ModelLifecycle(settings)
    assert {m.run for m in lc.list_models(KEY)} == {"main"}
    lc.promote_to_production("hex5_2p_v0")
    lc.register_model(f"{KEY}_wide_v9", ModelStage.STAGING)
    lc.promote_to_production(f"{KEY}_wide_v9")
    with create_engine(url).begin() as conn, pytest.raises(Exception, match="UNIQUE"):
        conn.execute(text("UPDATE models SET stage = 'PRODUCTION' WHERE model_id = 'hex5_2p_v1'"))


def test_downgrade_to_lifecycle_0002_drops_the_run(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _database_at_lifecycle_0001(url, {"hex5_2p_v0": None})
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg = _alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "lifecycle_0003")
        assert conn.execute(text("SELECT run FROM models")).scalar() == "main"
        command.downgrade(cfg, "lifecycle_0002")
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(models)"))]
    engine.dispose()
    assert "run" not in columns
