"""selfplay game records (2026-11-25)"""

import sqlalchemy as sa
from alembic import op

from app.storage.base import UTCDateTime

revision, down_revision, branch_labels = "selfplay_0001", None, ("selfplay",)


def upgrade() -> None:
    op.create_table(
        "selfplay_games",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("shard_name", sa.String(128), nullable=False),
        sa.Column("game_index", sa.Integer, nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("moves", sa.JSON, nullable=False),
        sa.Column("returns", sa.JSON, nullable=False),
        sa.Column("length", sa.Integer, nullable=False),
        sa.Column("resigned_by", sa.Integer),
        sa.Column("resign_disabled", sa.Boolean, nullable=False),
        sa.Column("would_resign", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("config_key", "shard_name", "game_index", name="uq_selfplay_games_shard_game"),
    )
    op.create_index("ix_selfplay_games_config_key", "selfplay_games", ["config_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_selfplay_games_config_key", table_name="selfplay_games")
    op.drop_table("selfplay_games")
