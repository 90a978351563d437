"""Undo in the registry: a chosen model, RETIRED included, goes back to PRODUCTION with its reason recorded."""

from __future__ import annotations

import pytest

from app.core.config import Settings
from app.core.errors import InvalidTransition
from app.registry import ModelLifecycle, ModelStage


@pytest.fixture()
def lc(tmp_path) -> ModelLifecycle:
    lc = ModelLifecycle(settings=Settings(home=tmp_path))
    for v in (7, 8, 9):
        lc.register_model(f"hex5_2p_v{v}", stage=ModelStage.EVALUATION)
        lc.promote_to_production(f"hex5_2p_v{v}")
    lc.rollback("hex5_2p", reason="v9 regressed")  # v9 retired, v8 back
    lc.rollback("hex5_2p", reason="v8 regressed")  # v8 retired, v7 back: v8 cannot be a rollback target now
    return lc


def test_restore_a_retired_model(lc: ModelLifecycle) -> None:
    assert lc.get_production("hex5_2p").model_id == "hex5_2p_v7"
    restored = lc.restore("hex5_2p_v8", reason="the regression was a bad anchor")
    assert restored.stage is ModelStage.PRODUCTION
    assert lc.get_production("hex5_2p").model_id == "hex5_2p_v8"
    assert lc.get_model("hex5_2p_v7").stage is ModelStage.RETIRED
    last = lc.history("hex5_2p_v8")[-1]
    assert last.to_stage is ModelStage.PRODUCTION and last.reason == "the regression was a bad anchor"
    assert len(lc.list_models("hex5_2p", stage=ModelStage.PRODUCTION)) == 1


def test_restore_refuses_the_production_model_and_a_blank_reason(lc: ModelLifecycle) -> None:
    with pytest.raises(InvalidTransition, match="already in PRODUCTION"):
        lc.restore("hex5_2p_v7", reason="again")
    with pytest.raises(ValueError, match="reason"):
        lc.restore("hex5_2p_v8", reason=" ")


def test_models_restore_command(lc: ModelLifecycle, capsys, monkeypatch) -> None:
    from tests.cli.zl import run_cli

    home = str(lc.settings.home)
    r = run_cli(capsys, monkeypatch, "--home", home, "models", "restore", "hex5_2p_v9", "--reason", "fixed")
    assert r.code == 0, r.err
    assert "hex5_2p_v9" in r.out and "RETIRED → PRODUCTION" in r.out
    assert lc.get_production("hex5_2p").model_id == "hex5_2p_v9"
