"""Rules over PIPELINE_ERROR events: pause a config key that keeps failing, smaller batches after an
out-of-memory error, a retry with back-off otherwise."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from app.integration.feedback_rule_input import RuleInput, ids, trailing
from app.integration.feedback_thresholds import FeedbackThresholds
from app.integration.feedback_types import Action, FeedbackEvent, FeedbackType, Priority, Recommendation

F = FeedbackType


# -- pipeline errors ----------------------------------------------------------------------------------------

_OOM_RE = re.compile(r"out of memory|\bOOM\b|MemoryError|CUDA_ERROR_OUT_OF_MEMORY", re.IGNORECASE)


def is_oom(e: FeedbackEvent) -> bool:
    return (e.metric("oom") or 0) >= 1 or bool(e.error and _OOM_RE.search(e.error))


def failure_streak(events: Sequence[FeedbackEvent]) -> list[FeedbackEvent]:
    """The errors since the config's last successful event (the loop's own FOLLOW_UP verdicts do not count)."""
    events = [e for e in events if e.feedback_type is not F.FOLLOW_UP]
    return trailing(events, lambda e: e.feedback_type is F.PIPELINE_ERROR)


def _describe(e: FeedbackEvent) -> str:
    where = f" in {e.context['stage']}" if "stage" in e.context else ""
    text = f": {e.error[:120]!r}" if e.error else ""
    return f"#{e.id}{where}{text}"


def _pausing(inp: RuleInput, t: FeedbackThresholds) -> list[FeedbackEvent]:
    fresh = [e for e in failure_streak(inp.events) if inp.fresh(e)]
    return fresh if len(fresh) >= t.pause_after_failures else []


def pipeline_pause(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    streak = _pausing(inp, t)
    if not streak:
        return []
    reason = (
        f"{len(streak)} consecutive pipeline failures (>= {t.pause_after_failures}): "
        + "; ".join(_describe(e) for e in streak)
        + "; pause this config until the cause is fixed"
    )
    return inp.recommend(Action.PAUSE_CONFIG, Priority.CRITICAL, reason, streak)


def pipeline_oom(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    streak = failure_streak(inp.events)
    if not streak or not inp.fresh(streak[-1]) or not is_oom(streak[-1]):
        return []
    if _pausing(inp.as_rule("pipeline_pause"), t):
        return []
    last = streak[-1]
    reason = f"out of memory {_describe(last)}; halve the batch and retry"
    return inp.scale(
        Action.REDUCE_BATCH_SIZE, Priority.HIGH, reason, [last], model_id=last.model_id,
        batch_size=(t.oom_batch_factor, t.batch_size_floor, math.inf),
    )  # fmt: skip


def pipeline_retry(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    streak = failure_streak(inp.events)
    if not streak or not inp.fresh(streak[-1]) or is_oom(streak[-1]):
        return []
    if _pausing(inp.as_rule("pipeline_pause"), t):
        return []
    delay = min(t.retry_base_delay_s * 2 ** (len(streak) - 1), t.retry_max_delay_s)
    last = streak[-1]
    reason = (
        f"pipeline error {_describe(last)}, failure {len(streak)} in a row ({ids(streak)}); "
        f"retry after {delay:g} s (exponential backoff)"
    )
    return inp.recommend(
        Action.RETRY, Priority.HIGH, reason, [last], changes={"retry_delay_s": delay}, model_id=last.model_id
    )
