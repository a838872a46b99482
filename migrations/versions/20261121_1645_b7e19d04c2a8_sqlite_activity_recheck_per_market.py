"""SQLite: a day's activity re-checked in the month row's own market

Why: on SQLite, ``vendor_activity_months`` is kept by per-row triggers (revision
f620fdb93b75) whose re-check asked whether the vendor had a cashless payment that day in
ANY market. A vendor who moved between markets therefore kept a day lit in the market
they left when a payment there was voided, as long as the new market had one that day.
PostgreSQL's set-based triggers (revision 1257cc86824a) already restrict the re-check to
the month row's market, as the backfill computes it (grouped by market_id). This
revision does the same on SQLite: the three triggers are re-created with
``r.market_id = <row>.market_id`` in the EXISTS, and the bits are recomputed once by
that definition (the table is small: vendors × months).

PostgreSQL: nothing to do.

Revision ID: b7e19d04c2a8
Revises: 4e8a2c6d1f35
Create Date: 2026-11-21 16:45:00.000000

"""

import importlib.util
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e19d04c2a8"
down_revision = "4e8a2c6d1f35"
branch_labels = None
depends_on = None

FIRST_REVISION_FILE = "20261121_1040_f620fdb93b75_add_market_daily_rollups_and_rule_notes.py"
TRIGGER_NAMES = ("insert", "update", "delete")


def _first_revision():
    """Revision f620fdb93b75 as a module: its SQLite trigger SQL and activity backfill."""
    path = Path(__file__).with_name(FIRST_REVISION_FILE)
    spec = importlib.util.spec_from_file_location("_chopay_revision_f620fdb93b75", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _activity(row: str) -> str:
    """The first revision's activity statements for ``row`` (NEW or OLD), with the
    re-check restricted to the month row's market."""
    day_match = f"AND r.day = {row}.day AND r.method != 'cash'"
    sql = _first_revision()._sqlite_activity(row)
    if day_match not in sql:
        raise RuntimeError("revision f620fdb93b75's SQLite activity SQL changed")
    # "+r.market_id": SQLite's documented way to keep a term from choosing the index.
    # Without it SQLite probed ix_daily_rollups_market_day and read a market's whole day
    # for every rollup row written (bulk inserts at half speed, a rebuild 7x slower)
    # instead of the primary key (vendor_id, day, method).
    return sql.replace(day_match, f"AND +r.market_id = {row}.market_id {day_match}")


def _triggers() -> list[str]:
    market = _first_revision()._sqlite_market
    return [
        f"""CREATE TRIGGER trg_daily_rollups_reports_insert AFTER INSERT ON daily_rollups
    BEGIN {market('NEW')} {_activity('NEW')} END""",
        f"""CREATE TRIGGER trg_daily_rollups_reports_update AFTER UPDATE ON daily_rollups
    BEGIN {market('OLD')} {market('NEW')}
    {_activity('OLD')} {_activity('NEW')} END""",
        f"""CREATE TRIGGER trg_daily_rollups_reports_delete AFTER DELETE ON daily_rollups
    BEGIN {market('OLD')} {_activity('OLD')} END""",
    ]


def _replace_triggers(statements: list[str]) -> None:
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS trg_daily_rollups_reports_{name}")
    for statement in statements:
        op.execute(statement)
    op.execute("DELETE FROM vendor_activity_months")
    op.execute(_first_revision().BACKFILL_ACTIVITY["sqlite"])


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's triggers re-check per market already
    _replace_triggers(_triggers())


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    _replace_triggers(_first_revision().SQLITE_TRIGGERS)
