"""feedback: pipeline events and applied recommendations (2026-11-25)"""

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels = "feedback_0001", None, ("feedback",)

_TYPES = "'TRAINING_COMPLETE', 'EVALUATION_RESULT', 'PROMOTION_DECISION', 'PIPELINE_ERROR'"


def upgrade() -> None:
    op.create_table(
        "feedback_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feedback_type", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=True),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_feedback_events"),
        sa.CheckConstraint(f"feedback_type IN ({_TYPES})", name="ck_feedback_events_feedback_type_valid"),
    )
    op.create_index("ix_feedback_events_config_key", "feedback_events", ["config_key", "id"])
    op.create_table(
        "feedback_applied",
        sa.Column("identity", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("through_event_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recommendation", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("identity", name="pk_feedback_applied"),
    )
    op.create_index("ix_feedback_applied_config_key_rule", "feedback_applied", ["config_key", "rule"])


def downgrade() -> None:
    op.drop_table("feedback_applied")
    op.drop_table("feedback_events")
