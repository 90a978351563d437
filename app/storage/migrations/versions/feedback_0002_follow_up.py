"""feedback: FOLLOW_UP events (the loop's verdict on a change it applied) (2026-12-02)"""

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels = "feedback_0002", "feedback_0001", None

_OLD = "'TRAINING_COMPLETE', 'EVALUATION_RESULT', 'PROMOTION_DECISION', 'PIPELINE_ERROR'"
_NEW = _OLD + ", 'FOLLOW_UP'"
_NAME = "ck_feedback_events_feedback_type_valid"


def _replace_check(types: str) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table with the new one.
    with op.batch_alter_table("feedback_events", recreate="always") as batch:
        batch.drop_constraint(_NAME, type_="check")
        batch.create_check_constraint(op.f(_NAME), sa.text(f"feedback_type IN ({types})"))


def upgrade() -> None:
    _replace_check(_NEW)


def downgrade() -> None:
    op.execute("DELETE FROM feedback_events WHERE feedback_type = 'FOLLOW_UP'")
    _replace_check(_OLD)
