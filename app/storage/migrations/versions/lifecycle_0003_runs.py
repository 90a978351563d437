"""lifecycle: the run (branch) of each model; one PRODUCTION model per config key and run (2026-12-02)

Every model stored so far belongs to the main run. The partial unique index that allowed one PRODUCTION model per
config key becomes one per (config key, run): a run forked from a model keeps a production line of its own.
"""

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels = "lifecycle_0003", "lifecycle_0002", None

_WHERE = sa.text("stage = 'PRODUCTION'")


def upgrade() -> None:
    op.add_column("models", sa.Column("run", sa.String(64), nullable=False, server_default="main"))
    op.drop_index("uq_models_one_production_per_config", table_name="models")
    op.create_index(
        "uq_models_one_production_per_run", "models", ["config_key", "run"], unique=True,
        sqlite_where=_WHERE, postgresql_where=_WHERE,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("uq_models_one_production_per_run", table_name="models")
    op.create_index(
        "uq_models_one_production_per_config", "models", ["config_key"], unique=True,
        sqlite_where=_WHERE, postgresql_where=_WHERE,
    )  # fmt: skip
    with op.batch_alter_table("models") as batch:
        batch.drop_column("run")
