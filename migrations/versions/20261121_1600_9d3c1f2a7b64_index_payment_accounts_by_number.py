"""index payment accounts by account number first

Why: a provider notification and a statement line name the receiving account by its
number alone (the bank is not always known), and the ledger matches them to vendors by
that number. The only index was (bank_bin, account_number), which such a lookup cannot
use: every webhook and every import chunk read the whole ``payment_accounts`` table. The
index is rebuilt the other way round, (account_number, bank_bin): it serves both the
match by number and the duplicate check by bank and number, so one index still does.

Revision ID: 9d3c1f2a7b64
Revises: 54198dd7d2b6
Create Date: 2026-11-21 16:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "9d3c1f2a7b64"
down_revision = "54198dd7d2b6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_payment_accounts_number_bin", "payment_accounts", ["account_number", "bank_bin"]
    )
    op.drop_index("ix_payment_accounts_bin_number", table_name="payment_accounts")


def downgrade():
    op.create_index(
        "ix_payment_accounts_bin_number", "payment_accounts", ["bank_bin", "account_number"]
    )
    op.drop_index("ix_payment_accounts_number_bin", table_name="payment_accounts")
