"""Persistent state of pipelines: one row per run, per cycle and per step, so a killed run continues where it stopped.

A config key has runs (``main``, and branches forked from a model); cycles and steps are numbered per run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.base import Base, UTCDateTime


class RunRow(Base):
    __tablename__ = "pipeline_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    run: Mapped[str] = mapped_column(String(64), nullable=False)
    fork_model_id: Mapped[str | None] = mapped_column(String(128))  # None: from generation 0
    settings: Mapped[dict] = mapped_column(JSON, nullable=False)  # the PipelineConfig it last ran with
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (UniqueConstraint("config_key", "run", name="uq_pipeline_runs_config_key_run"),)


class _CycleScoped:
    """The columns that place a row in one cycle of one run."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    run: Mapped[str] = mapped_column(String(64), nullable=False, server_default="main")
    cycle: Mapped[int] = mapped_column(Integer, nullable=False)


class CycleRow(_CycleScoped, Base):
    __tablename__ = "pipeline_cycles"

    status: Mapped[str] = mapped_column(String(16), nullable=False)  # running | done | failed
    settings: Mapped[dict] = mapped_column(JSON, nullable=False)
    changes: Mapped[list] = mapped_column(JSON, nullable=False)  # recommendations applied to reach `settings`
    candidate_model_id: Mapped[str] = mapped_column(String(128), nullable=False)
    opponent: Mapped[str] = mapped_column(String(128), nullable=False)
    summary: Mapped[dict] = mapped_column(JSON, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint("config_key", "run", "cycle", name="uq_pipeline_cycles_config_key_run_cycle"),
    )


class StepRow(_CycleScoped, Base):
    __tablename__ = "pipeline_steps"

    step: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # submitted | done | failed
    job_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    result: Mapped[dict] = mapped_column(JSON, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint(
            "config_key", "run", "cycle", "step", name="uq_pipeline_steps_config_key_run_cycle_step"
        ),
        Index("ix_pipeline_steps_job_id", "job_id"),
    )
