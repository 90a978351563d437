"""Every test runs against its own fresh data directory (``ZEROLOOP_HOME``) unless it asks otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.config import Settings, get_settings, reset_settings
from app.storage.db import dispose_engines

IN_CI = os.environ.get("CI") == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally when an optional system tool is missing; in CI a missing tool is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI must provide this: {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "home"
    monkeypatch.setenv("ZEROLOOP_HOME", str(data))
    monkeypatch.delenv("ZEROLOOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("ZEROLOOP_TOKEN", raising=False)
    reset_settings()
    dispose_engines()
    yield data
    dispose_engines()
    reset_settings()


@pytest.fixture
def settings(home: Path) -> Settings:
    return get_settings()
