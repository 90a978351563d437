"""evaluation: evaluation runs and arena games (2026-11-25)"""

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels = "evaluation_0001", None, ("evaluation",)


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("candidate", sa.String(128), nullable=False),
        sa.Column("opponent", sa.String(128), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
        sa.CheckConstraint("status IN ('running', 'finished', 'failed')", name="ck_evaluations_status_valid"),
    )
    op.create_index("ix_evaluations_config_key", "evaluations", ["config_key", "created_at"])
    op.create_table(
        "arena_games",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("evaluation_id", sa.String(32), nullable=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("players", sa.JSON(), nullable=False),
        sa.Column("returns", sa.JSON(), nullable=False),
        sa.Column("opening", sa.JSON(), nullable=False),
        sa.Column("moves", sa.JSON(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("opening_group", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_arena_games"),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluations.id"], name="fk_arena_games_evaluation_id_evaluations"
        ),
        sa.CheckConstraint(
            "purpose IN ('gate', 'anchor', 'calibration', 'match')", name="ck_arena_games_purpose_valid"
        ),
    )
    op.create_index("ix_arena_games_config_key", "arena_games", ["config_key", "id"])
    op.create_index("ix_arena_games_evaluation_id", "arena_games", ["evaluation_id"])


def downgrade() -> None:
    op.drop_table("arena_games")
    op.drop_table("evaluations")
