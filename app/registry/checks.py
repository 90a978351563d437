"""Input checks of the registry: model ids, names, numbers and JSON mappings, each refused with what was given."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from app.core.names import MAIN_RUN, parse_config_key, parse_model_id

_MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def check_model_id(model_id: Any, what: str = "model_id") -> None:
    if not isinstance(model_id, str) or not _MODEL_ID_RE.match(model_id):
        raise ValueError(
            f"{what} must be 1-128 characters of letters, digits, '_', '.', '-' (like 'hex8_2p_v3'), "
            f"got {model_id!r}"
        )


def check_sha256(sha256: Any) -> None:
    if sha256 is not None and not _SHA256_RE.match(str(sha256)):
        raise ValueError(f"sha256 must be 64 lowercase hex digits, got {sha256!r}")


def resolve_names(model_id: str, config_key: str | None, version: int | None) -> tuple[str, int, str]:
    """The config key, version and run of a new model: from the model id (``hex8_2p_v3``, ``hex8_2p_wide_v7``)
    unless given; the run always from the id (``main`` for an id of another form, with key and version given)."""
    check_model_id(model_id)
    try:
        parsed = parse_model_id(model_id)
    except ValueError:
        if config_key is None or version is None:
            raise
        parsed = None
    run = parsed.run if parsed is not None else MAIN_RUN
    if parsed is not None:
        config_key = parsed.config_key if config_key is None else config_key
        version = parsed.version if version is None else version
    parse_config_key(config_key)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"version must be an integer >= 0, got {version!r}")
    return config_key, version, run


def finite_or_none(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def json_dict(value: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """A JSON-safe deep copy of a mapping with string keys (NaN and infinities refused)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what} must be a mapping with string keys, got {value!r}")
    try:
        return json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must hold JSON values (finite numbers, strings, lists, dicts): {exc}"
        ) from None


def metrics_dict(value: Mapping[str, Any] | None) -> dict[str, float]:
    metrics = json_dict(value, "metrics")
    for key, number in metrics.items():
        finite_or_none(number, f"metrics[{key!r}]")
        if number is None:
            raise ValueError(f"metrics[{key!r}] must be a finite number, got None")
    return metrics
