"""Learning-rate schedules: a factor of the peak learning rate per optimiser step (``LambdaLR``).

Written as plain functions of the step rather than torch's ``OneCycleLR``, which divides by zero on runs of a
handful of steps; a factor function works for any length and its state is just the step counter.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.optim.lr_scheduler import LambdaLR

SCHEDULES = ("cosine", "onecycle", "constant")
ONECYCLE_DIV = 25.0  # one-cycle starts at peak / 25 ...
ONECYCLE_FINAL_DIV = 1e4  # ... and ends at its start / 1e4 (Smith; fastai and torch defaults)


def lr_factor(
    kind: str, *, total_steps: int, warmup_fraction: float, final_lr_fraction: float
) -> Callable[[int], float]:
    """``cosine``: linear warmup to the peak, cosine decay to ``final_lr_fraction`` of it at the last step;
    ``onecycle``: cosine rise from peak/25 over the warmup fraction, cosine fall to peak/25e4;
    ``constant``: linear warmup, then the peak."""
    if kind not in SCHEDULES:
        raise ValueError(f"unknown lr schedule {kind!r}; valid: {', '.join(SCHEDULES)}")
    total = max(1, total_steps)
    warmup = int(warmup_fraction * total)

    def half_cos(p: float) -> float:  # 1 -> 0 as p goes 0 -> 1
        return 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, p))))

    if kind == "onecycle":
        start = 1 / ONECYCLE_DIV
        end = start / ONECYCLE_FINAL_DIV
        rise = max(1, warmup)

        def onecycle(step: int) -> float:
            if step < rise:
                return start + (1 - start) * (1 - half_cos(step / rise))
            return end + (1 - end) * half_cos((step - rise) / max(1, total - rise))

        return onecycle

    def warm_then(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if kind == "constant":
            return 1.0
        return final_lr_fraction + (1 - final_lr_fraction) * half_cos(
            (step - warmup) / max(1, total - warmup - 1)
        )

    return warm_then


def make_scheduler(
    optimizer: torch.optim.Optimizer,
    kind: str,
    *,
    total_steps: int,
    warmup_fraction: float,
    final_lr_fraction: float,
) -> LambdaLR:
    factor = lr_factor(
        kind, total_steps=total_steps, warmup_fraction=warmup_fraction, final_lr_fraction=final_lr_fraction
    )
    return LambdaLR(optimizer, factor)
