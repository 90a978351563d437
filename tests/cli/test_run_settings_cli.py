"""``zeroloop run --set / --config / --show-config``: the resolved settings shown, refusals, and a real tiny run."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from app.cli import app
from app.core.config import get_settings
from app.integration.pipeline_config import PipelineConfig
from app.integration.pipeline_stages import cycle_seed
from app.integration.pipeline_state import PipelineState
from app.p2p import store as job_store
from tests.cli.zl import run_cli
from tests.integration.test_run_settings import seed_cycles

KEY = "hex5_2p"
TINY = [
    "cycle.selfplay_games=8", "cycle.num_simulations=4", "cycle.epochs=1", "cycle.batch_size=32",
    "cycle.replay_window=5000", "parallel_games=8", "gate_max_games=4", 'anchors=["random"]', "anchors_games=2",
    "selfplay_jobs=1",  # one selfplay job, whatever the cores: the job counts below stay the same everywhere
]  # fmt: skip


def _sets(pairs: list[str]) -> list[str]:
    return [arg for pair in pairs for arg in ("--set", pair)]


def _row(out: str, key: str) -> list[str]:
    [line] = [line for line in out.splitlines() if line.split()[:1] == [key]]
    return line.split(maxsplit=2)


def test_show_config_names_each_source_and_runs_nothing(capsys, monkeypatch, tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("solver = true\n[cycle]\nepochs = 5\n", encoding="utf-8")
    r = run_cli(capsys, monkeypatch, "run", "connect4_3p", "--config", str(path), "--set", "cycle.epochs=7",
                "--show-config")  # fmt: skip
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "connect4_3p: settings of cycle 1 (a new run)"
    assert _row(r.out, "solver") == ["solver", "true", f"file {path}"]
    assert _row(r.out, "cycle.epochs") == ["cycle.epochs", "7", "flag"]
    assert _row(r.out, "cycle.selfplay_games") == ["cycle.selfplay_games", "48", "per-game default"]
    assert _row(r.out, "gumbel") == ["gumbel", "false", "default"]
    assert not (get_settings().home / "zeroloop.db").exists()  # looking stores nothing


def test_show_config_after_stored_cycles_marks_the_feedback_change(capsys, monkeypatch, settings):
    seed_cycles(settings)
    r = run_cli(capsys, monkeypatch, "run", KEY, "--set", "cycle.num_simulations=64", "--show-config")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == f"{KEY}: settings of cycle 3 (2 cycles stored)"
    assert _row(r.out, "cycle.num_simulations") == ["cycle.num_simulations", "64", "flag"]
    assert _row(r.out, "cycle.selfplay_games") == ["cycle.selfplay_games", "8", "stored (cycle 1)"]
    assert "note:" not in r.out
    assert job_store.list_jobs(settings, config_key=KEY).data == []
    r = run_cli(capsys, monkeypatch, "run", KEY, "--show-config", "--json")
    body = json.loads(r.out)
    assert (body["cycle"], body["stored_cycles"]) == (3, 2)
    settings_ = {s["key"]: s for s in body["settings"]}
    assert settings_["cycle.num_simulations"] == {
        "key": "cycle.num_simulations", "value": 8, "source": "feedback (cycle 2: search_depth)"
    }  # fmt: skip


def test_refusals_are_two_lines_and_exit_2(capsys, monkeypatch, tmp_path):
    r = run_cli(capsys, monkeypatch, "run", KEY, "--set", "cycle.num_simulations=0", "--show-config")
    assert r.code == 2
    lines = r.err.strip().splitlines()
    assert lines[0].startswith("error: cycle.num_simulations=0 (--set) is refused")
    assert lines[1].startswith("cycle.num_simulations is an integer in [2, 1600]") and len(lines) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[cycle\n", encoding="utf-8")
    r = run_cli(capsys, monkeypatch, "run", KEY, "--config", str(bad))
    assert r.code == 2 and "is not valid TOML" in r.err and str(bad) in r.err.replace("\n", "")
    r = run_cli(capsys, monkeypatch, "run", KEY, "--set", "cycle.epoch=2")
    assert r.code == 2 and "did you mean cycle.epochs" in r.err
    r = run_cli(capsys, monkeypatch, "run", KEY, "--json")
    assert r.code == 2 and "--json goes with --show-config" in r.err


def test_a_tiny_run_stores_the_settings_it_was_given(settings, tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("seed = 3\n[cycle]\nepochs = 2\n", encoding="utf-8")
    # mode=sync: the cycle's own selfplay job plays its 8 games (a continuous fleet job plays shards of them).
    args = ["run", KEY, "--cycles", "1", "--config", str(path), *_sets([*TINY, "mode=sync"])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines at the runner's width
    assert (
        'settings given: mode="sync", parallel_games=8, selfplay_jobs=1, gate_max_games=4, anchors=["random"], anchors_games=2, '
        "seed=3, " in said
    )
    assert "cycle.epochs=1, " in said and "cycle.epochs=2" not in said
    [cycle] = PipelineState(settings, KEY).cycles()
    assert cycle.status == "done"
    assert (
        cycle.settings["num_simulations"],
        cycle.settings["epochs"],
        cycle.settings["selfplay_games"],
    ) == (4, 1, 8)
    jobs = {j.type: j.config for j in job_store.list_jobs(settings, config_key=KEY, limit=10).data}
    selfplay = jobs["selfplay"]
    assert (selfplay["num_simulations"], selfplay["games"], selfplay["parallel_games"]) == (4, 8, 8)
    assert (
        selfplay["seed"] == cycle_seed(PipelineConfig(seed=3), cycle) != cycle_seed(PipelineConfig(), cycle)
    )


def test_a_resumed_run_applies_a_given_cycle_setting_to_its_next_cycle(settings, capsys, monkeypatch):
    args = ["run", KEY, *_sets(TINY)]
    assert CliRunner().invoke(app, [*args, "--cycles", "1"]).exit_code == 0
    more = [pair for pair in TINY if not pair.startswith("cycle.epochs=")] + ["cycle.epochs=2"]
    result = CliRunner().invoke(app, ["run", KEY, "--cycles", "2", *_sets(more)])
    assert result.exit_code == 0, result.output
    assert "setting applied set by flag: cycle.epochs=2" in " ".join(result.output.split())
    first, second = PipelineState(settings, KEY).cycles()
    assert (first.settings["epochs"], second.settings["epochs"]) == (1, 2)
    [change] = [c for c in second.changes if c["action"] == "set"]
    assert (change["rule"], change["changes"]) == ("flag", {"epochs": [1, 2]})
    trainings = [
        j for j in job_store.list_jobs(settings, config_key=KEY, limit=20).data if j.type == "training"
    ]
    assert sorted(j.config["epochs"] for j in trainings) == [1, 2]
    r = run_cli(capsys, monkeypatch, "run", KEY, "--show-config")
    assert r.out.splitlines()[0] == f"{KEY}: settings of cycle 3 (2 cycles stored)"
    assert _row(r.out, "cycle.epochs") == ["cycle.epochs", "2", "flag (cycle 2)"]
