"""Where a training run lives and what it trains on: its directory and checkpoint path, the manifest (shards,
parent, architecture, hyperparameters) chosen once, and what an earlier attempt of the same run saved."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import AlreadyExists, ChecksumMismatch, InvalidConfig
from app.core.files import sha256_file
from app.nn import NetConfig, PolicyValueNet
from app.storage.shards import ShardStore
from app.training.config import TrainConfig, TrainResult
from app.training.parent import resolve_parent
from app.training.state import CompletedState, Manifest, TrainingState, clear_state, load_state


@dataclass
class Plan:
    """Where the run lives and what it trains on (``state``: what an earlier attempt saved, if any)."""

    run_dir: Path
    checkpoint_path: Path
    manifest: Manifest
    state: TrainingState | None
    parent_net: PolicyValueNet | None


def plan_run(cfg: TrainConfig, settings: Settings, store: ShardStore, game: Any) -> Plan:
    """Where the run lives and what it trains on: from its saved state when resuming, else chosen now."""
    key = cfg.config_key
    fingerprint = cfg.hyperparameters()
    models_dir = settings.home / "models" / key
    training_dir = settings.home / "training" / key
    state = None
    if cfg.output_model_id is not None:
        run_dir = training_dir / cfg.output_model_id
        checkpoint_path = models_dir / f"{cfg.output_model_id}.safetensors"
        if not cfg.resume:
            clear_state(run_dir)
        state = load_state(run_dir)
        if state is None and checkpoint_path.exists():
            raise AlreadyExists(
                f"model {cfg.output_model_id} already has a checkpoint at {checkpoint_path}; "
                "choose another output_model_id"
            )
        if state is not None:
            check_fingerprint(state.manifest.fingerprint, fingerprint, run_dir)
            return Plan(run_dir, checkpoint_path, state.manifest, state, None)

    records = store.newest(key, cfg.replay_window, prefix=cfg.shard_prefix or "")
    if not records:
        raise InvalidConfig(
            f"no training shards for {key}{_named(cfg.shard_prefix)} in {settings.home}: run selfplay for {key} first "
            "(training never invents data)"
        )
    parent = resolve_parent(
        parent_model_id=cfg.parent_model_id, init=cfg.init, config_key=key, game=game, settings=settings
    )
    arch = architecture(cfg, parent.meta.net_config if parent else None)
    manifest = Manifest(
        fingerprint=fingerprint,
        shards=[r.name for r in records],
        shard_sha256=[r.sha256 for r in records],
        parent_model_id=parent.model_id if parent else None,
        parent_sha256=parent.meta.sha256 if parent else None,
        net=arch.model_dump(mode="json"),
    )
    if cfg.output_model_id is None:
        digest = hashlib.sha256(json.dumps(manifest.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
        run_dir = training_dir / f"run-{digest}"
        checkpoint_path = models_dir / f"run-{digest}.safetensors"
        if not cfg.resume:
            clear_state(run_dir)
        state = load_state(run_dir)
    return Plan(run_dir, checkpoint_path, manifest, state, parent.net if parent else None)


def sample_budget(cfg: TrainConfig, train_positions: int) -> int:
    """Samples this run trains: ``cfg.samples`` when set (KataGo-style fixed reuse), else whole epochs."""
    if cfg.samples is not None:
        return cfg.samples
    return cfg.epochs * train_positions


def check_fingerprint(saved: dict[str, Any], fingerprint: dict[str, Any], run_dir: Path) -> None:
    if saved != fingerprint:
        changed = sorted(k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k))
        raise InvalidConfig(
            f"the run in {run_dir} was started with other settings ({', '.join(changed)} differ); "
            "rerun with the same settings to resume, or with resume=False to start over"
        )


def architecture(cfg: TrainConfig, parent_arch: NetConfig | None) -> NetConfig:
    wanted = None
    if cfg.net is not None:
        wanted = NetConfig.preset(cfg.net) if isinstance(cfg.net, str) else cfg.net
    if parent_arch is None:
        return wanted or NetConfig.cpu()
    if wanted is not None and wanted != parent_arch:
        raise InvalidConfig(
            f"net {wanted!r} differs from the parent's architecture {parent_arch!r}; "
            "leave net unset to keep the parent's, or train from scratch (init='scratch')"
        )
    return parent_arch


def completed_result(state: CompletedState) -> TrainResult:
    result = TrainResult.model_validate(state.result)
    path = Path(result.checkpoint_path)
    if not path.is_file() or sha256_file(path) != result.sha256:
        raise ChecksumMismatch(
            f"this run finished earlier, but its checkpoint {path} is missing or changed; "
            "rerun with resume=False to train again"
        )
    return result


def _named(prefix: str | None) -> str:
    return f" named {prefix}*" if prefix else ""
