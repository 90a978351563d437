"""Registered models in transit: a checkpoint leaves the node as a blob and is registered in a task's scratch
installation under its model id, so the stage finds it as it would on the node (every remote job type uses this)."""

from __future__ import annotations

from app.core.config import Settings
from app.core.files import write_bytes_atomic
from app.p2p.transfer import Blob
from app.registry import ModelLifecycle, ModelStage, model_artifact


def model_blob(settings: Settings, model_id: str, prefix: str) -> Blob:
    """The checkpoint of a registered model as ``<prefix><model_id>``, checked against its registered sha256 here,
    so a file damaged on the node's disk is refused on the node rather than on a worker."""
    artifact = model_artifact(settings, model_id)
    blob = Blob(prefix + model_id, artifact.sha256, artifact.path.read_bytes())
    blob.verified()
    return blob


def install_model(scratch: Settings, model_id: str, blob: Blob, *, production: bool = False) -> None:
    """Write the blob's checkpoint into the scratch installation and register it (promoted if ``production``)."""
    path = scratch.path("models", f"{blob.sha256}.safetensors")
    write_bytes_atomic(path, blob.verified())
    lifecycle = ModelLifecycle(scratch)
    lifecycle.register_model(model_id, stage=ModelStage.STAGING, artifact_path=path, sha256=blob.sha256)
    if production:
        lifecycle.promote_to_production(model_id)
