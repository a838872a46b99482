"""Vendor references and static VietQR codes with their verification codes.

Two short codes live here, both drawn with :mod:`secrets` from an alphabet without the
characters people confuse when reading a stand aloud or typing it on a phone
(0/O, 1/I/L):

* the vendor ``reference`` ("CP" + 6 characters) goes at the front of every transfer
  note, so an incoming bank transfer can be matched to the vendor;
* the QR ``verify_code`` (6 characters, shown as "ABC-DEF") is printed on the stand and
  checked on the public verify page against sticker-swap fraud.

31 symbols to the 6th power is about 887 million codes, so a fresh draw almost never
collides; it is checked against the database all the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from chopay.audit.services import Origin, record_event
from chopay.auth.models import User
from chopay.db import utcnow
from chopay.errors import ConflictError, InvalidInputError
from chopay.extensions import db
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus
from chopay.vietqr import VietQRError, build_payload

logger = logging.getLogger(__name__)

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0, 1, I, L, O
VERIFY_CODE_LENGTH = 6
REFERENCE_PREFIX = "CP"
REFERENCE_LENGTH = 6  # characters after the prefix
_MAX_DRAWS = 20
_VERIFY_RE = re.compile(rf"^[{ALPHABET}]{{{VERIFY_CODE_LENGTH}}}$")


def _draw(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _unique_draws(n: int, length: int, prefix: str, column: Any) -> list[str]:
    """``n`` distinct random codes that ``column`` does not hold yet."""
    seen: set[str] = set()
    result: list[str] = []
    for _ in range(_MAX_DRAWS):
        want = n - len(result)
        if want == 0:
            return result
        batch = list({prefix + _draw(length) for _ in range(want)} - seen)
        seen.update(batch)
        taken: set[str] = set()
        for start in range(0, len(batch), 900):
            chunk = batch[start : start + 900]
            taken.update(db.session.scalars(select(column).where(column.in_(chunk))))
        result.extend(code for code in batch if code not in taken)
    raise RuntimeError("could not draw unique codes")  # pragma: no cover - 887M choices


def new_references(n: int = 1) -> list[str]:
    """``n`` unused vendor references such as ``CP7KM2QX``."""
    return _unique_draws(n, REFERENCE_LENGTH, REFERENCE_PREFIX, Vendor.reference)


def new_verify_codes(n: int = 1) -> list[str]:
    """``n`` unused verification codes (stored without the dash)."""
    return _unique_draws(n, VERIFY_CODE_LENGTH, "", QrCode.verify_code)


def format_verify_code(code: str) -> str:
    """'ABCDEF' → 'ABC-DEF', the way it is printed and read aloud."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def parse_verify_code(text: str) -> str | None:
    """What a person typed ('abc-def', 'ABC DEF', 'abcdef') → 'ABCDEF'; None if malformed."""
    code = re.sub(r"[\s\-.]", "", text).upper()
    return code if _VERIFY_RE.match(code) else None


def current_code(vendor: Vendor) -> QrCode | None:
    """The vendor's live static code (the one on their stand), or None."""
    return db.session.scalar(
        select(QrCode)
        .where(
            QrCode.vendor_id == vendor.id,
            QrCode.is_dynamic.is_(False),
            QrCode.revoked_at.is_(None),
        )
        .order_by(QrCode.issued_at.desc(), QrCode.id.desc())
        .limit(1)
    )


def static_payload(account: PaymentAccount, reference: str) -> str:
    """The static VietQR payload of an account, with the vendor reference as transfer note."""
    try:
        return build_payload(account.bank_bin, account.account_number, purpose=reference)
    except VietQRError as exc:
        raise InvalidInputError.for_field(exc.field, exc.reason) from exc


def revoke(
    codes: Iterable[QrCode],
    *,
    reason: str,
    actor: User | None,
    origin: Origin | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Revoke the given codes (audited); returns how many."""
    now = at or utcnow()
    count = 0
    for code in codes:
        code.revoked_at = now
        code.revoked_reason = reason[:200]
        record_event(
            actor_id=actor.id if actor else None,
            action="qr.revoke",
            entity_type="qr_code",
            entity_id=code.id,
            market_id=code.vendor.market_id,
            old={"revoked_at": None},
            new={"revoked_at": now, "reason": reason, "account_id": code.account_id},
            origin=origin,
        )
        logger.info("qr code %s revoked (%s)", code.id, reason)
        count += 1
    return count


def revoke_codes(
    account: PaymentAccount, *, reason: str, actor: User | None, origin: Origin | None = None
) -> int:
    """Revoke every live code (static and dynamic) of an account; returns how many."""
    codes = db.session.scalars(
        select(QrCode).where(QrCode.account_id == account.id, QrCode.revoked_at.is_(None))
    ).all()
    return revoke(codes, reason=reason, actor=actor, origin=origin)


def revoke_vendor_codes(
    vendor: Vendor, *, reason: str, actor: User | None, origin: Origin | None = None
) -> int:
    """Revoke every live code of a vendor (when they leave the market)."""
    codes = db.session.scalars(
        select(QrCode).where(QrCode.vendor_id == vendor.id, QrCode.revoked_at.is_(None))
    ).all()
    return revoke(codes, reason=reason, actor=actor, origin=origin)


def build_static_codes(accounts: Sequence[PaymentAccount], *, actor: User | None) -> list[QrCode]:
    """New (unflushed) static codes for approved accounts, one verification code each."""
    for account in accounts:
        if account.status != AccountStatus.APPROVED:
            raise ConflictError(
                _l("Chỉ cấp mã QR cho tài khoản đã được duyệt."),
                details={"account": [_l("Tài khoản đang ở trạng thái %(s)s.", s=account.status)]},
            )
        if account.vendor.status == VendorStatus.LEFT:
            raise ConflictError(_l("Tiểu thương đã nghỉ bán: không cấp mã QR mới."))
    verify_codes = new_verify_codes(len(accounts))
    issued = []
    for account, verify_code in zip(accounts, verify_codes, strict=True):
        code = QrCode(
            vendor_id=account.vendor_id,
            vendor=account.vendor,
            account=account,
            payload=static_payload(account, account.vendor.reference),
            verify_code=verify_code,
            is_dynamic=False,
            issued_by_id=actor.id if actor else None,
        )
        db.session.add(code)
        issued.append(code)
    return issued


def record_issue(code: QrCode, *, actor: User | None, origin: Origin | None = None) -> None:
    """Audit a (flushed) newly issued code."""
    record_event(
        actor_id=actor.id if actor else None,
        action="qr.issue",
        entity_type="qr_code",
        entity_id=code.id,
        market_id=code.vendor.market_id,
        new={"account_id": code.account_id, "verify_code": code.verify_code},
        origin=origin,
    )
    logger.info("qr code %s issued for vendor %s", code.id, code.vendor_id)


def issue_static_code(
    account: PaymentAccount, *, actor: User | None, origin: Origin | None = None
) -> QrCode:
    """Issue the vendor's static QR for an approved account (the code on their stand).

    The payload carries the vendor's reference as its transfer note. Any earlier static
    code of the vendor is revoked first, so a vendor has at most one live stand code.
    """
    [code] = build_static_codes([account], actor=actor)
    previous = db.session.scalars(
        select(QrCode).where(
            QrCode.vendor_id == account.vendor_id,
            QrCode.is_dynamic.is_(False),
            QrCode.revoked_at.is_(None),
        )
    ).all()
    revoke([c for c in previous if c is not code], reason="Cấp mã mới", actor=actor, origin=origin)
    db.session.flush()
    record_issue(code, actor=actor, origin=origin)
    return code
