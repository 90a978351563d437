"""Artifact paths relative to the data directory, so that a data directory can be copied or moved whole.

The ``models`` table stores a checkpoint's path relative to ``settings.home`` (POSIX form, as the shard index
does); the registry resolves it against the home of whoever reads it. A path outside the home is refused with
``ArtifactOutsideHome``: ``copy_into_home`` first puts a copy at ``<home>/models/<config_key>/<sha256>.safetensors``
(what ``zeroloop models register --artifact`` does). A row that still holds an absolute path (written before
migration ``lifecycle_0002`` to a place outside the home, or on PostgreSQL, which that migration leaves alone)
is read as it is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from app.core.errors import ArtifactOutsideHome, ChecksumMismatch
from app.core.files import atomic_write, sha256_file

CHECKPOINT_DIR = "models"
CHECKPOINT_SUFFIX = ".safetensors"


def relative_to_home(home: Path, path: str | Path) -> str | None:
    """``path`` relative to ``home`` in POSIX form; None when it lies outside. A relative ``path`` means what it
    means to ``open``: relative to the working directory, as ``settings.home`` itself is.

    Compared as written first (a home reached through a symlink keeps its files inside), then with symlinks
    resolved (a checkpoint named through a link into the home is inside too).
    """
    home = Path(home).expanduser()
    target = Path(path).expanduser()
    pairs = ((home.absolute(), target.absolute()), (home.resolve(), target.resolve()))
    for base, full in pairs:
        base_text, full_text = os.path.normpath(base), os.path.normpath(full)
        if full_text == base_text:
            continue  # the home itself is no artifact
        try:
            return Path(full_text).relative_to(base_text).as_posix()
        except ValueError:
            continue
    return None


def stored_artifact_path(home: Path, path: str | Path) -> str:
    """The form the ``models`` table stores; ``ArtifactOutsideHome`` for a path outside ``home``."""
    relative = relative_to_home(home, path)
    if relative is None:
        raise ArtifactOutsideHome(
            f"artifact {path} lies outside the data directory {Path(home).absolute()}; the registry records "
            f"paths relative to it so that the directory can be copied or moved whole. Copy the checkpoint "
            f"into {Path(home).absolute() / CHECKPOINT_DIR}/<config_key>/ first (zeroloop models register "
            f"--artifact does that for you), or pass a path inside the data directory"
        )
    return relative


def resolve_artifact_path(home: Path, stored: str | None) -> str | None:
    """The absolute path of a stored artifact path (a legacy absolute one stays as it is)."""
    if stored is None:
        return None
    return str(Path(home).absolute() / stored)


def copy_into_home(home: Path, source: str | Path, *, config_key: str, sha256: str) -> Path:
    """``source`` itself when it lies inside ``home``, else its copy at ``<home>/models/<config_key>/<sha256>``
    (written atomically and checked against ``sha256``; an identical copy already there is reused)."""
    source = Path(source).expanduser()
    if relative_to_home(home, source) is not None:
        return source
    destination = Path(home) / CHECKPOINT_DIR / config_key / f"{sha256}{CHECKPOINT_SUFFIX}"
    if destination.is_file() and sha256_file(destination) == sha256:
        return destination
    with open(source, "rb") as src, atomic_write(destination) as dst:
        shutil.copyfileobj(src, dst)
    actual = sha256_file(destination)
    if actual != sha256:
        destination.unlink(missing_ok=True)
        raise ChecksumMismatch(
            f"copying {source} to {destination} gave sha256 {actual}, expected {sha256}: "
            "the source changed while it was copied"
        )
    return destination
