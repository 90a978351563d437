"""JSON hygiene for the read models: stored JSON may hold infinities (an Elo interval open on one side is written
as Infinity); the API answers strict JSON, so they become None, and anything that is not a number where a number
belongs is left out."""

from __future__ import annotations

import math
from typing import Any

MAX_EPOCHS = 10_000


def finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def to_int(value: Any) -> int | None:
    number = finite(value)
    return None if number is None else int(number)


def finite_numbers(values: Any) -> dict[str, float]:
    if not isinstance(values, dict):
        return {}
    return {k: v for k, raw in values.items() if isinstance(k, str) and (v := finite(raw)) is not None}


def epochs(rows: Any) -> list[dict[str, float]]:
    if not isinstance(rows, list):
        return []
    return [h for h in (finite_numbers(r) for r in rows[:MAX_EPOCHS]) if h]


def strings(values: Any) -> list[str]:
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def counts(value: Any) -> dict[str, int]:
    return {k: int(v) for k, v in finite_numbers(value).items()}


def position_counts(value: Any) -> dict[str, int]:
    """``{"train": n, "val": m}`` as the training stage records it, or one number: the replay window's size."""
    number = to_int(value)
    return {"total": number} if number is not None else counts(value)
