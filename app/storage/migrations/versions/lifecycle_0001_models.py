"""lifecycle: the model registry (models, model_transitions) with one PRODUCTION per config key (2026-11-25)"""

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels = "lifecycle_0001", None, ("lifecycle",)

_STAGES = "'TRAINING', 'EVALUATION', 'STAGING', 'PRODUCTION', 'RETIRED'"
_KINDS = "'register', 'promote', 'supersede', 'rollback'"


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("parent_model_id", sa.String(128), nullable=True),
        sa.Column("artifact_path", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("training_config", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_models"),
        sa.CheckConstraint(f"stage IN ({_STAGES})", name="ck_models_stage_valid"),
        sa.CheckConstraint("version >= 0", name="ck_models_version_nonnegative"),
        sa.UniqueConstraint("config_key", "version", name="uq_models_config_key_version"),
    )
    op.create_index("ix_models_config_key_stage", "models", ["config_key", "stage"])
    # The guarantee of one PRODUCTION model per config key lives here, in the database.
    op.create_index(
        "uq_models_one_production_per_config",
        "models",
        ["config_key"],
        unique=True,
        sqlite_where=sa.text("stage = 'PRODUCTION'"),
        postgresql_where=sa.text("stage = 'PRODUCTION'"),
    )
    op.create_table(
        "model_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("config_key", sa.String(64), nullable=False),
        sa.Column("from_stage", sa.String(16), nullable=True),
        sa.Column("to_stage", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("elo_delta", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_transitions"),
        sa.CheckConstraint(f"to_stage IN ({_STAGES})", name="ck_model_transitions_to_stage_valid"),
        sa.CheckConstraint(f"kind IN ({_KINDS})", name="ck_model_transitions_kind_valid"),
    )
    op.create_index("ix_model_transitions_model_id", "model_transitions", ["model_id", "id"])
    op.create_index("ix_model_transitions_config_key", "model_transitions", ["config_key", "id"])


def downgrade() -> None:
    op.drop_table("model_transitions")
    op.drop_table("models")
