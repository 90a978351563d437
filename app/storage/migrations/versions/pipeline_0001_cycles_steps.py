"""pipeline cycles and steps (2026-11-25)"""

import sqlalchemy as sa
from alembic import op

from app.storage.base import UTCDateTime

revision, down_revision, branch_labels = "pipeline_0001", None, ("pipeline",)


def upgrade() -> None:
    op.create_table(
        "pipeline_cycles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("candidate_model_id", sa.String(128), nullable=False),
        sa.Column("opponent", sa.String(128), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("config_key", "cycle", name="uq_pipeline_cycles_config_key_cycle"),
    )
    op.create_table(
        "pipeline_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(64)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("config_key", "cycle", "step", name="uq_pipeline_steps_config_key_cycle_step"),
    )
    op.create_index("ix_pipeline_steps_job_id", "pipeline_steps", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_pipeline_steps_job_id", table_name="pipeline_steps")
    op.drop_table("pipeline_steps")
    op.drop_table("pipeline_cycles")
