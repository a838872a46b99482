"""add vendor name key

The vendor's name folded to lowercase ASCII, for accent-free search and the
same-stall-and-name duplicate check. Existing rows are filled from full_name.

Revision ID: ffbc8f9cd235
Revises: 6b891b346199
Create Date: 2026-11-21 10:40:29.545723

"""

import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ffbc8f9cd235"
down_revision = "6b891b346199"
branch_labels = None
depends_on = None

vendors = sa.table(
    "vendors",
    sa.column("id", sa.Integer),
    sa.column("full_name", sa.String),
    sa.column("name_key", sa.String),
)


def _fold(text):
    # Frozen copy of chopay.text.fold as of this revision.
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.lower().split())[:120]


def upgrade():
    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_key", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.create_index("ix_vendors_market_name_key", ["market_id", "name_key"], unique=False)

    conn = op.get_bind()
    rows = conn.execute(sa.select(vendors.c.id, vendors.c.full_name)).all()
    if rows:
        conn.execute(
            vendors.update().where(vendors.c.id == sa.bindparam("vid")),
            [{"vid": r.id, "name_key": _fold(r.full_name)} for r in rows],
        )

    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.alter_column("name_key", server_default=None)


def downgrade():
    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.drop_index("ix_vendors_market_name_key")
        batch_op.drop_column("name_key")
