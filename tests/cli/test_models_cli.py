import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.registry import ModelLifecycle, ModelStage
from tests.cli.zl import run_cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def zl(capsys, monkeypatch):
    return lambda *args: run_cli(capsys, monkeypatch, *args)


def test_register_promote_list_show(zl, settings):
    assert zl("models", "register", "hex8_2p_v1", "--metric", "loss=0.4").code == 0
    r = zl("models", "register", "hex8_2p_v2", "--parent", "hex8_2p_v1", "--stage", "evaluation")
    assert r.code == 0 and "hex8_2p_v2" in r.out and "EVALUATION" in r.out
    r = zl(
        "models",
        "promote",
        "hex8_2p_v1",
        "evaluation",
        "--elo-delta",
        "45",
        "-e",
        "games=400",
        "-e",
        "sprt=accept",
    )
    assert r.code == 0 and "TRAINING → EVALUATION" in r.out
    assert zl("models", "promote", "hex8_2p_v1", "production").code == 0
    r = zl("models", "promote", "hex8_2p_v2", "PRODUCTION", "--reason", "stronger")
    assert r.code == 0 and "hex8_2p_v1: PRODUCTION → RETIRED" in r.out

    lc = ModelLifecycle(settings)
    assert lc.get_production("hex8_2p").model_id == "hex8_2p_v2"
    step = lc.history("hex8_2p_v1")[1]
    assert (step.elo_delta, step.evidence) == (45.0, {"games": 400, "sprt": "accept"})

    r = zl("models", "list")
    assert r.code == 0 and "hex8_2p_v1" in r.out and "PRODUCTION" in r.out and "RETIRED" in r.out
    r = zl("models", "list", "--stage", "production", "--json")
    assert [m["model_id"] for m in json.loads(r.out)] == ["hex8_2p_v2"]
    r = zl("models", "show", "hex8_2p_v2", "--json")
    shown = json.loads(r.out)
    assert shown["parent_model_id"] == "hex8_2p_v1" and shown["lineage"] == ["hex8_2p_v1"]
    r = zl("models", "show", "hex8_2p_v1")
    assert r.code == 0 and "loss=0.4" in r.out and "RETIRED" in r.out


def test_history_of_a_model_and_of_a_config(zl, settings):
    lc = ModelLifecycle(settings)
    lc.register_model("hex8_2p_v1", ModelStage.EVALUATION)
    lc.promote_to_production("hex8_2p_v1", elo_delta=30, reason="first")
    lc.register_model("hex8_2p_v2", ModelStage.EVALUATION)
    rows = json.loads(zl("models", "history", "hex8_2p_v1", "--json").out)
    assert [(r["from_stage"], r["to_stage"], r["elo_delta"]) for r in rows] == [
        (None, "EVALUATION", None),
        ("EVALUATION", "PRODUCTION", 30.0),
    ]
    rows = json.loads(zl("models", "history", "hex8_2p", "--json").out)
    assert [r["model_id"] for r in rows] == ["hex8_2p_v1", "hex8_2p_v1", "hex8_2p_v2"]
    r = zl("models", "history", "hex8_2p_v1")
    assert r.code == 0 and "first" in r.out and "+30" in r.out


def test_rollback(zl, settings):
    lc = ModelLifecycle(settings)
    for v in (1, 2):
        lc.register_model(f"hex8_2p_v{v}", ModelStage.EVALUATION)
        lc.promote_to_production(f"hex8_2p_v{v}")
    r = zl("models", "rollback", "hex8_2p", "--reason", "v2 lost 40 Elo")
    assert (
        r.code == 0
        and "hex8_2p_v2: PRODUCTION → RETIRED" in r.out
        and "hex8_2p_v1: RETIRED → PRODUCTION" in r.out
    )
    assert lc.get_production("hex8_2p").model_id == "hex8_2p_v1"
    assert lc.history("hex8_2p_v1")[-1].reason == "v2 lost 40 Elo"
    r = zl("models", "rollback", "hex8_2p", "--reason", "again")
    assert r.code == 2 and "no earlier production model" in r.err and r.out == ""


def test_policy_flags_and_file(zl, settings, tmp_path):
    lc = ModelLifecycle(settings)
    lc.register_model("hex8_2p_v1", ModelStage.EVALUATION)
    r = zl("models", "promote", "hex8_2p_v1", "staging", "--min-games", "400", "-e", "games=100")
    assert r.code == 2 and "min_games: games=100 < 400" in r.err
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"require_sprt_accept": True, "min_elo_delta": 10}))
    r = zl("models", "promote", "hex8_2p_v1", "staging", "--policy", str(policy), "-e", "sprt=inconclusive")
    assert r.code == 2 and "require_sprt_accept" in r.err and "min_elo_delta" in r.err
    assert lc.get_model("hex8_2p_v1").stage is ModelStage.EVALUATION
    r = zl(
        "models",
        "promote",
        "hex8_2p_v1",
        "staging",
        "--policy",
        str(policy),
        "-e",
        "sprt=accept",
        "--elo-delta",
        "12",
    )
    assert r.code == 0 and lc.get_model("hex8_2p_v1").stage is ModelStage.STAGING
    toml = tmp_path / "policy.toml"
    toml.write_text("min_games = 'lots'\n")
    r = zl("models", "promote", "hex8_2p_v1", "production", "--policy", str(toml))
    assert r.code == 2 and "invalid promotion policy" in r.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("models", "show", "hex8_2p_v9"), "no model 'hex8_2p_v9' is registered"),
        (("models", "history", "hex8_2p_v9"), "no model 'hex8_2p_v9' is registered"),
        (("models", "promote", "hex8_2p_v1", "live"), "unknown model stage 'live'; valid stages: TRAINING"),
        (("models", "promote", "hex8_2p_v1", "production"), "cannot move from TRAINING to PRODUCTION"),
        (("models", "register", "hex8_2p_v1"), "already registered"),
        (("models", "register", "hex8-2p"), "malformed model id 'hex8-2p'"),
        (("models", "list", "--config", "hex8"), "malformed config key 'hex8'"),
        (
            ("models", "promote", "hex8_2p_v1", "evaluation", "-e", "games"),
            "evidence must look like KEY=VALUE",
        ),
        (
            ("models", "promote", "hex8_2p_v1", "evaluation", "--policy", "/nonexistent.json"),
            "does not exist",
        ),
        (("models", "rollback", "hex8_2p"), "Missing option '--reason'"),
    ],
)
def test_bad_input_exits_2_with_a_message_on_stderr(zl, settings, args, message):
    ModelLifecycle(settings).register_model("hex8_2p_v1")
    r = zl(*args)
    assert r.code == 2
    assert message in " ".join(r.err.split())  # rich may wrap long lines
    assert ModelLifecycle(settings).get_model("hex8_2p_v1").stage is ModelStage.TRAINING


def test_console_script_exit_code_and_stderr(home):
    env = {**os.environ, "ZEROLOOP_HOME": str(home), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "app", "models", "show", "hex8_2p_v9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no model 'hex8_2p_v9' is registered" in done.stderr and done.stdout == ""
