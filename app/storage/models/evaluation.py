"""Tables of rated evaluation: one row per evaluation run and one per arena game (what the rating fit reads)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.base import Base, UTCDateTime

EVALUATION_STATUSES = ("running", "finished", "failed")
GAME_PURPOSES = ("gate", "anchor", "calibration", "match")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class EvaluationRow(Base):
    """One ``run_evaluation``: who played whom, its config, and its result once finished."""

    __tablename__ = "evaluations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    candidate: Mapped[str] = mapped_column(String(128), nullable=False)
    opponent: Mapped[str] = mapped_column(String(128), nullable=False)
    config: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    decision: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(f"status IN ({_in(EVALUATION_STATUSES)})", name="status_valid"),
        Index("ix_evaluations_config_key", "config_key", "created_at"),
    )


class ArenaGameRow(Base):
    """One finished arena game. ``players`` and ``returns`` are per seat (seat 0 moved first, after the opening).

    ``moves`` holds every action from the initial state, the first ``len(opening)`` of them the opening;
    ``opening_group`` numbers the games of one evaluation that share an opening (a pair, or a rotation for P > 2).
    """

    __tablename__ = "arena_games"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    evaluation_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("evaluations.id"))
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    players: Mapped[list] = mapped_column(JSON, nullable=False)
    returns: Mapped[list] = mapped_column(JSON, nullable=False)
    opening: Mapped[list] = mapped_column(JSON, nullable=False)
    moves: Mapped[list] = mapped_column(JSON, nullable=False)
    length: Mapped[int] = mapped_column(Integer, nullable=False)
    opening_group: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        CheckConstraint(f"purpose IN ({_in(GAME_PURPOSES)})", name="purpose_valid"),
        Index("ix_arena_games_config_key", "config_key", "id"),
        Index("ix_arena_games_evaluation_id", "evaluation_id"),
    )


class AnchorCalibrationRow(Base):
    """The anchors' ratings among themselves, fitted once per game and versioned: the fixed points the rating
    fit pins (``app.evaluation.scale``). ``ratings`` maps anchor name to Elo (``random`` = 0)."""

    __tablename__ = "anchor_calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    ratings: Mapped[dict] = mapped_column(JSON, nullable=False)
    games: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint("config_key", "version", name="uq_anchor_calibrations_config_version"),
    )
