"""Daily rollups: count and sum of non-void payments per vendor, Vietnam day and method.

Every ledger write changes the rollups in the same database transaction (``apply_deltas``),
with an atomic upsert ``tx_count = tx_count + n`` so concurrent writers never lose an
update. ``rebuild_rollups`` recomputes the whole table from the ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from chopay.extensions import db
from chopay.transactions import bulk
from chopay.transactions.models import DailyRollup, InboundPayment, Transaction

logger = logging.getLogger(__name__)

# The tables as Core objects, for statements that bypass the ORM.
LEDGER = cast(Table, Transaction.__table__)
ROLLUPS = cast(Table, DailyRollup.__table__)
INBOUND = cast(Table, InboundPayment.__table__)

# (vendor_id, local day, method) -> [market_id, count, value]
RollupKey = tuple[int, dt.date, str]
Deltas = dict[RollupKey, list[int]]


def dialect_name() -> str:
    """``postgresql`` or ``sqlite``: the backend of the current session."""
    return db.session.get_bind().dialect.name


def dialect_insert(table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on the current backend."""
    if dialect_name() == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def add_delta(
    deltas: Deltas, vendor_id: int, day: dt.date, method: str, market_id: int, amount: int
) -> None:
    """Count one payment (negative ``amount`` with a void) into ``deltas``."""
    key = (vendor_id, day, str(method))
    entry = deltas.get(key)
    sign = 1 if amount > 0 else -1
    if entry is None:
        deltas[key] = [market_id, sign, amount]
    else:
        entry[1] += sign
        entry[2] += amount


def apply_deltas(deltas: Mapping[RollupKey, list[int]]) -> int:
    """Add the deltas to the rollup rows, in key order (so concurrent writers lock rows in
    the same order), with one upsert statement. Returns the number of rows touched."""
    if not deltas:
        return 0
    table = ROLLUPS
    ups: list[tuple[int, dt.date, str, int, int, int]] = []
    downs = []
    for key in sorted(deltas):
        market_id, count, value = deltas[key]
        if count == 0 and value == 0:
            continue
        if count >= 0 and value >= 0:
            ups.append((key[0], key[1], key[2], market_id, count, value))
        else:
            downs.append(
                {
                    "vendor_id": key[0],
                    "day": key[1],
                    "method": key[2],
                    "tx_count": count,
                    "tx_value": value,
                }
            )
    bulk.upsert_rollups(ups)
    for row in downs:  # voids: the row exists, since the payment was counted into it
        where = (
            table.c.vendor_id == row["vendor_id"],
            table.c.day == row["day"],
            table.c.method == row["method"],
        )
        db.session.execute(
            update(table)
            .where(*where)
            .values(
                tx_count=table.c.tx_count + row["tx_count"],
                tx_value=table.c.tx_value + row["tx_value"],
            )
        )
        # An emptied row goes, so "has a rollup row" keeps meaning "had a payment".
        db.session.execute(delete(table).where(*where, table.c.tx_count == 0))
    return len(ups) + len(downs)


@dataclass(frozen=True)
class RebuildStats:
    """What ``rebuild_rollups`` wrote."""

    rollup_rows: int
    transactions: int
    value_vnd: int
    seconds: float


def rebuild_rollups() -> RebuildStats:
    """Recompute every DailyRollup row from the non-void ledger rows. Flushes, never commits.

    On PostgreSQL the rollup table is locked (EXCLUSIVE: reads go on, writers wait) for the
    rest of the caller's transaction, so a payment recorded meanwhile is counted exactly
    once: either it committed before the lock and the ledger scan sees it, or its rollup
    upsert waits and lands on top of the rebuilt row.
    """
    started = time.perf_counter()
    db.session.flush()
    if dialect_name() == "postgresql":
        db.session.execute(text("LOCK TABLE daily_rollups IN EXCLUSIVE MODE"))
    table = ROLLUPS
    ledger = LEDGER
    db.session.execute(delete(table))
    source = (
        select(
            ledger.c.vendor_id,
            ledger.c.local_day,
            ledger.c.method,
            func.max(ledger.c.market_id),
            func.count(),
            func.sum(ledger.c.amount_vnd),
        )
        .where(ledger.c.voided_at.is_(None))
        .group_by(ledger.c.vendor_id, ledger.c.local_day, ledger.c.method)
    )
    db.session.execute(
        insert(table).from_select(
            ["vendor_id", "day", "method", "market_id", "tx_count", "tx_value"], source
        )
    )
    rows, count, value = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(table.c.tx_count), 0),
            func.coalesce(func.sum(table.c.tx_value), 0),
        )
    ).one()
    stats = RebuildStats(
        rollup_rows=int(rows),
        transactions=int(count),
        value_vnd=int(value),
        seconds=round(time.perf_counter() - started, 3),
    )
    logger.info(
        "rebuilt %s rollup rows from %s transactions in %.2fs",
        stats.rollup_rows,
        stats.transactions,
        stats.seconds,
    )
    return stats


def rollups_match_ledger() -> list[tuple[Any, ...]]:
    """Rows where the rollups and a fresh aggregate of the ledger disagree (empty: all good).

    Each row is (vendor_id, day, method, rollup count, rollup value, ledger count, ledger value).
    """
    ledger = LEDGER
    table = ROLLUPS
    fresh = dict(
        (
            (r[0], r[1], r[2]),
            (int(r[3]), int(r[4])),
        )
        for r in db.session.execute(
            select(
                ledger.c.vendor_id,
                ledger.c.local_day,
                ledger.c.method,
                func.count(),
                func.sum(ledger.c.amount_vnd),
            )
            .where(ledger.c.voided_at.is_(None))
            .group_by(ledger.c.vendor_id, ledger.c.local_day, ledger.c.method)
        )
    )
    kept = {
        (r[0], r[1], r[2]): (int(r[3]), int(r[4]))
        for r in db.session.execute(
            select(
                table.c.vendor_id, table.c.day, table.c.method, table.c.tx_count, table.c.tx_value
            )
        )
    }
    problems = []
    for key in sorted(set(fresh) | set(kept)):
        have = kept.get(key, (0, 0))
        want = fresh.get(key, (0, 0))
        if have != want:
            problems.append((*key, *have, *want))
    return problems
