"""The loop checks its own advice: follow-up verdicts on applied recommendations, cool-downs and back-off.

A tuning rule's change is judged ``followup_cycles`` cycles after it was applied (a cycle ends with its
PROMOTION_DECISION event) on the quantity the rule meant to move: the gate's Elo after a learning-rate decay, the
train/validation gap after an anti-overfitting change, the gate's Elo or score after more selfplay or search, the
promotion rate after a rejection streak. With ``followup_z`` above 0 (0 by default: see FeedbackThresholds), a
gate's Elo or score improved only beyond that many standard errors of the difference (the gates' own, from their
games and Elo intervals): within them the change showed nothing. The verdict, with both numbers (and that standard
error), is stored as a FOLLOW_UP event. A rule whose last ``backoff_failures`` verdicts all say "did not help" is
skipped for ``backoff_cycles`` cycles; any tuning rule waits ``cooldown_cycles`` cycles after one of its changes was
applied. Everything here is a pure function of the stored history, like the rules themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, computed_field

from app.integration.feedback_rules import FeedbackThresholds, lane_ratio, standard_error, train_loss
from app.integration.feedback_types import FeedbackEvent, FeedbackType
from app.integration.pipeline_config import TuningRule

F = FeedbackType

TUNING_RULES = get_args(TuningRule)


@dataclass(frozen=True)
class Applied:
    """An applied recommendation: ``after_event_id`` is the newest event of its config key when it was applied."""

    identity: str
    rule: str
    action: str
    config_key: str
    evidence_ids: tuple[int, ...]
    after_event_id: int

    @classmethod
    def from_stored(cls, rec: Mapping[str, Any], through_event_id: int) -> Applied:
        return cls(
            identity=rec["identity"],
            rule=rec["rule"],
            action=rec.get("action", ""),
            config_key=rec["config_key"],
            evidence_ids=tuple(rec.get("evidence_ids", ())),
            after_event_id=int(rec.get("applied_after_event_id", through_event_id)),
        )


@dataclass(frozen=True)
class Verdict:
    applied: Applied
    improved: bool
    metric: str
    before: float
    after: float
    cycles: int
    noise: float = 0.0  # the standard error of after - before, where the evaluations carry one

    def metrics(self) -> dict[str, float]:
        out = {
            "improved": 1.0 if self.improved else 0.0,
            "before": self.before,
            "after": self.after,
            "cycles": float(self.cycles),
        }
        return out | ({"standard_error": self.noise} if self.noise else {})

    def context(self) -> dict[str, str]:
        a = self.applied
        return {"rule": a.rule, "identity": a.identity, "action": a.action, "metric": self.metric}


class RuleStatus(BaseModel):
    """Where a rule of one config key stands: how its changes fared and whether it may speak now."""

    model_config = ConfigDict(frozen=True)

    rule: str
    applied: int
    improved: int
    failed: int
    cooldown_cycles_left: int
    backoff_cycles_left: int

    @computed_field
    @property
    def backed_off(self) -> bool:
        return self.backoff_cycles_left > 0


# metric, before, after, improved, the difference's standard error (0: the events carry none)
Judged = tuple[str, float, float, bool, float]
Expectation = Callable[
    [Sequence[FeedbackEvent], Sequence[FeedbackEvent], Sequence[FeedbackEvent]], Judged | None
]


def _of(events: Sequence[FeedbackEvent], ftype: FeedbackType) -> list[FeedbackEvent]:
    return [e for e in events if e.feedback_type is ftype]


def _gate_gains(before, after, cited) -> Judged | None:
    """The gate's Elo over production after the change beats that of the cycles the rule cited.

    A learning-rate decay is meant to make candidates stronger. Judged on the loss it always looked right: in
    selfplay a smaller step lowers the loss of data that keeps changing, stronger or not. In bench/loop.py runs the
    decays were never backed off, and the runs they decayed deepest were the weakest."""
    models = {e.model_id for e in cited}
    old = [e for e in _of(before, F.EVALUATION_RESULT) if e.model_id in models and "elo_delta" in e.metrics]
    return _compared("elo_delta", old, _of(after, F.EVALUATION_RESULT))


def _compared(metric: str, old: Sequence[FeedbackEvent], after: Sequence[FeedbackEvent]) -> Judged | None:
    """The mean ``metric`` of the evaluations ``after`` against that of ``old``, with the standard error of the
    difference of the two means (each evaluation's own, from its games or Elo interval)."""
    old = [e for e in old if metric in e.metrics]
    new = [e for e in after if metric in e.metrics]
    if not old or not new:
        return None
    before, now = fmean(e.metric(metric) for e in old), fmean(e.metric(metric) for e in new)
    noise = math.sqrt(
        sum(standard_error(e, metric) ** 2 / len(group) ** 2 for group in (old, new) for e in group)
    )
    return metric, before, now, now > before, noise


def _gap(e: FeedbackEvent) -> float | None:
    loss = train_loss(e)
    return None if loss is None or "val_loss" not in e.metrics else e.metric("val_loss") - loss


def _gap_shrinks(before, after, cited) -> Judged | None:
    prev = [g for g in map(_gap, _of(before, F.TRAINING_COMPLETE)) if g is not None]
    nxt = [g for g in map(_gap, _of(after, F.TRAINING_COMPLETE)) if g is not None]
    if not prev or not nxt:
        return None
    return "val_loss - loss", prev[-1], fmean(nxt), fmean(nxt) < prev[-1], 0.0


def _rises(metric: str) -> Expectation:
    def judge(before, after, cited) -> Judged | None:
        return _compared(metric, _of(cited, F.EVALUATION_RESULT), _of(after, F.EVALUATION_RESULT))

    return judge


def _promotions_resume(before, after, cited) -> Judged | None:
    old = [e.metric("promoted") for e in _of(cited, F.PROMOTION_DECISION)]
    new = [e.metric("promoted") for e in _of(after, F.PROMOTION_DECISION)]
    if not new:
        return None
    rate = fmean(old) if old else 0.0
    return "promotion_rate", rate, fmean(new), fmean(new) > rate, 0.0


def _promotions_hold(before, after, cited) -> Judged | None:
    """After cheaper cycles, promotions keep coming: at least every other cycle promotes."""
    new = [e.metric("promoted") for e in _of(after, F.PROMOTION_DECISION)]
    if not new:
        return None
    old = [e.metric("promoted") for e in _of(cited, F.PROMOTION_DECISION)]
    return "promotion_rate", fmean(old) if old else 1.0, fmean(new), fmean(new) >= 0.5, 0.0


def _seconds_per_position(e: FeedbackEvent) -> float | None:
    """An asynchronous cycle's wall-clock (its longer lane) per selfplay position it made."""
    if lane_ratio(e) is None or not e.metric("positions_per_s"):
        return None
    selfplay = e.metric("selfplay_s")
    return max(selfplay, e.metric("training_s") + e.metric("evaluation_s")) / (
        e.metric("positions_per_s") * selfplay
    )


def _cycles_cheaper(before, after, cited) -> Judged | None:
    """After a core moved, a cycle costs less wall-clock per selfplay position. Judged on the lanes' balance it
    looked right where it lost: the lanes came nearer while both got slower (see lane_balance)."""
    old = [v for v in map(_seconds_per_position, _of(cited, F.PROMOTION_DECISION)) if v is not None]
    new = [v for v in map(_seconds_per_position, _of(after, F.PROMOTION_DECISION)) if v is not None]
    if not old or not new:
        return None
    return "cycle seconds per selfplay position", fmean(old), fmean(new), fmean(new) < fmean(old), 0.0


EXPECTATIONS: dict[str, Expectation] = {
    "loss_plateau": _gate_gains,
    "overfitting": _gap_shrinks,
    "elo_plateau": _rises("elo_delta"),
    "weak_win_rate": _rises("score"),
    "promotion_rejections": _promotions_resume,
    "lr_restore": _promotions_resume,
    "selfplay_restore": _promotions_hold,
    "lane_balance": _cycles_cheaper,
}


def cycle_ends(events: Sequence[FeedbackEvent], after_id: int) -> list[FeedbackEvent]:
    """The PROMOTION_DECISION events (one closes each pipeline cycle) newer than ``after_id``."""
    return [e for e in events if e.feedback_type is F.PROMOTION_DECISION and e.id > after_id]


def judged_identities(events: Sequence[FeedbackEvent]) -> set[str]:
    return {e.context.get("identity", "") for e in _of(events, F.FOLLOW_UP)}


def pending_verdicts(
    events: Sequence[FeedbackEvent], applied: Sequence[Applied], t: FeedbackThresholds
) -> list[Verdict]:
    """Verdicts now due on ``applied`` recommendations of one config key that have none yet, oldest first."""
    done = judged_identities(events)
    by_id = {e.id: e for e in events}
    out = []
    for a in applied:
        judge = EXPECTATIONS.get(a.rule)
        ends = cycle_ends(events, a.after_event_id)
        if judge is None or a.identity in done or len(ends) < t.followup_cycles:
            continue
        last = ends[t.followup_cycles - 1].id
        before = [e for e in events if e.id <= a.after_event_id]
        after = [e for e in events if a.after_event_id < e.id <= last]
        cited = [by_id[i] for i in a.evidence_ids if i in by_id]
        judged = judge(before, after, cited)
        if judged is not None:
            metric, old, new, improved, noise = judged
            # A gain within the gates' noise is none.
            improved = improved and abs(new - old) >= t.followup_z * noise
            out.append(Verdict(a, improved, metric, float(old), float(new), t.followup_cycles, noise))
    return out


def rule_statuses(
    events: Sequence[FeedbackEvent], applied: Sequence[Applied], t: FeedbackThresholds
) -> list[RuleStatus]:
    """Every tuning rule's standing for one config key (``applied`` oldest first)."""
    verdicts = _of(events, F.FOLLOW_UP)
    out = []
    for rule in TUNING_RULES:
        mine = [a for a in applied if a.rule == rule]
        judged = [v for v in verdicts if v.context.get("rule") == rule]
        cooldown = 0
        if mine:
            cooldown = max(0, t.cooldown_cycles - len(cycle_ends(events, mine[-1].after_event_id)))
        failing = 0
        for v in reversed(judged):
            if v.metric("improved") != 0:
                break
            failing += 1
        backoff = 0
        if judged and failing >= t.backoff_failures:
            backoff = max(0, t.backoff_cycles - len(cycle_ends(events, judged[-1].id)))
        improved = sum(1 for v in judged if v.metric("improved") == 1)
        out.append(
            RuleStatus(
                rule=rule,
                applied=len(mine),
                improved=improved,
                failed=len(judged) - improved,
                cooldown_cycles_left=cooldown,
                backoff_cycles_left=backoff,
            )  # fmt: skip
        )
    return out


def silenced(statuses: Sequence[RuleStatus]) -> dict[str, str]:
    """Rule → why it is skipped now (backed off, or cooling down), for the rules that are."""
    out = {}
    for s in statuses:
        if s.backed_off:
            out[s.rule] = (
                f"backed off: its recent changes did not help; {s.backoff_cycles_left} cycle(s) left"
            )
        elif s.cooldown_cycles_left:
            out[s.rule] = f"cooling down: {s.cooldown_cycles_left} cycle(s) left"
    return out
