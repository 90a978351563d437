import hashlib

import pytest

from app.core.errors import ChecksumMismatch
from app.storage.artifacts import ArtifactStore, atomic_write


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "f.bin"
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write(b"half")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_never_overwrites_when_told(tmp_path):
    target = tmp_path / "shard.npz"
    with atomic_write(target, overwrite=False) as fh:
        fh.write(b"first")
    with pytest.raises(FileExistsError), atomic_write(target, overwrite=False) as fh:
        fh.write(b"second")
    assert target.read_bytes() == b"first"


def test_store_is_content_addressed_and_verifies(tmp_path):
    store = ArtifactStore(tmp_path)
    path, digest = store.put_bytes(b"weights", ".bin")
    assert digest == hashlib.sha256(b"weights").hexdigest() and path.read_bytes() == b"weights"
    assert store.verify(path, digest) == path
    path.write_bytes(b"tampered")
    with pytest.raises(ChecksumMismatch, match="corrupted"):
        store.verify(path, digest)
