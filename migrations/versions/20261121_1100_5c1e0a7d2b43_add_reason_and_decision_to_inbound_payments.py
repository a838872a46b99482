"""add reason and decision to inbound payments

Held (unmatched) statement lines and provider notifications record why no vendor was
matched, and when and with what note a board assigned or set them aside.

Revision ID: 5c1e0a7d2b43
Revises: f620fdb93b75
Create Date: 2026-11-21 11:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1e0a7d2b43"
down_revision = "f620fdb93b75"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbound_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decision_note", sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table("inbound_payments", schema=None) as batch_op:
        batch_op.drop_column("decision_note")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("reason")
