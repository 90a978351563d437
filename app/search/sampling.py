"""Temperature-controlled move choice from a search's visit counts or policy."""

from __future__ import annotations

import math

import numpy as np


def select_action(
    policy_or_visits: np.ndarray, temperature: float, rng: np.random.Generator
) -> int | np.ndarray:
    """Pick an action with probability proportional to ``x ** (1 / temperature)``.

    ``policy_or_visits``: non-negative float [A] (one position) or [B, A] (one row per position), zero on illegal
    actions. ``temperature`` 0 is greedy: the argmax, ties broken uniformly at random with ``rng``.
    Returns an int for [A] input and int64 [B] for [B, A] input.
    """
    x = np.asarray(policy_or_visits, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"policy_or_visits must be shaped [A] or [B, A] with A > 0, got shape {x.shape}")
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
    ):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    rows = np.atleast_2d(x)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("policy_or_visits must be finite and non-negative")
    empty = np.flatnonzero(rows.sum(axis=1) <= 0)
    if empty.size:
        raise ValueError(f"row {int(empty[0])} of policy_or_visits is all zero: no action to choose from")
    chosen = np.empty(rows.shape[0], dtype=np.int64)
    for i, row in enumerate(rows):
        if temperature == 0:
            best = np.flatnonzero(row == row.max())
            chosen[i] = best[0] if best.size == 1 else best[rng.integers(best.size)]
        else:
            # In log space so that tiny temperatures do not overflow.
            with np.errstate(divide="ignore"):
                logits = np.log(row) / temperature
            p = np.exp(logits - logits.max())
            chosen[i] = rng.choice(row.size, p=p / p.sum())
    return int(chosen[0]) if x.ndim == 1 else chosen
