"""The training stage: replay window -> AdamW with a schedule -> a new checkpoint with its lineage.

Resumable: the run's state is saved every ``checkpoint_every_steps`` steps (or seconds) and at each epoch's end
in ``<home>/training/<config_key>/<run>/``; a rerun of the same config continues from it. Shuffling and
augmentation are drawn from generators seeded by (seed, epoch, batch), so a resumed run sees the batches the
interrupted one would have.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.core.config import Settings, get_settings
from app.core.errors import AlreadyExists, ChecksumMismatch, InvalidConfig
from app.core.files import sha256_file
from app.core.progress import ProgressFn, no_progress
from app.games.registry import make_game
from app.nn import Lineage, NetConfig, PolicyValueNet, configure_threads, default_device, save_checkpoint
from app.storage.shards import ShardStore
from app.training.config import TrainConfig, TrainResult
from app.training.data import Window, augment, load_window, split_by_game
from app.training.losses import MetricSums, losses
from app.training.parent import resolve_parent
from app.training.schedule import make_scheduler
from app.training.state import clear_state, load_state, save_state

VAL_BATCH = 1024
PROGRESS_EVERY_S = 0.25


@dataclass
class _Plan:
    run_dir: Path
    checkpoint_path: Path
    manifest: dict[str, Any]
    state: dict[str, Any] | None
    parent_net: PolicyValueNet | None


def run_training(
    cfg: TrainConfig, *, settings: Settings | None = None, progress: ProgressFn = no_progress
) -> TrainResult:
    """Train a network for ``cfg.config_key`` on the newest shards and save its checkpoint.

    Raises InvalidConfig when the config key has no shards (nothing is invented), AlreadyExists when the output
    model already has a checkpoint that this run did not make.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    game = make_game(cfg.board_type, cfg.num_players)
    device = torch.device(cfg.device) if cfg.device else default_device()
    if device.type == "cpu":
        configure_threads(cfg.num_threads)
    store = ShardStore(settings)
    plan = _plan(cfg, settings, store, game)
    if plan.state is not None and plan.state.get("completed"):
        return _completed(plan)

    manifest = plan.manifest
    progress(0.0, f"loading {len(manifest['shards'])} shard(s)")
    records = [store.get(cfg.config_key, name) for name in manifest["shards"]]
    window = load_window(store, records, cfg.replay_window)
    _check_shapes(window, game)
    train_idx, val_idx = split_by_game(window.group, cfg.validation_fraction, seed=cfg.seed)
    planes = _compact(window.data.planes)

    torch.manual_seed(cfg.seed)
    arch = NetConfig.model_validate(manifest["net"])
    net = PolicyValueNet.for_game(game, arch)
    if plan.parent_net is not None:
        net.load_state_dict(plan.parent_net.state_dict())
    net.to(device)
    optimizer = _optimizer(net, cfg)
    steps_per_epoch = math.ceil(len(train_idx) / cfg.batch_size)
    budget = _sample_budget(cfg, len(train_idx))
    epochs = math.ceil(budget / max(1, len(train_idx)))
    whole, rest = divmod(budget, max(1, len(train_idx)))
    total_steps = max(1, whole * steps_per_epoch + math.ceil(rest / cfg.batch_size))
    scheduler = make_scheduler(
        optimizer,
        cfg.lr_schedule,
        total_steps=total_steps,
        warmup_fraction=cfg.warmup_fraction,
        final_lr_fraction=cfg.final_lr_fraction,
    )
    amp_dtype = _amp_dtype(cfg, device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None

    step, epoch0, batch0, history = 0, 0, 0, []
    sums = MetricSums()
    if plan.state is not None:
        s = plan.state
        net.load_state_dict(s["model"])
        optimizer.load_state_dict(s["optimizer"])
        scheduler.load_state_dict(s["scheduler"])
        if scaler is not None and s.get("scaler"):
            scaler.load_state_dict(s["scaler"])
        torch.set_rng_state(s["torch_rng"])
        step, epoch0, batch0, history = s["step"], s["epoch"], s["batch"], list(s["history"])
        sums = MetricSums(dict(s["sums"]), s["count"])
    resumed_from = step

    def checkpoint_state(epoch: int, batch: int) -> None:
        save_state(
            plan.run_dir,
            {
                "manifest": manifest,
                "completed": False,
                "model": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None else {},
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "epoch": epoch,
                "batch": batch,
                "sums": sums.sums,
                "count": sums.count,
                "history": history,
            },
        )

    symmetries = game.symmetries() if cfg.augment else []
    trained, train_seconds = 0, 0.0
    last_save_step, last_save_time, last_report = step, time.monotonic(), 0.0
    for epoch in range(epoch0, epochs):
        order = np.random.default_rng([cfg.seed, epoch]).permutation(train_idx)
        net.train()
        for b in range(batch0 if epoch == epoch0 else 0, steps_per_epoch):
            t = time.perf_counter()
            # The budget's last batch is cut short, so a run trains exactly `budget` samples.
            first = epoch * len(train_idx) + b * cfg.batch_size
            if first >= budget:
                break
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size][: budget - first]
            x, pi = planes[idx].astype(np.float32), window.data.policy[idx]
            if symmetries:
                x, pi = augment(x, pi, symmetries, np.random.default_rng([cfg.seed, epoch, b]))
            batch_sums = _train_step(
                net, optimizer, scheduler, scaler, cfg, amp_dtype, device, x, pi, window.data.value[idx]
            )
            step += 1
            sums.add(batch_sums, len(idx))
            trained += len(idx)
            train_seconds += time.perf_counter() - t
            now = time.monotonic()
            if (
                step - last_save_step >= cfg.checkpoint_every_steps
                or now - last_save_time >= cfg.checkpoint_every_s
            ):
                checkpoint_state(epoch, b + 1)
                last_save_step, last_save_time = step, now
            if now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                running = sums.sums["loss"] / max(1, sums.count)
                progress(
                    step / total_steps,
                    f"epoch {epoch + 1}/{epochs} step {step}/{total_steps} loss {running:.4f}",
                )
        metrics = {"epoch": float(epoch + 1), **sums.means("train")}
        metrics |= _validate(net, planes, window, val_idx, cfg, amp_dtype, device)
        metrics["lr"] = float(optimizer.param_groups[0]["lr"])
        history.append(metrics)
        sums = MetricSums()
        checkpoint_state(epoch + 1, 0)
        last_save_step, last_save_time = step, time.monotonic()
        progress(step / total_steps, _epoch_message(metrics, epochs))

    net.eval()
    extra = {
        "shards": manifest["shards"],
        "hyperparameters": cfg.hyperparameters(),
        "positions": {"train": int(len(train_idx)), "val": int(len(val_idx))},
        "games": int(window.games),
        "steps": step,
        "metrics": history[-1],
        "parent_sha256": manifest["parent_sha256"],
    }
    meta = save_checkpoint(
        plan.checkpoint_path,
        net,
        Lineage(
            config_key=cfg.config_key,
            model_id=cfg.output_model_id,
            parent_model_id=manifest["parent_model_id"],
            extra=extra,
        ),
    )
    result = TrainResult(
        config_key=cfg.config_key,
        model_id=cfg.output_model_id,
        parent_model_id=manifest["parent_model_id"],
        checkpoint_path=str(plan.checkpoint_path),
        sha256=meta.sha256,
        net=arch,
        shards=manifest["shards"],
        positions=window.data.positions,
        train_positions=len(train_idx),
        val_positions=len(val_idx),
        games=window.games,
        epochs=epochs,
        steps=step,
        samples_trained=budget,
        resumed_from_step=resumed_from,
        history=history,
        final=history[-1],
        samples_per_s=trained / train_seconds if train_seconds > 0 else 0.0,
        seconds=time.perf_counter() - started,
        device=str(device),
    )
    # The checkpoint holds the weights now; the finished state keeps only what a rerun needs to answer.
    save_state(
        plan.run_dir, {"manifest": manifest, "completed": True, "result": result.model_dump(mode="json")}
    )
    progress(1.0, f"saved {plan.checkpoint_path.name}")
    return result


def _plan(cfg: TrainConfig, settings: Settings, store: ShardStore, game: Any) -> _Plan:
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
            _check_fingerprint(state["manifest"], fingerprint, run_dir)
            return _Plan(run_dir, checkpoint_path, state["manifest"], state, None)

    records = store.newest(key, cfg.replay_window)
    if not records:
        raise InvalidConfig(
            f"no training shards for {key} in {settings.home}: run selfplay for {key} first "
            "(training never invents data)"
        )
    parent = resolve_parent(
        parent_model_id=cfg.parent_model_id, init=cfg.init, config_key=key, game=game, settings=settings
    )
    arch = _architecture(cfg, parent.meta.net_config if parent else None)
    manifest = {
        "fingerprint": fingerprint,
        "shards": [r.name for r in records],
        "shard_sha256": [r.sha256 for r in records],
        "parent_model_id": parent.model_id if parent else None,
        "parent_sha256": parent.meta.sha256 if parent else None,
        "net": arch.model_dump(mode="json"),
    }
    if cfg.output_model_id is None:
        digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16]
        run_dir = training_dir / f"run-{digest}"
        checkpoint_path = models_dir / f"run-{digest}.safetensors"
        if not cfg.resume:
            clear_state(run_dir)
        state = load_state(run_dir)
    return _Plan(run_dir, checkpoint_path, manifest, state, parent.net if parent else None)


def _sample_budget(cfg: TrainConfig, train_positions: int) -> int:
    """Samples this run trains: ``cfg.samples`` when set (KataGo-style fixed reuse), else whole epochs."""
    if cfg.samples is not None:
        return cfg.samples
    return cfg.epochs * train_positions


def _check_fingerprint(manifest: dict[str, Any], fingerprint: dict[str, Any], run_dir: Path) -> None:
    saved = manifest["fingerprint"]
    if saved != fingerprint:
        changed = sorted(k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k))
        raise InvalidConfig(
            f"the run in {run_dir} was started with other settings ({', '.join(changed)} differ); "
            "rerun with the same settings to resume, or with resume=False to start over"
        )


def _architecture(cfg: TrainConfig, parent_arch: NetConfig | None) -> NetConfig:
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


def _completed(plan: _Plan) -> TrainResult:
    result = TrainResult.model_validate(plan.state["result"])
    path = Path(result.checkpoint_path)
    if not path.is_file() or sha256_file(path) != result.sha256:
        raise ChecksumMismatch(
            f"this run finished earlier, but its checkpoint {path} is missing or changed; "
            "rerun with resume=False to train again"
        )
    return result


def _check_shapes(window: Window, game: Any) -> None:
    got = (window.data.planes.shape[1:], window.data.policy.shape[1], window.data.value.shape[1])
    wanted = ((game.num_planes, *game.board_shape), game.action_size, game.num_players)
    if got != wanted:
        raise InvalidConfig(f"shards hold planes/actions/players {got}, but {game.config_key} needs {wanted}")


def _compact(planes: np.ndarray) -> np.ndarray:
    """Keep the window's planes as uint8 when that is exact (board planes are 0/1): a quarter of the memory."""
    small = planes.astype(np.uint8)
    return small if np.array_equal(small.astype(np.float32), planes) else planes


def _optimizer(net: PolicyValueNet, cfg: TrainConfig) -> torch.optim.Optimizer:
    # Decaying BatchNorm scales and biases only fights the normalisation; decay the conv/linear weights.
    decay = [p for p in net.parameters() if p.ndim > 1]
    no_decay = [p for p in net.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.learning_rate)


def _amp_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    if not cfg.amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext()


def _train_step(net, optimizer, scheduler, scaler, cfg, amp_dtype, device, planes, policy, value):
    x = torch.from_numpy(planes).to(device, non_blocking=True)
    pi = torch.from_numpy(np.ascontiguousarray(policy)).to(device, non_blocking=True)
    z = torch.from_numpy(np.ascontiguousarray(value)).to(device, non_blocking=True)
    with _autocast(device, amp_dtype):
        logits, values = net(x)
    loss, batch_sums = losses(logits, values, pi, z, value_loss_weight=cfg.value_loss_weight)
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
    else:
        loss.backward()
    if cfg.max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    scheduler.step()
    return batch_sums


def _validate(net, planes, window: Window, val_idx, cfg, amp_dtype, device) -> dict[str, float]:
    if len(val_idx) == 0:
        return {}
    net.eval()
    sums = MetricSums()
    with torch.inference_mode():
        for start in range(0, len(val_idx), VAL_BATCH):
            idx = val_idx[start : start + VAL_BATCH]
            x = torch.from_numpy(planes[idx].astype(np.float32)).to(device)
            pi = torch.from_numpy(window.data.policy[idx]).to(device)
            z = torch.from_numpy(window.data.value[idx]).to(device)
            with _autocast(device, amp_dtype):
                logits, values = net(x)
            _, batch_sums = losses(logits, values, pi, z, value_loss_weight=cfg.value_loss_weight)
            sums.add(batch_sums, len(idx))
    net.train()
    return sums.means("val")


def _epoch_message(metrics: dict[str, float], epochs: int) -> str:
    parts = [f"epoch {int(metrics['epoch'])}/{epochs}", f"train loss {metrics['train/loss']:.4f}"]
    if "val/loss" in metrics:
        parts.append(f"val loss {metrics['val/loss']:.4f} acc {metrics['val/policy_accuracy']:.3f}")
    return ", ".join(parts)
