"""Output people can read and options where people type them: --home anywhere, flag names in errors, tables
that fold within 80 columns, evidence as aligned fields."""

from pathlib import Path

import pytest

from app.cli._argv import hoist_home
from app.cli._format import fields, number
from app.integration import ModelLifecycle
from app.registry import ModelStage
from tests.cli.zl import run_cli


@pytest.fixture
def zl(capsys, monkeypatch):
    return lambda *args: run_cli(capsys, monkeypatch, *args)


def test_hoist_home_moves_it_before_the_subcommand():
    assert hoist_home(["run", "hex5_2p", "--home", "D", "-n", "3"]) == [
        "--home",
        "D",
        "run",
        "hex5_2p",
        "-n",
        "3",
    ]
    assert hoist_home(["models", "list", "--home=D"]) == ["--home=D", "models", "list"]
    assert hoist_home(["jobs", "--", "--home", "x"]) == ["jobs", "--", "--home", "x"]
    assert hoist_home(["play", "--home"]) == ["play", "--home"]  # no value: typer says so


def test_home_after_the_subcommand_selects_the_data_directory(zl, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    assert zl("models", "register", "hex5_2p_v1", "--home", str(elsewhere)).code == 0
    assert (elsewhere / "zeroloop.db").exists() or any(elsewhere.iterdir())
    listed = zl("models", "list", "--home", str(elsewhere))
    assert "hex5_2p_v1" in listed.out


def test_errors_name_the_flags_the_user_typed(zl):
    r = zl("evaluate", "random", "-o", "rollout_mcts_2", "-c", "hex5_2p", "-n", "0", "--anchor-games", "-1")
    assert r.code == 2 and "-n/--games:" in r.err and "--anchor-games:" in r.err
    assert "max_games" not in r.err and "anchors_games" not in r.err
    r = zl("train", "hex5_2p", "--epochs", "0", "--lr", "-1")
    assert r.code == 2 and "--epochs:" in r.err and "--lr:" in r.err and "learning_rate" not in r.err


def test_numbers_and_fields_read_well():
    assert number(0.12345678901234) == "0.1235" and number(3) == "3" and number(1234.5678) == "1235"
    assert number(True) == "True"
    text = fields({"sprt": "accept", "elo_ci_low": 3.14159265358979, "games": 400})
    assert text.splitlines() == ["sprt        accept", "elo_ci_low  3.142", "games       400"]
    assert fields({}) == "-"


def test_tables_fold_within_80_columns_and_keep_whole_ids(zl, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    long_id = "hex13swap_2p_v123456"
    lc = ModelLifecycle()
    lc.register_model(
        long_id, ModelStage.EVALUATION, parent_model_id="hex13swap_2p_v123455", sha256="ab" * 32
    )
    lc.promote_model(
        long_id, ModelStage.STAGING, elo_delta=12.3456789,
        reason="won the gate", evidence={"elo_ci_low": 1.23456789012345, "games": 400, "sprt": "accept"},
    )  # fmt: skip
    listed = zl("models", "list")
    assert all(len(line) <= 80 for line in listed.out.splitlines())
    assert "…" not in listed.out
    folded = "".join(line.split("│")[1].strip() for line in listed.out.splitlines() if line.count("│") > 3)
    assert long_id in folded
    history = zl("models", "history", long_id)
    assert all(len(line) <= 80 for line in history.out.splitlines())
    assert "elo_ci_low  1.235" in history.out and "1.23456789" not in history.out
    assert "+12.3" in history.out
