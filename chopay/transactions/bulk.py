"""Driver-level bulk writes for the ledger's hot paths (no ORM, no per-row SQL compilation).

SQLAlchemy's executemany spends most of its time compiling parameters and running bind
processors row by row, and psycopg re-parses every multi-row VALUES statement, so the
fast paths below talk to the driver through ``Connection.exec_driver_sql``:

* PostgreSQL: ``COPY`` into a session-local TEMP staging table (psycopg's C row writer),
  then ONE statement per chunk: ``WITH ins AS (INSERT … SELECT … ORDER BY key ON CONFLICT
  DO NOTHING RETURNING …), up AS (INSERT INTO daily_rollups SELECT … FROM ins GROUP BY
  vendor, day, method ON CONFLICT DO UPDATE SET tx_count = tx_count + …) SELECT … FROM
  ins``; a single row is the same statement with ``VALUES``. The rollup deltas are thus
  aggregated by the database from exactly the rows inserted, in the same statement.
* SQLite (no data-modifying CTEs): rows go into a connection-local TEMP staging table with
  ``executemany`` (values pre-formatted in SQLAlchemy's SQLite storage format), one
  ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` moves them (a single row is
  inserted directly), and the deltas of the returned rows, aggregated in Python, go in
  with one ``executemany`` upsert per (vendor, day, method).

Both return exactly the rows that were inserted. A chunk with a ``bank_ref`` (the same
bank transfer recorded through another source, see ``Transaction.bank_ref``; a partial
unique index) uses ``ON CONFLICT DO NOTHING`` with no conflict target: a row is skipped
when it collides on ANY unique index, its key (source, external_ref) or its bank_ref.
A chunk without any (API payments) names its key, ``ON CONFLICT (source, external_ref)``:
the same outcome, since a NULL bank_ref collides with nothing, but PostgreSQL then skips
probing the primary key of every row (about 7% of the insert's time). A skipped row
returns nothing, so it counts in no rollup either. Under concurrency the database
decides: a writer that meets an uncommitted row with the same key or bank_ref waits for
it, then skips (committed) or inserts (rolled back).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from chopay.extensions import db

LEDGER_COLUMNS = (
    "vendor_id",
    "market_id",
    "amount_vnd",
    "occurred_at",
    "local_day",
    "method",
    "source",
    "external_ref",
    "reporter_id",
    "webhook_source_id",
    "note",
    "created_at",
    "bank_ref",
)
_COLS = ", ".join(LEDGER_COLUMNS)
_RETURNING = (
    "RETURNING id, source, external_ref, vendor_id, local_day, method, market_id, amount_vnd"
)
# The rollup upsert rides in the same statement as the ledger insert (a data-modifying
# CTE), fed by what the insert RETURNS: a conflicting row returns nothing and so counts
# nothing, and the two can never disagree. One round trip instead of two.
_PG_ROLLUP_TAIL = (
    "up AS (INSERT INTO daily_rollups (vendor_id, day, method, market_id, tx_count, tx_value) "
    "SELECT vendor_id, local_day, method, max(market_id), count(*), sum(amount_vnd) FROM ins "
    "GROUP BY vendor_id, local_day, method ORDER BY vendor_id, local_day, method "
    "ON CONFLICT (vendor_id, day, method) DO UPDATE SET "
    "tx_count = daily_rollups.tx_count + excluded.tx_count, "
    "tx_value = daily_rollups.tx_value + excluded.tx_value) "
    "SELECT id, source, external_ref FROM ins"
)
# Keyed by "has a row of the chunk a bank_ref?" (see the module docstring).
_ON_CONFLICT = {
    False: "ON CONFLICT (source, external_ref) DO NOTHING",
    True: "ON CONFLICT DO NOTHING",
}
_PG_INSERT_ONE = {
    any_bank_ref: f"WITH ins AS (INSERT INTO transactions ({_COLS}) "  # noqa: S608
    f"VALUES ({', '.join('%s' for _ in LEDGER_COLUMNS)}) "
    f"{conflict} {_RETURNING}), {_PG_ROLLUP_TAIL}"
    for any_bank_ref, conflict in _ON_CONFLICT.items()
}


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """A ledger row as plain values (the attribute names of ``Transaction``): the
    single-payment path answers with it, without loading an ORM object."""

    id: int
    vendor_id: int
    market_id: int
    amount_vnd: int
    occurred_at: dt.datetime
    local_day: dt.date
    method: str
    source: str
    external_ref: str
    reporter_id: int | None
    note: str | None
    created_at: dt.datetime
    webhook_source_id: int | None = None
    voided_at: dt.datetime | None = None
    voided_by_id: int | None = None
    void_reason: str | None = None


# One payment in the lane (``record_one``): the row goes in only while its vendor is in
# the market the caller decided rights for and has not left (checked in the statement
# itself), and when its key exists already the stored row comes back instead, in the
# same round trip. Both branches answer a ledger row whole, in LedgerRow's order.
LEDGER_ROW_COLUMNS = tuple(f.name for f in fields(LedgerRow))
_ROW_COLS = ", ".join(LEDGER_ROW_COLUMNS)
# The vendor is read by its primary key in a MATERIALIZED CTE: with the market in the
# same WHERE, the planner may pick the (market_id, status) index and filter a whole
# market's vendors by id (seen on a database not analysed yet: 400 rows per payment).
_PG_RECORD_ONE = {
    any_bank_ref: "WITH v AS MATERIALIZED (SELECT id, market_id, status FROM vendors "  # noqa: S608
    "WHERE id = %s), "
    f"ins AS (INSERT INTO transactions ({_COLS}) "
    f"SELECT v.id, v.market_id, {', '.join('%s' for _ in LEDGER_COLUMNS[2:])} "
    "FROM v WHERE v.market_id = %s AND v.status <> 'left' "
    f"{conflict} RETURNING {_ROW_COLS}), "
    "up AS (INSERT INTO daily_rollups (vendor_id, day, method, market_id, tx_count, tx_value) "
    "SELECT vendor_id, local_day, method, market_id, 1, amount_vnd FROM ins "
    "ON CONFLICT (vendor_id, day, method) DO UPDATE SET "
    "tx_count = daily_rollups.tx_count + excluded.tx_count, "
    "tx_value = daily_rollups.tx_value + excluded.tx_value) "
    f"SELECT true, {_ROW_COLS} FROM ins UNION ALL "
    f"SELECT false, {_ROW_COLS} FROM transactions "
    "WHERE source = %s AND external_ref = %s AND NOT EXISTS (SELECT FROM ins)"
    for any_bank_ref, conflict in _ON_CONFLICT.items()
}
# The staging table's column types, in LEDGER_COLUMNS order: its DDL and the binary
# COPY's types both come from here. A binary COPY costs a fifth of the text format's
# (psycopg's C dumpers write each value as PostgreSQL stores it; the server parses no text).
_PG_STAGE_COLUMN_TYPES = (
    "int4",
    "int4",
    "int4",
    "timestamptz",
    "date",
    "varchar(8)",
    "varchar(8)",
    "varchar(120)",
    "int4",
    "int4",
    "varchar(255)",
    "timestamptz",
    "varchar(120)",
)
_PG_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS chopay_tx_stage ("
    + ", ".join(
        f"{name} {kind}" for name, kind in zip(LEDGER_COLUMNS, _PG_STAGE_COLUMN_TYPES, strict=True)
    )
    + ") ON COMMIT DELETE ROWS"
)
_PG_STAGE_TYPES = tuple(kind.partition("(")[0] for kind in _PG_STAGE_COLUMN_TYPES)
_PG_MOVE = {
    any_bank_ref: f"WITH ins AS (INSERT INTO transactions ({_COLS}) "  # noqa: S608
    f"SELECT {_COLS} FROM chopay_tx_stage ORDER BY source, external_ref "
    f"{conflict} {_RETURNING}), {_PG_ROLLUP_TAIL}"
    for any_bank_ref, conflict in _ON_CONFLICT.items()
}
_PG_ROLLUPS = (
    "INSERT INTO daily_rollups (vendor_id, day, method, market_id, tx_count, tx_value) "
    "SELECT * FROM unnest(%b::int[], %b::date[], %b::varchar[], %b::int[], %b::int[], "
    "%b::bigint[]) "
    "ON CONFLICT (vendor_id, day, method) DO UPDATE SET "
    "tx_count = daily_rollups.tx_count + excluded.tx_count, "
    "tx_value = daily_rollups.tx_value + excluded.tx_value"
)

_STAGE = "chopay_tx_stage"
_SQLITE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ("
    "vendor_id INTEGER, market_id INTEGER, amount_vnd INTEGER, occurred_at TEXT, "
    "local_day TEXT, method TEXT, source TEXT, external_ref TEXT, reporter_id INTEGER, "
    "webhook_source_id INTEGER, note TEXT, created_at TEXT, bank_ref TEXT)"
)
_SQLITE_PLACEHOLDERS = ", ".join("?" for _ in LEDGER_COLUMNS)
_SQLITE_INSERT_ONE = {
    any_bank_ref: f"INSERT INTO transactions ({_COLS}) VALUES ({_SQLITE_PLACEHOLDERS}) "  # noqa: S608
    f"{conflict} RETURNING id, source, external_ref"
    for any_bank_ref, conflict in _ON_CONFLICT.items()
}
_SQLITE_MOVE = {
    any_bank_ref: f"INSERT INTO transactions ({_COLS}) SELECT {_COLS} FROM {_STAGE} "  # noqa: S608
    # "WHERE true" is required: without it SQLite reads ON CONFLICT as a join constraint.
    f"WHERE true {conflict} RETURNING id, source, external_ref"
    for any_bank_ref, conflict in _ON_CONFLICT.items()
}
_SQLITE_ROLLUPS = (
    "INSERT INTO daily_rollups (vendor_id, day, method, market_id, tx_count, tx_value) "
    "VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (vendor_id, day, method) DO UPDATE SET "
    "tx_count = tx_count + excluded.tx_count, tx_value = tx_value + excluded.tx_value"
)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


# ---- one payment, statements committing on their own (PostgreSQL) -----------------------


class _Lane:
    """The driver connection one payment's statements run on (see ``single_payment``)."""

    __slots__ = ("dialect", "fairy", "raw")

    def __init__(self, fairy: Any, dialect: Any) -> None:
        self.fairy = fairy
        self.raw = fairy.driver_connection
        self.dialect = dialect

    def rows(self, sql: str, params: Any) -> list[Any]:
        try:
            # Every statement of the lane returns rows (SELECT, or RETURNING).
            return self.raw.execute(sql, params).fetchall()  # type: ignore[no-any-return]
        except self.dialect.loaded_dbapi.Error as exc:
            raise driver_error(exc, sql, self.fairy, self.dialect) from exc


_LANE: ContextVar[_Lane | None] = ContextVar("chopay_single_payment", default=None)


def driver_error(exc: Exception, sql: str, fairy: Any, dialect: Any) -> DBAPIError:
    """A driver error raised past SQLAlchemy, wrapped as SQLAlchemy would: a lost server
    becomes an OperationalError (answered 503) and the dead connection is dropped from the
    pool rather than handed out again."""
    lost = dialect.is_disconnect(exc, fairy.driver_connection, None)
    if lost:
        fairy.invalidate(exc)
    return DBAPIError.instance(  # type: ignore[no-any-return]
        sql,
        None,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )


def in_lane() -> bool:
    """Whether this payment's statements go straight to the driver (``single_payment``)."""
    return _LANE.get() is not None


def lane_rows(sql: str, params: Any) -> list[Any]:
    """Rows of one PostgreSQL statement (psycopg placeholders) in ``single_payment``."""
    lane = _LANE.get()
    if lane is None:
        raise RuntimeError("lane_rows outside single_payment()")
    return lane.rows(sql, params)


@contextmanager
def single_payment() -> Iterator[None]:
    """Record one payment on PostgreSQL through the driver, each statement committing
    by itself.

    One payment is stored by ONE statement (the ledger row, its rollups and the report
    triggers, see ``_PG_INSERT_ONE``), atomic on its own: BEGIN … COMMIT around it and
    the reads before it bought nothing but two round trips and the session's bookkeeping,
    and kept the market's report row locked for the COMMIT's round trip too, while every
    payment of that market, day and method waits for it. Each read sees what is committed
    when it runs, as under READ COMMITTED inside one transaction. The statements go to
    psycopg directly (a fixed handful, written for PostgreSQL next to their SQLAlchemy
    forms): SQLAlchemy's execution layer cost more per statement than the driver.

    Inside, whatever is written through ``db.session`` still goes into the session's
    transaction (the caller commits it); code that must write several statements
    atomically leaves the lane with ``session_statements()``. Nothing may go through the
    lane after writing through the session in the same request: the lane's connection
    would wait for the session's locks, released only when the request ends.

    A session bound to one connection (the tests' transaction, rolled back afterwards)
    keeps it: the same statements run on its driver connection, without autocommit.
    SQLite keeps the session's transaction and SQLAlchemy: its insert and rollup upsert
    are two statements."""
    # Without a session in this scope yet, none is made just to ask for its bind.
    bind = db.session.get_bind() if db.session.registry.has() else db.engine
    if bind.dialect.name != "postgresql":
        yield
        return
    if not isinstance(bind, Engine):
        token = _LANE.set(_Lane(db.session.connection().connection, bind.dialect))
        try:
            yield
        finally:
            _LANE.reset(token)
        return
    try:
        fairy = bind.raw_connection()
    except bind.dialect.loaded_dbapi.Error as exc:
        # No server (a restart, an outage): raw_connection raises the driver's own error,
        # where Engine.connect would wrap it; wrapped here the same way (answered 503).
        raise DBAPIError.instance(
            None, None, exc, bind.dialect.loaded_dbapi.Error, dialect=bind.dialect
        ) from exc
    try:
        fairy.driver_connection.autocommit = True
        token = _LANE.set(_Lane(fairy, bind.dialect))
        try:
            yield
        finally:
            _LANE.reset(token)
    finally:
        # Back to transactions before the pool hands it out again, whatever happened in
        # the lane (a refused payment raises through here): a pooled connection left in
        # autocommit would make everyone's later transactions commit statement by
        # statement. One that cannot be switched back is dropped, not reused.
        try:
            if fairy.is_valid:
                fairy.driver_connection.autocommit = False
        except bind.dialect.loaded_dbapi.Error as exc:
            fairy.invalidate(exc)
        finally:
            fairy.close()


def record_one(row: Sequence[Any]) -> tuple[bool, tuple[Any, ...]] | None:
    """In ``single_payment``: insert one ledger row (LEDGER_COLUMNS order; its vendor_id
    and market_id are those the caller decided rights for) with its rollups, in one
    statement. Answers (True, the new row) when stored; (False, the stored row) when its
    (source, external_ref) is in the ledger already; None when neither: the vendor is
    not in that market any more or has left, its bank_ref is recorded under another key,
    or a conflicting row committed after the statement began (read it again to know).
    Rows are ``LEDGER_ROW_COLUMNS``, times in UTC."""
    vendor_id, market_id = row[0], row[1]
    params = (vendor_id, *row[2:], market_id, row[6], row[7])
    found = lane_rows(_PG_RECORD_ONE[row[12] is not None], params)
    if not found:
        return None
    return found[0][0], _in_utc(found[0][1:])


def row_by_ref(source: str, ref: str) -> tuple[Any, ...] | None:
    """In ``single_payment``: the ledger row with this key (``LEDGER_ROW_COLUMNS``)."""
    found = lane_rows(_PG_ROW_BY_REF, (source, ref))
    return _in_utc(found[0]) if found else None


_PG_ROW_BY_REF = f"SELECT {_ROW_COLS} FROM transactions WHERE source = %s AND external_ref = %s"  # noqa: S608
_ROW_TIMES = tuple(i for i, name in enumerate(LEDGER_ROW_COLUMNS) if name.endswith("ed_at"))


def _in_utc(row: Sequence[Any]) -> tuple[Any, ...]:
    """A ``LEDGER_ROW_COLUMNS`` row with its times in UTC (the driver answers in the
    server's time zone)."""
    values = list(row)
    for i in _ROW_TIMES:
        if values[i] is not None:
            values[i] = values[i].astimezone(dt.UTC)
    return tuple(values)


@contextmanager
def session_statements() -> Iterator[None]:
    """Within ``single_payment()``: back to the session's transaction, for writes that
    must be atomic together."""
    token = _LANE.set(None)
    try:
        yield
    finally:
        _LANE.reset(token)


def sqlite_datetime(value: dt.datetime) -> str:
    """An aware datetime as UTCDateTime stores it on SQLite (naive UTC, SQLAlchemy format)."""
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def insert_with_rollups(rows: Sequence[tuple[Any, ...]]) -> list[tuple[int, str, str]]:
    """Insert ledger rows (tuples in LEDGER_COLUMNS order; datetimes aware, local_day a
    date), skipping rows whose (source, external_ref) or bank_ref exists already, and add
    the rows really inserted to the daily rollups, in the session's transaction. Returns
    (id, source, external_ref) of the inserted rows. ``rows`` must have distinct keys and
    distinct bank_refs, sorted by key."""
    if not rows:
        return []
    any_bank_ref = any(row[12] is not None for row in rows)
    if len(rows) == 1 and in_lane():
        return [tuple(r) for r in lane_rows(_PG_INSERT_ONE[any_bank_ref], rows[0])]
    # Several rows are several statements (and a staging table emptied on COMMIT): they
    # always go through the session's transaction.
    conn = db.session.connection()
    if _dialect() == "postgresql":
        if len(rows) == 1:
            sql = _PG_INSERT_ONE[any_bank_ref]
            return [tuple(r) for r in conn.exec_driver_sql(sql, tuple(rows[0]))]
        return _pg_copy_insert(conn, rows, _PG_MOVE[any_bank_ref])
    inserted = _sqlite_insert(conn, rows, any_bank_ref)
    if inserted:
        keys = {(source, ref) for _, source, ref in inserted}
        deltas: dict[tuple[int, dt.date, str], list[int]] = {}
        for row in rows:
            if (row[6], row[7]) in keys:
                entry = deltas.get((row[0], row[4], row[5]))
                if entry is None:
                    deltas[(row[0], row[4], row[5])] = [row[1], 1, row[2]]
                else:
                    entry[1] += 1
                    entry[2] += row[2]
        upsert_rollups(
            [
                (key[0], key[1], key[2], value[0], value[1], value[2])
                for key, value in sorted(deltas.items())
            ]
        )
    return inserted


def _sqlite_insert(
    conn: Any, rows: Sequence[tuple[Any, ...]], any_bank_ref: bool
) -> list[tuple[int, str, str]]:
    # created_at is usually one value for the whole batch: format it once.
    stamps: dict[dt.datetime, str] = {}

    def stamp(value: dt.datetime) -> str:
        text = stamps.get(value)
        if text is None:
            text = stamps[value] = sqlite_datetime(value)
        return text

    converted = [
        (
            r[0],
            r[1],
            r[2],
            sqlite_datetime(r[3]),
            r[4].isoformat(),
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            r[10],
            stamp(r[11]),
            r[12],
        )
        for r in rows
    ]
    if len(converted) == 1:
        sql = _SQLITE_INSERT_ONE[any_bank_ref]
        return [tuple(r) for r in conn.exec_driver_sql(sql, converted[0])]
    conn.exec_driver_sql(_SQLITE_STAGE)
    conn.exec_driver_sql(f"DELETE FROM {_STAGE}")  # noqa: S608 - fixed name
    conn.exec_driver_sql(
        f"INSERT INTO {_STAGE} VALUES ({_SQLITE_PLACEHOLDERS})",  # noqa: S608
        converted,
    )
    inserted = [tuple(r) for r in conn.exec_driver_sql(_SQLITE_MOVE[any_bank_ref]).fetchall()]
    conn.exec_driver_sql(f"DELETE FROM {_STAGE}")  # noqa: S608
    return inserted


def _pg_copy_insert(
    conn: Any, rows: Sequence[tuple[Any, ...]], move: str
) -> list[tuple[int, str, str]]:
    """COPY the rows into a session-local staging table, then move them (and count them
    into the rollups) in one statement, ``move`` (one of ``_PG_MOVE``)."""
    dbapi_connection = conn.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_PG_STAGE)
        cursor.execute("TRUNCATE chopay_tx_stage")
        with cursor.copy(f"COPY chopay_tx_stage ({_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_PG_STAGE_TYPES)
            write = copy.write_row
            for row in rows:
                write(row)
        cursor.execute(move)
        inserted = [tuple(r) for r in cursor.fetchall()]
        cursor.execute("TRUNCATE chopay_tx_stage")
    except conn.dialect.loaded_dbapi.Error as exc:
        # The driver raised past SQLAlchemy (COPY needs the raw cursor).
        raise driver_error(exc, move, conn.connection, conn.dialect) from exc
    finally:
        cursor.close()
    return inserted


def upsert_rollups(rows: Sequence[tuple[int, dt.date, str, int, int, int]]) -> None:
    """Add (vendor_id, day, method, market_id, count, value) to the rollups in one
    statement (rows must have distinct keys and be in key order)."""
    if not rows:
        return
    conn = db.session.connection()
    if _dialect() == "postgresql":
        columns = [list(c) for c in zip(*rows, strict=True)]
        conn.exec_driver_sql(_PG_ROLLUPS, tuple(columns))
        return
    conn.exec_driver_sql(
        _SQLITE_ROLLUPS,
        [(r[0], r[1].isoformat(), r[2], r[3], r[4], r[5]) for r in rows],
    )


# Tables and columns the ledger looks rows up in by (source, external_ref).
_REF_LOOKUPS = {
    ("transactions", "external_ref, id, vendor_id, amount_vnd, method"),
    ("inbound_payments", "external_ref, id, status"),
}


def _select_in(head: str, column: str, values: Sequence[Any], *params: Any) -> list[Any]:
    """``<head> <column> IN values`` as ONE statement with ONE parameter for the values,
    however many: an array on PostgreSQL, a JSON list on SQLite (``json_each``). ``head``
    writes its own placeholders as ``{p}``. A compiled ``IN`` with thousands of bound
    values costs more to build and send than the lookup itself."""
    if not values:
        return []
    if in_lane():
        return lane_rows(f"{head.format(p='%s')} {column} = ANY(%b)", (*params, list(values)))
    conn = db.session.connection()
    if _dialect() == "postgresql":
        sql = f"{head.format(p='%s')} {column} = ANY(%b)"
        return list(conn.exec_driver_sql(sql, (*params, list(values))))
    sql = f"{head.format(p='?')} {column} IN (SELECT value FROM json_each(?))"  # noqa: S608 - fixed names only
    return list(conn.exec_driver_sql(sql, (*params, json.dumps(list(values)))))


def rows_by_ref(table: str, columns: str, source: str, refs: Sequence[str]) -> list[Any]:
    """``SELECT columns FROM table WHERE source = … AND external_ref IN refs`` in one
    statement (see ``_select_in``)."""
    if (table, columns) not in _REF_LOOKUPS:
        raise ValueError(f"not a ledger lookup: {table} ({columns})")
    head = f"SELECT {columns} FROM {table} WHERE source = {{p}} AND"  # noqa: S608 - fixed names only
    return _select_in(head, "external_ref", refs, source)


def held_by_bank_ref(bank_refs: Sequence[str]) -> list[Any]:
    """(bank_ref, id, status, source, external_ref) of the held lines of these bank
    transfers, from any source, in one statement (see ``_select_in``)."""
    head = "SELECT bank_ref, id, status, source, external_ref FROM inbound_payments WHERE"
    return _select_in(head, "bank_ref", bank_refs)


def vendor_rows(ids: Sequence[int]) -> list[Any]:
    """(id, market_id, status) of these vendors in one statement (see ``_select_in``): a
    batch names hundreds of vendors."""
    return _select_in("SELECT id, market_id, status FROM vendors WHERE", "id", ids)
