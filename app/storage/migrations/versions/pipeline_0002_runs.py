"""pipeline: runs (branches) of a config key; cycles and steps numbered per run (2026-12-02)

Every cycle and step stored so far belongs to the main run. ``pipeline_runs`` holds one row per run: the model it
was forked from (none for a run from generation 0) and the settings it last ran with.
"""

import sqlalchemy as sa
from alembic import op

from app.storage.base import UTCDateTime

revision, down_revision, branch_labels = "pipeline_0002", "pipeline_0001", None

_TABLES = (
    ("pipeline_cycles", "uq_pipeline_cycles_config_key_cycle", "uq_pipeline_cycles_config_key_run_cycle",
     ["config_key", "cycle"]),
    ("pipeline_steps", "uq_pipeline_steps_config_key_cycle_step", "uq_pipeline_steps_config_key_run_cycle_step",
     ["config_key", "cycle", "step"]),
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("run", sa.String(64), nullable=False),
        sa.Column("fork_model_id", sa.String(128)),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("config_key", "run", name="uq_pipeline_runs_config_key_run"),
    )
    for table, old, new, columns in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("run", sa.String(64), nullable=False, server_default="main"))
            batch.drop_constraint(old, type_="unique")
            batch.create_unique_constraint(new, [columns[0], "run", *columns[1:]])


def downgrade() -> None:
    for table, old, new, columns in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(new, type_="unique")
            batch.drop_column("run")
            batch.create_unique_constraint(old, columns)
    op.drop_table("pipeline_runs")
