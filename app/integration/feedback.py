"""The feedback loop: the pipeline records what happened, and asks what to change in the next cycle.

``record`` validates and stores one event (nothing is stored when anything is wrong with it);
``get_recommendations`` runs the rules of ``app.integration.feedback_rules`` over the stored history;
``mark_applied`` remembers that a recommendation was acted on so that it is not repeated.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select

from app.core.config import Settings, get_settings
from app.core.errors import NotFound
from app.core.names import parse_config_key, parse_model_id
from app.integration import feedback_followup as followup
from app.integration.feedback_rules import RULES, FeedbackThresholds, evaluate
from app.integration.feedback_types import Action, FeedbackEvent, FeedbackType, Recommendation
from app.storage.base import utcnow
from app.storage.db import get_engine, read_engine
from app.storage.models.feedback import AppliedRecommendationRow, FeedbackEventRow

__all__ = [
    "Action",
    "FeedbackEvent",
    "FeedbackThresholds",
    "FeedbackType",
    "PipelineFeedback",
    "Recommendation",
]

F_FOLLOW_UP = FeedbackType.FOLLOW_UP
_E = FeedbackEventRow.__table__
_A = AppliedRecommendationRow.__table__
_MAX_NAME = 64
_MAX_ERROR = 4000


class PipelineFeedback:
    """Feedback of one installation (``settings``: default, the process-wide settings)."""

    def __init__(self, settings: Settings | None = None, *, thresholds: FeedbackThresholds | None = None):
        self.settings = settings or get_settings()
        self.thresholds = thresholds or FeedbackThresholds()
        self._engine = get_engine(self.settings)
        self._reader = read_engine(self.settings)  # plain WAL reads: never wait for a writer

    def record(
        self,
        feedback_type: FeedbackType | str,
        model_id: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        *,
        config_key: str | None = None,
        context: Mapping[str, str] | None = None,
    ) -> FeedbackEvent:
        """Store one event. Metrics are finite numbers; a PIPELINE_ERROR may carry ``metrics["error"]``, a text.

        The config key comes from the model id unless given; ``context`` holds text facts such as the
        ``opponent`` of an evaluation or the ``stage`` that failed.
        """
        ftype = FeedbackType.parse(feedback_type)
        key = _config_key_of(model_id, config_key)
        values, error = _check_metrics(ftype, metrics)
        ctx = _check_context(context)
        row = {
            "at": utcnow(),
            "feedback_type": ftype.value,
            "model_id": model_id,
            "config_key": key,
            "metrics": values,
            "context": ctx,
            "error": error,
        }
        with self._engine.begin() as conn:
            event_id = conn.execute(insert(_E).values(**row)).inserted_primary_key[0]
        return FeedbackEvent(**{**row, "id": event_id, "feedback_type": ftype})

    def history(
        self,
        config_key: str | None = None,
        *,
        model_id: str | None = None,
        feedback_type: FeedbackType | str | None = None,
        limit: int | None = None,
    ) -> list[FeedbackEvent]:
        """Recorded events, oldest first; ``limit`` keeps the newest ones."""
        query = select(_E).order_by(_E.c.id.desc())
        if config_key is not None:
            parse_config_key(config_key)
            query = query.where(_E.c.config_key == config_key)
        if model_id is not None:
            query = query.where(_E.c.model_id == model_id)
        if feedback_type is not None:
            query = query.where(_E.c.feedback_type == FeedbackType.parse(feedback_type).value)
        if limit is not None:
            if limit < 1:
                raise ValueError(f"limit must be >= 1, got {limit}")
            query = query.limit(limit)
        with self._reader.connect() as conn:
            return [_event(r) for r in reversed(conn.execute(query).all())]

    def get_recommendations(
        self, config_key: str | None = None, *, current: Mapping[str, float] | None = None
    ) -> list[Recommendation]:
        """What to change next, most urgent first; recommendations already applied are left out, and so are
        tuning rules cooling down or backed off (``rule_status``). With ``current`` (the settings the next
        cycle would use), a recommendation that cannot move any of them past its rule's limits is left out.
        """
        by_config = self._events_by_config(config_key)
        query = select(_A.c.config_key, _A.c.rule, func.max(_A.c.through_event_id)).group_by(
            _A.c.config_key, _A.c.rule
        )
        with self._reader.connect() as conn:
            applied = {(k, rule): through for k, rule, through in conn.execute(query)}
            identities = set(conn.execute(select(_A.c.identity)).scalars())
        done = self._applied(config_key)
        history = {k: [a.rule for a in v] for k, v in done.items()}
        silenced = {
            k: followup.silenced(followup.rule_statuses(events, done.get(k, []), self.thresholds))
            for k, events in by_config.items()
        }
        return evaluate(
            by_config,
            applied,
            identities,
            self.thresholds,
            history=history,
            silenced=silenced,
            current=current,
        )

    def follow_up(self, config_key: str) -> list[FeedbackEvent]:
        """Record the verdicts now due on applied recommendations of ``config_key`` (FOLLOW_UP events).

        Each says whether the quantity its rule meant to move improved, with the numbers before and after.
        Calling it again records nothing twice.
        """
        parse_config_key(config_key)
        events = self.history(config_key)
        recorded = []
        for v in followup.pending_verdicts(
            events, self._applied(config_key).get(config_key, []), self.thresholds
        ):
            recorded.append(
                self.record(F_FOLLOW_UP, config_key=config_key, metrics=v.metrics(), context=v.context())
            )
        return recorded

    def rule_status(self, config_key: str) -> list[followup.RuleStatus]:
        """How each tuning rule's applied changes fared for ``config_key``, and whether it may speak now."""
        parse_config_key(config_key)
        applied = self._applied(config_key).get(config_key, [])
        return followup.rule_statuses(self.history(config_key), applied, self.thresholds)

    def _events_by_config(self, config_key: str | None) -> dict[str, list[FeedbackEvent]]:
        by_config: dict[str, list[FeedbackEvent]] = defaultdict(list)
        for e in self.history(config_key):
            by_config[e.config_key].append(e)
        return by_config

    def _applied(self, config_key: str | None) -> dict[str, list[followup.Applied]]:
        """Applied recommendations per config key, in the order they were applied."""
        query = select(_A.c.recommendation, _A.c.through_event_id).order_by(_A.c.applied_at, _A.c.identity)
        if config_key is not None:
            query = query.where(_A.c.config_key == config_key)
        out: dict[str, list[followup.Applied]] = defaultdict(list)
        with self._reader.connect() as conn:
            for rec, through in conn.execute(query):
                applied = followup.Applied.from_stored(rec, through)
                out[applied.config_key].append(applied)
        for rows in out.values():
            rows.sort(key=lambda a: a.after_event_id)
        return out

    def mark_applied(self, recommendation: Recommendation | str) -> Recommendation:
        """Remember that ``recommendation`` (or the current one with this identity) was acted on.

        Marking the same recommendation twice is harmless.
        """
        if isinstance(recommendation, str):
            recommendation = self._find(recommendation)
        if not isinstance(recommendation, Recommendation):
            raise ValueError(f"expected a Recommendation or its identity, got {recommendation!r}")
        if recommendation.rule not in dict(RULES) or not recommendation.evidence_ids:
            raise ValueError(f"not a recommendation of this feedback loop: {recommendation!r}")
        with self._engine.begin() as conn:
            exists = conn.execute(
                select(_A.c.identity).where(_A.c.identity == recommendation.identity)
            ).first()
            if exists is None:
                # Where the history stood when the change was made: its cool-down and its follow-up count
                # cycles from here.
                newest = conn.execute(
                    select(func.max(_E.c.id)).where(_E.c.config_key == recommendation.config_key)
                ).scalar()
                stored = recommendation.to_dict() | {
                    "applied_after_event_id": int(newest or max(recommendation.evidence_ids))
                }
                conn.execute(
                    insert(_A).values(
                        identity=recommendation.identity,
                        rule=recommendation.rule,
                        config_key=recommendation.config_key,
                        through_event_id=max(recommendation.evidence_ids),
                        applied_at=utcnow(),
                        recommendation=stored,
                    )
                )
        return recommendation

    def _find(self, identity: str) -> Recommendation:
        current = self.get_recommendations()
        for rec in current:
            if rec.identity == identity:
                return rec
        with self._reader.connect() as conn:
            stored = conn.execute(select(_A.c.recommendation).where(_A.c.identity == identity)).scalar()
        if stored is not None:
            return Recommendation.from_dict(stored)
        listed = ", ".join(r.identity for r in current) or "none"
        raise NotFound(f"no current recommendation {identity!r}; current ones: {listed}")


# -- validation ---------------------------------------------------------------------------------------------


def _config_key_of(model_id: str | None, config_key: str | None) -> str:
    if model_id is None and config_key is None:
        raise ValueError("give a model_id or a config_key: every event belongs to a config key")
    if model_id is not None and (not isinstance(model_id, str) or not 0 < len(model_id) <= 128):
        raise ValueError(f"model_id must be a non-empty string of at most 128 characters, got {model_id!r}")
    if config_key is not None:
        parse_config_key(config_key)
    if model_id is None:
        return config_key
    try:
        parsed = parse_model_id(model_id).config_key
    except ValueError:
        if config_key is None:
            raise
        return config_key  # a free-form model id with an explicit config key
    if config_key is not None and config_key != parsed:
        raise ValueError(f"model {model_id!r} belongs to config key {parsed!r}, not {config_key!r}")
    return parsed


def _check_metrics(
    ftype: FeedbackType, metrics: Mapping[str, Any] | None
) -> tuple[dict[str, float], str | None]:
    if metrics is None:
        metrics = {}
    if not isinstance(metrics, Mapping):
        raise ValueError(f"metrics must be a mapping of names to numbers, got {metrics!r}")
    values: dict[str, float] = {}
    error: str | None = None
    for name, value in metrics.items():
        if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME:
            raise ValueError(
                f"metric names must be non-empty strings of at most {_MAX_NAME} characters: {name!r}"
            )
        if name == "error" and ftype is FeedbackType.PIPELINE_ERROR:
            if not isinstance(value, str) or not value.strip():
                raise ValueError(
                    f"metrics['error'] of a PIPELINE_ERROR must be a non-empty text, got {value!r}"
                )
            error = value[:_MAX_ERROR]
            continue
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int | float) or not math.isfinite(value):
            hint = " (only a PIPELINE_ERROR may carry an 'error' text)" if isinstance(value, str) else ""
            raise ValueError(f"metric {name!r} must be a finite number, got {value!r}{hint}")
        values[name] = value
    if ftype is FeedbackType.PROMOTION_DECISION and values.get("promoted") not in (0, 1):
        raise ValueError(
            "a PROMOTION_DECISION needs metrics['promoted'] = 1 (promoted) or 0 (rejected), "
            f"got {values.get('promoted')!r}"
        )
    return values, error


def _check_context(context: Mapping[str, str] | None) -> dict[str, str]:
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise ValueError(f"context must be a mapping of names to texts, got {context!r}")
    for name, value in context.items():
        if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME or not isinstance(value, str):
            raise ValueError(f"context entries must map names to texts, got {name!r}: {value!r}")
    return dict(context)


def _event(row) -> FeedbackEvent:
    return FeedbackEvent(
        id=row.id,
        at=row.at,
        feedback_type=FeedbackType(row.feedback_type),
        model_id=row.model_id,
        config_key=row.config_key,
        metrics=dict(row.metrics or {}),
        context=dict(row.context or {}),
        error=row.error,
    )
