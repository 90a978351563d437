import numpy as np
import pytest

from app.core.errors import ChecksumMismatch, InvalidConfig
from app.storage.shards import ShardData, ShardNotFound, ShardStore, decode_shard, encode_shard


def make_shard(n=10, *, seed=0, games=3, planes=None, c=3, hw=(4, 4), a=16, p=2, first_game=0) -> ShardData:
    rng = np.random.default_rng(seed)
    if planes is None:
        planes = rng.integers(0, 2, size=(n, c, *hw)).astype(np.float32)
    policy = rng.dirichlet(np.ones(a), size=n).astype(np.float32)
    value = rng.choice([-1.0, 0.0, 1.0], size=(n, p)).astype(np.float32)
    game_id = np.sort(rng.integers(0, games, size=n)).astype(np.int64) + first_game
    return ShardData(planes, policy, value, game_id)


def assert_same_bits(a: ShardData, b: ShardData) -> None:
    for name in ("planes", "policy", "value", "game_id"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name


def test_a_shard_round_trips_exactly(settings):
    store = ShardStore(settings)
    data = make_shard(37)
    rec = store.write("hex5_2p", "sp-0001", data, model_id="hex5_2p_v1")
    assert rec.path == settings.home / "shards" / "hex5_2p" / "sp-0001.npz"
    assert (rec.positions, rec.games, rec.model_id) == (37, data.games, "hex5_2p_v1")
    assert_same_bits(store.load(rec), data)
    assert store.get("hex5_2p", "sp-0001") == rec


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 1.0],  # packed bits
        [0.0, 3.0, 255.0],  # uint8
        [0.5, -0.25, 1024.0],  # float16
        [0.1, 1e-30, -0.0, 7.0],  # float32 (0.1 and 1e-30 are not float16; -0.0 must keep its sign)
    ],
)
def test_every_planes_encoding_gives_back_the_same_bits(values):
    rng = np.random.default_rng(1)
    planes = rng.choice(np.array(values, np.float32), size=(9, 2, 3, 5))
    data = make_shard(9, planes=planes, a=7)
    assert_same_bits(decode_shard(encode_shard(data)), data)


def test_binary_planes_are_stored_compactly():
    data = make_shard(2000, c=4, hw=(8, 8), a=64)
    raw = data.planes.nbytes + data.policy.nbytes + data.value.nbytes + data.game_id.nbytes
    assert len(encode_shard(data)) < raw - data.planes.nbytes * 0.9


def test_a_name_is_written_once_and_reruns_are_idempotent(settings):
    store = ShardStore(settings)
    first = store.write("hex5_2p", "job-7", make_shard(10, seed=1))
    again = store.write("hex5_2p", "job-7", make_shard(20, seed=2))
    assert again == first
    assert store.load(again).positions == 10
    # The same name under another config key is another shard.
    other = store.write("hex5_3p", "job-7", make_shard(5, p=3))
    assert other.id != first.id and other.positions == 5


def test_a_file_left_without_its_index_row_is_adopted_not_overwritten(settings):
    store = ShardStore(settings)
    data = make_shard(12, seed=3)
    path = store.path_for("hex5_2p", "orphan")
    path.parent.mkdir(parents=True)
    path.write_bytes(encode_shard(data))  # as if the writer died before indexing it
    rec = store.write("hex5_2p", "orphan", make_shard(50, seed=4))
    assert rec.positions == 12
    assert_same_bits(store.load(rec), data)


def test_newest_covers_the_window_newest_first(settings):
    store = ShardStore(settings)
    for i, n in enumerate([10, 20, 30, 40]):
        store.write("hex5_2p", f"s{i}", make_shard(n, seed=i))
    store.write("hex6_2p", "elsewhere", make_shard(5))
    assert [r.name for r in store.newest("hex5_2p", 40)] == ["s3"]
    assert [r.name for r in store.newest("hex5_2p", 41)] == ["s3", "s2"]
    assert [r.name for r in store.newest("hex5_2p", 10_000)] == ["s3", "s2", "s1", "s0"]
    assert store.newest("hex7_2p", 100) == []
    with pytest.raises(InvalidConfig, match="at least 1"):
        store.newest("hex5_2p", 0)


def test_corruption_and_missing_files_are_refused(settings):
    store = ShardStore(settings)
    rec = store.write("hex5_2p", "s", make_shard(10))
    blob = bytearray(rec.path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    rec.path.write_bytes(bytes(blob))
    with pytest.raises(ChecksumMismatch, match="corrupted"):
        store.load(rec)
    rec.path.unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        store.load(rec)
    with pytest.raises(ShardNotFound, match="newest shards: \\['s'\\]"):
        store.get("hex5_2p", "nope")


def test_bad_input_says_what_is_valid(settings):
    store = ShardStore(settings)
    data = make_shard(4)
    with pytest.raises(InvalidConfig, match="bad shard name"):
        store.write("hex5_2p", "../escape", data)
    with pytest.raises(InvalidConfig, match="malformed config key"):
        store.write("hex5", "s", data)
    with pytest.raises(ValueError, match="malformed model id"):
        store.write("hex5_2p", "s", data, model_id="latest")
    with pytest.raises(InvalidConfig, match="policy must be a 2-d float32"):
        ShardData(data.planes, data.policy.astype(np.float64), data.value, data.game_id)
    with pytest.raises(InvalidConfig, match="disagree"):
        ShardData(data.planes, data.policy[:3], data.value, data.game_id)
    with pytest.raises(InvalidConfig, match="NaN"):
        ShardData(data.planes, data.policy, np.full_like(data.value, np.nan), data.game_id)
    with pytest.raises(InvalidConfig, match="no positions"):
        store.write("hex5_2p", "empty", data.take(slice(0, 0)))
