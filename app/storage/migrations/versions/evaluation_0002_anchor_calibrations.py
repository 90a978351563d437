"""evaluation: anchor calibrations (the anchors' ratings among themselves, versioned per config key) (2026-12-02)"""

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels = "evaluation_0002", "evaluation_0001", None


def upgrade() -> None:
    op.create_table(
        "anchor_calibrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_anchor_calibrations"),
        sa.UniqueConstraint("config_key", "version", name="uq_anchor_calibrations_config_version"),
    )


def downgrade() -> None:
    op.drop_table("anchor_calibrations")
