"""What the feedback loop records (``FeedbackEvent``) and what it answers (``Recommendation``).

A recommendation's ``changes`` name the knobs of ``CycleSettings`` (or ``retry_delay_s``); ``kind`` says
how to read the numbers: MULTIPLY the current value (``{"selfplay_games": 1.5}`` = 50% more games) or SET it
(``{"retry_delay_s": 60}``). ``Recommendation.apply`` does exactly that to a config mapping.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from app.core.names import UpperNameEnum
from app.integration.pipeline_config import CycleSettings


class FeedbackType(UpperNameEnum):
    TRAINING_COMPLETE = "TRAINING_COMPLETE"
    EVALUATION_RESULT = "EVALUATION_RESULT"
    PROMOTION_DECISION = "PROMOTION_DECISION"
    PIPELINE_ERROR = "PIPELINE_ERROR"
    # Written by the loop itself: did an applied recommendation do what its rule expected?
    FOLLOW_UP = "FOLLOW_UP"


# TRAINING_COMPLETE metrics use the seed's names ("loss", "accuracy"); the training stage reports grouped names
# ("train/loss", "val/policy_accuracy"). This is the one translation between the two.
TRAINING_METRICS: Mapping[str, str] = {
    "loss": "train/loss",
    "policy_loss": "train/policy_loss",
    "value_loss": "train/value_loss",
    "accuracy": "train/policy_accuracy",
    "val_loss": "val/loss",
    "val_policy_loss": "val/policy_loss",
    "val_value_loss": "val/value_loss",
    "val_accuracy": "val/policy_accuracy",
}


class Action(StrEnum):
    ROLLBACK = "ROLLBACK"
    PAUSE_CONFIG = "PAUSE_CONFIG"
    REDUCE_BATCH_SIZE = "REDUCE_BATCH_SIZE"
    RETRY = "RETRY"
    REDUCE_OVERFITTING = "REDUCE_OVERFITTING"
    INCREASE_SELFPLAY = "INCREASE_SELFPLAY"
    REDUCE_SELFPLAY = "REDUCE_SELFPLAY"
    DECAY_LEARNING_RATE = "DECAY_LEARNING_RATE"
    RAISE_LEARNING_RATE = "RAISE_LEARNING_RATE"
    INCREASE_SEARCH = "INCREASE_SEARCH"
    MOVE_COMPUTE = "MOVE_COMPUTE"  # a core from one lane of an asynchronous loop to the other


class ChangeKind(StrEnum):
    MULTIPLY = "MULTIPLY"
    SET = "SET"


class Priority(IntEnum):
    """Higher is more urgent."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


# Knobs counted in whole units; a multiplied value is rounded and kept at least 1.
INTEGER_PARAMETERS = CycleSettings.integer_parameters()


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    id: int
    at: datetime
    feedback_type: FeedbackType
    model_id: str | None
    config_key: str
    metrics: dict[str, float] = field(default_factory=dict)
    context: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def metric(self, name: str) -> float | None:
        value = self.metrics.get(name)
        return None if value is None else float(value)


@dataclass(frozen=True)
class Recommendation:
    action: Action
    config_key: str
    changes: Mapping[str, float]
    kind: ChangeKind
    reason: str
    priority: Priority
    rule: str
    evidence_ids: tuple[int, ...]
    model_id: str | None = None
    # The rule's floor and ceiling per parameter: ``apply`` never moves a value past them.
    limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """Stable id of this recommendation: the rule, the config key and the events it rests on."""
        ids = ",".join(str(i) for i in sorted(self.evidence_ids))
        return hashlib.sha256(f"{self.rule}|{self.config_key}|{ids}".encode()).hexdigest()[:16]

    def __hash__(self) -> int:
        return hash(self.identity)

    def apply(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with the changes applied (a new dict). MULTIPLY needs the parameter to be present."""
        out = dict(config)
        for name, value in self.changes.items():
            if self.kind is ChangeKind.SET:
                new = value
            else:
                if name not in out:
                    raise ValueError(
                        f"cannot multiply {name!r}: the config has no such parameter "
                        f"(it has {', '.join(sorted(out)) or 'nothing'})"
                    )
                new = out[name] * value
            if name in self.limits:
                new = _limited(new, out.get(name), *self.limits[name])
            if name in INTEGER_PARAMETERS:
                new = max(1, round(new))
            out[name] = new
        return out

    def describe_changes(self) -> str:
        sign = "×" if self.kind is ChangeKind.MULTIPLY else "→ "
        return ", ".join(f"{k} {sign}{v:g}" for k, v in self.changes.items()) or "-"

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "action": self.action.value,
            "config_key": self.config_key,
            "changes": dict(self.changes),
            "kind": self.kind.value,
            "reason": self.reason,
            "priority": self.priority.name,
            "rule": self.rule,
            "evidence_ids": list(self.evidence_ids),
            "model_id": self.model_id,
            # JSON has no infinity: an open side is null.
            "limits": {k: [x if math.isfinite(x) else None for x in v] for k, v in self.limits.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recommendation:
        """The inverse of ``to_dict`` (an open side of a limit comes back as infinity)."""
        return cls(
            action=Action(data["action"]),
            config_key=data["config_key"],
            changes=dict(data["changes"]),
            kind=ChangeKind(data["kind"]),
            reason=data["reason"],
            priority=Priority[data["priority"]],
            rule=data["rule"],
            evidence_ids=tuple(data["evidence_ids"]),
            model_id=data.get("model_id"),
            limits={
                k: (-math.inf if low is None else float(low), math.inf if high is None else float(high))
                for k, (low, high) in (data.get("limits") or {}).items()
            },
        )


def _limited(new: float, old: float | None, low: float, high: float) -> float:
    """``new`` kept from moving past ``low``/``high``; a value already beyond a limit is not pulled back to it."""
    if old is None:
        return min(max(new, low), high)
    if new < old:
        return max(new, min(low, old))
    if new > old:
        return min(new, max(high, old))
    return new
