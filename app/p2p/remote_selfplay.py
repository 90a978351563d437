"""The selfplay job's transfer seam: the model's checkpoint goes out, the shards and their game records come back.

Node side, before the task: the model is resolved here (None → the production model of the config key, or
generation 0; a ``successor`` already registered, or the model a ``follow`` rule names, instead) and pinned in the config, so the task plays exactly the
model the node meant; its checkpoint is sent as a blob. Task side: the checkpoint is registered in the scratch
installation, the stage runs as it always does, and every shard it wrote is sent back with its game records. Node
side, after: each shard is checked against its sha256 and decoded before anything is written, then indexed as the
stage itself would (records first, the shard last), so a shard is indexed once however often its job ran.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.config import Settings
from app.core.errors import ChecksumMismatch
from app.core.names import UNIFORM
from app.p2p.remote_models import install_model, model_blob
from app.p2p.transfer import Blob, RemoteOutcome
from app.registry import production_model_id
from app.selfplay.config import SelfplayConfig, SelfplayResult
from app.selfplay.play import GameRecord
from app.selfplay.stage import next_model, selfplay_result, store_part
from app.storage.db import session_scope
from app.storage.models.selfplay import SelfplayGameRow
from app.storage.shards import ShardStore, decode_shard

MODEL_PREFIX = "model:"
SHARD_PREFIX = "shard:"


class SelfplayAdapter:
    def prepare(self, settings: Settings, config: dict[str, Any]) -> tuple[dict[str, Any], list[Blob]]:
        cfg = SelfplayConfig.model_validate(config)
        start = cfg.model_id or production_model_id(settings, cfg.config_key) or UNIFORM
        model_id = next_model(settings, cfg, start)
        # The task cannot see the node's registry: it plays the one model pinned here, a successor already
        # registered or the model a follow rule names now, and switches no more.
        update = {"model_id": model_id, "successor": None, "follow": None}
        pinned = cfg.model_copy(update=update).model_dump(mode="json")
        if model_id == UNIFORM:
            return pinned, []
        return pinned, [model_blob(settings, model_id, MODEL_PREFIX)]

    def materialize(self, scratch: Settings, config: dict[str, Any], inputs: list[Blob]) -> None:
        for blob in inputs:
            install_model(scratch, blob.name.removeprefix(MODEL_PREFIX), blob)

    def collect(self, scratch: Settings, config: dict[str, Any], result: Any) -> RemoteOutcome:
        key = SelfplayConfig.model_validate(config).config_key
        store = ShardStore(scratch)
        blobs, records = [], {}
        for record in store.records(key):
            blobs.append(Blob(SHARD_PREFIX + record.name, record.sha256, record.path.read_bytes()))
            records[record.name] = _game_records(scratch, key, record.name)
        return RemoteOutcome(result=result, blobs=blobs, extra={"records": records})

    def accept(self, settings: Settings, config: dict[str, Any], outcome: RemoteOutcome) -> Any:
        cfg = SelfplayConfig.model_validate(config)
        remote = SelfplayResult.model_validate(outcome.result)
        # Every shard is checked and decoded first: one damaged shard fails the job before any is indexed.
        parts = {}
        for blob in outcome.blobs:
            name = blob.name.removeprefix(SHARD_PREFIX)
            parts[name] = decode_shard(blob.verified(), source=f"shard {name} from the remote task")
        missing = [name for name in remote.shards if name not in parts]
        if missing:
            raise ChecksumMismatch(f"the remote selfplay task did not send shards {', '.join(missing)}")
        store = ShardStore(settings)
        models = remote.shard_models or [remote.model_id] * len(remote.shards)
        shards = [
            store_part(settings, store, cfg.config_key, name, model, parts[name], _records(outcome, name))
            for name, model in zip(remote.shards, models, strict=True)
        ]
        return selfplay_result(
            settings,
            cfg,
            remote.shard_name,
            shards,
            seconds=remote.seconds,
            reused=remote.reused,
        )


def _game_records(scratch: Settings, config_key: str, shard_name: str) -> list[GameRecord]:
    with session_scope(scratch) as s:
        rows = s.scalars(
            select(SelfplayGameRow)
            .where(SelfplayGameRow.config_key == config_key, SelfplayGameRow.shard_name == shard_name)
            .order_by(SelfplayGameRow.game_index)
        ).all()
        return [
            GameRecord(
                index=r.game_index,
                moves=list(r.moves),
                returns=list(r.returns),
                resigned_by=r.resigned_by,
                resign_disabled=r.resign_disabled,
                would_resign=r.would_resign,
            )
            for r in rows
        ]


def _records(outcome: RemoteOutcome, name: str) -> list[GameRecord]:
    return list(outcome.extra.get("records", {}).get(name, []))
