"""``load_registered_net`` and the read helpers the stages use instead of the lifecycle service."""

from __future__ import annotations

import pytest
import torch

from app.core.errors import ChecksumMismatch, InvalidConfig, ModelNotFound
from app.games import game_for_key
from app.nn import Lineage, NetConfig, PolicyValueNet, save_checkpoint
from app.registry import (
    ModelLifecycle,
    load_registered_net,
    model_artifact,
    production_model_id,
    registered_evaluator,
)

TINY = NetConfig(blocks=1, channels=8, value_hidden=16)


def _register(settings, model_id: str = "hex5_2p_v1", config_key: str = "hex5_2p"):
    torch.manual_seed(0)
    net = PolicyValueNet.for_game(game_for_key(config_key), TINY)
    path = settings.path("models", config_key, f"{model_id}.safetensors")
    meta = save_checkpoint(path, net, Lineage(config_key=config_key, model_id=model_id))
    ModelLifecycle(settings).register_model(model_id, "STAGING", artifact_path=path, sha256=meta.sha256)
    return net, path, meta


def test_load_registered_net_gives_the_saved_weights(settings):
    net, path, meta = _register(settings)
    loaded, loaded_meta = load_registered_net(settings, "hex5_2p_v1", game_for_key("hex5_2p"))
    assert loaded_meta.sha256 == meta.sha256 and not loaded.training
    for name, tensor in net.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name])
    assert model_artifact(settings, "hex5_2p_v1").path == path


def test_registered_evaluator_keeps_the_onnx_export_under_the_checkpoint_sha256(settings):
    pytest.importorskip("onnxruntime")
    import numpy as np

    from app.nn import NetworkEvaluator

    net, _path, meta = _register(settings)
    game = game_for_key("hex5_2p")
    evaluator = registered_evaluator(settings, "hex5_2p_v1", game)
    assert evaluator.mode == "onnx"
    assert [p.name for p in (settings.home / "cache" / "onnx").iterdir()] == [f"{meta.sha256}.onnx"]
    planes = (
        np.random.default_rng(0).standard_normal((3, net.num_planes, *net.board_shape)).astype(np.float32)
    )
    legal = np.ones((3, net.action_size), bool)
    expected = NetworkEvaluator(net, "cpu", mode="eager")(planes, legal)
    for got, want in zip(
        registered_evaluator(settings, "hex5_2p_v1", game)(planes, legal), expected, strict=True
    ):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_changed_checkpoint_is_refused_naming_the_model(settings):
    _, path, meta = _register(settings)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatch) as info:
        load_registered_net(settings, "hex5_2p_v1")
    message = str(info.value)
    assert "hex5_2p_v1" in message and str(path) in message and meta.sha256 in message
    assert "changed or damaged" in message


def test_unknown_models_missing_checkpoints_and_other_games(settings):
    with pytest.raises(ModelNotFound, match="'hex5_2p_v3' is not registered; registered models: none"):
        load_registered_net(settings, "hex5_2p_v3")
    ModelLifecycle(settings).register_model("hex5_2p_v2")
    with pytest.raises(ModelNotFound, match="has no checkpoint"):
        load_registered_net(settings, "hex5_2p_v2")
    _register(settings)
    with pytest.raises(InvalidConfig, match="shapes"):
        load_registered_net(settings, "hex5_2p_v1", game_for_key("hex6_2p"))
    path = model_artifact(settings, "hex5_2p_v1").path
    path.unlink()
    with pytest.raises(FileNotFoundError, match=str(path)):
        load_registered_net(settings, "hex5_2p_v1")


def test_production_model_id(settings):
    assert production_model_id(settings, "hex5_2p") is None
    _register(settings)
    ModelLifecycle(settings).promote_to_production("hex5_2p_v1")
    assert production_model_id(settings, "hex5_2p") == "hex5_2p_v1"
    assert production_model_id(settings, "hex6_2p") is None
