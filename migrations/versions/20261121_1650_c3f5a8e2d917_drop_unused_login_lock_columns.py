"""drop users.failed_logins and users.locked_until

Why: the login lock-out counts failures per account AND address from the audit trail
(``login.failed`` events), so that nobody can lock an owner out from elsewhere; these two
per-account columns have not been read or written since. Dropped in place (ALTER TABLE …
DROP COLUMN: SQLite >= 3.35, no table rebuild).

Revision ID: c3f5a8e2d917
Revises: b7e19d04c2a8
Create Date: 2026-11-21 16:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3f5a8e2d917"
down_revision = "b7e19d04c2a8"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_logins")


def downgrade():
    op.add_column(
        "users",
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
