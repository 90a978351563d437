"""Read-only access to the model registry for the stages.

The lifecycle (``app.integration.lifecycle``) owns every write; stages only need to turn a model id into a
checkpoint and to find the production model, so they read the registry table here instead of importing the
integration layer above them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.core.config import Settings
from app.core.errors import ModelNotFound
from app.core.names import parse_model_id
from app.storage.db import session_scope
from app.storage.models.lifecycle import ModelRow


@dataclass(frozen=True)
class ModelArtifact:
    model_id: str
    config_key: str
    path: Path
    sha256: str


def model_artifact(settings: Settings, model_id: str) -> ModelArtifact:
    """The checkpoint of a registered model; ``ModelNotFound`` if it is unknown or has no checkpoint."""
    parse_model_id(model_id)
    with session_scope(settings) as s:
        row = s.get(ModelRow, model_id)
        if row is None:
            known = s.scalars(select(ModelRow.model_id).order_by(ModelRow.model_id).limit(20)).all()
            raise ModelNotFound(
                f"model {model_id!r} is not registered; registered models: {', '.join(known) or 'none'}"
            )
        if not row.artifact_path or not row.sha256:
            raise ModelNotFound(f"model {model_id!r} is registered but has no checkpoint (stage {row.stage})")
        return ModelArtifact(row.model_id, row.config_key, Path(row.artifact_path), row.sha256)


def production_model_id(settings: Settings, config_key: str) -> str | None:
    """The model id in PRODUCTION for a config key, or None before the first promotion."""
    with session_scope(settings) as s:
        return s.scalar(
            select(ModelRow.model_id).where(ModelRow.config_key == config_key, ModelRow.stage == "PRODUCTION")
        )
