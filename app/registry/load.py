"""What the stages read from the registry: a model's checkpoint, its network, and the production model's id.

Reads only (plain WAL reads on SQLite, never waiting for a writer); every write goes through
``ModelLifecycle``. torch is imported when a network is actually loaded, so that looking a model up stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.config import Settings
from app.core.errors import ChecksumMismatch, ModelNotFound
from app.core.names import parse_model_id
from app.registry.paths import resolve_artifact_path
from app.registry.store import MODELS
from app.registry.types import ModelStage
from app.storage.db import read_engine

if TYPE_CHECKING:
    from app.nn import CheckpointMeta, EvaluateFn, PolicyValueNet

_M = MODELS


@dataclass(frozen=True)
class ModelArtifact:
    """The checkpoint of a registered model: ``path`` absolute (resolved against the data directory)."""

    model_id: str
    config_key: str
    path: Path
    sha256: str


def model_artifact(settings: Settings, model_id: str) -> ModelArtifact:
    """The checkpoint of a registered model; ``ModelNotFound`` if it is unknown or has no checkpoint."""
    parse_model_id(model_id)
    with read_engine(settings).connect() as conn:
        row = conn.execute(select(_M).where(_M.c.model_id == model_id)).first()
        if row is None:
            known = conn.scalars(select(_M.c.model_id).order_by(_M.c.model_id).limit(20)).all()
            raise ModelNotFound(
                f"model {model_id!r} is not registered; registered models: {', '.join(known) or 'none'}"
            )
    if not row.artifact_path or not row.sha256:
        raise ModelNotFound(
            f"model {model_id!r} is registered but has no checkpoint (stage {row.stage}); "
            "record one with ModelLifecycle.update_model(artifact_path=..., sha256=...)"
        )
    path = Path(resolve_artifact_path(settings.home, row.artifact_path))
    return ModelArtifact(row.model_id, row.config_key, path, row.sha256)


def has_checkpoint(settings: Settings, model_id: str) -> bool:
    """Whether ``model_id`` is registered with its checkpoint (a candidate still training is not)."""
    try:
        model_artifact(settings, model_id)
    except ModelNotFound:
        return False
    return True


def production_model_id(settings: Settings, config_key: str, run: str | None = None) -> str | None:
    """The model id in PRODUCTION for a config key (of one run when given), or None before the first promotion."""
    query = select(_M.c.model_id).where(
        _M.c.config_key == config_key, _M.c.stage == ModelStage.PRODUCTION.value
    )
    if run is not None:
        query = query.where(_M.c.run == run)
    with read_engine(settings).connect() as conn:
        return conn.scalar(query)


def newest_trained(settings: Settings, config_key: str, run: str, *, after_version: int = 0) -> str | None:
    """The run's model of the highest version above ``after_version`` that has its checkpoint (a candidate
    still training has none yet), or None."""
    query = (
        select(_M.c.model_id)
        .where(
            _M.c.config_key == config_key,
            _M.c.run == run,
            _M.c.version > after_version,
            _M.c.artifact_path.is_not(None),
        )
        .order_by(_M.c.version.desc())
        .limit(1)
    )
    with read_engine(settings).connect() as conn:
        return conn.scalar(query)


def load_registered_net(
    settings: Settings, model_id: str, game: Any = None, *, device: str = "cpu"
) -> tuple[PolicyValueNet, CheckpointMeta]:
    """The network of a registered model and its checkpoint metadata, in eval mode on ``device``.

    The file must hash to the sha256 recorded at registration (``ChecksumMismatch`` naming the model and the
    file otherwise), be for the model's config key and, when ``game`` is given, fit its shapes
    (``InvalidConfig``). A missing file is a ``FileNotFoundError``; an unknown model a ``ModelNotFound``.
    """
    # Imported here: torch loads only when a network is loaded, not for registry reads.
    from app.nn import load_checkpoint

    artifact = model_artifact(settings, model_id)
    try:
        return load_checkpoint(
            artifact.path,
            config_key=artifact.config_key,
            expected_sha256=artifact.sha256,
            game=game,
            device=device,
        )
    except ChecksumMismatch as exc:
        raise ChecksumMismatch(
            f"model {model_id}: {exc} (the sha256 recorded when it was registered); the checkpoint was changed "
            f"or damaged since. Restore {artifact.path} from a good copy or register the model again"
        ) from None


def registered_evaluator(settings: Settings, model_id: str, game: Any = None) -> EvaluateFn:
    """A registered model's network as the search's evaluator (on the default device).

    On the CPU its ONNX export is kept under ``<home>/cache/onnx/<checkpoint sha256>.onnx``, so the selfplay,
    gate and anchor jobs that load one model export it once; the file is checked against the network each time.
    """
    from app.nn import NetworkEvaluator

    artifact = model_artifact(settings, model_id)
    net, _meta = load_registered_net(settings, model_id, game)
    return NetworkEvaluator(net, onnx_cache=settings.path("cache", "onnx", f"{artifact.sha256}.onnx"))
