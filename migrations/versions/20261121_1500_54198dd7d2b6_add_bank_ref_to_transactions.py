"""add bank_ref to transactions

One bank transfer can reach the ledger by two sources: a payment provider's webhook
(source ``webhook``) and later the bank-statement import (source ``import``). Their keys
(source, external_ref) differ, so the transfer was counted twice. ``bank_ref`` is
``"<receiving account>:<bank's reference>"``, set by both when they know the bank's
reference, and unique where set (partial index: API payments have none, and the index
stays out of their way). The ledger's insert skips a row that collides on it exactly as
on its key. Held lines (``inbound_payments``) keep theirs, for when a board assigns them.

Rows recorded before this revision have no bank_ref (a webhook row does not keep the
bank's reference; statement keys cannot all be told apart from hashed ones): nothing is
backfilled. Both columns are nullable without a default and are added in place (no table
rebuild on SQLite); the index build reads ``transactions`` once and finds nothing to index.

Revision ID: 54198dd7d2b6
Revises: 1257cc86824a
Create Date: 2026-11-21 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "54198dd7d2b6"
down_revision = "1257cc86824a"
branch_labels = None
depends_on = None

_WHERE = sa.text("bank_ref IS NOT NULL")


def upgrade():
    op.add_column("transactions", sa.Column("bank_ref", sa.String(length=120), nullable=True))
    op.create_index(
        "uq_transactions_bank_ref",
        "transactions",
        ["bank_ref"],
        unique=True,
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )
    op.add_column(
        "inbound_payments", sa.Column("bank_ref", sa.String(length=120), nullable=True)
    )


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): no table rebuild, triggers kept.
    op.drop_column("inbound_payments", "bank_ref")
    op.drop_index(
        "uq_transactions_bank_ref",
        table_name="transactions",
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )
    op.drop_column("transactions", "bank_ref")
