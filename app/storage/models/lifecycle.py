"""Tables of the model registry: one row per model, one row per stage change.

At most one PRODUCTION model per config key and run is a property of the database, not of Python: a partial unique
index over ``(config_key, run)`` for the rows whose stage is PRODUCTION (SQLite and PostgreSQL both support it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.base import Base, UTCDateTime

STAGES = ("TRAINING", "EVALUATION", "STAGING", "PRODUCTION", "RETIRED")
TRANSITION_KINDS = ("register", "promote", "supersede", "rollback")
_STAGE_SQL = ", ".join(f"'{s}'" for s in STAGES)
_KIND_SQL = ", ".join(f"'{k}'" for k in TRANSITION_KINDS)
ONE_PRODUCTION_INDEX = "uq_models_one_production_per_run"


class ModelRow(Base):
    __tablename__ = "models"

    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    run: Mapped[str] = mapped_column(String(64), nullable=False, server_default="main")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    parent_model_id: Mapped[str | None] = mapped_column(String(128))
    artifact_path: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    training_config: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    metrics: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    meta: Mapped[dict] = mapped_column("metadata", JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        CheckConstraint(f"stage IN ({_STAGE_SQL})", name="stage_valid"),
        CheckConstraint("version >= 0", name="version_nonnegative"),
        UniqueConstraint("config_key", "version", name="uq_models_config_key_version"),
        Index("ix_models_config_key_stage", "config_key", "stage"),
        Index(
            ONE_PRODUCTION_INDEX,
            "config_key",
            "run",
            unique=True,
            sqlite_where=text("stage = 'PRODUCTION'"),
            postgresql_where=text("stage = 'PRODUCTION'"),
        ),
    )


class TransitionRow(Base):
    __tablename__ = "model_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(String(128), nullable=False)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    elo_delta: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    __table_args__ = (
        CheckConstraint(f"to_stage IN ({_STAGE_SQL})", name="to_stage_valid"),
        CheckConstraint(f"kind IN ({_KIND_SQL})", name="kind_valid"),
        Index("ix_model_transitions_model_id", "model_id", "id"),
        Index("ix_model_transitions_config_key", "config_key", "id"),
    )
