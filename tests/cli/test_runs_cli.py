"""``zeroloop runs list / show / diff`` over stored runs, and what a bad config key or run name answers."""

from __future__ import annotations

import json

from app.integration import ModelLifecycle, ModelStage
from app.integration.pipeline_config import defaults_for
from app.integration.pipeline_state import PipelineState
from tests.cli.zl import run_cli

KEY = "hex5_2p"


def _seed(settings) -> None:
    lc = ModelLifecycle(settings)
    home = settings.ensure_home()
    for model_id, parent in (
        (f"{KEY}_v1", None),
        (f"{KEY}_wide_v2", f"{KEY}_v1"),
        (f"{KEY}_wide_v3", f"{KEY}_wide_v2"),
    ):
        lc.register_model(model_id, ModelStage.EVALUATION, parent_model_id=parent,
                          artifact_path=home / f"{model_id}.safetensors")  # fmt: skip
        lc.promote_to_production(model_id)
    main = defaults_for(KEY)
    wide = main.model_copy(update={"gate_max_games": 6, "cycle": main.cycle.model_copy(update={"epochs": 7})})
    PipelineState(settings, KEY).save_run(fork_model_id=None, settings=main.model_dump(mode="json"))
    PipelineState(settings, KEY, "wide").save_run(
        fork_model_id=f"{KEY}_v1", settings=wide.model_dump(mode="json")
    )


def test_runs_list_show_and_diff(capsys, monkeypatch, settings):
    _seed(settings)
    r = run_cli(capsys, monkeypatch, "runs", "list", KEY, "--json")
    assert r.code == 0, r.err
    body = json.loads(r.out)
    assert [(x["run"], x["fork_model_id"], x["production"], x["models"]) for x in body] == [
        ("main", None, f"{KEY}_v1", 1), ("wide", f"{KEY}_v1", f"{KEY}_wide_v3", 2)
    ]  # fmt: skip
    r = run_cli(capsys, monkeypatch, "runs", "list", KEY)
    assert "hex5_2p_wide_v3" in r.out and "wide" in r.out
    r = run_cli(capsys, monkeypatch, "runs", "show", KEY, "wide")
    assert r.code == 0, r.err
    said = " ".join(r.out.split())
    assert "hex5_2p run wide: forked from hex5_2p_v1, production hex5_2p_wide_v3" in said
    assert "lineage: hex5_2p_wide_v3 ← hex5_2p_wide_v2 ← hex5_2p_v1 (fork point, run main)" in said
    assert [line.split() for line in r.out.splitlines() if line.split()[:1] == ["gate_max_games"]] == [
        ["gate_max_games", "6"]
    ]
    r = run_cli(capsys, monkeypatch, "runs", "diff", KEY, "main", "wide", "--json")
    assert json.loads(r.out) == [
        {"key": "fork", "main": None, "wide": f"{KEY}_v1"},
        {"key": "gate_max_games", "main": defaults_for(KEY).gate_max_games, "wide": 6},
        {"key": "cycle.epochs", "main": defaults_for(KEY).cycle.epochs, "wide": 7},
    ]
    r = run_cli(capsys, monkeypatch, "runs", "diff", KEY, "wide", "wide")
    assert "runs wide and wide of hex5_2p have the same settings" in r.out


def test_unknown_runs_and_keys_are_refused_naming_what_exists(capsys, monkeypatch, settings):
    _seed(settings)
    r = run_cli(capsys, monkeypatch, "runs", "show", KEY, "tall")
    assert r.code != 0 and "no run 'tall' of hex5_2p; runs of hex5_2p: main, wide" in r.err
    r = run_cli(capsys, monkeypatch, "runs", "diff", KEY, "main", "Bad_Run")
    assert r.code != 0 and "malformed run name 'Bad_Run'" in r.err
    r = run_cli(capsys, monkeypatch, "runs", "list", "hex5")
    assert r.code != 0 and "malformed config key 'hex5'" in r.err
    r = run_cli(capsys, monkeypatch, "run", KEY, "--run", "tall", "--cycles", "1")
    assert r.code == 2 and "there is no run 'tall' of hex5_2p yet" in r.err and "--fork MODEL_ID" in r.err


def test_a_run_from_before_runs_were_recorded_shows_its_cycles_settings(capsys, monkeypatch, settings):
    state = PipelineState(settings, KEY)
    cycle = defaults_for(KEY).cycle.model_copy(update={"epochs": 9})
    state.create_cycle(
        1, settings=cycle.model_dump(), changes=[], candidate_model_id=f"{KEY}_v1", opponent="x"
    )
    r = run_cli(capsys, monkeypatch, "runs", "show", KEY, "--json")
    assert r.code == 0, r.err
    body = json.loads(r.out)
    assert (body["run"], body["recorded"], body["cycles"], body["cycles_done"]) == ("main", False, 1, 0)
    assert body["settings"]["cycle.epochs"] == 9 and body["lineage"] == []
    r = run_cli(capsys, monkeypatch, "runs", "show", KEY)
    assert "settings not recorded (the run predates runs)" in " ".join(r.out.split())
