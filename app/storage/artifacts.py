"""Files that must never be read half-written: written to a temp file in the same directory, fsynced, renamed.

``put_bytes``/``put_file`` store content under ``<home>/artifacts/<sha256[:2]>/<sha256><suffix>`` so the name is
the checksum; ``atomic_write`` is the primitive for files with other names (shards, plots).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from app.core.errors import ChecksumMismatch

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


@contextmanager
def atomic_write(path: Path, *, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file; on success it appears at ``path`` in one rename, on error nothing appears.

    With ``overwrite=False`` an existing ``path`` raises ``FileExistsError`` (checked again at rename time
    with a hard link, so two writers racing for one name cannot both win).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} already exists and is never written twice")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails with FileExistsError if another writer won the race
            os.unlink(tmp)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    with atomic_write(path, overwrite=overwrite) as fh:
        fh.write(data)


class ArtifactStore:
    """Content-addressed files under one root directory."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str, suffix: str = "") -> Path:
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def put_bytes(self, data: bytes, suffix: str = "") -> tuple[Path, str]:
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest, suffix)
        if not path.exists():
            write_bytes_atomic(path, data)
        return path, digest

    def put_with(self, write: Callable[[BinaryIO], None], suffix: str = "") -> tuple[Path, str]:
        """Store what ``write`` writes into a file object; returns (path, sha256)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".put.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            digest = sha256_file(Path(tmp))
            path = self.path_for(digest, suffix)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
            return path, digest
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise

    def verify(self, path: Path, sha256: str) -> Path:
        """Return ``path`` if its content hashes to ``sha256``; otherwise raise ``ChecksumMismatch``."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"artifact {path} is missing (expected sha256 {sha256})")
        actual = sha256_file(path)
        if actual != sha256:
            raise ChecksumMismatch(f"artifact {path} is corrupted: sha256 {actual}, expected {sha256}")
        return path
