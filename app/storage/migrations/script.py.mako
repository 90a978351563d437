"""${message} (${str(create_date)[:10]})"""

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision, down_revision, branch_labels = ${repr(up_revision)}, ${repr(down_revision)}, ${repr(branch_labels)}
% if depends_on:
depends_on = ${repr(depends_on)}
% endif


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
