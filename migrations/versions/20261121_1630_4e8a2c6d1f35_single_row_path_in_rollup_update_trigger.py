"""single-row path in the daily_rollups UPDATE report trigger (PostgreSQL)

Why: one payment, the ledger's most frequent write, adds to a rollup row that exists
already: an ``INSERT … ON CONFLICT DO UPDATE`` of ONE ``daily_rollups`` row, whose
statement-level UPDATE trigger (revision 1257cc86824a) then ran its set-based statements
(net deltas grouped through a UNION ALL, an upsert and an update in one CTE; the activity
upsert joined with the clearing candidates and their array_agg) for that single row.
Measured with EXPLAIN ANALYZE: 100–330 µs of a 320–1,070 µs insert.

The function now recognises that case first: exactly one row, with the same key and
market_id before and after, and neither its count nor its value lower. Then the net
change is that row's own growth, added to its market row with one upsert (skipped when
nothing changed), and its day bit is set when the row became active (it had no payment
and is cashless): the statements the set-based path would run for it, in the same order
(market row, then month row), so the lock order and the outcome are unchanged. Such a
row cannot stop being active, so nothing is re-checked. Every other statement (voids,
several rows, a row re-keyed or moved to another market, a count or value going down)
takes the set-based path exactly as before.

SQLite keeps its per-row triggers: upgrade and downgrade do nothing there.

Revision ID: 4e8a2c6d1f35
Revises: 9d3c1f2a7b64
Create Date: 2026-11-21 16:30:00.000000

"""

import importlib.util
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = "4e8a2c6d1f35"
down_revision = "9d3c1f2a7b64"
branch_labels = None
depends_on = None

SET_BASED_REVISION_FILE = "20261121_1400_1257cc86824a_set_based_report_triggers.py"


def _set_based_revision():
    """Revision 1257cc86824a as a module: the set-based statements and function."""
    path = Path(__file__).with_name(SET_BASED_REVISION_FILE)
    spec = importlib.util.spec_from_file_location("_chopay_revision_1257cc86824a", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _update_function() -> str:
    base = _set_based_revision()
    return f"""
CREATE OR REPLACE FUNCTION daily_rollups_reports_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_markets integer[];
    v_vendors integer[];
    v_days date[];
    v_rows integer;
    old_row daily_rollups%ROWTYPE;
    new_row daily_rollups%ROWTYPE;
BEGIN
    SELECT count(*) INTO v_rows FROM new_rows;
    -- An INSERT ... ON CONFLICT DO UPDATE that updated no row still fires this trigger.
    IF v_rows = 0 THEN
        RETURN NULL;
    END IF;
    IF v_rows = 1 THEN
        SELECT * INTO new_row FROM new_rows;
        SELECT * INTO old_row FROM old_rows;
        IF old_row.vendor_id = new_row.vendor_id AND old_row.day = new_row.day AND old_row.method = new_row.method
           AND old_row.market_id = new_row.market_id
           AND new_row.tx_count >= old_row.tx_count AND new_row.tx_value >= old_row.tx_value THEN
            -- One row grew (a payment added to it): its growth goes to its market row,
            -- and its day bit is set if it just became active. It cannot have stopped
            -- being active, so there is nothing to re-check.
            IF new_row.tx_count <> old_row.tx_count OR new_row.tx_value <> old_row.tx_value THEN
                INSERT INTO market_daily_rollups AS m (market_id, day, method, tx_count, tx_value)
                VALUES (new_row.market_id, new_row.day, new_row.method,
                        new_row.tx_count - old_row.tx_count, new_row.tx_value - old_row.tx_value)
                ON CONFLICT (market_id, day, method) DO UPDATE
                SET tx_count = m.tx_count + excluded.tx_count,
                    tx_value = m.tx_value + excluded.tx_value;
            END IF;
            IF new_row.tx_count > 0 AND new_row.method <> 'cash' AND old_row.tx_count = 0 THEN
                INSERT INTO vendor_activity_months AS a (market_id, month, vendor_id, day_mask)
                VALUES (new_row.market_id, date_trunc('month', new_row.day)::date, new_row.vendor_id,
                        1 << (extract(day FROM new_row.day)::integer - 1))
                ON CONFLICT (market_id, month, vendor_id) DO UPDATE
                SET day_mask = a.day_mask | excluded.day_mask
                WHERE a.day_mask & excluded.day_mask <> excluded.day_mask;
            END IF;
            RETURN NULL;
        END IF;
    END IF;
    {base.MARKET_APPLY_CHANGES}
    -- Set the bits of rows that became active; collect the active cashless rows that
    -- stopped being active (emptied, re-keyed, moved to another market).
    WITH activated AS ({base._activity_set_sql(newly_active_only=True)}
    )
    SELECT array_agg(o.market_id), array_agg(o.vendor_id), array_agg(o.day)
    INTO v_markets, v_vendors, v_days
    FROM old_rows AS o
    LEFT JOIN new_rows AS n
      ON n.vendor_id = o.vendor_id AND n.day = o.day AND n.method = o.method
    WHERE o.tx_count > 0 AND o.method <> 'cash'
      AND (n.vendor_id IS NULL OR n.tx_count = 0 OR n.market_id <> o.market_id);
    IF v_markets IS NOT NULL THEN
        PERFORM vendor_activity_recheck(v_markets, v_vendors, v_days);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps its per-row triggers
    op.execute(_update_function())


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    previous = _set_based_revision().UPDATE_FUNCTION
    op.execute(previous.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
