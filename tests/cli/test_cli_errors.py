"""Bad surroundings give exit 2 and a short message, never a traceback; --debug / ZEROLOOP_DEBUG keep it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.zl import run_cli


def _short(err: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3


def test_home_at_a_file(tmp_path: Path, capsys, monkeypatch) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    r = run_cli(capsys, monkeypatch, "--home", str(f), "models", "list")
    assert r.code == 2
    _short(r.err)
    assert "not a directory" in r.err and "--home" in r.err


def test_home_at_dev_null(capsys, monkeypatch) -> None:
    r = run_cli(capsys, monkeypatch, "--home", "/dev/null", "ratings", "hex6_2p")
    assert r.code == 2
    _short(r.err)
    assert "/dev/null" in r.err


def test_corrupt_database(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "zeroloop.db").write_bytes(b"not sqlite at all " * 400)
    r = run_cli(capsys, monkeypatch, "--home", str(tmp_path), "ratings", "hex6_2p")
    assert r.code == 2
    _short(r.err)
    assert "database" in r.err and "--home" in r.err


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(tmp_path: Path, capsys, monkeypatch, how: str) -> None:
    (tmp_path / "zeroloop.db").write_bytes(b"not sqlite at all " * 400)
    args = ["--home", str(tmp_path), "ratings", "hex6_2p"]
    if how == "flag":
        args.insert(0, "--debug")
    else:
        monkeypatch.setenv("ZEROLOOP_DEBUG", "1")
    r = run_cli(capsys, monkeypatch, *args)
    assert r.code == 2
    assert "Traceback" in r.err and "error:" in r.err


def test_token_refusal_names_the_flag() -> None:
    from app.cli._errors import describe

    missing = PermissionError(
        "the node requires a token: pass P2PIntegration(token=...) or set ZEROLOOP_TOKEN (x)"
    )
    assert "--token" in describe(missing) and "P2PIntegration" not in describe(missing)
    wrong = PermissionError("the node refused this client's token (invalid token)")
    assert "--token" in describe(wrong)


def test_a_new_home_is_named_for_read_only_commands(tmp_path: Path, capsys, monkeypatch) -> None:
    home = tmp_path / "typo"
    r = run_cli(capsys, monkeypatch, "--home", str(home), "ratings", "hex6_2p")
    assert r.code == 0
    assert "is new" in r.err and str(home) in r.err
    r = run_cli(capsys, monkeypatch, "--home", str(home), "models", "list")
    assert "is new" not in r.err  # the first command created the database: the directory is in use now
