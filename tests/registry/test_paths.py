"""Artifact paths are stored relative to the data directory and resolved against whichever home reads them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.errors import ArtifactOutsideHome, ChecksumMismatch
from app.registry import ModelLifecycle, copy_into_home, stored_artifact_path
from app.registry.paths import relative_to_home
from app.storage.db import get_engine

SHA = "cd" * 32


def _stored(settings: Settings, model_id: str) -> str:
    with get_engine(settings).connect() as conn:
        query = text("SELECT artifact_path FROM models WHERE model_id = :m")
        return conn.execute(query, {"m": model_id}).scalar()


def test_a_path_inside_the_home_is_stored_relative_and_read_absolute(settings):
    lc = ModelLifecycle(settings)
    path = settings.home / "models" / "hex5_2p" / "hex5_2p_v1.safetensors"
    record = lc.register_model("hex5_2p_v1", artifact_path=str(path), sha256=SHA)
    assert record.artifact_path == str(path)
    assert _stored(settings, "hex5_2p_v1") == "models/hex5_2p/hex5_2p_v1.safetensors"
    assert lc.get_model("hex5_2p_v1").artifact_path == str(path)
    lc.update_model("hex5_2p_v1", artifact_path=settings.home / "models" / "other.safetensors")
    assert _stored(settings, "hex5_2p_v1") == "models/other.safetensors"


def test_a_relative_path_means_relative_to_the_working_directory(settings, monkeypatch):
    monkeypatch.chdir(settings.ensure_home().parent)
    lc = ModelLifecycle(settings)
    lc.register_model("hex5_2p_v1", artifact_path=f"{settings.home.name}/models/a.safetensors", sha256=SHA)
    assert _stored(settings, "hex5_2p_v1") == "models/a.safetensors"


@pytest.mark.parametrize("outside", ["/elsewhere/m.safetensors", "{home}/../m.safetensors", "{home}"])
def test_a_path_outside_the_home_is_refused_saying_what_would_do(settings, outside):
    lc = ModelLifecycle(settings)
    path = outside.format(home=settings.home)
    with pytest.raises(ArtifactOutsideHome, match="outside the data directory") as info:
        lc.register_model("hex5_2p_v1", artifact_path=path, sha256=SHA)
    message = str(info.value)
    assert path in message and str(settings.home.absolute()) in message and "Copy the checkpoint" in message
    assert isinstance(info.value, ValueError)
    assert lc.list_models() == []
    lc.register_model("hex5_2p_v1")
    with pytest.raises(ArtifactOutsideHome):
        lc.update_model("hex5_2p_v1", artifact_path=path)


def test_a_symlinked_home_keeps_its_files_inside(tmp_path):
    real = tmp_path / "real"
    (real / "models").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert relative_to_home(link, link / "models" / "m.safetensors") == "models/m.safetensors"
    assert relative_to_home(link, real / "models" / "m.safetensors") == "models/m.safetensors"
    assert relative_to_home(real, tmp_path / "realx" / "m") is None
    assert stored_artifact_path(real, real / "a" / ".." / "b") == "b"


def test_copy_into_home_names_the_copy_by_its_sha256(tmp_path):
    home = tmp_path / "home"
    source = tmp_path / "m.safetensors"
    source.write_bytes(b"weights")
    sha = "f" * 64
    with pytest.raises(ChecksumMismatch, match="expected"):
        copy_into_home(home, source, config_key="hex5_2p", sha256=sha)
    sha = hashlib.sha256(b"weights").hexdigest()
    copy = copy_into_home(home, source, config_key="hex5_2p", sha256=sha)
    assert copy == home / "models" / "hex5_2p" / f"{sha}.safetensors" and copy.read_bytes() == b"weights"
    assert copy_into_home(home, source, config_key="hex5_2p", sha256=sha) == copy  # reused
    assert copy_into_home(home, copy, config_key="hex5_2p", sha256=sha) == copy  # already inside
    assert not list(Path(home).rglob("*.tmp"))
