"""shards: the index of training shard files (name unique per config key) (2026-11-25)"""

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels = "shards_0001", None, ("shards",)


def upgrade() -> None:
    op.create_table(
        "shards",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shards"),
        sa.UniqueConstraint("config_key", "name", name="uq_shards_config_key_name"),
        sa.CheckConstraint("positions >= 0", name="ck_shards_positions_nonnegative"),
        sa.CheckConstraint("games >= 0", name="ck_shards_games_nonnegative"),
    )
    op.create_index("ix_shards_config_key_created_at", "shards", ["config_key", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_shards_config_key_created_at", table_name="shards")
    op.drop_table("shards")
