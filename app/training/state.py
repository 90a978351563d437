"""The resumable state of a training run: one file, replaced atomically, in the run's directory.

It holds everything the loop needs to continue where it stopped (weights, optimiser, scheduler, step, epoch,
running metric sums, history, RNG) and the run's manifest (shards, parent, fingerprint of the settings), so a
resumed run trains on the same data even if newer shards arrived meanwhile.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from app.core.errors import ChecksumMismatch
from app.core.files import write_bytes_atomic

STATE_FILE = "state.pt"


def save_state(run_dir: Path, state: dict[str, Any]) -> Path:
    buf = io.BytesIO()
    torch.save(state, buf)
    path = run_dir / STATE_FILE
    write_bytes_atomic(path, buf.getvalue())
    return path


def load_state(run_dir: Path) -> dict[str, Any] | None:
    """The saved state, or None when the run has none. Only tensors and plain data are unpickled."""
    path = run_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        return torch.load(io.BytesIO(path.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged state must not be mistaken for a fresh run
        raise ChecksumMismatch(
            f"training state {path} cannot be read ({exc}); delete it or rerun with resume=False"
        ) from None


def clear_state(run_dir: Path) -> None:
    (run_dir / STATE_FILE).unlink(missing_ok=True)
