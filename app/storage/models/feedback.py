"""Tables of the feedback loop: the events the pipeline reports, and the recommendations it has applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.base import Base, UTCDateTime

FEEDBACK_TYPES = (
    "TRAINING_COMPLETE",
    "EVALUATION_RESULT",
    "PROMOTION_DECISION",
    "PIPELINE_ERROR",
    "FOLLOW_UP",
)
_TYPES_SQL = ", ".join(f"'{t}'" for t in FEEDBACK_TYPES)


class FeedbackEventRow(Base):
    __tablename__ = "feedback_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    feedback_type: Mapped[str] = mapped_column(String(32), nullable=False)
    model_id: Mapped[str | None] = mapped_column(String(128))
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    metrics: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    context: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(f"feedback_type IN ({_TYPES_SQL})", name="feedback_type_valid"),
        Index("ix_feedback_events_config_key", "config_key", "id"),
    )


class AppliedRecommendationRow(Base):
    """A recommendation someone acted on. ``through_event_id`` is the newest event it cited: the same rule does
    not fire again for the same config key on evidence up to that event."""

    __tablename__ = "feedback_applied"

    identity: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    through_event_id: Mapped[int] = mapped_column(Integer, nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    recommendation: Mapped[dict] = mapped_column(JSON, nullable=False)

    __table_args__ = (Index("ix_feedback_applied_config_key_rule", "config_key", "rule"),)
