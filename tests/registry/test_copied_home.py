"""A data directory copied after a short run, its original removed, still evaluates, plays and selfplays: the
registry stores artifact paths relative to the directory. A flipped byte in a copied checkpoint is noticed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.cli import app as cli
from app.core.config import Settings, get_settings, reset_settings
from app.core.errors import ChecksumMismatch
from app.games import game_for_key
from app.integration.pipeline import Pipeline
from app.p2p.local_jobs import LocalJobs
from app.registry import ModelLifecycle, load_registered_net, model_artifact
from app.storage.db import dispose_engines
from tests.cli.test_selfplay_play_cli import ALL_HEX5_CELLS
from tests.cli.zl import run_cli
from tests.integration.test_pipeline import KEY, tiny_config

MODEL = f"{KEY}_v1"
pytestmark = pytest.mark.slow  # one pipeline cycle (about 45 s on two cores)


@pytest.fixture(scope="module")
def copied_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory of a one-cycle hex5 run, copied elsewhere; the original is gone."""
    root = tmp_path_factory.mktemp("moved")
    original, copy = root / "original", root / "copy"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZEROLOOP_HOME", str(original))
        mp.delenv("ZEROLOOP_DATABASE_URL", raising=False)
        mp.delenv("ZEROLOOP_TOKEN", raising=False)
        reset_settings()
        dispose_engines()
        settings = get_settings()
        with (
            LocalJobs(settings) as jobs,
            Pipeline(KEY, settings=settings, config=tiny_config(), jobs=jobs) as pipeline,
        ):
            assert pipeline.run(1)[0].status == "done"
        dispose_engines()
        reset_settings()
    shutil.copytree(original, copy)
    shutil.rmtree(original)
    return copy


def _stored_paths(home: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{home / 'zeroloop.db'}")
    with engine.connect() as conn:
        paths = conn.execute(
            text("SELECT artifact_path FROM models WHERE artifact_path IS NOT NULL")
        ).scalars()
        found = list(paths)
    engine.dispose()
    return found


def test_the_copy_evaluates_plays_and_selfplays_without_the_original(copied_home, capsys, monkeypatch):
    assert not (copied_home.parent / "original").exists()
    assert _stored_paths(copied_home) == [f"models/{KEY}/{MODEL}.safetensors"]
    settings = Settings(home=copied_home)
    record = ModelLifecycle(settings).get_model(MODEL)
    assert Path(record.artifact_path) == copied_home / "models" / KEY / f"{MODEL}.safetensors"

    home = ("--home", str(copied_home))
    r = run_cli(capsys, monkeypatch, *home, "evaluate", MODEL, "-o", "random", "-n", "2", "-s", "2", "--json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert result["candidate"] == MODEL and result["games"] == 2
    assert result["wins"] + result["draws"] + result["losses"] == 2

    r = CliRunner().invoke(
        cli, [*home, "play", KEY, "--model", MODEL, "-s", "2", "--seat", "1"], input=ALL_HEX5_CELLS
    )
    assert r.exit_code == 0, r.output
    assert f"{MODEL} (player 0) plays" in r.stdout and "result: " in r.stdout

    r = run_cli(capsys, monkeypatch, *home, "selfplay", KEY, "-n", "2", "-s", "2", "--model", MODEL, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["games"] == 2


def test_a_flipped_byte_in_a_copied_checkpoint_is_refused(copied_home, tmp_path, capsys, monkeypatch):
    flipped = tmp_path / "flipped"
    shutil.copytree(copied_home, flipped)
    settings = Settings(home=flipped)
    path = model_artifact(settings, MODEL).path
    assert path.is_relative_to(flipped)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    with pytest.raises(ChecksumMismatch) as info:
        load_registered_net(settings, MODEL, game_for_key(KEY))
    message = str(info.value)
    assert MODEL in message and str(path) in message and "changed or damaged" in message

    r = run_cli(capsys, monkeypatch, "--home", str(flipped), "evaluate", MODEL, "-o", "random", "-n", "2")
    assert r.code == 2 and "Traceback" not in r.err
    assert "changed or damaged" in " ".join(r.err.split())
