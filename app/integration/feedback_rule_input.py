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
        priority: Priority,
        reason: str,
        evidence: Sequence[FeedbackEvent],
        *,
        changes: Mapping[str, float] | None = None,
        kind: ChangeKind = ChangeKind.SET,
        model_id: str | None = None,
        limits: Mapping[str, tuple[float, float]] | None = None,
    ) -> list[Recommendation]:
        """A rule's one recommendation, resting on ``evidence``; without ``changes`` the action alone says it."""
        recommendation = Recommendation(
            action=action,
            config_key=self.config_key,
            changes=dict(changes or {}),
            kind=kind,
            reason=reason,
            priority=priority,
            rule=self.rule,
            evidence_ids=tuple(e.id for e in evidence),
            model_id=model_id,
            limits=dict(limits or {}),
        )
        return [recommendation]

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
        """``recommend`` for a tuning rule that multiplies each knob by its factor: ``knob=(factor, floor,
        ceiling)``, the value kept from moving past its floor and ceiling."""
        changes = {knob: factor for knob, (factor, _, _) in knobs.items()}
        limits = {knob: (floor, ceiling) for knob, (_, floor, ceiling) in knobs.items()}
        return self.recommend(
            action, priority, reason, evidence,
            changes=changes, kind=ChangeKind.MULTIPLY, model_id=model_id, limits=limits,
        )  # fmt: skip


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
