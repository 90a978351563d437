"""Which network a run starts from: a named model, the production model, or fresh weights.

Models are resolved through the model registry (``app.registry``) to a checkpoint path and its recorded
sha256; the checkpoint is refused if it does not match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.config import Settings
from app.nn import CheckpointMeta, PolicyValueNet
from app.registry import load_registered_net, production_model_id


@dataclass(frozen=True)
class Parent:
    model_id: str
    net: PolicyValueNet
    meta: CheckpointMeta


def resolve_parent(
    *, parent_model_id: str | None, init: str, config_key: str, game: Any, settings: Settings
) -> Parent | None:
    """The parent named by ``parent_model_id``, else the production model when ``init == "production"``."""
    if parent_model_id is None and init == "scratch":
        return None
    model_id = parent_model_id or production_model_id(settings, config_key)
    if model_id is None:
        return None
    net, meta = load_registered_net(settings, model_id, game)
    return Parent(model_id, net, meta)
