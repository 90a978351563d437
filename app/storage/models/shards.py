"""The index of training shards: one row per shard file under ``<home>/shards/<config_key>/``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.base import Base, UTCDateTime


class ShardRow(Base):
    __tablename__ = "shards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    # Relative to the data directory, so that copying the directory moves the shards with it.
    path: Mapped[str] = mapped_column(String(512), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    positions: Mapped[int] = mapped_column(Integer, nullable=False)
    games: Mapped[int] = mapped_column(Integer, nullable=False)
    model_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint("config_key", "name", name="uq_shards_config_key_name"),
        CheckConstraint("positions >= 0", name="positions_nonnegative"),
        CheckConstraint("games >= 0", name="games_nonnegative"),
        Index("ix_shards_config_key_created_at", "config_key", "created_at"),
    )
