"""``KEY=VALUE`` options of the CLI (evidence, metrics, context), parsed one way everywhere."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def parse_pairs(pairs: list[str] | None, what: str, *, numbers: bool) -> dict[str, Any]:
    """``["games=400", "sprt=accept"]`` → ``{"games": 400, "sprt": "accept"}``.

    With ``numbers`` a value that is not a number stays a string so that the layer below can say what is wrong
    with it; without, values are JSON when they parse as JSON (numbers, true/false, lists) and text otherwise.
    """
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{what} must look like KEY=VALUE, got {pair!r}")
        if key in out:
            raise ValueError(f"{what} {key!r} given twice")
        out[key] = _number(raw) if numbers else _json_or_text(raw)
    return out


def _number(raw: str) -> Any:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def json_default(value: Any) -> str:
    """For ``json.dumps``: datetimes as ISO 8601, anything else as its text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def when(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M:%S")


def compact(data: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in data.items()) if data else "-"
