"""Records of selfplay games: moves, result, length and the model that played them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.base import Base, UTCDateTime


class SelfplayGameRow(Base):
    __tablename__ = "selfplay_games"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_key: Mapped[str] = mapped_column(String(64), nullable=False)
    shard_name: Mapped[str] = mapped_column(String(128), nullable=False)
    game_index: Mapped[int] = mapped_column(Integer, nullable=False)
    model_id: Mapped[str] = mapped_column(String(128), nullable=False)
    moves: Mapped[list] = mapped_column(JSON, nullable=False)
    returns: Mapped[list] = mapped_column(JSON, nullable=False)
    length: Mapped[int] = mapped_column(Integer, nullable=False)
    resigned_by: Mapped[int | None] = mapped_column(Integer)
    resign_disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    would_resign: Mapped[int | None] = mapped_column(
        Integer
    )  # who would have resigned (resign-disabled games)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint("config_key", "shard_name", "game_index", name="uq_selfplay_games_shard_game"),
        Index("ix_selfplay_games_config_key", "config_key", "id"),
    )
