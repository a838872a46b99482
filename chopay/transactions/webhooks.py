"""Signed payment-provider notifications.

Every request carries ``X-Chopay-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
HMAC-SHA256 of ``"<t>.<raw body>"`` under the source's secret (several ``v1=`` entries
are allowed, for rotating secrets). A wrong signature, or a ``t`` more than five minutes
from our clock, is refused before the body is even parsed, so nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from chopay.db import own_transaction, utcnow
from chopay.errors import AuthenticationError, InvalidInputError
from chopay.extensions import db
from chopay.text import NUL_MESSAGE, may_hold_nul, nul_path
from chopay.transactions import bulk, services
from chopay.transactions.matching import (
    HeldCopy,
    Match,
    MatchIndex,
    UnmatchedReason,
    VendorRef,
    bank_transfer_ref,
)
from chopay.transactions.models import (
    MAX_AMOUNT_VND,
    InboundStatus,
    Method,
    Source,
    WebhookFormat,
    WebhookSource,
)
from chopay.transactions.schemas import (
    ChopayNotificationSchema,
    SepayNotificationSchema,
    parse_time,
    ref_reason,
)
from chopay.vendors.models import Vendor, VendorStatus

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Chopay-Signature"
TOLERANCE_SECONDS = 300
MAX_BODY = 64 * 1024  # a notification is a few hundred bytes
_SEPAY = SepayNotificationSchema()
_CHOPAY = ChopayNotificationSchema()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Chopay-Signature`` header value for ``body`` (what a provider computes)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _refused() -> AuthenticationError:
    return AuthenticationError(_l("Chữ ký webhook không hợp lệ hoặc đã hết hạn."))


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a request needs of its webhook source."""

    id: int
    name: str
    format: str
    secret: str


# Built once: this runs on every notification, and building a statement costs more CPU
# than the database spends answering it.
_FIND_SOURCE = text(
    "SELECT id, name, format, secret FROM webhook_sources WHERE name = :name AND is_active"
)
# Sources a worker has read, by name, with when to read them again (see
# CREDENTIALS_CACHE_SECONDS): every notification names its source, few sources change.
_SOURCES: dict[str, tuple[SourceInfo | None, float]] = {}
_SOURCES_MAX = 1000


def forget_sources() -> None:
    """Drop this process's cached webhook sources (the next notification reads them)."""
    _SOURCES.clear()


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, flush_context: Any) -> None:
    """A webhook source written through this process: forget every cached one."""
    if _SOURCES and any(
        isinstance(obj, WebhookSource)
        for obj in itertools.chain(session.new, session.dirty, session.deleted)
    ):
        _SOURCES.clear()


def find_source(name: str) -> SourceInfo | None:
    """The active webhook source with this name."""
    if not name or len(name) > 40:
        return None
    clock = time.monotonic()
    known = _SOURCES.get(name)
    if known is not None and known[1] > clock:
        return known[0]
    # Core, not Session.execute: the ORM layer costs more than this query.
    with own_transaction(db.session) as conn:
        row = conn.execute(_FIND_SOURCE, {"name": name}).first()
    source = SourceInfo(*row) if row is not None else None
    seconds = current_app.config.get("CREDENTIALS_CACHE_SECONDS", 0)
    if seconds > 0:
        if len(_SOURCES) >= _SOURCES_MAX:
            _SOURCES.clear()  # unknown names must not grow it without end
        _SOURCES[name] = (source, clock + seconds)
    return source


def verify_signature(
    source: SourceInfo | WebhookSource | None,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
) -> SourceInfo | WebhookSource:
    """The source, if ``header`` signs ``body`` with its secret and the timestamp is within
    five minutes of ``now``; AuthenticationError (401) otherwise."""
    if source is None or not header or len(header) > 1000:
        raise _refused()
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value.strip().lower())
    if timestamp is None or not candidates:
        raise _refused()
    current = time.time() if now is None else now
    if abs(current - timestamp) > TOLERANCE_SECONDS:
        raise _refused()
    expected = hmac.new(
        source.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise _refused()
    return source


@dataclass(frozen=True)
class Notification:
    """A provider notification in chopay's terms."""

    external_id: str
    incoming: bool
    amount_vnd: int
    occurred_at: dt.datetime
    method: Method
    account_number: str | None
    content: str | None
    vendor_id: int | None
    raw: dict[str, Any]
    # "<receiving account>:<bank's reference>" when the notification names the bank's own
    # reference (see Transaction.bank_ref): the same transfer in a statement is not
    # recorded twice.
    bank_ref: str | None = None


def _load_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError.for_field(
            "_schema", _l("Nội dung không phải JSON hợp lệ.")
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError.for_field("_schema", _l("Cần một đối tượng JSON."))
    # The request-wide NUL guard leaves signed bodies to us (see access.signed).
    where = nul_path(data) if may_hold_nul(body) else None
    if where is not None:
        raise InvalidInputError.for_field(where, NUL_MESSAGE)
    return data


def _invalid(exc: ValidationError) -> InvalidInputError:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return InvalidInputError(details=messages)


def _integral_amount(value: Any) -> int:
    """SePay sends whole đồng as a JSON number; accept 2277000, 2277000.0 or "2277000"."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float) and value.is_integer():
        amount = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        amount = int(value.strip())
    else:
        raise ValueError
    if not 0 < amount <= MAX_AMOUNT_VND:
        raise ValueError
    return amount


def parse_sepay(body: bytes) -> Notification:
    """A SePay bank-transfer notification; InvalidInputError (422) when malformed."""
    data = _load_json(body)
    try:
        loaded = _SEPAY.load(data)
    except ValidationError as exc:
        raise _invalid(exc) from None
    errors: dict[str, list[Any]] = {}
    external_id = str(loaded["id"]).strip()
    if ref_reason(external_id) is not None or isinstance(loaded["id"], bool | dict | list):
        errors["id"] = [_l("Mã giao dịch không hợp lệ.")]
    try:
        amount = _integral_amount(loaded["transferAmount"])
    except ValueError:
        amount = 0
        errors["transferAmount"] = [_l("Số tiền phải là số nguyên từ 1 đến 499.999.999.")]
    occurred = None
    try:
        # SePay writes "YYYY-MM-DD HH:MM:SS" in Vietnam time.
        occurred = parse_time(loaded["transactionDate"])
    except ValueError as exc:
        errors["transactionDate"] = [exc.args[0]]
    if errors or occurred is None:
        raise InvalidInputError(details=errors)
    content = loaded.get("content") or loaded.get("description")
    account = loaded.get("subAccount") or loaded.get("accountNumber")
    return Notification(
        external_id=external_id,
        incoming=loaded["transferType"] == "in",
        amount_vnd=amount,
        occurred_at=occurred,
        method=Method.VIETQR,
        account_number=account,
        content=content,
        vendor_id=None,
        raw=data,
        # referenceCode is the bank's own transaction reference, as on the statement
        bank_ref=bank_transfer_ref(account, loaded.get("referenceCode")),
    )


def parse_chopay(body: bytes) -> Notification:
    """chopay's own notification format (see ChopayNotificationSchema)."""
    data = _load_json(body)
    try:
        loaded = _CHOPAY.load(data)
    except ValidationError as exc:
        raise _invalid(exc) from None
    try:
        occurred = parse_time(loaded["occurred_at"])
    except ValueError as exc:
        raise InvalidInputError(details={"occurred_at": [exc.args[0]]}) from None
    return Notification(
        external_id=loaded["id"],
        incoming=loaded["direction"] == "in",
        amount_vnd=loaded["amount"],
        occurred_at=occurred,
        method=Method(loaded["method"]),
        account_number=loaded.get("account_number"),
        content=loaded.get("content"),
        vendor_id=loaded.get("vendor_id"),
        raw=data,
        bank_ref=bank_transfer_ref(loaded.get("account_number"), loaded.get("bank_reference")),
    )


PARSERS = {WebhookFormat.SEPAY: parse_sepay, WebhookFormat.CHOPAY: parse_chopay}


@dataclass(frozen=True)
class WebhookOutcome:
    status: str  # created, duplicate, unmatched, ignored
    id: int | None = None
    inbound_id: int | None = None


def handle_notification(
    source: SourceInfo | WebhookSource, body: bytes, *, now: dt.datetime | None = None
) -> WebhookOutcome:
    """Record one verified notification (the signature is checked by the caller).

    Incoming payments matched to a vendor go to the ledger (source ``webhook``, key
    ``<source name>:<provider id>``, plus the transfer's ``bank_ref`` when the provider
    names the bank's reference); unmatched ones are held for a board; outgoing ones are
    ignored. A transfer the ledger holds already, under this key or under its bank_ref
    (e.g. imported from the statement first), answers ``duplicate`` with that row's id.
    Flushes, never commits."""
    parsed = PARSERS[WebhookFormat(source.format)](body)
    if not parsed.incoming:
        return WebhookOutcome("ignored")
    now = now or utcnow()
    if parsed.occurred_at > now + services.MAX_SKEW:
        raise InvalidInputError(
            _l("Thời gian giao dịch ở tương lai."),
            details={"occurred_at": [_l("Không được muộn hơn hiện tại quá 5 phút.")]},
        )
    key = f"{source.name}:{parsed.external_id}"[:120]
    kind = Source.WEBHOOK.value
    found, held, copies = _match(parsed, kind, key)
    if found.vendor is not None:
        if held.get(key, (0, ""))[1] == "ignored":
            return WebhookOutcome("duplicate", inbound_id=held[key][0])
        aside = services.set_aside_copy(copies)
        if aside is not None:  # a board set this bank transfer aside (its statement line)
            return WebhookOutcome("duplicate", inbound_id=aside.id)
        waiting = [c.id for c in copies if c.status == InboundStatus.UNMATCHED]
        row = {
            "vendor_id": found.vendor.id,
            "market_id": found.vendor.market_id,
            "amount_vnd": parsed.amount_vnd,
            "occurred_at": parsed.occurred_at,
            "method": parsed.method.value,
            "source": kind,
            "external_ref": key,
            "webhook_source_id": source.id,
            "note": (parsed.content or "")[:255] or None,
            "bank_ref": parsed.bank_ref,
        }
        if held or waiting:  # held copies of it: record and settle them atomically
            with bulk.session_statements():
                counts = services.insert_transactions([row])
                services.settle_held(kind, counts.ids, held, actor_id=None)
                recorded = counts.ids.get((kind, key))
                services.settle_lines(
                    ((copy_id, recorded) for copy_id in waiting if recorded is not None),
                    actor_id=None,
                    note="same bank transfer recorded from a provider's notification",
                )
        else:
            if bulk.in_lane():  # stored now, or the row stored under this key: one trip
                done = bulk.record_one(services.ledger_values(row, now))
                if done is not None:
                    return WebhookOutcome("created" if done[0] else "duplicate", done[1][0])
            counts = services.insert_transactions([row])
        new_id = counts.ids.get((kind, key))
        if new_id is not None:
            return WebhookOutcome("created", new_id)
        existing = services.existing_transactions(kind, [key])
        if key in existing:
            return WebhookOutcome("duplicate", existing[key][0])
        # Recorded through another source (the statement import): same bank transfer.
        other_id = services.find_transaction_id_by_bank_ref(parsed.bank_ref)
        if other_id is not None:
            # An earlier delivery of this notification held for a board is settled too.
            services.settle_held(kind, {(kind, key): other_id}, held, actor_id=None)
        return WebhookOutcome("duplicate", other_id)
    ids = services.hold_inbound(
        [
            {
                "source": kind,
                "external_ref": key,
                "webhook_source_id": source.id,
                "amount_vnd": parsed.amount_vnd,
                "occurred_at": parsed.occurred_at,
                "account_number": (parsed.account_number or "")[:40] or None,
                "content": parsed.content,
                "bank_ref": parsed.bank_ref,
                "raw": parsed.raw,
                "reason": str(found.reason),
                "market_id": found.market_id,
            }
        ]
    )
    if key in held:
        return WebhookOutcome("duplicate", inbound_id=ids.get(key))
    return WebhookOutcome("unmatched", inbound_id=ids.get(key))


def _match(
    parsed: Notification, source: str, key: str
) -> tuple[Match, dict[str, tuple[int, str]], list[HeldCopy]]:
    """The vendor a notification belongs to (or why none), its line if already held for a
    board (external_ref -> (inbound id, status)), and the other held copies of its bank
    transfer (see ``services.same_transfer``)."""
    if parsed.vendor_id is not None:
        held = services.held_refs(source, [key])
        copies = [
            c
            for c in services.same_transfer([parsed.bank_ref]).get(parsed.bank_ref or "", [])
            if (c.source, c.external_ref) != (source, key)
        ]
        vendor = db.session.get(Vendor, parsed.vendor_id)
        if vendor is None:
            return Match(None, UnmatchedReason.UNKNOWN_VENDOR, None), held, copies
        if vendor.status == VendorStatus.LEFT:
            return Match(None, UnmatchedReason.VENDOR_LEFT, vendor.market_id), held, copies
        ref = VendorRef(vendor.id, vendor.market_id, vendor.status, vendor.reference)
        return Match(ref), held, copies
    index = MatchIndex.load_notification(
        parsed.account_number, parsed.content, source, key, parsed.bank_ref
    )
    return index.match(parsed.account_number, parsed.content), index.held, index.copies
