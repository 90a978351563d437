"""The optimiser's moments carried from a candidate to the next one trained from it (``optimizer_from_parent``).

A trainer that goes on from candidate to candidate as one run, as KataGo's and Leela Zero's do, keeps AdamW's
first and second moments instead of estimating them afresh (which is what a warm-up is for). A finished run whose
config asks for it leaves them beside its state as ``moments.pt``; its child loads them when it starts.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from app.core.errors import ChecksumMismatch
from app.core.files import write_bytes_atomic

MOMENTS_FILE = "moments.pt"


def moments_file(home: Path, config_key: str, model_id: str) -> Path:
    """Where the run that trained ``model_id`` leaves its moments (its run directory)."""
    return home / "training" / config_key / model_id / MOMENTS_FILE


def save_moments(run_dir: Path, optimizer: torch.optim.Optimizer) -> Path:
    buf = io.BytesIO()
    torch.save(optimizer.state_dict(), buf)
    path = run_dir / MOMENTS_FILE
    write_bytes_atomic(path, buf.getvalue())
    return path


def continue_moments(optimizer: torch.optim.Optimizer, parent_dir: Path) -> bool:
    """Load the moments the parent's run left into ``optimizer``, keeping this run's learning rate and weight
    decay; False (fresh moments) when it left none (generation 0, or a parent trained without the setting)."""
    path = parent_dir / MOMENTS_FILE
    if not path.is_file():
        return False
    try:
        saved = torch.load(io.BytesIO(path.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file must not quietly start fresh moments
        raise ChecksumMismatch(
            f"optimiser moments {path} cannot be read ({str(exc).splitlines()[0]}); delete the file to train "
            "with fresh moments"
        ) from None
    own = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    try:
        optimizer.load_state_dict(saved)
    except ValueError as exc:
        raise ChecksumMismatch(
            f"optimiser moments {path} do not fit this network ({exc}); delete the file to train with fresh moments"
        ) from None
    for group, settings in zip(optimizer.param_groups, own, strict=True):
        group.update(settings)  # the parent's learning rate (decayed by its schedule) is not this run's
        group.pop("initial_lr", None)
    return True
