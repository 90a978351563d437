import hashlib

import pytest

from app.core.files import atomic_write, sha256_file, write_bytes_atomic


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


def test_sha256_file_is_the_checksum_of_the_bytes(tmp_path):
    target = tmp_path / "weights.bin"
    write_bytes_atomic(target, b"weights" * 300_000)  # more than one read chunk
    assert sha256_file(target) == hashlib.sha256(b"weights" * 300_000).hexdigest()
