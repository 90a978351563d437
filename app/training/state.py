"""The resumable state of a training run: one file, replaced atomically, in the run's directory.

It holds the run's manifest (shards, parent, fingerprint of the settings), so a resumed run trains on the same
data even if newer shards arrived meanwhile, and either everything the loop needs to continue where it stopped
(``RunningState``: weights, optimiser, scheduler, RNG and the ``LoopPosition``) or, once the run is done, its
result (``CompletedState``).

On disk the file is a dict of plain data and tensors (``torch.save``, read back with ``weights_only``):
``manifest``, ``completed`` and then either ``model``, ``optimizer``, ``scheduler``, ``scaler``, ``torch_rng``,
``step``, ``epoch``, ``batch``, ``sums``, ``count``, ``history`` or ``result``. A file that is not such a dict is
refused (``ChecksumMismatch``), never mistaken for a fresh run.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from app.core.errors import ChecksumMismatch
from app.core.files import write_bytes_atomic

STATE_FILE = "state.pt"


@dataclass(frozen=True)
class Manifest:
    """What a run trains on, fixed when it starts; its digest names a run without an output model id."""

    fingerprint: dict[str, Any]
    """``TrainConfig.hyperparameters()`` of the run: a resume with other settings is refused."""
    shards: list[str]
    """Names of the shards of the replay window, newest first."""
    shard_sha256: list[str]
    parent_model_id: str | None
    parent_sha256: str | None
    net: dict[str, Any]
    """The architecture (``NetConfig`` as JSON)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LoopPosition:
    """Where the training loop stands: the next batch to train and what has been measured so far."""

    step: int = 0
    """Optimiser steps taken."""
    epoch: int = 0
    """The epoch the next batch belongs to."""
    batch: int = 0
    """The index of the next batch within that epoch."""
    sums: dict[str, float] = field(default_factory=dict)
    """Running sums of the train metrics over the epoch so far (``MetricSums``)."""
    count: int = 0
    """Samples those sums cover."""
    history: list[dict[str, float]] = field(default_factory=list)
    """Metrics of each finished epoch."""


@dataclass
class RunningState:
    """A run in progress: enough to continue it exactly where it stopped."""

    manifest: Manifest
    position: LoopPosition
    model: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    scaler: dict[str, Any]
    """The AMP grad scaler's state; empty without float16 AMP."""
    torch_rng: torch.Tensor


@dataclass
class CompletedState:
    """A finished run: what a rerun answers (the checkpoint holds the weights)."""

    manifest: Manifest
    result: dict[str, Any]
    """``TrainResult`` as JSON."""


TrainingState = RunningState | CompletedState

_RUNNING_KEYS = ("model", "optimizer", "scheduler", "scaler", "torch_rng")
_POSITION_KEYS = tuple(f.name for f in fields(LoopPosition))


def save_state(run_dir: Path, state: TrainingState) -> Path:
    buf = io.BytesIO()
    torch.save(_to_dict(state), buf)
    path = run_dir / STATE_FILE
    write_bytes_atomic(path, buf.getvalue())
    return path


def load_state(run_dir: Path) -> TrainingState | None:
    """The saved state, or None when the run has none. Only tensors and plain data are unpickled."""
    path = run_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        raw = torch.load(io.BytesIO(path.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged state must not be mistaken for a fresh run
        raise ChecksumMismatch(
            f"training state {path} cannot be read ({exc}); delete it or rerun with resume=False"
        ) from None
    return _from_dict(raw, path)


def clear_state(run_dir: Path) -> None:
    (run_dir / STATE_FILE).unlink(missing_ok=True)


def _to_dict(state: TrainingState) -> dict[str, Any]:
    out: dict[str, Any] = {"manifest": state.manifest.to_dict()}
    if isinstance(state, CompletedState):
        return out | {"completed": True, "result": state.result}
    out["completed"] = False
    out |= {key: getattr(state, key) for key in _RUNNING_KEYS}
    return out | asdict(state.position)


def _from_dict(raw: Any, path: Path) -> TrainingState:
    try:
        manifest = Manifest(**raw["manifest"])
        if raw["completed"]:
            return CompletedState(manifest=manifest, result=raw["result"])
        position = LoopPosition(**{key: raw[key] for key in _POSITION_KEYS})
        return RunningState(manifest=manifest, position=position, **{key: raw[key] for key in _RUNNING_KEYS})
    except (KeyError, TypeError) as exc:
        raise ChecksumMismatch(
            f"training state {path} is not a state this version reads ({type(exc).__name__}: {exc}); "
            "delete it or rerun with resume=False"
        ) from None
