"""What a feedback rule sees (``RuleInput``: one config key's events and what was already acted upon) and the
``Rule`` signature every rule in ``feedback_rules`` and ``feedback_error_rules`` has."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from app.integration.feedback_thresholds import FeedbackThresholds
from app.integration.feedback_types import (
    Action,
    ChangeKind,
    FeedbackEvent,
    FeedbackType,
    Priority,
    Recommendation,
)


@dataclass(frozen=True)
class RuleInput:
    """The events of one config key, oldest first, and what was already acted upon (rule → newest event id)."""

    rule: str
    config_key: str
    events: Sequence[FeedbackEvent]
    applied: Mapping[str, int]
    history: Sequence[str] = ()  # rules of the applied recommendations of this config key, oldest first

    @property
    def applied_through(self) -> int:
        return self.applied.get(self.rule, 0)

    def fresh(self, event: FeedbackEvent) -> bool:
        return event.id > self.applied_through

    def of_type(self, feedback_type: FeedbackType) -> list[FeedbackEvent]:
        return [e for e in self.events if e.feedback_type is feedback_type]

    def as_rule(self, rule: str) -> RuleInput:
        return RuleInput(rule, self.config_key, self.events, self.applied, self.history)

    def recommend(
        self,
        action: Action,
        changes: Mapping[str, float],
        kind: ChangeKind,
        priority: Priority,
        reason: str,
        evidence: Sequence[FeedbackEvent],
        model_id: str | None = None,
        limits: Mapping[str, tuple[float, float]] | None = None,
    ) -> Recommendation:
        return Recommendation(
            action=action,
            config_key=self.config_key,
            changes=dict(changes),
            kind=kind,
            reason=reason,
            priority=priority,
            rule=self.rule,
            evidence_ids=tuple(e.id for e in evidence),
            model_id=model_id,
            limits=dict(limits or {}),
        )

    def scale(
        self,
        action: Action,
        priority: Priority,
        reason: str,
        evidence: Sequence[FeedbackEvent],
        *,
        model_id: str | None = None,
        **knobs: tuple[float, float, float],
    ) -> list[Recommendation]:
        """The one recommendation of a tuning rule that multiplies each knob by its factor: ``knob=(factor, floor,
        ceiling)``, the value kept from moving past its floor and ceiling."""
        changes = {knob: factor for knob, (factor, _, _) in knobs.items()}
        limits = {knob: (floor, ceiling) for knob, (_, floor, ceiling) in knobs.items()}
        return [
            self.recommend(action, changes, ChangeKind.MULTIPLY, priority, reason, evidence, model_id, limits)
        ]

    def set(
        self,
        action: Action,
        priority: Priority,
        reason: str,
        evidence: Sequence[FeedbackEvent],
        *,
        model_id: str | None = None,
        **values: float,
    ) -> list[Recommendation]:
        """The one recommendation of a rule that sets its knobs outright (none: the action alone says it)."""
        return [self.recommend(action, values, ChangeKind.SET, priority, reason, evidence, model_id)]


Rule = Callable[[RuleInput, FeedbackThresholds], list[Recommendation]]


def cite(events: Sequence[FeedbackEvent], metric: str) -> str:
    return ", ".join(f"{e.metric(metric):.4g} (#{e.id})" for e in events)


def ids(events: Sequence[FeedbackEvent]) -> str:
    return ", ".join(f"#{e.id}" for e in events)


def trailing(events: Sequence[FeedbackEvent], pred: Callable[[FeedbackEvent], bool]) -> list[FeedbackEvent]:
    """The newest events, oldest first, for which ``pred`` holds without a break."""
    out: list[FeedbackEvent] = []
    for e in reversed(events):
        if not pred(e):
            break
        out.append(e)
    return out[::-1]
