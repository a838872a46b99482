"""index held lines by bank_ref

Why: one bank transfer can be held twice for a board, from a provider's notification and
from the statement import (different keys, same ``bank_ref``). A board's decision on one
copy now stands for the transfer: a copy set aside keeps the other out of the ledger, and
recording the transfer (either way, or by assigning one copy) settles the others. Every
notification and import looks its transfers' copies up by ``bank_ref``.

Revision ID: e2a4b6c8d0f1
Revises: c3f5a8e2d917
Create Date: 2026-11-21 17:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "e2a4b6c8d0f1"
down_revision = "c3f5a8e2d917"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_inbound_payments_bank_ref", "inbound_payments", ["bank_ref"])


def downgrade():
    op.drop_index("ix_inbound_payments_bank_ref", table_name="inbound_payments")
