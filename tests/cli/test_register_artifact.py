"""``models register --artifact`` refuses what would break play/evaluate/train once promoted, and records the
sha256 of what it accepts."""

from __future__ import annotations

from pathlib import Path

from app.games import game_for_key
from app.nn import Lineage, PolicyValueNet, save_checkpoint
from app.nn.config import NetConfig
from tests.cli.zl import run_cli


def _register(capsys, monkeypatch, home: Path | str, artifact: Path | str):
    return run_cli(
        capsys,
        monkeypatch,
        "--home",
        str(home),
        "models",
        "register",
        "hex5_2p_v1",
        "--artifact",
        str(artifact),
    )


def _checkpoint(path: Path):
    net = PolicyValueNet.for_game(game_for_key("hex5_2p"), NetConfig(blocks=1, channels=8, value_hidden=16))
    return save_checkpoint(path, net, Lineage(config_key="hex5_2p"))


def test_missing_artifact_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    r = _register(capsys, monkeypatch, tmp_path, "/nonexistent/x.safetensors")
    assert r.code == 2 and "Traceback" not in r.err
    assert "--artifact" in r.err and "no such file" in r.err
    r = run_cli(capsys, monkeypatch, "--home", str(tmp_path), "models", "list")
    assert "hex5_2p_v1" not in r.out


def test_unloadable_artifact_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage" * 50)
    r = _register(capsys, monkeypatch, tmp_path, bad)
    assert r.code == 2 and "Traceback" not in r.err


def test_good_artifact_records_its_checksum(tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "m.safetensors"
    meta = _checkpoint(path)
    r = _register(capsys, monkeypatch, tmp_path, path)
    assert r.code == 0, r.err
    r = run_cli(capsys, monkeypatch, "--home", str(tmp_path), "models", "show", "hex5_2p_v1", "--json")
    assert meta.sha256 in r.out


def test_outside_checkpoint_is_copied_into_the_home(tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "m.safetensors"
    meta = _checkpoint(path)
    home = tmp_path / "home"
    r = _register(capsys, monkeypatch, home, path)
    assert r.code == 0, r.err
    copy = home / "models" / "hex5_2p" / f"{meta.sha256}.safetensors"
    assert copy.read_bytes() == path.read_bytes()
    assert f"copied {path} into the data directory" in " ".join(r.out.split())
    path.unlink()  # the registry holds the copy: the original may go
    r = run_cli(
        capsys, monkeypatch, "--home", str(home), "evaluate", "hex5_2p_v1", "--opponent", "random", "-n", "2"
    )
    assert r.code == 0, r.err


def test_checkpoint_deleted_after_registration(tmp_path: Path, capsys, monkeypatch) -> None:
    home = tmp_path / "home"
    path = home / "models" / "hex5_2p" / "m.safetensors"
    _checkpoint(path)
    assert _register(capsys, monkeypatch, home, path).code == 0
    path.unlink()
    r = run_cli(
        capsys, monkeypatch, "--home", str(home), "evaluate", "hex5_2p_v1", "--opponent", "random", "-n", "2"
    )
    assert r.code == 2, r.err
    assert "Traceback" not in r.err and str(path) in r.err and "missing" in r.err
