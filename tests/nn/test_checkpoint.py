import json

import pytest
import torch
from safetensors.torch import save as st_save

from app.core.errors import ChecksumMismatch, InvalidConfig
from app.core.files import sha256_file
from app.nn import Lineage, PolicyValueNet, load_checkpoint, read_checkpoint_meta, save_checkpoint
from app.nn.checkpoint import FORMAT, content_sha256

from .conftest import TINY, ShapeOnlyGame

LINEAGE = {
    "config_key": "hex5_2p",
    "model_id": "hex5_2p_v2",
    "parent_model_id": "hex5_2p_v1",
    "extra": {"shards": ["s1", "s2"], "lr": 0.002},
}


def _trained_like(net):
    # Non-default BatchNorm statistics, so a round trip that dropped buffers would show.
    net.train()
    with torch.no_grad():
        net(torch.randn(8, 3, 5, 5))
    return net.eval()


def test_round_trip_gives_the_same_network_and_lineage(net, tmp_path):
    net = _trained_like(net)
    path = tmp_path / "m.safetensors"
    saved = save_checkpoint(path, net, LINEAGE)
    assert saved.sha256 == sha256_file(path)
    loaded, meta = load_checkpoint(
        path, config_key="hex5_2p", expected_sha256=saved.sha256, game=ShapeOnlyGame()
    )
    assert meta == saved
    assert (meta.model_id, meta.parent_model_id, meta.extra) == ("hex5_2p_v2", "hex5_2p_v1", LINEAGE["extra"])
    assert meta.net_config == TINY and meta.board_shape == (5, 5) and meta.num_players == 2
    assert not loaded.training
    x = torch.randn(4, 3, 5, 5)
    with torch.no_grad():
        for a, b in zip(net(x), loaded(x), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert read_checkpoint_meta(path) == meta
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temp file left behind


def test_lineage_object_and_validation(net, tmp_path):
    meta = save_checkpoint(tmp_path / "a.safetensors", net, Lineage(config_key="hex5_2p"))
    assert meta.model_id is None and meta.parent_model_id is None and meta.extra == {}
    with pytest.raises(InvalidConfig, match="bad checkpoint metadata"):
        save_checkpoint(tmp_path / "b.safetensors", net, {"config_key": "hex5_2p", "parent": "x"})
    with pytest.raises(InvalidConfig, match="does not belong"):
        save_checkpoint(tmp_path / "b.safetensors", net, {"config_key": "hex5_2p", "model_id": "hex8_2p_v1"})
    with pytest.raises(InvalidConfig, match="3 players"):
        save_checkpoint(tmp_path / "b.safetensors", net, {"config_key": "hex5_3p"})
    with pytest.raises(ValueError, match="malformed config key"):
        save_checkpoint(tmp_path / "b.safetensors", net, {"config_key": "hex5"})
    assert not (tmp_path / "b.safetensors").exists()


def test_wrong_expected_sha_or_config_key_or_shapes_is_refused(net, tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, net, LINEAGE)
    with pytest.raises(ChecksumMismatch, match="expected 00"):
        load_checkpoint(path, expected_sha256="00" * 32)
    with pytest.raises(InvalidConfig, match="'hex5_2p', not 'hex8_2p'"):
        load_checkpoint(path, config_key="hex8_2p")
    with pytest.raises(InvalidConfig, match="the game needs"):
        load_checkpoint(path, game=ShapeOnlyGame(num_planes=4))
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_a_flipped_byte_in_the_weights_is_detected_without_a_recorded_hash(net, tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, net, LINEAGE)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatch, match="damaged"):
        load_checkpoint(path)


def test_edited_lineage_is_detected(net, tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, net, LINEAGE)
    data = path.read_bytes()
    edited = data.replace(b"hex5_2p_v1", b"hex5_2p_v0")
    assert edited != data and len(edited) == len(data)
    path.write_bytes(edited)
    with pytest.raises(ChecksumMismatch, match="damaged"):
        load_checkpoint(path)


@pytest.mark.parametrize("keep", [0, 5, 200, -10])
def test_truncated_files_are_refused(net, tmp_path, keep):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, net, LINEAGE)
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(ChecksumMismatch, match="truncated|damaged|corrupted"):
        load_checkpoint(path)


def test_foreign_safetensors_and_architecture_mismatch_are_refused(net, tmp_path):
    foreign = tmp_path / "foreign.safetensors"
    foreign.write_bytes(st_save({"w": torch.zeros(2)}))
    with pytest.raises(InvalidConfig, match="not a zeroloop checkpoint"):
        load_checkpoint(foreign)

    # A header that is self-consistent (its content hash matches) but claims another architecture.
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, net, LINEAGE)
    meta = read_checkpoint_meta(path)
    tensors = {k: v.contiguous() for k, v in net.state_dict().items()}
    header = {
        "format": FORMAT,
        "config_key": "hex5_2p",
        "net_config": meta.net_config.model_copy(update={"channels": 16}).model_dump_json(),
        "shapes": json.dumps(meta.shapes),
        "model_id": "",
        "parent_model_id": "",
        "created_at": meta.created_at.isoformat(),
        "extra": "{}",
    }
    header["content_sha256"] = content_sha256(tensors, header)
    liar = tmp_path / "liar.safetensors"
    liar.write_bytes(st_save(tensors, metadata=header))
    with pytest.raises(InvalidConfig, match="does not match its recorded architecture"):
        load_checkpoint(liar)


def test_overwrite_false_never_replaces(net, tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, net, LINEAGE, overwrite=False)
    with pytest.raises(FileExistsError):
        save_checkpoint(path, PolicyValueNet.for_game(ShapeOnlyGame(), TINY), LINEAGE, overwrite=False)
    assert load_checkpoint(path)[1].config_key == "hex5_2p"
