"""add market daily rollups, vendor activity months and rule notes

Reports read two small tables kept from ``daily_rollups`` by triggers (insert, update,
delete), so whatever writes the vendor rollups — the ledger service, an import, a
repair script — keeps them exact in the same transaction:

- ``market_daily_rollups``: count and sum per market, day and method, so totals cost
  markets × days, not payments;
- ``vendor_activity_months``: per vendor and month, a bit per day with a non-void
  cashless payment, so "active in the period" costs vendors × months.

Existing rollups are copied in once here. On SQLite both tables are WITHOUT ROWID
(clustered on the primary key, which is what reports range over).

Caution for later revisions: on SQLite, a batch operation that *recreates*
``daily_rollups`` (move-and-copy) drops its triggers; such a revision must re-create
them (``SQLITE_TRIGGERS`` below) and run ``chopay reports rebuild-market-rollups``.

Revision ID: f620fdb93b75
Revises: ffbc8f9cd235
Create Date: 2026-11-21 10:40:49.218939

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f620fdb93b75'
down_revision = 'ffbc8f9cd235'
branch_labels = None
depends_on = None


def _sqlite_market(row):
    sign = '+' if row == 'NEW' else '-'
    if row == 'NEW':
        return f"""
    INSERT INTO market_daily_rollups (market_id, day, method, tx_count, tx_value)
    VALUES (NEW.market_id, NEW.day, NEW.method, NEW.tx_count, NEW.tx_value)
    ON CONFLICT (market_id, day, method) DO UPDATE
    SET tx_count = tx_count + excluded.tx_count, tx_value = tx_value + excluded.tx_value;"""
    return f"""
    UPDATE market_daily_rollups
    SET tx_count = tx_count {sign} OLD.tx_count, tx_value = tx_value {sign} OLD.tx_value
    WHERE market_id = OLD.market_id AND day = OLD.day AND method = OLD.method;"""


def _sqlite_activity(row):
    bit = f"(1 << (CAST(strftime('%d', {row}.day) AS INTEGER) - 1))"
    key = (
        f"market_id = {row}.market_id AND month = date({row}.day, 'start of month') "
        f"AND vendor_id = {row}.vendor_id"
    )
    return f"""
    INSERT INTO vendor_activity_months (market_id, month, vendor_id, day_mask)
    SELECT {row}.market_id, date({row}.day, 'start of month'), {row}.vendor_id, 0
    WHERE {row}.method != 'cash'
    ON CONFLICT (market_id, month, vendor_id) DO NOTHING;
    UPDATE vendor_activity_months
    SET day_mask = CASE WHEN EXISTS (
            SELECT 1 FROM daily_rollups r WHERE r.vendor_id = {row}.vendor_id
            AND r.day = {row}.day AND r.method != 'cash' AND r.tx_count > 0)
        THEN day_mask | {bit} ELSE day_mask & ~{bit} END
    WHERE {row}.method != 'cash' AND {key};"""


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER trg_daily_rollups_reports_insert AFTER INSERT ON daily_rollups
    BEGIN {_sqlite_market('NEW')} {_sqlite_activity('NEW')} END""",
    f"""CREATE TRIGGER trg_daily_rollups_reports_update AFTER UPDATE ON daily_rollups
    BEGIN {_sqlite_market('OLD')} {_sqlite_market('NEW')}
    {_sqlite_activity('OLD')} {_sqlite_activity('NEW')} END""",
    f"""CREATE TRIGGER trg_daily_rollups_reports_delete AFTER DELETE ON daily_rollups
    BEGIN {_sqlite_market('OLD')} {_sqlite_activity('OLD')} END""",
]

POSTGRESQL_FUNCTIONS = [
    """
CREATE FUNCTION vendor_activity_touch(p_market integer, p_vendor integer, p_day date)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    day_bit integer := 1 << (extract(day FROM p_day)::integer - 1);
    p_month date := date_trunc('month', p_day)::date;
    is_active boolean;
BEGIN
    -- Lock the month row first, then look at the day's rows in a fresh snapshot, so a
    -- concurrent writer of another method on the same day is seen once it commits.
    INSERT INTO vendor_activity_months (market_id, month, vendor_id, day_mask)
    VALUES (p_market, p_month, p_vendor, 0)
    ON CONFLICT (market_id, month, vendor_id) DO UPDATE
    SET day_mask = vendor_activity_months.day_mask;
    SELECT EXISTS (
        SELECT 1 FROM daily_rollups WHERE vendor_id = p_vendor AND day = p_day
        AND method <> 'cash' AND tx_count > 0
    ) INTO is_active;
    UPDATE vendor_activity_months
    SET day_mask = CASE WHEN is_active THEN day_mask | day_bit ELSE day_mask & ~day_bit END
    WHERE market_id = p_market AND month = p_month AND vendor_id = p_vendor;
END
$$
""",
    """
CREATE FUNCTION daily_rollups_reports_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.market_id = OLD.market_id AND NEW.day = OLD.day
            AND NEW.method = OLD.method THEN
        UPDATE market_daily_rollups
        SET tx_count = tx_count + NEW.tx_count - OLD.tx_count,
            tx_value = tx_value + NEW.tx_value - OLD.tx_value
        WHERE market_id = NEW.market_id AND day = NEW.day AND method = NEW.method;
        IF NEW.method <> 'cash' AND (NEW.tx_count > 0) <> (OLD.tx_count > 0) THEN
            PERFORM vendor_activity_touch(NEW.market_id, NEW.vendor_id, NEW.day);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE market_daily_rollups
        SET tx_count = tx_count - OLD.tx_count, tx_value = tx_value - OLD.tx_value
        WHERE market_id = OLD.market_id AND day = OLD.day AND method = OLD.method;
        IF OLD.method <> 'cash' THEN
            PERFORM vendor_activity_touch(OLD.market_id, OLD.vendor_id, OLD.day);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO market_daily_rollups (market_id, day, method, tx_count, tx_value)
        VALUES (NEW.market_id, NEW.day, NEW.method, NEW.tx_count, NEW.tx_value)
        ON CONFLICT (market_id, day, method) DO UPDATE
        SET tx_count = market_daily_rollups.tx_count + EXCLUDED.tx_count,
            tx_value = market_daily_rollups.tx_value + EXCLUDED.tx_value;
        IF NEW.method <> 'cash' THEN
            PERFORM vendor_activity_touch(NEW.market_id, NEW.vendor_id, NEW.day);
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER trg_daily_rollups_reports
AFTER INSERT OR UPDATE OR DELETE ON daily_rollups
FOR EACH ROW EXECUTE FUNCTION daily_rollups_reports_sync()
""",
]

BACKFILL_MARKET = (
    "INSERT INTO market_daily_rollups (market_id, day, method, tx_count, tx_value) "
    "SELECT market_id, day, method, SUM(tx_count), SUM(tx_value) FROM daily_rollups "
    "GROUP BY market_id, day, method"
)
BACKFILL_ACTIVITY = {
    # One bit per distinct active day: the sum of distinct powers of two is their OR.
    "sqlite": (
        "INSERT INTO vendor_activity_months (market_id, month, vendor_id, day_mask) "
        "SELECT market_id, date(day, 'start of month'), vendor_id, "
        "SUM(DISTINCT 1 << (CAST(strftime('%d', day) AS INTEGER) - 1)) "
        "FROM daily_rollups WHERE method != 'cash' AND tx_count > 0 "
        "GROUP BY market_id, date(day, 'start of month'), vendor_id"
    ),
    "postgresql": (
        "INSERT INTO vendor_activity_months (market_id, month, vendor_id, day_mask) "
        "SELECT market_id, date_trunc('month', day)::date, vendor_id, "
        "bit_or(1 << (extract(day FROM day)::integer - 1)) "
        "FROM daily_rollups WHERE method <> 'cash' AND tx_count > 0 "
        "GROUP BY market_id, date_trunc('month', day)::date, vendor_id"
    ),
}


def upgrade():
    op.create_table('market_daily_rollups',
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('tx_count', sa.Integer(), nullable=False),
    sa.Column('tx_value', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('tx_count >= 0 AND tx_value >= 0', name=op.f('ck_market_daily_rollups_not_negative')),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_market_daily_rollups_market_id_markets')),
    sa.PrimaryKeyConstraint('market_id', 'day', 'method', name=op.f('pk_market_daily_rollups')),
    sqlite_with_rowid=False
    )
    op.create_table('vendor_activity_months',
    sa.Column('market_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('day_mask', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_vendor_activity_months_market_id_markets')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_activity_months_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('market_id', 'month', 'vendor_id', name=op.f('pk_vendor_activity_months')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('qualification_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.String(length=500), nullable=True))

    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL_MARKET)
    op.execute(BACKFILL_ACTIVITY['postgresql' if dialect == 'postgresql' else 'sqlite'])
    for statement in POSTGRESQL_FUNCTIONS if dialect == 'postgresql' else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS trg_daily_rollups_reports ON daily_rollups')
        op.execute('DROP FUNCTION IF EXISTS daily_rollups_reports_sync()')
        op.execute('DROP FUNCTION IF EXISTS vendor_activity_touch(integer, integer, date)')
    else:
        for name in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS trg_daily_rollups_reports_{name}')
    with op.batch_alter_table('qualification_rules', schema=None) as batch_op:
        batch_op.drop_column('notes')

    op.drop_table('vendor_activity_months')
    op.drop_table('market_daily_rollups')
