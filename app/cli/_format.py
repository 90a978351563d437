"""Values as people read them in a terminal: numbers at a sensible precision, mappings as aligned fields."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def number(value: float | int) -> str:
    """An int as it is; a float with four significant digits (no 16-digit tails), thousands kept whole."""
    if isinstance(value, int):  # bool is an int too
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value != 0 and abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.4g}"


def value(v: Any) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return number(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {value(x)}" for k, x in v.items()) + "}"
    return str(v)


def fields(data: Mapping[str, Any] | None) -> str:
    """One ``key  value`` line per entry, keys padded to one width so the values line up; ``-`` when empty."""
    if not data:
        return "-"
    width = max(len(str(k)) for k in data)
    return "\n".join(f"{str(k).ljust(width)}  {value(v)}" for k, v in data.items())
