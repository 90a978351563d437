"""Run manifests: a tiny hex5 run writes one beside its models, and a replay into a new home reproduces it
(shards byte for byte; checkpoints by their weights, since a checkpoint file records when it was written)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from app.cli import app
from app.core.config import Settings
from app.integration.manifest import weights_sha256
from app.registry import ModelLifecycle
from app.storage.shards import ShardStore
from tests.cli.test_run_settings_cli import TINY, _sets
from tests.cli.zl import run_cli

KEY = "hex5_2p"


def _said(result) -> str:
    return " ".join(result.output.split())


def _produced(home) -> tuple[dict, dict]:
    settings = Settings(home=home)
    shards = {r.name: (home / r.path).read_bytes() for r in ShardStore(settings).records(KEY)}
    weights = {m.model_id: weights_sha256(m.artifact_path) for m in ModelLifecycle(settings).list_models(KEY)}
    return shards, weights


def test_a_run_writes_a_manifest_and_a_replay_into_a_new_home_reproduces_it(
    tmp_path, settings, capsys, monkeypatch
):
    first, second = tmp_path / "first", tmp_path / "second"
    runner = CliRunner()
    # The synchronous loop: a continuous run's shards depend on its fleet's timing (its replay is refused below).
    result = runner.invoke(
        app, ["--home", str(first), "run", KEY, "--cycles", "2", *_sets([*TINY, "mode=sync"])]
    )
    assert result.exit_code == 0, result.output
    path = first / "models" / KEY / "manifest.json"
    manifest = json.loads(path.read_text())
    assert (manifest["config_key"], manifest["run"], manifest["fork_model_id"]) == (KEY, "main", None)
    assert manifest["settings"]["gate_max_games"] == 4 and manifest["seed"] == 0
    assert {"torch", "numpy"} <= set(manifest["packages"]) and manifest["hardware"]["cpus"] >= 1
    assert manifest["git_commit"] is None or len(manifest["git_commit"]) == 40
    one, two = manifest["cycles"]
    assert (one["cycle"], one["candidate"], two["candidate"]) == (1, f"{KEY}_v1", f"{KEY}_v2")
    assert set(one["jobs"]) == {"selfplay", "training", "evaluation"} and all(one["jobs"].values())
    assert [s["name"] for s in one["shards"]] == ["cycle0001"] and len(one["shards"][0]["sha256"]) == 64
    assert len(one["weights_sha256"]) == 64 and one["checkpoint_sha256"] != one["weights_sha256"]

    result = runner.invoke(app, ["--home", str(second), "run", "--from-manifest", str(path)])
    assert result.exit_code == 0, result.output
    assert "replay identical to the manifest: 8 checks" in _said(result)
    shards, weights = _produced(first)
    assert _produced(second) == (shards, weights) and len(shards) == 2 and len(weights) == 2
    again = run_cli(capsys, monkeypatch, "--home", str(first), "run", "--from-manifest", str(path))
    assert (
        again.code == 2
        and "already holds cycles of hex5_2p: a replay needs a fresh data directory" in again.err
    )


def test_replays_that_cannot_be_are_refused(tmp_path, settings, capsys, monkeypatch):
    home = tmp_path / "home"

    def refused(*args: str) -> str:
        r = run_cli(capsys, monkeypatch, "--home", str(home), "run", *args)
        assert r.code == 2, (r.out, r.err)
        return " ".join(r.err.split())

    path = tmp_path / "manifest.json"
    assert "manifest.json: no such file" in refused("--from-manifest", str(path))
    path.write_text("{not json")
    assert "is not a readable JSON manifest" in refused("--from-manifest", str(path))
    path.write_text(json.dumps({"manifest_version": 99}))
    assert "is not a version 1 run manifest" in refused("--from-manifest", str(path))
    fork = {"manifest_version": 1, "config_key": KEY, "run": "wide", "fork_model_id": f"{KEY}_v1",
            "settings": {}, "cycles": [{"cycle": 1, "settings": {}}]}  # fmt: skip
    path.write_text(json.dumps(fork))
    assert "replay the main run it was forked from" in refused("--from-manifest", str(path))
    path.write_text(json.dumps(fork | {"run": "main", "fork_model_id": None, "cycles": [{"cycle": 2}]}))
    assert "its cycles are [2], not 1..N" in refused("--from-manifest", str(path))
    path.write_text(json.dumps(fork | {"run": "main", "fork_model_id": None}))
    assert "is a run of hex5_2p, not hex6_2p" in refused("--from-manifest", str(path), "hex6_2p")
    path.write_text(
        json.dumps(fork | {"run": "main", "fork_model_id": None, "settings": {"mode": "continuous"}})
    )
    assert "records a mode=continuous run" in refused("--from-manifest", str(path))
    path.write_text(json.dumps(fork | {"run": "main", "fork_model_id": None}))
    said = refused("--from-manifest", str(path), "--set", "seed=2")
    assert "--from-manifest replays the settings it records; --set would change them" in said
    assert "needs a CONFIG_KEY" in refused()
