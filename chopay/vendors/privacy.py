"""A vendor's personal data on their request (Personal Data Protection Law 91/2025).

**Export**: everything chopay holds about one vendor (their record, payment accounts, QR
codes, payments and login accounts) as one JSON document. Allowed to admins, the vendor's
board and the vendor themself; every export is audited.

**Erasure** (admins and the vendor's board, on the vendor's request): the vendor becomes an
anonymous record that still counts in every total.

- replaced by placeholders: name, phone, ID number (already masked), payment account
  numbers and holder names, QR payloads, payment notes, the account numbers inside bank
  statement references and bank transfer references (``bank_ref``; pseudonymised with a
  one-off key that is thrown away), held
  statement lines paid into the vendor's accounts (account, note, raw notification),
  the vendor's login accounts (deactivated, renamed, tokens revoked);
- kept: the stall, goods category, bank BIN, account kinds and statuses, the reference
  code, every ledger row's amount, time, method and void state, the daily rollups, so
  report totals before and after erasure are equal;
- QR codes are revoked and the vendor's status becomes ``left``.

The audit trail is kept (who did what, when) but scrubbed the same way: in the events
about the vendor, their accounts, codes and login accounts, personal values in the
recorded old/new values become the placeholder, and the vendor's own IP address and
browser are removed from the events they caused. The erasure itself is audited with
counts only. Nothing is copied aside, so erasure cannot be undone; database backups made
before it still hold the data until they are rotated out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, or_, select, update
from werkzeug.security import generate_password_hash

from chopay.audit.models import AuditEvent
from chopay.audit.services import Origin, record_event
from chopay.auth.models import ApiToken, User
from chopay.auth.policy import Action, authorize
from chopay.db import utcnow
from chopay.errors import ConflictError, InvalidInputError
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.text import fold
from chopay.transactions.models import InboundPayment, Source, Transaction
from chopay.vendors import codes
from chopay.vendors.models import PaymentAccount, QrCode, Vendor, VendorStatus

logger = logging.getLogger(__name__)

ERASED = "Đã xóa dữ liệu"  # what an erased name, holder or note reads as
ERASED_ACCOUNT_NUMBER = "DAXOA"  # fits the account-number column and its characters
ERASE_ACTION = "vendor.erase"
# Keys of audited old/new values that hold personal data.
PERSONAL_KEYS = frozenset(
    {
        "full_name",
        "phone",
        "id_number_masked",
        "account_number",
        "account_name",
        "username",
        "payload",
        "purpose",
    }
)


@dataclass(frozen=True)
class VendorExport:
    """Everything held about one vendor (dumped by VendorExportSchema)."""

    exported_at: dt.datetime
    vendor: Vendor
    market: Market
    accounts: list[PaymentAccount]
    qr_codes: list[QrCode]
    transactions: list[Transaction]
    logins: list[User]


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure changed (dumped by ErasureResultSchema, audited as is)."""

    vendor_id: int
    accounts: int
    qr_codes_revoked: int
    transactions: int
    inbound_payments: int
    logins: int
    audit_events: int

    def counts(self) -> dict[str, int]:
        """The figures without the vendor id."""
        return {
            "accounts": self.accounts,
            "qr_codes_revoked": self.qr_codes_revoked,
            "transactions": self.transactions,
            "inbound_payments": self.inbound_payments,
            "logins": self.logins,
            "audit_events": self.audit_events,
        }


def is_erased(vendor: Vendor) -> bool:
    """Whether the vendor's personal data was erased."""
    return (
        db.session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.entity_type == "vendor",
                AuditEvent.entity_id == str(vendor.id),
                AuditEvent.action == ERASE_ACTION,
            )
        )
        is not None
    )


def _logins(vendor: Vendor) -> list[User]:
    return list(db.session.scalars(select(User).where(User.vendor_id == vendor.id)))


def export_vendor_data(
    vendor: Vendor, *, actor: User, origin: Origin | None = None
) -> VendorExport:
    """Everything held about the vendor, for the vendor's own request. Audited."""
    authorize(actor, Action.EXPORT_DATA, vendor)
    accounts = list(
        db.session.scalars(
            select(PaymentAccount)
            .where(PaymentAccount.vendor_id == vendor.id)
            .order_by(PaymentAccount.id)
        )
    )
    qr_codes = list(
        db.session.scalars(select(QrCode).where(QrCode.vendor_id == vendor.id).order_by(QrCode.id))
    )
    transactions = list(
        db.session.scalars(
            select(Transaction)
            .where(Transaction.vendor_id == vendor.id)
            .order_by(Transaction.occurred_at, Transaction.id)
        )
    )
    record_event(
        actor_id=actor.id,
        action="vendor.export",
        entity_type="vendor",
        entity_id=vendor.id,
        market_id=vendor.market_id,
        new={"transactions": len(transactions), "accounts": len(accounts)},
        origin=origin,
    )
    logger.info("user %s exported the data of vendor %s", actor.id, vendor.id)
    return VendorExport(
        exported_at=utcnow(),
        vendor=vendor,
        market=vendor.market,
        accounts=accounts,
        qr_codes=qr_codes,
        transactions=transactions,
        logins=_logins(vendor),
    )


def check_confirmation(vendor: Vendor, typed: str | None) -> None:
    """Erasure is confirmed by typing the vendor's reference code (any case, spaces ignored)."""
    if "".join((typed or "").split()).upper() != vendor.reference.upper():
        raise InvalidInputError.for_field(
            "confirm",
            _l("Gõ đúng mã tiểu thương %(ref)s để xác nhận xóa dữ liệu.", ref=vendor.reference),
        )


def erase_vendor(vendor: Vendor, *, actor: User, origin: Origin | None = None) -> ErasureResult:
    """Anonymise the vendor for good, keeping every amount (see the module docstring).

    Raises ConflictError if the vendor was erased already.
    """
    authorize(actor, Action.ERASE_DATA, vendor)
    if is_erased(vendor):
        raise ConflictError(_l("Dữ liệu cá nhân của tiểu thương này đã được xóa."))
    old_status = VendorStatus(vendor.status)
    accounts = list(
        db.session.scalars(select(PaymentAccount).where(PaymentAccount.vendor_id == vendor.id))
    )
    numbers = {a.account_number for a in accounts}
    revoked = codes.revoke_vendor_codes(
        vendor, reason="Xóa dữ liệu cá nhân theo yêu cầu", actor=actor, origin=origin
    )
    code_ids = _scrub_codes(vendor)
    for account in accounts:
        account.account_number = ERASED_ACCOUNT_NUMBER
        account.account_name = ERASED
        account.decision_reason = None
    _scrub_vendor(vendor)
    key = secrets.token_bytes(32)  # pseudonymises statement references; never stored
    transactions = _scrub_transactions(vendor, key)
    inbound_ids = _scrub_inbound(vendor, numbers, key)
    logins = _logins(vendor)
    _scrub_logins(logins)
    db.session.flush()
    events = _scrub_audit(
        {
            "vendor": [vendor.id],
            "payment_account": [a.id for a in accounts],
            "qr_code": code_ids,
            "user": [u.id for u in logins],
            "inbound_payment": inbound_ids,
        },
        actors=[u.id for u in logins],
    )
    result = ErasureResult(
        vendor_id=vendor.id,
        accounts=len(accounts),
        qr_codes_revoked=revoked,
        transactions=transactions,
        inbound_payments=len(inbound_ids),
        logins=len(logins),
        audit_events=events,
    )
    record_event(
        actor_id=actor.id,
        action=ERASE_ACTION,
        entity_type="vendor",
        entity_id=vendor.id,
        market_id=vendor.market_id,
        old={"status": old_status},
        new={"status": VendorStatus.LEFT, **result.counts()},
        origin=origin,
    )
    logger.info("user %s erased the personal data of vendor %s", actor.id, vendor.id)
    return result


def _scrub_vendor(vendor: Vendor) -> None:
    vendor.full_name = ERASED
    vendor.name_key = fold(ERASED)
    vendor.phone = None
    vendor.id_number_masked = None
    if vendor.status != VendorStatus.LEFT:
        vendor.status = VendorStatus.LEFT
        vendor.left_at = utcnow()


def _scrub_codes(vendor: Vendor) -> list[int]:
    """Blank every code's payload (it holds the account number) and sale note."""
    rows = list(db.session.scalars(select(QrCode).where(QrCode.vendor_id == vendor.id)))
    for code in rows:
        code.payload = ""
        code.purpose = None
    return [c.id for c in rows]


def _pseudonym(key: bytes, ref: str) -> str:
    return "erased:" + hmac.new(key, ref.encode(), hashlib.sha256).hexdigest()[:40]


def _scrub_transactions(vendor: Vendor, key: bytes) -> int:
    """Drop the notes of the vendor's payments; statement references and bank transfer
    references embed the receiving account number, so they become keyed pseudonyms (still
    unique, never reversible)."""
    table = cast(Table, Transaction.__table__)
    done = db.session.execute(update(table).where(table.c.vendor_id == vendor.id).values(note=None))
    rows = db.session.execute(
        select(table.c.id, table.c.source, table.c.external_ref, table.c.bank_ref).where(
            table.c.vendor_id == vendor.id,
            or_(table.c.source == Source.IMPORT, table.c.bank_ref.is_not(None)),
        )
    ).all()
    if rows:
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(external_ref=bindparam("new_ref"), bank_ref=bindparam("new_bank_ref")),
            [
                {
                    "row_id": row_id,
                    "new_ref": _pseudonym(key, ref) if source == Source.IMPORT else ref,
                    "new_bank_ref": _pseudonym(key, bank_ref) if bank_ref else None,
                }
                for row_id, source, ref, bank_ref in rows
            ],
        )
    return int(getattr(done, "rowcount", 0) or 0)


def _scrub_inbound(vendor: Vendor, numbers: Iterable[str], key: bytes) -> list[int]:
    """Held lines paid into the vendor's accounts or credited to them lose their account
    number, note and raw notification."""
    paid_to_vendor = select(Transaction.id).where(Transaction.vendor_id == vendor.id)
    conditions = [InboundPayment.transaction_id.in_(paid_to_vendor)]
    numbers = sorted(n for n in numbers if n and n != ERASED_ACCOUNT_NUMBER)
    if numbers:
        conditions.append(InboundPayment.account_number.in_(numbers))
    rows = list(db.session.scalars(select(InboundPayment).where(or_(*conditions))))
    for row in rows:
        row.account_number = ERASED_ACCOUNT_NUMBER
        row.content = None
        row.raw = {}
        if row.source == Source.IMPORT:
            row.external_ref = _pseudonym(key, row.external_ref)
        if row.bank_ref:
            row.bank_ref = _pseudonym(key, row.bank_ref)
    return [r.id for r in rows]


def _scrub_logins(users: Iterable[User]) -> None:
    """The vendor's own login accounts: deactivated, renamed, unusable, tokens revoked."""
    now = utcnow()
    for user in users:
        user.username = f"erased-{user.id}"
        user.full_name = None
        user.organisation = None
        user.is_active = False
        user.password_hash = generate_password_hash(secrets.token_urlsafe(32))
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def _scrubbed(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {
        k: (ERASED if k in PERSONAL_KEYS and v not in (None, "") else v) for k, v in values.items()
    }


def _scrub_audit(entities: Mapping[str, list[int]], *, actors: list[int]) -> int:
    """Placeholders for personal values in the audit events about these entities, and no
    address or browser in the events the vendor's own logins caused. Returns how many
    events changed."""
    conditions: list[Any] = [
        (AuditEvent.entity_type == kind) & AuditEvent.entity_id.in_([str(i) for i in ids])
        for kind, ids in entities.items()
        if ids
    ]
    if actors:
        conditions.append(AuditEvent.actor_id.in_(actors))
    changed = 0
    for event in db.session.scalars(select(AuditEvent).where(or_(*conditions))):
        old, new = _scrubbed(event.old_values), _scrubbed(event.new_values)
        by_vendor = event.actor_id in actors
        if old == event.old_values and new == event.new_values and not by_vendor:
            continue
        event.old_values, event.new_values = old, new
        if by_vendor:
            event.ip_address = None
            event.user_agent = None
        changed += 1
    return changed
