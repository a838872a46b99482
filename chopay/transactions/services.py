"""Recording, voiding and listing payments; unmatched lines; webhook sources.

Every write goes through ``insert_transactions``: a driver-level ``INSERT … ON CONFLICT
DO NOTHING RETURNING`` and, for exactly the rows it returned, one rollup upsert
``tx_count = tx_count + n`` per (vendor, day, method): in the same statement on
PostgreSQL, in the same transaction on SQLite (see ``bulk``). The unique key (source,
external_ref) makes a retried or concurrently repeated payment land once, whatever the
interleaving; the unique ``bank_ref`` does the same for one bank transfer that arrives
by two sources (provider notification and statement import). The database, not a prior
SELECT, decides which request wins.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import logging
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    event,
    func,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, joinedload

from chopay.audit.services import Origin, record_event
from chopay.auth.policy import (
    Action,
    authorize,
    can,
    can_by_ids,
    market_scope,
    vendor_scope,
)
from chopay.db import utcnow
from chopay.errors import (
    ChopayError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.transactions import bulk, rollups
from chopay.transactions.bulk import LedgerRow
from chopay.transactions.matching import HeldCopy
from chopay.transactions.models import (
    MAX_AMOUNT_VND,
    InboundPayment,
    InboundStatus,
    Method,
    Source,
    Transaction,
    WebhookFormat,
    WebhookSource,
)
from chopay.transactions.schemas import VN_TZ, PaymentIn, load_payment, to_utc
from chopay.vendors.models import Vendor, VendorStatus

logger = logging.getLogger(__name__)

MAX_SKEW = dt.timedelta(minutes=5)
EARLIEST_DAY = dt.date(2000, 1, 1)  # no payment is older (see schemas.EARLIEST)
INSERT_CHUNK = 5000
_LOOKUP_CHUNK = 1000

CREATED = "created"
DUPLICATE = "duplicate"
REJECTED = "rejected"


def unwrap(actor: Any) -> Any:
    """The user behind Flask-Login's ``current_user`` proxy: hot loops touch the actor
    thousands of times, and every touch of the proxy costs a context lookup."""
    real = getattr(actor, "_get_current_object", None)
    return real() if callable(real) else actor


def local_day(moment: dt.datetime) -> dt.date:
    """The Asia/Ho_Chi_Minh day a UTC moment counts for."""
    return moment.astimezone(VN_TZ).date()


def day_bounds(start: dt.date | None, end: dt.date | None) -> tuple[Any, Any]:
    """UTC instants [from, to) covering Vietnam days ``start`` … ``end`` (both included).

    Days are clamped to what a ledger can hold (nothing is before 2000), so year 1 or
    9999 filter as "everything" instead of overflowing datetime."""
    if start is not None:
        start = max(start, EARLIEST_DAY)
    if end is not None:
        end = min(end, dt.date.max - dt.timedelta(days=2))
    lower = dt.datetime.combine(start, dt.time(), VN_TZ).astimezone(dt.UTC) if start else None
    upper = (
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), VN_TZ).astimezone(dt.UTC)
        if end
        else None
    )
    return lower, upper


# ---- the fast write path ------------------------------------------------------------------


@dataclass
class InsertCounts:
    """What ``insert_transactions`` did."""

    inserted: int = 0
    duplicates: int = 0
    rollup_rows: int = 0
    # (source, external_ref) -> id of each newly inserted row
    ids: dict[tuple[str, str], int] = field(default_factory=dict)


def insert_transactions(
    rows: Sequence[dict[str, Any]], *, chunk_size: int = INSERT_CHUNK
) -> InsertCounts:
    """Bulk-insert ledger rows and their rollups in the current transaction (flush only).

    Each row needs ``vendor_id``, ``market_id``, ``amount_vnd`` (1 … 499,999,999),
    ``occurred_at`` (aware; naive = Vietnam time), ``method``, ``source`` and
    ``external_ref``; ``local_day``, ``reporter_id``, ``webhook_source_id``, ``note``,
    ``created_at`` and ``bank_ref`` (see ``matching.bank_transfer_ref``) are optional. Rows
    are NOT checked against business rules (vendor status, future times, permissions):
    callers such as the demo generator pass trusted data. Rows whose ``(source,
    external_ref)`` or ``bank_ref`` already exists, in the database or earlier in ``rows``
    (the first one wins), are skipped and counted as duplicates. The rollups get one upsert
    per (vendor, day, method) for the rows really inserted. Driver-level, not the ORM
    (see ``chopay.transactions.bulk``).
    """
    counts = InsertCounts()
    if not rows:
        return counts
    db.session.flush()  # pending ORM work must reach the database before ours
    now = utcnow()
    by_key: dict[tuple[str, str], tuple[Any, ...]] = {}
    bank_refs: set[str] = set()
    for row in rows:
        key = (str(row["source"]), row["external_ref"])
        bank_ref = row.get("bank_ref") or None
        if key in by_key or bank_ref in bank_refs:
            counts.duplicates += 1
            continue
        if bank_ref is not None:
            bank_refs.add(bank_ref)
        by_key[key] = ledger_values(row, now)
    # One lock order for every writer: concurrent batches never deadlock on the unique index.
    prepared = [by_key[k] for k in sorted(by_key)]
    touched: set[tuple[int, dt.date, str]] = set()
    for start in range(0, len(prepared), chunk_size):
        for new_id, source, ref in bulk.insert_with_rollups(prepared[start : start + chunk_size]):
            counts.ids[(source, ref)] = new_id
            values = by_key[(source, ref)]
            touched.add((values[0], values[4], values[5]))
    counts.inserted = len(counts.ids)
    counts.duplicates += len(prepared) - counts.inserted
    counts.rollup_rows = len(touched)
    return counts


def ledger_values(row: dict[str, Any], now: dt.datetime) -> tuple[Any, ...]:
    """A row for ``insert_transactions`` as the tuple ``bulk`` writes (LEDGER_COLUMNS
    order): times in UTC, the Vietnam day worked out, ``now`` as created_at by default."""
    occurred = row["occurred_at"]
    if occurred.tzinfo is not dt.UTC:
        occurred = to_utc(occurred)
    return (
        row["vendor_id"],
        row["market_id"],
        row["amount_vnd"],
        occurred,
        row.get("local_day") or occurred.astimezone(VN_TZ).date(),
        str(row["method"]),
        str(row["source"]),
        row["external_ref"],
        row.get("reporter_id"),
        row.get("webhook_source_id"),
        row.get("note"),
        row.get("created_at") or now,
        row.get("bank_ref") or None,
    )


def existing_transactions(source: str, refs: Iterable[str]) -> dict[str, tuple[int, int, int, str]]:
    """external_ref -> (id, vendor_id, amount_vnd, method) of rows already in the ledger."""
    rows = bulk.rows_by_ref(
        "transactions", "external_ref, id, vendor_id, amount_vnd, method", source, sorted(set(refs))
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


_ID_BY_BANK_REF = select(Transaction.__table__.c.id).where(
    Transaction.__table__.c.bank_ref == bindparam("bank_ref")
)
_PG_ID_BY_BANK_REF = "SELECT id FROM transactions WHERE bank_ref = %s"


def find_transaction_id_by_bank_ref(bank_ref: str | None) -> int | None:
    """The id of the ledger row holding this bank transfer (any source), or None."""
    if not bank_ref:
        return None
    if bulk.in_lane():
        found = bulk.lane_rows(_PG_ID_BY_BANK_REF, (bank_ref,))
        return found[0][0] if found else None
    return db.session.connection().execute(_ID_BY_BANK_REF, {"bank_ref": bank_ref}).scalar()


# ---- reporting payments (API, pages) --------------------------------------------------------


_LEDGER_COLUMNS = [Transaction.__table__.c[name] for name in bulk.LEDGER_ROW_COLUMNS]
_LEDGER_ROW_BY_REF = select(*_LEDGER_COLUMNS).where(
    Transaction.__table__.c.source == bindparam("source"),
    Transaction.__table__.c.external_ref == bindparam("ref"),
)


def _ledger_row(source: str, ref: str) -> LedgerRow | None:
    """The ledger row with this key, as plain values (times in UTC), or None."""
    if bulk.in_lane():
        found = bulk.row_by_ref(source, ref)
        return LedgerRow(*found) if found is not None else None
    row = db.session.connection().execute(_LEDGER_ROW_BY_REF, {"source": source, "ref": ref})
    first = row.first()
    return LedgerRow(*first) if first is not None else None


@dataclass
class ItemResult:
    """What happened to one reported payment."""

    index: int
    status: str
    id: int | None = None
    external_ref: str | None = None
    exc: ChopayError | None = None
    # The stored values, for a row created now (saves reading it back).
    values: dict[str, Any] | None = None
    # The stored row, for a single payment found already recorded (read whole at once).
    stored: LedgerRow | None = None

    @property
    def error(self) -> dict[str, Any] | None:
        """The error as the API shows it."""
        if self.exc is None:
            return None
        return {
            "code": self.exc.code,
            "message": str(self.exc.message),
            "details": _stringify(self.exc.details or {}),
        }


def _stringify(details: Any) -> Any:
    if isinstance(details, dict):
        return {str(k): _stringify(v) for k, v in details.items()}
    if isinstance(details, list | tuple):
        return [str(v) for v in details]
    return str(details)


def _vendor_error(kind: str) -> ChopayError:
    if kind == "missing":
        return NotFoundError(
            _l("Không có tiểu thương này."),
            details={"vendor_id": [_l("Không có tiểu thương này.")]},
        )
    if kind == "forbidden":
        return PermissionDeniedError(
            _l("Bạn không được báo giao dịch cho tiểu thương này."),
            details={"vendor_id": [_l("Không thuộc phạm vi của bạn.")]},
        )
    return InvalidInputError(
        _l("Tiểu thương đã rời chợ: không ghi giao dịch mới."),
        details={"vendor_id": [_l("Tiểu thương đã rời chợ.")]},
    )


def _future_error() -> ChopayError:
    return InvalidInputError(
        _l("Thời gian giao dịch ở tương lai."),
        details={"occurred_at": [_l("Không được muộn hơn hiện tại quá 5 phút.")]},
    )


def _conflict_error() -> ChopayError:
    return ConflictError(
        _l("Mã tham chiếu này đã dùng cho một giao dịch khác."),
        details={
            "external_ref": [
                _l("Đã dùng cho giao dịch khác (khác tiểu thương, số tiền hoặc phương thức).")
            ]
        },
    )


# Where vendors were last seen (vendor id -> (market id, until when)), for one payment in
# the lane: rights are decided from it and the insert itself checks that the vendor is
# still there (``bulk.record_one``), so a stale entry costs a re-read, never a wrong row.
_VENDOR_HINTS: dict[int, tuple[int, float]] = {}
_HINT_SECONDS = 60.0
_HINTS_MAX = 100_000


def forget_vendor_hints() -> None:
    """Drop this process's vendor hints (the next payment reads its vendor again)."""
    _VENDOR_HINTS.clear()


@event.listens_for(Session, "after_flush")
def _forget_hints_on_change(session: Session, flush_context: Any) -> None:
    """A vendor changed through this process: forget the hints at once (other processes
    find out from their next insert, or after ``_HINT_SECONDS``)."""
    if _VENDOR_HINTS and any(
        isinstance(obj, Vendor) for obj in itertools.chain(session.dirty, session.deleted)
    ):
        _VENDOR_HINTS.clear()


def _remember_vendor(vendor_id: int, market_id: int) -> None:
    if len(_VENDOR_HINTS) >= _HINTS_MAX:
        _VENDOR_HINTS.clear()
    _VENDOR_HINTS[vendor_id] = (market_id, time.monotonic() + _HINT_SECONDS)


# One vendor (a single payment): a fixed statement, nothing expanded per call.
_VENDOR_ROW = select(Vendor.id, Vendor.market_id, Vendor.status).where(Vendor.id == bindparam("id"))
_PG_VENDOR_ROW = "SELECT id, market_id, status FROM vendors WHERE id = %s"


def recording_rights(actor: Any, ids: Iterable[int]) -> dict[int, tuple[int, str, bool] | None]:
    """Per existing vendor id: (market_id, source, has left) when the actor may record
    its payments, else None. Vendors are read as plain rows and the policy decides from
    their ids (``can_by_ids``); only when that is not enough are they loaded as objects
    for ``can``. Loading vendors and markets through the ORM cost more than recording
    the payment."""
    wanted = sorted(set(ids))
    rows: Iterable[Any]
    if len(wanted) == 1 and bulk.in_lane():
        rows = bulk.lane_rows(_PG_VENDOR_ROW, (wanted[0],))
        for vendor_id, market_id, status in rows:
            if status != VendorStatus.LEFT:
                _remember_vendor(vendor_id, market_id)
    elif len(wanted) == 1:  # a single payment: a statement built once, nothing expanded
        rows = db.session.connection().execute(_VENDOR_ROW, {"id": wanted[0]})
    else:
        rows = bulk.vendor_rows(wanted)
    found = {vendor_id: (market_id, status) for vendor_id, market_id, status in rows}
    allowed = {
        vendor_id: can_by_ids(actor, Action.RECORD_PAYMENT, vendor_id, market_id)
        for vendor_id, (market_id, _) in found.items()
    }
    undecided = [vendor_id for vendor_id, ok in allowed.items() if ok is None]
    for start in range(0, len(undecided), _LOOKUP_CHUNK):
        for vendor in db.session.scalars(
            select(Vendor)
            .options(joinedload(Vendor.market))
            .where(Vendor.id.in_(undecided[start : start + _LOOKUP_CHUNK]))
        ):
            allowed[vendor.id] = can(actor, Action.RECORD_PAYMENT, vendor)
    own_vendor = getattr(actor, "vendor_id", None)
    facts: dict[int, tuple[int, str, bool] | None] = {}
    for vendor_id, (market_id, status) in found.items():
        source = Source.VENDOR if own_vendor == vendor_id else Source.BOARD
        facts[vendor_id] = (
            (market_id, source.value, status == VendorStatus.LEFT) if allowed[vendor_id] else None
        )
    return facts


def record_payments(
    items: Sequence[Any],
    *,
    actor: Any,
    now: dt.datetime | None = None,
    default_time: dt.datetime | None = None,
) -> list[ItemResult]:
    """Record reported payments, each checked on its own: valid ones are stored even when
    others are refused. Answers per item ``created``, ``duplicate`` or ``rejected``.

    Refused: invalid fields, unknown vendors, vendors outside the actor's RECORD_PAYMENT
    rights, vendors who left, times more than five minutes ahead. The idempotency key is
    (source, external_ref); the same key with the same vendor, amount and method is a
    duplicate, with anything else a conflict (rejected).
    """
    actor = unwrap(actor)
    now = now or utcnow()
    results: list[ItemResult | None] = [None] * len(items)
    parsed: list[tuple[int, PaymentIn]] = []
    for index, raw in enumerate(items):
        try:
            parsed.append((index, load_payment(raw, default_time=default_time)))
        except InvalidInputError as exc:
            ref = raw.get("external_ref") if isinstance(raw, dict) else None
            results[index] = ItemResult(
                index, REJECTED, external_ref=ref if isinstance(ref, str) else None, exc=exc
            )

    facts = recording_rights(actor, (p.vendor_id for _, p in parsed))

    latest = now + MAX_SKEW
    reporter_id = getattr(actor, "id", None)
    to_insert: list[dict[str, Any]] = []
    held: dict[tuple[str, str], tuple[int, PaymentIn, ChopayError | None]] = {}
    followers: list[tuple[int, PaymentIn, tuple[str, str]]] = []
    for index, payment in parsed:
        vendor_id = payment.vendor_id
        fact = facts.get(vendor_id)
        if fact is None:
            kind = "missing" if vendor_id not in facts else "forbidden"
            results[index] = ItemResult(
                index, REJECTED, external_ref=payment.external_ref, exc=_vendor_error(kind)
            )
            continue
        market_id, source, has_left = fact
        key = (source, payment.external_ref)
        if key in held:
            followers.append((index, payment, key))
            continue
        rule_error = None
        if has_left:
            rule_error = _vendor_error("left")
        elif payment.occurred_at > latest:
            rule_error = _future_error()
        held[key] = (index, payment, rule_error)
        if rule_error is None:
            to_insert.append(_ledger_item(payment, market_id, source, reporter_id, now))

    counts = insert_transactions(to_insert)
    values = {(r["source"], r["external_ref"]): r for r in to_insert}
    # Keys not inserted now: either already in the ledger (duplicate/conflict) or refused.
    lookups: dict[str, list[str]] = {}
    for key in held:
        if key not in counts.ids:
            lookups.setdefault(key[0], []).append(key[1])
    stored: LedgerRow | None = None
    if len(held) == 1 and lookups:
        # One payment, already recorded: read its row whole, as the answer shows it.
        ((source, (ref,)),) = lookups.items()
        stored = _ledger_row(source, ref)
        existing = (
            {}
            if stored is None
            else {(source, ref): (stored.id, stored.vendor_id, stored.amount_vnd, stored.method)}
        )
    else:
        existing = {
            (source, ref): row
            for source, refs in lookups.items()
            for ref, row in existing_transactions(source, refs).items()
        }
    for key, (index, payment, rule_error) in held.items():
        outcome = _outcome(index, payment, key, counts.ids, existing, rule_error)
        if key in counts.ids:
            outcome.values = values[key]
        elif outcome.status == DUPLICATE:
            outcome.stored = stored
        results[index] = outcome
    for index, payment, key in followers:
        first_index, first, _ = held[key]
        outcome = results[first_index] or ItemResult(first_index, REJECTED)
        same = (first.vendor_id, first.amount_vnd, first.method) == (
            payment.vendor_id,
            payment.amount_vnd,
            payment.method,
        )
        if outcome.id is not None and same:
            results[index] = ItemResult(index, DUPLICATE, outcome.id, payment.external_ref)
        elif outcome.status == REJECTED and same:
            results[index] = ItemResult(
                index, REJECTED, external_ref=payment.external_ref, exc=outcome.exc
            )
        else:
            results[index] = ItemResult(
                index, REJECTED, external_ref=payment.external_ref, exc=_conflict_error()
            )
    if counts.inserted:
        logger.info(
            "user %s recorded %s payments (%s duplicates)",
            getattr(actor, "id", None),
            counts.inserted,
            len(items) - counts.inserted,
        )
    return [r for r in results if r is not None]


def _outcome(
    index: int,
    payment: PaymentIn,
    key: tuple[str, str],
    inserted: dict[tuple[str, str], int],
    existing: dict[tuple[str, str], tuple[int, int, int, str]],
    rule_error: ChopayError | None,
) -> ItemResult:
    if key in inserted:
        return ItemResult(index, CREATED, inserted[key], payment.external_ref)
    found = existing.get(key)
    if found is None:
        # Refused by a rule and not stored earlier (or, impossibly, a writer that rolled
        # back between our insert and our lookup: the client may simply retry).
        exc = rule_error or ConflictError(_l("Giao dịch đang được ghi ở nơi khác; thử lại."))
        return ItemResult(index, REJECTED, external_ref=payment.external_ref, exc=exc)
    existing_id, vendor_id, amount, method = found
    if (vendor_id, amount, method) == (payment.vendor_id, payment.amount_vnd, payment.method):
        return ItemResult(index, DUPLICATE, existing_id, payment.external_ref)
    return ItemResult(index, REJECTED, external_ref=payment.external_ref, exc=_conflict_error())


def record_transaction(
    raw: Any,
    *,
    actor: Any,
    now: dt.datetime | None = None,
    default_time: dt.datetime | None = None,
) -> tuple[LedgerRow, bool]:
    """Record one payment; returns (row, created). A duplicate returns the stored row with
    ``created`` False. Raises the item's error (422/403/404/409) when it is refused."""
    if bulk.in_lane():
        return _record_in_lane(
            raw, actor=unwrap(actor), now=now or utcnow(), default_time=default_time
        )
    (result,) = record_payments([raw], actor=actor, now=now, default_time=default_time)
    if result.exc is not None:
        raise result.exc
    if result.values is not None and result.id is not None:
        values = result.values
        return LedgerRow(id=result.id, local_day=local_day(values["occurred_at"]), **values), True
    if result.stored is None:  # cannot happen: a duplicate carries the stored row
        raise ConflictError(_l("Giao dịch đang được ghi ở nơi khác; thử lại."))
    return result.stored, False


def _record_in_lane(
    raw: Any, *, actor: Any, now: dt.datetime, default_time: dt.datetime | None
) -> tuple[LedgerRow, bool]:
    """``record_transaction`` in ``bulk.single_payment`` (PostgreSQL): the same answers
    and refusals as ``record_payments`` for one item, in fewer round trips. With the
    vendor's market known from an earlier payment, ONE statement decides everything
    (stored now, or the row already stored under its key); otherwise the vendor is read
    first, then that statement runs."""
    payment = load_payment(raw, default_time=default_time)
    vendor_id = payment.vendor_id
    source = (
        Source.VENDOR if getattr(actor, "vendor_id", None) == vendor_id else Source.BOARD
    ).value
    in_time = payment.occurred_at <= now + MAX_SKEW
    hint = _VENDOR_HINTS.get(vendor_id)
    if (
        hint is not None
        and in_time
        and hint[1] > time.monotonic()
        and can_by_ids(actor, Action.RECORD_PAYMENT, vendor_id, hint[0]) is True
    ):
        done = bulk.record_one(_payment_values(payment, hint[0], source, actor, now))
        if done is not None:
            return _lane_answer(payment, *done)
        _VENDOR_HINTS.pop(vendor_id, None)  # moved or left: read it
    # The vendor, read: rights, then the refusals in record_payments' order.
    fact = recording_rights(actor, [vendor_id]).get(vendor_id, False)
    if not fact:
        raise _vendor_error("missing" if fact is False else "forbidden")
    market_id, source, has_left = fact
    done = None
    if not has_left and in_time:
        done = bulk.record_one(_payment_values(payment, market_id, source, actor, now))
    if done is None:
        # Refused by a rule, or not stored for another reason: a payment recorded
        # earlier under this key is still answered as what it is.
        stored = _ledger_row(source, payment.external_ref)
        if stored is None:
            if has_left:
                raise _vendor_error("left")
            if not in_time:
                raise _future_error()
            raise ConflictError(_l("Giao dịch đang được ghi ở nơi khác; thử lại."))
        return _lane_answer(payment, False, dataclasses.astuple(stored))
    return _lane_answer(payment, *done)


def _ledger_item(
    payment: PaymentIn, market_id: int, source: str, reporter_id: int | None, now: dt.datetime
) -> dict[str, Any]:
    """A checked payment as a row for ``insert_transactions`` (batch and lane alike)."""
    return {
        "vendor_id": payment.vendor_id,
        "market_id": market_id,
        "amount_vnd": payment.amount_vnd,
        "occurred_at": payment.occurred_at,
        "method": payment.method,
        "source": source,
        "external_ref": payment.external_ref,
        "reporter_id": reporter_id,
        "note": payment.note,
        "created_at": now,
    }


def _payment_values(
    payment: PaymentIn, market_id: int, source: str, actor: Any, now: dt.datetime
) -> tuple[Any, ...]:
    return ledger_values(
        _ledger_item(payment, market_id, source, getattr(actor, "id", None), now), now
    )


def _lane_answer(payment: PaymentIn, created: bool, row: tuple[Any, ...]) -> tuple[LedgerRow, bool]:
    stored = LedgerRow(*row)
    if created:
        logger.info("user %s recorded payment %s", stored.reporter_id, stored.id)
        return stored, True
    if (stored.vendor_id, stored.amount_vnd, stored.method) != (
        payment.vendor_id,
        payment.amount_vnd,
        payment.method,
    ):
        raise _conflict_error()
    return stored, False


# ---- voids ----------------------------------------------------------------------------------


def get_transaction(transaction_id: int, *, actor: Any) -> Transaction:
    """A ledger row the actor may see; NotFoundError otherwise."""
    row = db.session.get(Transaction, transaction_id)
    vendor = db.session.get(Vendor, row.vendor_id) if row is not None else None
    if (
        row is None
        or vendor is None
        or not (can(actor, Action.VIEW_PAYMENTS, vendor) or can(actor, Action.VOID_PAYMENT, vendor))
    ):
        raise NotFoundError(_l("Không tìm thấy giao dịch."))
    return row


def void_transaction(
    transaction_id: int, *, actor: Any, reason: str, origin: Origin | None = None
) -> Transaction:
    """Void a payment with a reason: it leaves every total in the same transaction. Audited.

    Voiding twice is a ConflictError (409), also when two voids race: the conditional
    UPDATE lets exactly one of them through."""
    row = get_transaction(transaction_id, actor=actor)
    vendor = db.session.get(Vendor, row.vendor_id)
    authorize(actor, Action.VOID_PAYMENT, vendor)
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= 300:
        raise InvalidInputError.for_field("reason", _l("Lý do hủy cần từ 3 đến 300 ký tự."))
    now = utcnow()
    table = rollups.LEDGER
    done: Any = db.session.execute(
        update(table)
        .where(table.c.id == row.id, table.c.voided_at.is_(None))
        .values(voided_at=now, voided_by_id=actor.id, void_reason=reason)
    )
    if done.rowcount != 1:
        raise ConflictError(
            _l("Giao dịch này đã bị hủy trước đó."),
            details={"id": [_l("Đã hủy.")]},
        )
    deltas: rollups.Deltas = {}
    rollups.add_delta(
        deltas, row.vendor_id, row.local_day, row.method, row.market_id, -row.amount_vnd
    )
    rollups.apply_deltas(deltas)
    record_event(
        actor_id=actor.id,
        action="transaction.void",
        entity_type="transaction",
        entity_id=row.id,
        market_id=row.market_id,
        old={"voided": False},
        new={"voided": True, "reason": reason, "amount_vnd": row.amount_vnd},
        origin=origin,
    )
    db.session.expire(row)
    logger.info("user %s voided transaction %s", actor.id, row.id)
    return row


# ---- listing --------------------------------------------------------------------------------


def may_view_payments(actor: Any) -> bool:
    """Whether the actor may see individual payments anywhere (admins, boards, vendors).

    Asked through the policy about the actor's own anchors (their vendor record, their
    market, their assigned markets), so no role is named here."""
    if can(actor, Action.VIEW_PAYMENTS):
        return True
    anchors: list[Any] = [getattr(actor, "vendor", None), getattr(actor, "market", None)]
    anchors.extend(getattr(actor, "helper_markets", None) or [])
    return any(a is not None and can(actor, Action.VIEW_PAYMENTS, a) for a in anchors)


def may_record_payments(actor: Any) -> bool:
    """Whether the actor may report payments for some vendor (same anchors as above)."""
    if can(actor, Action.RECORD_PAYMENT):
        return True
    anchors: list[Any] = [getattr(actor, "vendor", None), getattr(actor, "market", None)]
    anchors.extend(getattr(actor, "helper_markets", None) or [])
    return any(a is not None and can(actor, Action.RECORD_PAYMENT, a) for a in anchors)


@dataclass(frozen=True)
class TransactionFilter:
    vendor_id: int | None = None
    market_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    method: str | None = None
    voided: bool | None = None


def transactions_query(actor: Any, filters: TransactionFilter) -> Select[Transaction, str, str]:
    """SELECT of (Transaction, vendor name, stall) the actor may see, newest first.

    Officers and helpers get PermissionDeniedError: they see aggregates (reports), not
    individual payments."""
    if not may_view_payments(actor):
        raise PermissionDeniedError(
            _l("Bạn chỉ xem được số liệu tổng hợp (báo cáo), không xem từng giao dịch.")
        )
    stmt = (
        select(Transaction, Vendor.full_name, Vendor.stall)
        .join(Vendor, Vendor.id == Transaction.vendor_id)
        .where(vendor_scope(actor))
    )
    conditions: list[ColumnElement[bool]] = []
    if filters.vendor_id is not None:
        vendor = db.session.get(Vendor, filters.vendor_id)
        if vendor is None:
            raise NotFoundError(details={"vendor": [_l("Không có tiểu thương này.")]})
        authorize(actor, Action.VIEW_PAYMENTS, vendor)
        conditions.append(Transaction.vendor_id == vendor.id)
    if filters.market_id is not None:
        market = db.session.get(Market, filters.market_id)
        if market is None:
            raise NotFoundError(details={"market": [_l("Không có chợ này.")]})
        authorize(actor, Action.VIEW_PAYMENTS, market)
        conditions.append(Transaction.market_id == market.id)
    lower, upper = day_bounds(filters.start, filters.end)
    if lower is not None:
        conditions.append(Transaction.occurred_at >= lower)
    if upper is not None:
        conditions.append(Transaction.occurred_at < upper)
    if filters.method:
        conditions.append(Transaction.method == filters.method)
    if filters.voided is True:
        conditions.append(Transaction.voided_at.is_not(None))
    elif filters.voided is False:
        conditions.append(Transaction.voided_at.is_(None))
    return stmt.where(and_(true(), *conditions)).order_by(
        Transaction.occurred_at.desc(), Transaction.id.desc()
    )


@dataclass(frozen=True)
class Page:
    """One page of rows of a query, with the total."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the whole result fills (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def paginate_rows(stmt: Any, *, page: int, per_page: int) -> Page:
    """Rows (tuples) ``per_page`` at a time; ``db.paginate`` would keep only the first column."""
    total = int(
        db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    )
    offset = (page - 1) * per_page
    if offset >= total:  # past the end: nothing to read (and no OFFSET the database refuses)
        return Page(items=[], page=page, per_page=per_page, total=total)
    rows = db.session.execute(stmt.limit(per_page).offset(offset)).all()
    return Page(items=list(rows), page=page, per_page=per_page, total=total)


def vendors_for_reporting(actor: Any) -> list[Vendor]:
    """Vendors the actor may report payments for (for the report form), by stall."""
    rows = db.session.scalars(
        select(Vendor)
        .options(joinedload(Vendor.market))
        .where(vendor_scope(actor), Vendor.status != VendorStatus.LEFT)
        .order_by(Vendor.market_id, Vendor.stall, Vendor.id)
        .limit(5000)
    ).all()
    return [v for v in rows if can(actor, Action.RECORD_PAYMENT, v)]


# ---- unmatched lines (InboundPayment) ---------------------------------------------------------


def hold_inbound(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Keep unmatched lines for a board (idempotent on (source, external_ref)).

    Returns external_ref -> inbound id for every row, new or already held."""
    if not rows:
        return {}
    db.session.flush()
    table = rollups.INBOUND
    now = utcnow()
    prepared = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (str(row["source"]), row["external_ref"])
        if key in seen:
            continue
        seen.add(key)
        prepared.append(
            {
                "source": key[0],
                "external_ref": key[1],
                "webhook_source_id": row.get("webhook_source_id"),
                "amount_vnd": row["amount_vnd"],
                "occurred_at": row["occurred_at"],
                "account_number": (row.get("account_number") or None),
                "content": (row.get("content") or "")[:500] or None,
                "bank_ref": row.get("bank_ref") or None,
                "raw": row.get("raw") or {},
                "status": InboundStatus.UNMATCHED.value,
                "reason": row.get("reason"),
                "market_id": row.get("market_id"),
                "created_at": now,
            }
        )
    prepared.sort(key=lambda r: (r["source"], r["external_ref"]))
    ids: dict[str, int] = {}
    stmt = (
        rollups.dialect_insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.source, table.c.external_ref])
        .returning(table.c.id, table.c.external_ref)
    )
    for start in range(0, len(prepared), INSERT_CHUNK):
        chunk = prepared[start : start + INSERT_CHUNK]
        result = (
            db.session.execute(stmt, chunk)
            if len(chunk) > 1
            else db.session.execute(stmt.values(chunk[0]))
        )
        ids.update({ref: new_id for new_id, ref in result})
    missing: dict[str, list[str]] = {}
    for item in prepared:
        if item["external_ref"] not in ids:
            missing.setdefault(item["source"], []).append(item["external_ref"])
    for source, refs in missing.items():
        rows = bulk.rows_by_ref("inbound_payments", "external_ref, id, status", source, refs)
        ids.update({ref: inbound_id for ref, inbound_id, _ in rows})
    return ids


def held_refs(source: str, refs: Iterable[str]) -> dict[str, tuple[int, str]]:
    """external_ref -> (inbound id, status) of lines already held for a board."""
    rows = bulk.rows_by_ref(
        "inbound_payments", "external_ref, id, status", source, sorted(set(refs))
    )
    return {ref: (inbound_id, status) for ref, inbound_id, status in rows}


def settle_held(
    source: str,
    inserted: dict[tuple[str, str], int],
    held: dict[str, tuple[int, str]],
    *,
    actor_id: int | None,
) -> int:
    """Mark held lines assigned when a later delivery of the same line matched a vendor
    and was just recorded. Returns how many."""
    lines = []
    for ref, (inbound_id, status) in held.items():
        tx_id = inserted.get((source, ref))
        if tx_id is not None and status == InboundStatus.UNMATCHED:
            lines.append((inbound_id, tx_id))
    return settle_lines(lines, actor_id=actor_id, note="matched on a later delivery")


def settle_lines(lines: Iterable[tuple[int, int]], *, actor_id: int | None, note: str) -> int:
    """Mark these held lines (inbound id, ledger row id) assigned to those rows, each
    only while still unmatched. Returns how many."""
    table = rollups.INBOUND
    now = utcnow()
    settled = 0
    for inbound_id, tx_id in lines:
        db.session.execute(
            update(table)
            .where(table.c.id == inbound_id, table.c.status == InboundStatus.UNMATCHED.value)
            .values(
                status=InboundStatus.ASSIGNED.value,
                transaction_id=tx_id,
                decided_by_id=actor_id,
                decided_at=now,
                decision_note=note,
            )
        )
        settled += 1
    return settled


def same_transfer(bank_refs: Iterable[str | None]) -> dict[str, list[HeldCopy]]:
    """bank_ref -> the lines of that bank transfer held for a board, from any source.

    One transfer can arrive twice, by a provider's notification and in the statement:
    a board's decision on either copy stands for the transfer. A copy set aside
    (``ignored``) keeps every other copy out of the ledger; copies still unmatched are
    settled when the transfer is recorded (see ``settle_lines``)."""
    wanted = sorted({ref for ref in bank_refs if ref})
    found: dict[str, list[HeldCopy]] = {}
    for bank_ref, inbound_id, status, source, ref in bulk.held_by_bank_ref(wanted):
        found.setdefault(bank_ref, []).append(HeldCopy(inbound_id, status, source, ref))
    return found


def set_aside_copy(copies: Iterable[HeldCopy]) -> HeldCopy | None:
    """The copy a board set aside, if any (see ``same_transfer``)."""
    return next((c for c in copies if c.status == InboundStatus.IGNORED), None)


def assignable_market_ids(actor: Any) -> list[int] | None:
    """Markets where the actor may assign held lines; None means every market (and the
    lines no market could be guessed for)."""
    if can(actor, Action.RECORD_PAYMENT):
        return None
    markets = db.session.scalars(select(Market).where(market_scope(actor))).all()
    return [m.id for m in markets if can(actor, Action.RECORD_PAYMENT, m)]


def inbound_query(actor: Any, *, market_id: int | None, status: str) -> Select[Any]:
    """SELECT of held lines the actor may assign, newest first."""
    markets = assignable_market_ids(actor)
    if markets == []:
        raise PermissionDeniedError()
    stmt = select(InboundPayment).where(InboundPayment.status == status)
    if market_id is not None:
        market = db.session.get(Market, market_id)
        if market is None:
            raise NotFoundError(details={"market": [_l("Không có chợ này.")]})
        authorize(actor, Action.RECORD_PAYMENT, market)
        stmt = stmt.where(InboundPayment.market_id == market_id)
    elif markets is not None:
        stmt = stmt.where(InboundPayment.market_id.in_(markets))
    return stmt.order_by(InboundPayment.occurred_at.desc(), InboundPayment.id.desc())


def get_inbound(inbound_id: int, *, actor: Any) -> InboundPayment:
    """A held line the actor may assign; NotFoundError otherwise."""
    row = db.session.get(InboundPayment, inbound_id)
    if row is None:
        raise NotFoundError()
    market = db.session.get(Market, row.market_id) if row.market_id is not None else None
    if not can(actor, Action.RECORD_PAYMENT, market):
        raise NotFoundError()
    return row


def assign_inbound(
    inbound_id: int,
    *,
    actor: Any,
    vendor_id: int,
    method: str = Method.VIETQR,
    origin: Origin | None = None,
) -> InboundPayment:
    """Credit a held line to a vendor: creates the ledger row (same idempotency key and
    bank_ref, so a line can never be counted twice) and marks the line assigned. When the
    ledger holds the line already (a later delivery, or the same bank transfer recorded
    through another source), the line is linked to that row instead. Audited."""
    row = get_inbound(inbound_id, actor=actor)
    if row.status != InboundStatus.UNMATCHED:
        raise ConflictError(_l("Dòng này đã được xử lý."), details={"id": [str(row.status)]})
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None:
        raise InvalidInputError.for_field("vendor_id", _l("Không có tiểu thương này."))
    authorize(actor, Action.RECORD_PAYMENT, vendor)
    if (
        row.market_id is not None
        and vendor.market_id != row.market_id
        and not can(actor, Action.RECORD_PAYMENT)
    ):
        raise InvalidInputError.for_field("vendor_id", _l("Tiểu thương không thuộc chợ này."))
    if vendor.status == VendorStatus.LEFT:
        raise InvalidInputError.for_field("vendor_id", _l("Tiểu thương đã rời chợ."))
    if str(method) not in {m.value for m in Method}:
        raise InvalidInputError.for_field("method", _l("Phương thức không hợp lệ."))
    if row.amount_vnd > MAX_AMOUNT_VND:
        raise InvalidInputError.for_field("amount", _l("Số tiền vượt mức tối đa."))
    counts = insert_transactions(
        [
            {
                "vendor_id": vendor.id,
                "market_id": vendor.market_id,
                "amount_vnd": row.amount_vnd,
                "occurred_at": row.occurred_at,
                "method": str(method),
                "source": row.source,
                "external_ref": row.external_ref,
                "reporter_id": actor.id,
                "webhook_source_id": row.webhook_source_id,
                "note": (row.content or "")[:255] or None,
                "bank_ref": row.bank_ref,
            }
        ]
    )
    tx_id = counts.ids.get((str(row.source), row.external_ref))
    if tx_id is None:
        # Already counted: the provider retried after the account was approved (same
        # key), or the transfer came in through another source too (same bank_ref).
        found = existing_transactions(str(row.source), [row.external_ref]).get(row.external_ref)
        tx_id = found[0] if found is not None else find_transaction_id_by_bank_ref(row.bank_ref)
    if tx_id is None:  # cannot happen: the insert skips only for a committed row
        raise ConflictError(_l("Giao dịch đang được ghi ở nơi khác; thử lại."))
    row.status = InboundStatus.ASSIGNED
    row.transaction_id = tx_id
    row.decided_by_id = actor.id
    row.decided_at = utcnow()
    # The same transfer held again through the other source: credited by this decision.
    siblings = [
        c.id
        for c in same_transfer([row.bank_ref]).get(row.bank_ref or "", [])
        if c.id != row.id and c.status == InboundStatus.UNMATCHED
    ]
    settle_lines(
        ((i, tx_id) for i in siblings),
        actor_id=actor.id,
        note="same bank transfer as a line assigned",
    )
    assigned = {"vendor_id": vendor.id, "transaction_id": tx_id, "amount_vnd": row.amount_vnd}
    record_event(
        actor_id=actor.id,
        action="inbound.assign",
        entity_type="inbound_payment",
        entity_id=row.id,
        market_id=vendor.market_id,
        new={**assigned, "same_transfer": siblings} if siblings else assigned,
        origin=origin,
    )
    db.session.flush()
    logger.info("user %s assigned inbound %s to vendor %s", actor.id, row.id, vendor.id)
    return row


def ignore_inbound(
    inbound_id: int, *, actor: Any, note: str, origin: Origin | None = None
) -> InboundPayment:
    """Set a held line aside (not a sale: a refund, a transfer between own accounts…)."""
    row = get_inbound(inbound_id, actor=actor)
    if row.status != InboundStatus.UNMATCHED:
        raise ConflictError(_l("Dòng này đã được xử lý."), details={"id": [str(row.status)]})
    note = " ".join((note or "").split())
    if not 3 <= len(note) <= 300:
        raise InvalidInputError.for_field("note", _l("Ghi chú cần từ 3 đến 300 ký tự."))
    row.status = InboundStatus.IGNORED
    row.decision_note = note
    row.decided_by_id = actor.id
    row.decided_at = utcnow()
    # The same transfer held again through the other source: set aside with it.
    siblings = [
        c.id
        for c in same_transfer([row.bank_ref]).get(row.bank_ref or "", [])
        if c.id != row.id and c.status == InboundStatus.UNMATCHED
    ]
    if siblings:
        table = rollups.INBOUND
        db.session.execute(
            update(table)
            .where(table.c.id.in_(siblings), table.c.status == InboundStatus.UNMATCHED.value)
            .values(
                status=InboundStatus.IGNORED.value,
                decided_by_id=actor.id,
                decided_at=row.decided_at,
                decision_note=note,
            )
        )
    record_event(
        actor_id=actor.id,
        action="inbound.ignore",
        entity_type="inbound_payment",
        entity_id=row.id,
        market_id=row.market_id,
        new={"note": note, "same_transfer": siblings} if siblings else {"note": note},
        origin=origin,
    )
    db.session.flush()
    return row


# ---- webhook sources ---------------------------------------------------------------------------

_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")


def create_webhook_source(
    name: str, *, format: str = WebhookFormat.SEPAY
) -> tuple[WebhookSource, str]:
    """Register a payment provider; returns the row and its signing secret."""
    name = name.strip().lower()
    if not _SOURCE_NAME.match(name):
        raise InvalidInputError.for_field(
            "name", _l("Tên nguồn gồm 2-40 chữ thường, số, - hoặc _.")
        )
    if format not in {f.value for f in WebhookFormat}:
        raise InvalidInputError.for_field(
            "format", _l("Định dạng phải là một trong: %(f)s.", f=", ".join(WebhookFormat))
        )
    if db.session.scalar(select(WebhookSource.id).where(WebhookSource.name == name)):
        raise ConflictError(_l("Đã có nguồn %(n)s.", n=name))
    secret = secrets.token_hex(32)
    source = WebhookSource(name=name, format=WebhookFormat(format), secret=secret)
    db.session.add(source)
    db.session.flush()
    record_event(
        actor_id=None,
        action="webhook_source.create",
        entity_type="webhook_source",
        entity_id=source.id,
        new={"name": name, "format": format},
    )
    logger.info("created webhook source %s (%s)", name, format)
    return source, secret
