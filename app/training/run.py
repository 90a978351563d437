"""The training stage: replay window -> AdamW with a schedule -> a new checkpoint with its lineage.

Resumable: the run's state is saved every ``checkpoint_every_steps`` steps (or seconds) and at each epoch's end
in ``<home>/training/<config_key>/<run>/``; a rerun of the same config continues from it. Shuffling and
augmentation are drawn from generators seeded by (seed, epoch, batch), so a resumed run sees the batches the
interrupted one would have.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from app.core.config import Settings, get_settings
from app.core.errors import InvalidConfig
from app.core.progress import ProgressFn, no_progress
from app.games.registry import make_game
from app.nn import Lineage, NetConfig, PolicyValueNet, configure_threads, default_device, save_checkpoint
from app.storage.shards import ShardStore
from app.training.config import TrainConfig, TrainResult
from app.training.data import Window, augment, load_window, split_by_game
from app.training.losses import MetricSums, losses
from app.training.moments import continue_moments, save_moments
from app.training.plan import Plan, completed_result, plan_run, sample_budget
from app.training.schedule import make_scheduler
from app.training.state import CompletedState, LoopPosition, Manifest, RunningState, TrainingState, save_state

VAL_BATCH = 1024
PROGRESS_EVERY_S = 0.25


@dataclass
class _Data:
    """The replay window split by game (N positions; ``planes`` uint8 when exact, else float32 [N, C, H, W])."""

    window: Window
    planes: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray


@dataclass(frozen=True)
class _Length:
    """How much the run trains: ``budget`` samples over ``epochs`` passes of ``steps_per_epoch`` batches."""

    budget: int
    epochs: int
    steps_per_epoch: int
    total_steps: int


@dataclass
class _Model:
    """The network and what steps it: optimiser, LR schedule, AMP (``scaler`` only for float16)."""

    arch: NetConfig
    net: PolicyValueNet
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: torch.amp.GradScaler | None
    amp_dtype: torch.dtype | None
    device: torch.device


@dataclass
class _Run:
    """Everything the loop works on, and where it stands (``step``, ``sums`` of the epoch so far, ``history``)."""

    cfg: TrainConfig
    plan: Plan
    data: _Data
    length: _Length
    model: _Model
    step: int
    sums: MetricSums
    history: list[dict[str, float]]
    trained: int = 0
    """Samples trained in this process (not counting what a resumed run had trained before)."""
    train_seconds: float = 0.0
    last_save_step: int = 0
    last_save_time: float = 0.0
    last_report: float = 0.0


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
    plan = plan_run(cfg, settings, store, game)
    if isinstance(plan.state, CompletedState):
        return completed_result(plan.state)
    data = _load_data(cfg, store, plan.manifest, game, progress)
    length = _length(cfg, len(data.train_idx))
    model = _build_model(cfg, plan, game, device, length)
    run = _start_run(cfg, plan, data, length, model)
    resumed_from = run.step
    symmetries = game.symmetries() if cfg.augment else []
    start_epoch, start_batch = _resume_point(plan.state)
    for epoch in range(start_epoch, length.epochs):
        _train_epoch(run, epoch, start_batch if epoch == start_epoch else 0, symmetries, progress)
        _end_epoch(run, epoch, progress)
    result = _save_result(run, resumed_from, started)
    progress(1.0, f"saved {plan.checkpoint_path.name}")
    return result


def _load_data(
    cfg: TrainConfig, store: ShardStore, manifest: Manifest, game: Any, progress: ProgressFn
) -> _Data:
    progress(0.0, f"loading {len(manifest.shards)} shard(s)")
    records = [store.get(cfg.config_key, name) for name in manifest.shards]
    window = load_window(store, records, cfg.replay_window)
    _check_shapes(window, game)
    train_idx, val_idx = split_by_game(window.group, cfg.validation_fraction, seed=cfg.seed)
    return _Data(window=window, planes=_compact(window.data.planes), train_idx=train_idx, val_idx=val_idx)


def _length(cfg: TrainConfig, train_positions: int) -> _Length:
    steps_per_epoch = math.ceil(train_positions / cfg.batch_size)
    budget = sample_budget(cfg, train_positions)
    epochs = math.ceil(budget / max(1, train_positions))
    whole, rest = divmod(budget, max(1, train_positions))
    total_steps = max(1, whole * steps_per_epoch + math.ceil(rest / cfg.batch_size))
    return _Length(budget=budget, epochs=epochs, steps_per_epoch=steps_per_epoch, total_steps=total_steps)


def _build_model(cfg: TrainConfig, plan: Plan, game: Any, device: torch.device, length: _Length) -> _Model:
    """The network (the parent's weights, else seeded from ``cfg.seed``) with its optimiser, schedule and AMP."""
    torch.manual_seed(cfg.seed)
    arch = NetConfig.model_validate(plan.manifest.net)
    net = PolicyValueNet.for_game(game, arch)
    if plan.parent_net is not None:
        net.load_state_dict(plan.parent_net.state_dict())
    net.to(device)
    optimizer = _optimizer(net, cfg)
    if cfg.optimizer_from_parent and plan.manifest.parent_model_id is not None:
        continue_moments(optimizer, plan.run_dir.parent / plan.manifest.parent_model_id)
    scheduler = make_scheduler(
        optimizer,
        cfg.lr_schedule,
        total_steps=length.total_steps,
        warmup_fraction=cfg.warmup_fraction,
        final_lr_fraction=cfg.final_lr_fraction,
    )
    amp_dtype = _amp_dtype(cfg, device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    return _Model(arch, net, optimizer, scheduler, scaler, amp_dtype, device)


def _start_run(cfg: TrainConfig, plan: Plan, data: _Data, length: _Length, model: _Model) -> _Run:
    """The loop's starting point: fresh, or the saved state of an interrupted attempt loaded into ``model``."""
    position = LoopPosition()
    state = plan.state
    if isinstance(state, RunningState):
        model.net.load_state_dict(state.model)
        model.optimizer.load_state_dict(state.optimizer)
        model.scheduler.load_state_dict(state.scheduler)
        if model.scaler is not None and state.scaler:
            model.scaler.load_state_dict(state.scaler)
        torch.set_rng_state(state.torch_rng)
        position = state.position
    run = _Run(
        cfg=cfg,
        plan=plan,
        data=data,
        length=length,
        model=model,
        step=position.step,
        sums=MetricSums(dict(position.sums), position.count),
        history=list(position.history),
    )
    run.last_save_step, run.last_save_time = run.step, time.monotonic()
    return run


def _resume_point(state: TrainingState | None) -> tuple[int, int]:
    """(epoch, batch) the loop starts at."""
    return (state.position.epoch, state.position.batch) if isinstance(state, RunningState) else (0, 0)


def _train_epoch(run: _Run, epoch: int, first_batch: int, symmetries: list, progress: ProgressFn) -> None:
    """Train the batches ``first_batch..`` of ``epoch`` (shuffled from (seed, epoch)), saving the state every
    ``checkpoint_every_steps`` steps or ``checkpoint_every_s`` seconds."""
    cfg, data, length = run.cfg, run.data, run.length
    n_train = len(data.train_idx)
    order = np.random.default_rng([cfg.seed, epoch]).permutation(data.train_idx)
    run.model.net.train()
    for b in range(first_batch, length.steps_per_epoch):
        t = time.perf_counter()
        # The budget's last batch is cut short, so a run trains exactly `budget` samples.
        first = epoch * n_train + b * cfg.batch_size
        if first >= length.budget:
            break
        idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size][: length.budget - first]
        x, pi = data.planes[idx].astype(np.float32), data.window.data.policy[idx]
        if symmetries:
            x, pi = augment(x, pi, symmetries, np.random.default_rng([cfg.seed, epoch, b]))
        batch_sums = _train_step(run.model, cfg, x, pi, data.window.data.value[idx])
        run.step += 1
        run.sums.add(batch_sums, len(idx))
        run.trained += len(idx)
        run.train_seconds += time.perf_counter() - t
        now = time.monotonic()
        if (
            run.step - run.last_save_step >= cfg.checkpoint_every_steps
            or now - run.last_save_time >= cfg.checkpoint_every_s
        ):
            _save_running(run, epoch, b + 1)
            run.last_save_step, run.last_save_time = run.step, now
        if now - run.last_report >= PROGRESS_EVERY_S:
            run.last_report = now
            progress(
                run.step / length.total_steps,
                f"epoch {epoch + 1}/{length.epochs} step {run.step}/{length.total_steps} "
                f"loss {run.sums.mean('loss'):.4f}",
            )


def _end_epoch(run: _Run, epoch: int, progress: ProgressFn) -> None:
    """Record the epoch's metrics (``train/*``, ``val/*``, ``lr``) and save the state at the next epoch's start."""
    model = run.model
    metrics = {"epoch": float(epoch + 1), **run.sums.means("train")}
    metrics |= _validate(model, run.data, run.cfg)
    metrics["lr"] = float(model.optimizer.param_groups[0]["lr"])
    run.history.append(metrics)
    run.sums = MetricSums()
    _save_running(run, epoch + 1, 0)
    run.last_save_step, run.last_save_time = run.step, time.monotonic()
    progress(run.step / run.length.total_steps, _epoch_message(metrics, run.length.epochs))


def _save_running(run: _Run, epoch: int, batch: int) -> None:
    """Save the state from which a new attempt continues at batch ``batch`` of ``epoch``."""
    model = run.model
    position = LoopPosition(
        step=run.step, epoch=epoch, batch=batch, sums=run.sums.sums, count=run.sums.count, history=run.history
    )
    state = RunningState(
        manifest=run.plan.manifest,
        position=position,
        model=model.net.state_dict(),
        optimizer=model.optimizer.state_dict(),
        scheduler=model.scheduler.state_dict(),
        scaler=model.scaler.state_dict() if model.scaler is not None else {},
        torch_rng=torch.get_rng_state(),
    )
    save_state(run.plan.run_dir, state)


def _save_result(run: _Run, resumed_from: int, started: float) -> TrainResult:
    """Write the checkpoint with its lineage, then replace the state with the finished run's result."""
    cfg, plan, data, manifest = run.cfg, run.plan, run.data, run.plan.manifest
    train_n, val_n = len(data.train_idx), len(data.val_idx)
    run.model.net.eval()
    extra = {
        "shards": manifest.shards,
        "hyperparameters": cfg.hyperparameters(),
        "positions": {"train": int(train_n), "val": int(val_n)},
        "games": int(data.window.games),
        "steps": run.step,
        "metrics": run.history[-1],
        "parent_sha256": manifest.parent_sha256,
    }
    lineage = Lineage(
        config_key=cfg.config_key,
        model_id=cfg.output_model_id,
        parent_model_id=manifest.parent_model_id,
        extra=extra,
    )
    meta = save_checkpoint(plan.checkpoint_path, run.model.net, lineage)
    if cfg.optimizer_from_parent:
        save_moments(
            plan.run_dir, run.model.optimizer
        )  # before the state says done: a rerun writes them again
    result = TrainResult(
        config_key=cfg.config_key,
        model_id=cfg.output_model_id,
        parent_model_id=manifest.parent_model_id,
        checkpoint_path=str(plan.checkpoint_path),
        sha256=meta.sha256,
        net=run.model.arch,
        shards=manifest.shards,
        positions=data.window.data.positions,
        train_positions=train_n,
        val_positions=val_n,
        games=data.window.games,
        epochs=run.length.epochs,
        steps=run.step,
        samples_trained=run.length.budget,
        resumed_from_step=resumed_from,
        history=run.history,
        final=run.history[-1],
        samples_per_s=run.trained / run.train_seconds if run.train_seconds > 0 else 0.0,
        seconds=time.perf_counter() - started,
        device=str(run.model.device),
    )
    # The checkpoint holds the weights now; the finished state keeps only what a rerun needs to answer.
    save_state(plan.run_dir, CompletedState(manifest=manifest, result=result.model_dump(mode="json")))
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


def _train_step(model: _Model, cfg: TrainConfig, planes, policy, value) -> dict[str, torch.Tensor]:
    """One optimiser step on a batch (planes float32 [B, C, H, W], policy [B, A], value [B, P]); its metric sums."""
    net, optimizer, scaler, device = model.net, model.optimizer, model.scaler, model.device
    x = torch.from_numpy(planes).to(device, non_blocking=True)
    pi = torch.from_numpy(np.ascontiguousarray(policy)).to(device, non_blocking=True)
    z = torch.from_numpy(np.ascontiguousarray(value)).to(device, non_blocking=True)
    with _autocast(device, model.amp_dtype):
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
    model.scheduler.step()
    return batch_sums


def _validate(model: _Model, data: _Data, cfg: TrainConfig) -> dict[str, float]:
    """``val/*`` metrics over the validation split (none when it is empty)."""
    net, device, val_idx, window = model.net, model.device, data.val_idx, data.window
    if len(val_idx) == 0:
        return {}
    net.eval()
    sums = MetricSums()
    with torch.inference_mode():
        for start in range(0, len(val_idx), VAL_BATCH):
            idx = val_idx[start : start + VAL_BATCH]
            x = torch.from_numpy(data.planes[idx].astype(np.float32)).to(device)
            pi = torch.from_numpy(window.data.policy[idx]).to(device)
            z = torch.from_numpy(window.data.value[idx]).to(device)
            with _autocast(device, model.amp_dtype):
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
