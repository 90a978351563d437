"""``sleep``: the node's own diagnostic job type. It sleeps, reports progress and optionally fails.

It exercises every path of the job system (claim, progress, success, failure, cancel, recovery) without
pulling in a stage, and it is the trivial job of ``bench/node.py``'s submit-to-running figure.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from app.core.config import Settings
from app.core.progress import ProgressFn, no_progress


class SleepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(default=1.0, ge=0, le=3600, description="How long to sleep, in seconds.")
    fail: bool = Field(default=False, description="Raise an error after sleeping (tests the failure path).")
    progress_steps: int = Field(default=10, ge=1, le=1000, description="Progress reports over the sleep.")


class SleepResult(BaseModel):
    slept_s: float = Field(description="Seconds actually slept.")
    steps: int = Field(description="Progress reports made.")


class SleepFailed(RuntimeError):
    """The failure a ``sleep`` job raises when asked to (``fail=true``)."""


def run_sleep(
    cfg: SleepConfig, *, settings: Settings | None = None, progress: ProgressFn = no_progress
) -> SleepResult:
    start = time.monotonic()
    step = cfg.seconds / cfg.progress_steps
    for i in range(cfg.progress_steps):
        time.sleep(step)
        progress((i + 1) / cfg.progress_steps, f"slept {i + 1}/{cfg.progress_steps}")
    if cfg.fail:
        raise SleepFailed(f"sleep job failed on purpose after {cfg.seconds:g}s (config fail=true)")
    return SleepResult(slept_s=round(time.monotonic() - start, 6), steps=cfg.progress_steps)
