"""Files that must never be read half-written: written to a temp file in the same directory, fsynced, renamed.

``atomic_write`` is the primitive every checkpoint, shard, training state and plot is written through;
``sha256_file`` is the checksum the registry and the shard index record.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from app.core.errors import InvalidConfig

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


def read_given_file(path: Path, flag: str, expected: str) -> str:
    """The text of a file a user named with ``flag``; ``InvalidConfig`` saying what is wrong and ``expected``."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidConfig(f"{flag} {path}: no such file\npass {expected}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidConfig(f"{flag} {path} cannot be read: {exc}\npass {expected}") from None
