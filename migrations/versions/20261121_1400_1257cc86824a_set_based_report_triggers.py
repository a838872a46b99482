"""set-based report triggers on daily_rollups (PostgreSQL)

Why: revision f620fdb93b75 keeps ``market_daily_rollups`` and ``vendor_activity_months``
with a FOR EACH ROW trigger that runs four statements per ``daily_rollups`` row touched.
The ledger's hot path writes a whole batch in ONE statement (``INSERT … ON CONFLICT DO
UPDATE`` into ``daily_rollups``, fed by a data-modifying CTE), so a 1,000-payment request
touching ~800 rollup rows paid ~800 × 4 trigger statements (~54 µs a row, ~43 ms a
request): most of the bulk API's time. This revision replaces it, on PostgreSQL only,
with statement-level triggers that do a fixed handful of set-based statements per
statement, whatever the number of rows. SQLite keeps its per-row triggers (no transition
tables there); upgrade and downgrade do nothing on it.

Transition tables. A trigger with transition tables may have only one event, hence three
triggers: AFTER INSERT (``new_rows``), AFTER UPDATE (``old_rows`` and ``new_rows``) and
AFTER DELETE (``old_rows``), all FOR EACH STATEMENT. ``INSERT … ON CONFLICT DO UPDATE``
fires both the INSERT trigger (with the rows it inserted) and the UPDATE trigger (with
the rows it updated: old and new versions), each once per statement, also when its
transition tables are empty; every function returns at once when they are.

market_daily_rollups. The net change per (market_id, day, method) is new rows minus old
rows, summed. Groups with no change are skipped. Groups whose count and value deltas are
both >= 0 go in with one ``INSERT … ON CONFLICT DO UPDATE SET tx_count = tx_count + …``
in (market_id, day, method) order: every writer locks market rows in that one order, so
concurrent batches cannot deadlock. The others (voids, deletions: some old row was
counted into the market row, so it exists) are an ``UPDATE … FROM`` the deltas (falls
on several keys at once come from rebuilds, which lock ``daily_rollups`` first, and
repair scripts; a void lowers one key). A negative delta is never inserted: CHECK
constraints are checked on the proposed row before ON CONFLICT is considered.

vendor_activity_months. Setting a day bit is monotonic: a rollup row that became active
(new version with tx_count > 0 and method <> 'cash', and no old version with the same
(vendor_id, day, method) and market_id that was active already) sets its bit with one
``INSERT … SELECT … bit_or(bit) … ORDER BY key ON CONFLICT DO UPDATE SET day_mask =
day_mask | excluded.day_mask``. Its ``WHERE`` skips rows whose bits are set already,
but ON CONFLICT DO UPDATE locks the month row even then, and that lock is what a
concurrent clearer waits for (below). On the hot path (adding payments to rows that
were active already) the UPDATE trigger finds nothing to set or clear and locks no
month row at all.

Clearing a bit needs a re-check, because another method's row may keep the day active.
A row stopped being active when an old active cashless version has a new version with
tx_count = 0, no new version (deleted, or its key changed), or a new version in another
market. ``vendor_activity_recheck`` keeps the reasoning of the former per-row function:
FIRST it locks the affected month rows (a no-op upsert, in key order, creating missing
rows), THEN, in a separate statement — so, under READ COMMITTED, with a fresh snapshot
that includes whatever a concurrent writer committed while we waited for the lock — it
recomputes each affected day as EXISTS (a daily_rollups row of the same vendor, market
and day, cashless, tx_count > 0) and writes ``day_mask = (day_mask & ~touched) |
active``. Every writer that makes a day active locks the same month row after changing
its rollup row, so either the clearer runs first and the setter's upsert, re-evaluated
on the cleared row once the clearer commits, sets the bit again; or the setter commits
first and the clearer's re-check sees its row. Unlike the former function, the EXISTS
is restricted to the month row's market_id: a vendor with rollups in two markets (moved
between markets) is active in a market only through that market's rows, exactly as the
backfill (grouped by market_id) computes it. Because the former function did not
filter, ``vendor_activity_months`` is recomputed from ``daily_rollups`` once here (the
table is small: vendors × months; ``daily_rollups`` is locked by the trigger DDL anyway).

Lock order across the two tables: every trigger locks market rows (its first data
statement) before month rows (a later statement, or ``vendor_activity_recheck``), so a
batch and a void cannot wait for each other in a cycle. That is why the market and the
activity upserts stay separate statements: the order in which one statement's
data-modifying CTEs run is not specified. The clearing candidates are collected in the
same statement as the bit upsert (a read of the transition tables, no locks).

Cost: per statement, the INSERT trigger runs three statements (guard, market upsert,
bit upsert), the UPDATE trigger three (guard, market deltas, bit upsert with the
clearing candidates), the DELETE trigger two (guard, market deltas with the candidates),
plus the re-check's two when a day may have to be cleared. Measured with EXPLAIN ANALYZE
on a 1,000-payment bulk statement (400 rollup rows): ~1 ms in the triggers instead of
6–14 ms. The price is a fixed cost for one-row statements (a webhook payment adding to
an active row: ~60–110 µs instead of ~20–35 µs; a void emptying a row: ~0.35–0.6 ms
instead of ~0.15–0.25 ms).

Revision ID: 1257cc86824a
Revises: 5c1e0a7d2b43
Create Date: 2026-11-21 14:00:00.000000

"""

import importlib.util
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = "1257cc86824a"
down_revision = "5c1e0a7d2b43"
branch_labels = None
depends_on = None

PREVIOUS_REVISION_FILE = "20261121_1040_f620fdb93b75_add_market_daily_rollups_and_rule_notes.py"


def _previous_revision():
    """Revision f620fdb93b75 as a module: its per-row trigger SQL and activity backfill."""
    path = Path(__file__).with_name(PREVIOUS_REVISION_FILE)
    spec = importlib.util.spec_from_file_location("_chopay_revision_f620fdb93b75", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Lock order: every trigger locks market rows (in its first statement) before month rows
# (in a later statement, or in vendor_activity_recheck), each in key order.

MARKET_ADD_NEW = """
    INSERT INTO market_daily_rollups AS m (market_id, day, method, tx_count, tx_value)
    SELECT market_id, day, method, sum(tx_count), sum(tx_value)
    FROM new_rows
    GROUP BY market_id, day, method
    HAVING sum(tx_count) <> 0 OR sum(tx_value) <> 0
    ORDER BY market_id, day, method
    ON CONFLICT (market_id, day, method) DO UPDATE
    SET tx_count = m.tx_count + excluded.tx_count,
        tx_value = m.tx_value + excluded.tx_value;"""

# Net change (new rows minus old rows) per market key: rises are upserted in key order,
# falls (the market row exists: the old rows were counted into it) are updated.
MARKET_APPLY_CHANGES = """
    WITH deltas AS (
        SELECT market_id, day, method, sum(dn) AS dn, sum(dv)::bigint AS dv
        FROM (
            SELECT market_id, day, method, tx_count AS dn, tx_value AS dv FROM new_rows
            UNION ALL
            SELECT market_id, day, method, -tx_count, -tx_value FROM old_rows
        ) AS changes
        GROUP BY market_id, day, method
        HAVING sum(dn) <> 0 OR sum(dv) <> 0
    ), raised AS (
        INSERT INTO market_daily_rollups AS m (market_id, day, method, tx_count, tx_value)
        SELECT market_id, day, method, dn, dv FROM deltas
        WHERE dn >= 0 AND dv >= 0
        ORDER BY market_id, day, method
        ON CONFLICT (market_id, day, method) DO UPDATE
        SET tx_count = m.tx_count + excluded.tx_count,
            tx_value = m.tx_value + excluded.tx_value
    )
    UPDATE market_daily_rollups AS m
    SET tx_count = m.tx_count + d.dn, tx_value = m.tx_value + d.dv
    FROM deltas AS d
    WHERE (d.dn < 0 OR d.dv < 0)
      AND m.market_id = d.market_id AND m.day = d.day AND m.method = d.method;"""


def _activity_set_sql(newly_active_only: bool) -> str:
    """Set the day bits of the cashless rows of ``new_rows`` that have payments (with
    ``newly_active_only``: unless the same row was active in the same market before)."""
    before = (
        """
      AND NOT EXISTS (
          SELECT 1 FROM old_rows AS o
          WHERE o.vendor_id = n.vendor_id AND o.day = n.day AND o.method = n.method
            AND o.market_id = n.market_id AND o.tx_count > 0)"""
        if newly_active_only
        else ""
    )
    return f"""
    INSERT INTO vendor_activity_months AS a (market_id, month, vendor_id, day_mask)
    SELECT n.market_id, date_trunc('month', n.day)::date, n.vendor_id,
           bit_or(1 << (extract(day FROM n.day)::integer - 1))
    FROM new_rows AS n
    WHERE n.tx_count > 0 AND n.method <> 'cash'{before}
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (market_id, month, vendor_id) DO UPDATE
    SET day_mask = a.day_mask | excluded.day_mask
    -- Already set: nothing to write, but the month row is locked all the same.
    WHERE a.day_mask & excluded.day_mask <> excluded.day_mask"""


RECHECK_FUNCTION = """
CREATE FUNCTION vendor_activity_recheck(p_markets integer[], p_vendors integer[], p_days date[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- 1. Lock the month rows (creating missing ones), in key order like every writer.
    INSERT INTO vendor_activity_months AS a (market_id, month, vendor_id, day_mask)
    SELECT DISTINCT t.market_id, date_trunc('month', t.day)::date, t.vendor_id, 0
    FROM unnest(p_markets, p_vendors, p_days) AS t(market_id, vendor_id, day)
    ORDER BY 1, 2, 3
    ON CONFLICT (market_id, month, vendor_id) DO UPDATE SET day_mask = a.day_mask;
    -- 2. A new statement, hence (READ COMMITTED) a new snapshot taken after the locks:
    -- a concurrent writer of another method on the same day is seen once it committed.
    UPDATE vendor_activity_months AS a
    SET day_mask = (a.day_mask & ~c.touched) | c.active
    FROM (
        SELECT t.market_id, date_trunc('month', t.day)::date AS month, t.vendor_id,
               bit_or(t.bit) AS touched,
               bit_or(CASE WHEN EXISTS (
                   SELECT 1 FROM daily_rollups AS r
                   WHERE r.vendor_id = t.vendor_id AND r.day = t.day
                     AND r.market_id = t.market_id
                     AND r.method <> 'cash' AND r.tx_count > 0
               ) THEN t.bit ELSE 0 END) AS active
        FROM (
            SELECT DISTINCT u.market_id, u.vendor_id, u.day,
                   1 << (extract(day FROM u.day)::integer - 1) AS bit
            FROM unnest(p_markets, p_vendors, p_days) AS u(market_id, vendor_id, day)
        ) AS t
        GROUP BY 1, 2, 3
    ) AS c
    WHERE a.market_id = c.market_id AND a.month = c.month AND a.vendor_id = c.vendor_id;
END
$$
"""

INSERT_FUNCTION = f"""
CREATE FUNCTION daily_rollups_reports_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An INSERT ... ON CONFLICT DO UPDATE that inserted no row still fires this trigger.
    IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
        RETURN NULL;
    END IF;
    {MARKET_ADD_NEW}
    {_activity_set_sql(newly_active_only=False)};
    RETURN NULL;
END
$$
"""

UPDATE_FUNCTION = f"""
CREATE FUNCTION daily_rollups_reports_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_markets integer[];
    v_vendors integer[];
    v_days date[];
BEGIN
    -- An INSERT ... ON CONFLICT DO UPDATE that updated no row still fires this trigger.
    IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
        RETURN NULL;
    END IF;
    {MARKET_APPLY_CHANGES}
    -- Set the bits of rows that became active; collect the active cashless rows that
    -- stopped being active (emptied, re-keyed, moved to another market).
    WITH activated AS ({_activity_set_sql(newly_active_only=True)}
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

DELETE_FUNCTION = """
CREATE FUNCTION daily_rollups_reports_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_markets integer[];
    v_vendors integer[];
    v_days date[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows) THEN
        RETURN NULL;  -- e.g. a void deleting its rollup row "if now empty", and it was not
    END IF;
    -- Subtract the deleted rows from their market rows; collect the active cashless ones.
    WITH lost AS (
        SELECT market_id, day, method, sum(tx_count) AS dn, sum(tx_value)::bigint AS dv
        FROM old_rows
        GROUP BY market_id, day, method
        HAVING sum(tx_count) <> 0 OR sum(tx_value) <> 0
    ), lowered AS (
        UPDATE market_daily_rollups AS m
        SET tx_count = m.tx_count - l.dn, tx_value = m.tx_value - l.dv
        FROM lost AS l
        WHERE m.market_id = l.market_id AND m.day = l.day AND m.method = l.method
    )
    SELECT array_agg(market_id), array_agg(vendor_id), array_agg(day)
    INTO v_markets, v_vendors, v_days
    FROM old_rows
    WHERE tx_count > 0 AND method <> 'cash';
    IF v_markets IS NOT NULL THEN
        PERFORM vendor_activity_recheck(v_markets, v_vendors, v_days);
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = [
    """
CREATE TRIGGER trg_daily_rollups_reports_insert AFTER INSERT ON daily_rollups
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION daily_rollups_reports_insert()
""",
    """
CREATE TRIGGER trg_daily_rollups_reports_update AFTER UPDATE ON daily_rollups
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION daily_rollups_reports_update()
""",
    """
CREATE TRIGGER trg_daily_rollups_reports_delete AFTER DELETE ON daily_rollups
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION daily_rollups_reports_delete()
""",
]

POSTGRESQL_FUNCTIONS = [
    RECHECK_FUNCTION,
    INSERT_FUNCTION,
    UPDATE_FUNCTION,
    DELETE_FUNCTION,
    *TRIGGERS,
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps its per-row triggers
    op.execute("DROP TRIGGER IF EXISTS trg_daily_rollups_reports ON daily_rollups")
    op.execute("DROP FUNCTION IF EXISTS daily_rollups_reports_sync()")
    op.execute("DROP FUNCTION IF EXISTS vendor_activity_touch(integer, integer, date)")
    for statement in POSTGRESQL_FUNCTIONS:
        op.execute(statement)
    # The former re-check ignored market_id: recompute the bits by the exact definition.
    op.execute("DELETE FROM vendor_activity_months")
    op.execute(_previous_revision().BACKFILL_ACTIVITY["postgresql"])


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_daily_rollups_reports_{event} ON daily_rollups")
        op.execute(f"DROP FUNCTION IF EXISTS daily_rollups_reports_{event}()")
    op.execute("DROP FUNCTION IF EXISTS vendor_activity_recheck(integer[], integer[], date[])")
    for statement in _previous_revision().POSTGRESQL_FUNCTIONS:
        op.execute(statement)
