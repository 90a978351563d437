"""A registered model for tests that need one to play: a tiny untrained network with its checkpoint."""

from __future__ import annotations

from app.core.config import Settings


def register_tiny_model(settings: Settings, model_id: str = "hex5_2p_v1", config_key: str = "hex5_2p") -> str:
    """Register ``model_id`` in STAGING with the checkpoint of a 1x8 network (seeded: every call the same weights)."""
    import torch

    from app.games.registry import game_for_key
    from app.nn import Lineage, NetConfig, PolicyValueNet, save_checkpoint
    from app.registry import ModelLifecycle

    torch.manual_seed(0)
    net = PolicyValueNet.for_game(game_for_key(config_key), NetConfig(blocks=1, channels=8, value_hidden=16))
    path = settings.path("models", config_key, f"{model_id}.safetensors")
    meta = save_checkpoint(path, net, Lineage(config_key=config_key, model_id=model_id))
    ModelLifecycle(settings).register_model(model_id, "STAGING", artifact_path=str(path), sha256=meta.sha256)
    return model_id
