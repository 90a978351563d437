"""Which network a run starts from: a named model, the production model, or fresh weights.

Models are resolved through the model registry (``app.integration.lifecycle``) to a checkpoint path and its
recorded sha256; the checkpoint is refused if it does not match.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import InvalidConfig
from app.nn import CheckpointMeta, PolicyValueNet, load_checkpoint


@dataclass(frozen=True)
class Parent:
    model_id: str
    net: PolicyValueNet
    meta: CheckpointMeta


def _lifecycle(settings: Settings) -> Any:
    try:
        from app.integration.lifecycle import ModelLifecycle
    except ImportError as exc:
        raise InvalidConfig(
            f"starting from a registered model needs the model registry (app.integration.lifecycle): {exc}; "
            "use init='scratch' to train from fresh weights"
        ) from None
    return ModelLifecycle(settings)


def resolve_parent(
    *, parent_model_id: str | None, init: str, config_key: str, game: Any, settings: Settings
) -> Parent | None:
    """The parent named by ``parent_model_id``, else the production model when ``init == "production"``."""
    if parent_model_id is None and init == "scratch":
        return None
    lifecycle = _lifecycle(settings)
    if parent_model_id is not None:
        record = lifecycle.get_model(parent_model_id)
    else:
        record = lifecycle.get_production(config_key)
        if record is None:
            return None
    if not record.artifact_path or not record.sha256:
        raise InvalidConfig(
            f"model {record.model_id} has no checkpoint recorded in the registry (artifact_path/sha256 unset); "
            "it cannot be trained from"
        )
    path = Path(record.artifact_path)
    if not path.is_absolute():
        path = settings.home / path
    net, meta = load_checkpoint(path, config_key=config_key, expected_sha256=record.sha256, game=game)
    return Parent(record.model_id, net, meta)
