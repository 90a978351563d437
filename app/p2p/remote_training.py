"""The training job's transfer seam: the replay window and the parent's checkpoint go out, the checkpoint comes back.

Node side, before the task: the window is chosen here, over the node's shard index, exactly as the stage would
(``ShardStore.newest`` with the run's prefix), and those shard files are sent with the parent's checkpoint (the
production model too, when the config starts from it). Task side: the shards are indexed in the scratch
installation with the node's sha256s and the parent registered (and promoted, for ``init='production'``), so the
stage plans the same run it would on the node. Node side, after: the checkpoint is checked against its sha256 and
written atomically at the path it has in the scratch installation, now under the node's home. With
``optimizer_from_parent`` the parent's optimiser moments go out and the run's own come back beside the checkpoint.

A run the node has already started or finished (its output's checkpoint or resumable state is in the node's home)
stays on the node (``StayOnNode``): resuming and reusing a finished run are the stage's own business there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import AlreadyExists, ChecksumMismatch
from app.core.files import sha256_file, write_bytes_atomic
from app.p2p.remote_models import install_model, model_blob
from app.p2p.transfer import Blob, RemoteOutcome, StayOnNode
from app.registry import production_model_id
from app.storage.base import utcnow
from app.storage.db import session_scope
from app.storage.models.shards import ShardRow
from app.storage.shards import ShardStore, decode_shard
from app.training.config import TrainConfig, TrainResult
from app.training.moments import moments_file

PARENT = "model:"
PRODUCTION = "production:"
SHARD = "shard:"
CHECKPOINT = "checkpoint:"
MOMENTS = "moments:"


class TrainingAdapter:
    def prepare(self, settings: Settings, config: dict[str, Any]) -> tuple[dict[str, Any], list[Blob]]:
        cfg = TrainConfig.model_validate(config)
        key = cfg.config_key
        if cfg.output_model_id is not None:
            started = [
                settings.home / "models" / key / f"{cfg.output_model_id}.safetensors",
                settings.home / "training" / key / cfg.output_model_id,
            ]
            if any(path.exists() for path in started):
                raise StayOnNode(f"the run of {cfg.output_model_id} has state on the node")
        blobs = []
        parent, prefix = cfg.parent_model_id, PARENT
        if parent is None and cfg.init == "production":
            parent, prefix = production_model_id(settings, key), PRODUCTION
        if parent is not None:
            blobs.append(model_blob(settings, parent, prefix))
            moments = moments_file(settings.home, key, parent)
            if cfg.optimizer_from_parent and moments.is_file():
                blobs.append(Blob.of(MOMENTS + parent, moments.read_bytes()))
        records = ShardStore(settings).newest(key, cfg.replay_window, prefix=cfg.shard_prefix or "")
        for record in reversed(records):  # oldest first, so that the scratch index keeps their order
            blobs.append(Blob(SHARD + record.name, record.sha256, Path(record.path).read_bytes()))
        for blob in blobs:
            blob.verified()  # a file damaged on the node's disk is refused here, not on a worker
        return config, blobs

    def materialize(self, scratch: Settings, config: dict[str, Any], inputs: list[Blob]) -> None:
        key = TrainConfig.model_validate(config).config_key
        store = ShardStore(scratch)
        for blob in inputs:
            if blob.name.startswith(SHARD):
                name = blob.name.removeprefix(SHARD)
                data = decode_shard(blob.verified(), source=f"shard {name} from the node")
                path = store.path_for(key, name)
                write_bytes_atomic(path, blob.data)
                with session_scope(scratch) as s:
                    s.add(
                        ShardRow(
                            config_key=key,
                            name=name,
                            path=path.relative_to(scratch.home).as_posix(),
                            sha256=blob.sha256,
                            positions=data.positions,
                            games=data.games,
                            created_at=utcnow(),
                        )
                    )
            elif blob.name.startswith(MOMENTS):
                write_bytes_atomic(
                    moments_file(scratch.home, key, blob.name.removeprefix(MOMENTS)), blob.verified()
                )
            else:
                production = blob.name.startswith(PRODUCTION)
                model_id = blob.name.removeprefix(PRODUCTION if production else PARENT)
                install_model(scratch, model_id, blob, production=production)

    def collect(self, scratch: Settings, config: dict[str, Any], result: Any) -> RemoteOutcome:
        trained = TrainResult.model_validate(result)
        path = Path(trained.checkpoint_path)
        relative = path.relative_to(scratch.home).as_posix()
        blobs = [Blob(CHECKPOINT + relative, trained.sha256, path.read_bytes())]
        moments = moments_file(scratch.home, trained.config_key, trained.model_id or "")
        if trained.model_id is not None and moments.is_file():
            blobs.append(Blob.of(MOMENTS + trained.model_id, moments.read_bytes()))  # for the next candidate
        return RemoteOutcome(result=result, blobs=blobs)

    def accept(self, settings: Settings, config: dict[str, Any], outcome: RemoteOutcome) -> Any:
        trained = TrainResult.model_validate(outcome.result)
        (blob,) = [b for b in outcome.blobs if b.name.startswith(CHECKPOINT)]
        if blob.sha256 != trained.sha256:
            raise ChecksumMismatch(
                f"{blob.name} was sent as {blob.sha256}, the run recorded {trained.sha256}"
            )
        relative = Path(blob.name.removeprefix(CHECKPOINT))
        if relative.is_absolute() or ".." in relative.parts:
            raise ChecksumMismatch(f"{blob.name} names a path outside the data directory")
        path = settings.home / relative
        try:
            write_bytes_atomic(path, blob.verified(), overwrite=False)
        except FileExistsError:
            if sha256_file(path) != blob.sha256:
                raise AlreadyExists(
                    f"{path} already holds another checkpoint; choose another output_model_id"
                ) from None
        for moments in (b for b in outcome.blobs if b.name == MOMENTS + (trained.model_id or "")):
            write_bytes_atomic(
                moments_file(settings.home, trained.config_key, trained.model_id), moments.verified()
            )
        return trained.model_copy(update={"checkpoint_path": str(path)})
