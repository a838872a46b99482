"""QR codes per vendor, printable stands, stand verification and re-scan audits.

This is the glue between the database and the pure parts: it loads vendors, accounts and
codes, builds :class:`~chopay.printing.layout.Stand` values and hands them to the renderers,
and it answers "whose account is this scanned QR?" for buyers, inspectors and boards.

Static codes (the one on the stand) are issued by :mod:`chopay.vendors.codes` when an account
is approved; this module only reads them. Dynamic codes (one sale, with an amount) are issued
here.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, tuple_
from sqlalchemy.orm import contains_eager

from chopay.audit.services import Origin, record_event
from chopay.auth.models import User
from chopay.auth.policy import Action, can
from chopay.db import utcnow
from chopay.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.printing import layout
from chopay.text import fold
from chopay.vendors.codes import format_verify_code, new_verify_codes, parse_verify_code
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus
from chopay.vietqr import (
    MAX_PURPOSE_LENGTH,
    VietQRError,
    VietQRPayload,
    build_payload,
    lookup_bank,
    parse_payload,
    to_ascii,
)

logger = logging.getLogger(__name__)

# One sale at a market stall: the cap set by issue 4. Anything larger is almost certainly a
# typing mistake (an extra zero), so it is refused rather than encoded.
MIN_SALE_AMOUNT = 1
MAX_SALE_AMOUNT = 499_999_999
# A dynamic code with the same account, amount and note issued this recently is shown
# again instead of a new one: reloading the sell page does not pile up rows.
DYNAMIC_REUSE_WINDOW = dt.timedelta(hours=12)
# Re-scan audit: a market has at most a few hundred stands; refuse absurd batches.
MAX_RESCAN_ITEMS = 2000
# Problems kept in one audit event (the counts always cover the whole run).
MAX_AUDITED_PROBLEMS = 300
VERIFY_PATH = "/verify/"
BAD_CODE_FORMAT = "verify_code_format"

STAND_FORMATS: dict[str, str] = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def verify_url(code: QrCode, *, base_url: str) -> str:
    """The public address printed on the stand for checking this code."""
    return f"{base_url.rstrip('/')}{VERIFY_PATH}{code.verify_code}"


_NATURAL = re.compile(r"(\d+)")


def stall_sort_key(stall: str) -> tuple[tuple[int, int, str], ...]:
    """Natural order of stall numbers: 'A-2' before 'A-10', case and accents ignored."""
    parts = _NATURAL.split(fold(stall))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def stall_match_key(stall: str) -> str:
    """Stalls compare on letters and digits only: 'a 12', 'A-12' and 'Quầy A12' are 'A12'."""
    folded = fold(stall)
    for prefix in ("quay ", "kiot ", "ki ot ", "ki-ot "):
        if folded.startswith(prefix):
            folded = folded[len(prefix) :]
    return re.sub(r"[^a-z0-9]", "", folded).upper()


def stall_label(stall: str) -> str:
    """'A-12' → 'Quầy A-12' for the stand; a stall already named 'Quầy …'/'Ki-ốt …' is kept."""
    folded = fold(stall)
    if folded.startswith(("quay", "kiot", "ki ot", "ki-ot", "sap", "lo ")):
        return stall
    return f"Quầy {stall}"


def bank_short_name(bank_bin: str) -> str:
    """The bank's short name from the directory, or the BIN itself for an unlisted bank."""
    bank = lookup_bank(bank_bin)
    return bank.short_name if bank else bank_bin


def mask_account(number: str) -> str:
    """Account number with only the last 4 characters shown ('•••• 6789')."""
    return layout.mask_account(number)


def file_slug(text: str) -> str:
    """ASCII file-name part: 'Quầy A-12' → 'Quay-A-12'."""
    return re.sub(r"[^A-Za-z0-9]+", "-", to_ascii(text)).strip("-")[:40] or "quay"


# --------------------------------------------------------------------------------------------
# Codes of one vendor
# --------------------------------------------------------------------------------------------


def find_primary_account(vendor: Vendor) -> PaymentAccount | None:
    """The vendor's approved primary account, or None."""
    return db.session.scalar(
        select(PaymentAccount).where(
            PaymentAccount.vendor_id == vendor.id,
            PaymentAccount.is_primary.is_(True),
            PaymentAccount.status == AccountStatus.APPROVED,
        )
    )


def get_primary_account(vendor: Vendor) -> PaymentAccount:
    """The vendor's approved primary account; NotFoundError with the reason when there is none."""
    if vendor.status == VendorStatus.LEFT:
        raise NotFoundError(_l("Tiểu thương đã nghỉ bán: mã QR đã bị thu hồi."))
    account = find_primary_account(vendor)
    if account is None:
        raise NotFoundError(
            _l(
                "Tiểu thương chưa có tài khoản thanh toán được duyệt, nên chưa có mã QR. "
                "Thêm tài khoản và nhờ người thứ hai duyệt."
            )
        )
    return account


def get_stand_code(vendor: Vendor) -> QrCode:
    """The live static code of the vendor's primary approved account (the one on the stand).

    The same code :func:`chopay.vendors.codes.current_code` returns (the newest live static
    code), loaded together with its account in one query because every caller prints the
    account next to it.
    """
    if vendor.status == VendorStatus.LEFT:
        raise NotFoundError(_l("Tiểu thương đã nghỉ bán: mã QR đã bị thu hồi."))
    code = db.session.scalar(
        select(QrCode)
        .join(QrCode.account)
        .options(contains_eager(QrCode.account))
        .where(
            QrCode.vendor_id == vendor.id,
            QrCode.is_dynamic.is_(False),
            QrCode.revoked_at.is_(None),
        )
        .order_by(QrCode.issued_at.desc(), QrCode.id.desc())
        .limit(1)
    )
    if (
        code is not None
        and code.account.is_primary
        and code.account.status == AccountStatus.APPROVED
    ):
        return code
    get_primary_account(vendor)  # says "no approved account" when that is the reason
    raise NotFoundError(
        _l("Tiểu thương chưa được cấp mã QR cho tài khoản đang dùng (hoặc mã đã bị thu hồi).")
    )


def sale_note(vendor: Vendor, purpose: str | None) -> str:
    """The transfer note of a sale: the vendor reference first, then the buyer's short note.

    The note is transliterated to ASCII letters, digits and spaces (several banks refuse
    other characters in a transfer note) and must fit the 25 characters of EMVCo 62.08.
    """
    reference = vendor.reference
    if purpose is None or not purpose.strip():
        return reference
    text = " ".join(re.sub(r"[^A-Za-z0-9]+", " ", to_ascii(purpose)).split())
    if not text:
        raise InvalidInputError.for_field(
            "purpose", _l("Nội dung chỉ nên gồm chữ và số (có thể có dấu tiếng Việt).")
        )
    room = MAX_PURPOSE_LENGTH - len(reference) - 1
    if len(text) > room:
        raise InvalidInputError.for_field(
            "purpose",
            _l("Nội dung tối đa %(n)d ký tự (không tính dấu), đang có %(m)d.", n=room, m=len(text)),
        )
    return f"{reference} {text}"


def check_sale_amount(amount: Any) -> int:
    """A sale amount as whole đồng in 1..499,999,999; InvalidInputError on ``amount`` if not."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInputError.for_field("amount", _l("Số tiền phải là số nguyên đồng."))
    if not MIN_SALE_AMOUNT <= amount <= MAX_SALE_AMOUNT:
        raise InvalidInputError.for_field(
            "amount", _l("Số tiền phải từ 1 ₫ đến 499.999.999 ₫ cho một lần bán.")
        )
    return amount


def issue_dynamic_code(
    vendor: Vendor,
    amount: int,
    *,
    purpose: str | None,
    actor: User | None,
    origin: Origin | None = None,
) -> QrCode:
    """A one-sale VietQR code (with amount) for the vendor's primary approved account.

    The transfer note starts with the vendor's reference, so the incoming transfer can be
    matched. The same account, amount and note asked again within
    ``DYNAMIC_REUSE_WINDOW`` returns the code issued before. Dynamic codes have their own
    verification code but do not count as the vendor "having a QR" (that is the stand).
    ``origin`` is accepted for symmetry with other services; dynamic codes are not audited
    (one per sale would drown the audit log) but each is logged.
    """
    amount = check_sale_amount(amount)
    account = get_primary_account(vendor)
    if vendor.status == VendorStatus.SUSPENDED:
        raise ConflictError(_l("Tiểu thương đang tạm ngừng bán: không tạo mã QR mới."))
    note = sale_note(vendor, purpose)
    since = utcnow() - DYNAMIC_REUSE_WINDOW
    existing = db.session.scalar(
        select(QrCode)
        .where(
            QrCode.account_id == account.id,
            QrCode.is_dynamic.is_(True),
            QrCode.revoked_at.is_(None),
            QrCode.amount_vnd == amount,
            QrCode.purpose == note,
            QrCode.issued_at >= since,
        )
        .order_by(QrCode.issued_at.desc(), QrCode.id.desc())
        .limit(1)
    )
    if existing is not None:
        return existing
    try:
        payload = build_payload(
            account.bank_bin, account.account_number, amount=amount, purpose=note
        )
    except VietQRError as exc:
        raise InvalidInputError.for_field(exc.field, exc.reason) from exc
    code = QrCode(
        vendor_id=vendor.id,
        account=account,
        payload=payload,
        verify_code=new_verify_codes(1)[0],
        is_dynamic=True,
        amount_vnd=amount,
        purpose=note,
        issued_by_id=actor.id if actor else None,
    )
    db.session.add(code)
    db.session.flush()
    logger.info(
        "dynamic qr code %s issued for vendor %s (%s đồng) by user %s",
        code.id,
        vendor.id,
        amount,
        actor.id if actor else None,
    )
    return code


def find_sale_code(vendor: Vendor, verify_code: str) -> QrCode | None:
    """A live dynamic code of this vendor by its verification code, or None."""
    code = parse_verify_code(verify_code)
    if code is None:
        return None
    return db.session.scalar(
        select(QrCode).where(
            QrCode.verify_code == code,
            QrCode.vendor_id == vendor.id,
            QrCode.is_dynamic.is_(True),
            QrCode.revoked_at.is_(None),
        )
    )


def user_note(code: QrCode) -> str | None:
    """The part of a dynamic code's transfer note the seller typed (after the reference)."""
    if not code.purpose:
        return None
    reference = code.vendor.reference
    rest = code.purpose[len(reference) :] if code.purpose.startswith(reference) else code.purpose
    return rest.strip() or None


# --------------------------------------------------------------------------------------------
# Stands
# --------------------------------------------------------------------------------------------


def build_stand(code: QrCode, *, base_url: str) -> layout.Stand:
    """What is printed for this code: QR, vendor, stall, market, bank, masked account, check."""
    vendor = code.vendor
    account = code.account
    return layout.Stand(
        payload=code.payload,
        vendor_name=vendor.full_name,
        stall=stall_label(vendor.stall),
        market_name=vendor.market.name,
        bank_short_name=bank_short_name(account.bank_bin),
        account_name=account.account_name,
        account_number_masked=mask_account(account.account_number),
        verify_code=format_verify_code(code.verify_code),
        verify_url=verify_url(code, base_url=base_url),
        amount=code.amount_vnd if code.is_dynamic else None,
        note=user_note(code) if code.is_dynamic else None,
    )


# Rendering is pure and deterministic: the same Stand always gives the same bytes, so a small
# per-process cache keyed by the full Stand value can never serve a stale stand (any change of
# name, account, code or URL is a different key). It spares re-rendering when a stand is
# downloaded again or in another format right after being previewed.
_RENDERERS = {"png": layout.stand_png, "svg": layout.stand_svg, "pdf": layout.stand_pdf}


@functools.lru_cache(maxsize=96)
def _render_cached(fmt: str, stand: layout.Stand) -> bytes:
    return _RENDERERS[fmt](stand)


def render_stand(stand: layout.Stand, fmt: str) -> bytes:
    """One stand as PNG (300 dpi), SVG or PDF bytes."""
    if fmt not in _RENDERERS:
        raise InvalidInputError.for_field("format", _l("Định dạng phải là png, svg hoặc pdf."))
    return _render_cached(fmt, stand)


def stand_filename(code: QrCode, fmt: str) -> str:
    """Download name naming the stall: 'bang-qr-Quay-A-12-CP7KM2QX.pdf'."""
    vendor = code.vendor
    suffix = f"-{code.amount_vnd}d" if code.is_dynamic else ""
    return f"bang-qr-{file_slug(stall_label(vendor.stall))}-{vendor.reference}{suffix}.{fmt}"


def market_stand_codes(market: Market) -> list[QrCode]:
    """Live stand codes of every active vendor of the market, in natural stall order.

    One query loads codes with their vendors and accounts (the market is already loaded),
    so a 500-stall market costs one round trip, not 1,500.
    """
    rows = db.session.scalars(
        select(QrCode)
        .join(QrCode.vendor)
        .join(QrCode.account)
        .where(
            Vendor.market_id == market.id,
            Vendor.status == VendorStatus.ACTIVE,
            QrCode.is_dynamic.is_(False),
            QrCode.revoked_at.is_(None),
            PaymentAccount.status == AccountStatus.APPROVED,
            PaymentAccount.is_primary.is_(True),
        )
        .options(contains_eager(QrCode.vendor), contains_eager(QrCode.account))
        .order_by(QrCode.issued_at.desc(), QrCode.id.desc())
    ).all()
    latest: dict[int, QrCode] = {}
    for code in rows:
        # Newest first: one stand per vendor. ``vendor.market`` needs no query later: it is
        # a many-to-one by primary key and the market is already in the identity map.
        latest.setdefault(code.vendor_id, code)
    return sorted(latest.values(), key=lambda c: (stall_sort_key(c.vendor.stall), c.vendor.id))


def active_vendors_without_stand(market: Market, printed: Iterable[QrCode]) -> list[Vendor]:
    """Active vendors of the market who have no live stand code (nothing will be printed)."""
    with_code = {c.vendor_id for c in printed}
    vendors = db.session.scalars(
        select(Vendor).where(Vendor.market_id == market.id, Vendor.status == VendorStatus.ACTIVE)
    ).all()
    missing = [v for v in vendors if v.id not in with_code]
    return sorted(missing, key=lambda v: (stall_sort_key(v.stall), v.id))


def market_stands_pdf(
    market: Market, *, layout_name: str = "a6", base_url: str
) -> tuple[bytes, int]:
    """Every active vendor's stand in one PDF (A6 pages or 4 per A4); returns (pdf, count)."""
    if layout_name not in ("a6", "a4x4"):
        raise InvalidInputError.for_field("layout", _l("Khổ in phải là a6 hoặc a4x4."))
    codes = market_stand_codes(market)
    stands = [build_stand(code, base_url=base_url) for code in codes]
    return layout.stands_pdf(stands, layout=layout_name), len(stands)  # type: ignore[arg-type]


def market_filename(market: Market, layout_name: str) -> str:
    """'bang-qr-TN-0001-a6.pdf'."""
    return f"bang-qr-{file_slug(market.code)}-{layout_name}.pdf"


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


class VerifyStatus(enum.StrEnum):
    OK = "ok"
    REVOKED = "revoked"  # code revoked / account replaced / vendor left
    UNKNOWN_ACCOUNT = "unknown_account"  # scanned account registered to nobody
    MISMATCH = "mismatch"  # registered, but to another stall / vendor / market
    SUSPENDED = "suspended"  # registered vendor currently suspended by the board
    UNKNOWN_CODE = "unknown_code"  # verification code that was never issued
    INVALID = "invalid"  # not a VietQR payload / not a verification code


WARNINGS = frozenset(VerifyStatus) - {VerifyStatus.OK}

STATUS_MESSAGES: dict[VerifyStatus, Any] = {
    VerifyStatus.OK: _l("Hợp lệ: mã QR thuộc đúng tiểu thương đã đăng ký."),
    VerifyStatus.REVOKED: _l("Mã này đã bị thu hồi — không thanh toán."),
    VerifyStatus.UNKNOWN_ACCOUNT: _l(
        "Tài khoản trong mã QR này không đăng ký cho quầy nào — có thể mã đã bị dán đè. "
        "Không thanh toán, báo ban quản lý chợ."
    ),
    VerifyStatus.MISMATCH: _l(
        "Tài khoản này đăng ký cho một quầy khác — có thể mã đã bị dán đè. "
        "Không thanh toán, báo ban quản lý chợ."
    ),
    VerifyStatus.SUSPENDED: _l(
        "Quầy này đang tạm ngừng trên hệ thống — hỏi ban quản lý chợ trước khi thanh toán."
    ),
    VerifyStatus.UNKNOWN_CODE: _l(
        "Không tìm thấy mã xác thực này — có thể là bảng QR giả. "
        "Không thanh toán, báo ban quản lý chợ."
    ),
    VerifyStatus.INVALID: _l("Đây không phải mã VietQR hợp lệ — không thanh toán."),
}


def status_message(status: str) -> Any:
    """The plain Vietnamese sentence for a verification status."""
    return STATUS_MESSAGES[VerifyStatus(status)]


@dataclass(frozen=True)
class Registration:
    """A live registration: an unrevoked code of an approved account of a current vendor."""

    code: QrCode
    account: PaymentAccount
    vendor: Vendor
    market: Market


@dataclass(frozen=True)
class VerifyResult:
    """The answer to "whose QR is this?"; ``registration`` is where the account is registered.

    For ``revoked``, ``registration`` is None: the former owner is not disclosed publicly.
    """

    status: VerifyStatus
    registration: Registration | None = None
    scanned: VietQRPayload | None = None
    code: QrCode | None = None  # looked up by verification code
    reason: str | None = None  # why a payload is invalid
    is_exact_payload: bool = False  # the scanned text is byte-for-byte the issued payload

    @property
    def is_ok(self) -> bool:
        """Whether the buyer can pay."""
        return self.status == VerifyStatus.OK

    @property
    def message(self) -> Any:
        """Plain-language verdict."""
        if self.status == VerifyStatus.INVALID and self.reason == BAD_CODE_FORMAT:
            return _l(
                "Mã xác thực gồm 6 chữ và số, ví dụ ABC-DEF. Kiểm tra lại từng ký tự đã nhập."
            )
        return status_message(self.status)


def _live_registrations(
    pairs: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], list[Registration]]:
    """Live registrations of the given (bank BIN, account number) pairs, in one query."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    rows = db.session.execute(
        select(QrCode, PaymentAccount, Vendor, Market)
        .join(PaymentAccount, PaymentAccount.id == QrCode.account_id)
        .join(Vendor, Vendor.id == QrCode.vendor_id)
        .join(Market, Market.id == Vendor.market_id)
        .where(
            tuple_(PaymentAccount.bank_bin, PaymentAccount.account_number).in_(wanted),
            PaymentAccount.status == AccountStatus.APPROVED,
            QrCode.revoked_at.is_(None),
            Vendor.status != VendorStatus.LEFT,
        )
        .order_by(QrCode.is_dynamic, Vendor.id, QrCode.issued_at.desc(), QrCode.id.desc())
    ).all()
    found: dict[tuple[str, str], list[Registration]] = {}
    seen: set[tuple[tuple[str, str], int]] = set()
    for code, account, vendor, market in rows:
        key = (account.bank_bin, account.account_number)
        if (key, vendor.id) in seen:
            continue  # one registration per vendor: its newest static code (or dynamic one)
        seen.add((key, vendor.id))
        found.setdefault(key, []).append(Registration(code, account, vendor, market))
    return found


def _ever_coded(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs that once had a code (all of them now revoked if not live)."""
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    rows = db.session.execute(
        select(PaymentAccount.bank_bin, PaymentAccount.account_number)
        .join(QrCode, QrCode.account_id == PaymentAccount.id)
        .where(tuple_(PaymentAccount.bank_bin, PaymentAccount.account_number).in_(wanted))
        .distinct()
    ).all()
    return {(r[0], r[1]) for r in rows}


@dataclass(frozen=True)
class Expectation:
    """Where the person checking believes the QR should belong (any part may be omitted)."""

    stall: str | None = None
    vendor_id: int | None = None
    market_id: int | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing to compare against."""
        return not self.stall and self.vendor_id is None and self.market_id is None

    def accepts(self, reg: Registration) -> bool:
        """Whether the registration is where the QR was expected."""
        if self.vendor_id is not None and reg.vendor.id != self.vendor_id:
            return False
        if self.market_id is not None and reg.market.id != self.market_id:
            return False
        return not (self.stall and stall_match_key(self.stall) != stall_match_key(reg.vendor.stall))


def _judge(
    scanned: VietQRPayload,
    registrations: Sequence[Registration],
    ever_coded: bool,
    expected: Expectation,
) -> VerifyResult:
    if not registrations:
        status = VerifyStatus.REVOKED if ever_coded else VerifyStatus.UNKNOWN_ACCOUNT
        return VerifyResult(status, scanned=scanned)
    fitting = [r for r in registrations if expected.accepts(r)]
    if not fitting:
        return VerifyResult(VerifyStatus.MISMATCH, registration=registrations[0], scanned=scanned)
    reg = fitting[0]
    exact = scanned.text == reg.code.payload
    if reg.vendor.status == VendorStatus.SUSPENDED:
        return VerifyResult(
            VerifyStatus.SUSPENDED, registration=reg, scanned=scanned, is_exact_payload=exact
        )
    return VerifyResult(VerifyStatus.OK, registration=reg, scanned=scanned, is_exact_payload=exact)


def parse_scanned(text: str) -> VietQRPayload:
    """Parse a scanned payload; InvalidInputError on ``payload`` with the VietQR reason.

    The reason names the EMVCo field by its tag path ("63 (CRC): checksum …").
    """
    try:
        return parse_payload(text)
    except VietQRError as exc:
        raise InvalidInputError(
            _l("Nội dung quét được không phải mã VietQR hợp lệ."),
            details={"payload": [str(exc)]},
        ) from exc


def verify_payload(text: str, *, expected: Expectation | None = None) -> VerifyResult:
    """Which registered vendor's current account a scanned VietQR payload pays into.

    Raises InvalidInputError (field ``payload``) when the text is not a valid VietQR payload
    (bad structure or CRC).
    """
    scanned = parse_scanned(text)
    key = (scanned.bank_bin, scanned.account_number)
    registrations = _live_registrations([key]).get(key, [])
    ever = bool(registrations) or key in _ever_coded([key])
    return _judge(scanned, registrations, ever, expected or Expectation())


def verify_code(text: str) -> VerifyResult:
    """Check a verification code from a stand ('ABC-DEF', any case, dash optional)."""
    normalised = parse_verify_code(text or "")
    if normalised is None:
        return VerifyResult(VerifyStatus.INVALID, reason=BAD_CODE_FORMAT)
    code = db.session.scalar(select(QrCode).where(QrCode.verify_code == normalised))
    if code is None:
        return VerifyResult(VerifyStatus.UNKNOWN_CODE)
    vendor, account = code.vendor, code.account
    if (
        code.revoked_at is not None
        or account.status != AccountStatus.APPROVED
        or vendor.status == VendorStatus.LEFT
    ):
        return VerifyResult(VerifyStatus.REVOKED, code=code)
    reg = Registration(code, account, vendor, vendor.market)
    status = VerifyStatus.SUSPENDED if vendor.status == VendorStatus.SUSPENDED else VerifyStatus.OK
    return VerifyResult(status, registration=reg, code=code, is_exact_payload=True)


def public_answer(result: VerifyResult) -> dict[str, Any]:
    """What anyone may be told: only what is printed on the stand itself.

    Vendor name, stall, market, bank and masked account (plus the holder name, which is on
    the stand too) for a registered account; nothing about former owners of revoked codes
    and nothing about accounts that are not registered.
    """
    answer: dict[str, Any] = {"status": str(result.status), "message": str(result.message)}
    reg = result.registration
    if reg is not None and result.status in (
        VerifyStatus.OK,
        VerifyStatus.MISMATCH,
        VerifyStatus.SUSPENDED,
    ):
        answer["vendor"] = {
            "id": reg.vendor.id,
            "name": reg.vendor.full_name,
            "stall": reg.vendor.stall,
            "market": {"id": reg.market.id, "name": reg.market.name},
        }
        answer["bank"] = {
            "bin": reg.account.bank_bin,
            "short_name": bank_short_name(reg.account.bank_bin),
        }
        answer["account_name"] = reg.account.account_name
        answer["account_number_masked"] = mask_account(reg.account.account_number)
    if result.code is not None and result.code.is_dynamic and "vendor" in answer:
        answer["amount"] = result.code.amount_vnd
    if result.scanned is not None:
        answer["scanned"] = {
            "bank": {
                "bin": result.scanned.bank_bin,
                "short_name": bank_short_name(result.scanned.bank_bin),
            },
            "account_number_masked": mask_account(result.scanned.account_number),
            "amount": result.scanned.amount,
            "is_dynamic": result.scanned.is_dynamic,
        }
        answer["is_exact_payload"] = result.is_exact_payload
    return answer


# --------------------------------------------------------------------------------------------
# Re-scan audit of a market's stands
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RescanItem:
    """One stand scanned during an audit."""

    line: int
    stall: str | None
    payload: str


@dataclass(frozen=True)
class RescanLine:
    """The verdict on one scanned stand."""

    item: RescanItem
    result: VerifyResult

    @property
    def status(self) -> VerifyStatus:
        """ok / mismatch / unknown_account / revoked / suspended / invalid."""
        return self.result.status


@dataclass
class RescanReport:
    """All verdicts of one audit run, counts per status, and stands not scanned."""

    market: Market
    lines: list[RescanLine]
    not_scanned: list[Vendor] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Lines per status (every status present, zeros included)."""
        out = {str(s): 0 for s in VerifyStatus if s != VerifyStatus.UNKNOWN_CODE}
        for line in self.lines:
            out[str(line.status)] += 1
        return out

    @property
    def problems(self) -> list[RescanLine]:
        """Every line that is not ok."""
        return [line for line in self.lines if line.status != VerifyStatus.OK]


def get_rescan_market(market_id: int, *, actor: User) -> Market:
    """The market, if the actor may audit it (Action.AUDIT or Action.EDIT on the market)."""
    from chopay.markets.services import get_market

    market = get_market(market_id, actor=actor)
    if not (can(actor, Action.AUDIT, market) or can(actor, Action.EDIT, market)):
        raise PermissionDeniedError(
            _l("Chỉ ban quản lý chợ và cán bộ phụ trách được kiểm tra lại bảng QR của chợ.")
        )
    return market


_PAYLOAD_START = "000201"  # every EMVCo payload starts with ID 00, length 02, value "01"


def parse_rescan_text(text: str) -> list[RescanItem]:
    """Lines of a re-scan textarea: 'PAYLOAD' or 'STALL PAYLOAD' (tab, ';', ',' or space).

    Blank lines are skipped; line numbers count every line, so they match what was typed.
    """
    items: list[RescanItem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        at = line.find(_PAYLOAD_START)
        if at > 0:
            stall = line[:at].strip(" \t;,|") or None
            items.append(RescanItem(number, stall, line[at:].strip()))
        else:
            items.append(RescanItem(number, None, line))
    return items


def rescan_market(
    market: Market,
    items: Sequence[RescanItem],
    *,
    actor: User,
    origin: Origin | None = None,
) -> RescanReport:
    """Check every scanned stand of a market and log the run (``stand.rescan``).

    Each payload must belong to a live registration in this market, at the given stall when
    one is given. Unparseable payloads are a line verdict (``invalid``), not an error for the
    whole batch: one smudged scan must not lose the other 300.
    """
    if not items:
        raise InvalidInputError.for_field("items", _l("Chưa có mã nào được quét."))
    if len(items) > MAX_RESCAN_ITEMS:
        raise InvalidInputError.for_field(
            "items", _l("Tối đa %(n)d mã mỗi lần kiểm tra.", n=MAX_RESCAN_ITEMS)
        )
    parsed: list[tuple[RescanItem, VietQRPayload | None, str | None]] = []
    for item in items:
        try:
            parsed.append((item, parse_payload(item.payload), None))
        except VietQRError as exc:
            parsed.append((item, None, str(exc)))
    keys = [(p.bank_bin, p.account_number) for _, p, _ in parsed if p is not None]
    live = _live_registrations(keys)
    ever = _ever_coded(k for k in keys if k not in live)
    lines: list[RescanLine] = []
    for item, scanned, reason in parsed:
        if scanned is None:
            lines.append(RescanLine(item, VerifyResult(VerifyStatus.INVALID, reason=reason)))
            continue
        key = (scanned.bank_bin, scanned.account_number)
        expected = Expectation(stall=item.stall, market_id=market.id)
        regs = live.get(key, [])
        lines.append(RescanLine(item, _judge(scanned, regs, bool(regs) or key in ever, expected)))
    seen_ok = {
        line.result.registration.vendor.id
        for line in lines
        if line.status in (VerifyStatus.OK, VerifyStatus.SUSPENDED) and line.result.registration
    }
    printed = market_stand_codes(market)
    report = RescanReport(
        market=market,
        lines=lines,
        not_scanned=[c.vendor for c in printed if c.vendor_id not in seen_ok],
    )
    record_event(
        actor_id=actor.id,
        action="stand.rescan",
        entity_type="market",
        entity_id=market.id,
        market_id=market.id,
        new={
            "scanned": len(lines),
            "counts": report.counts,
            "not_scanned": len(report.not_scanned),
            "problems": [_audit_line(line) for line in report.problems[:MAX_AUDITED_PROBLEMS]],
        },
        origin=origin,
    )
    logger.info("stand rescan of market %s by user %s: %s", market.id, actor.id, report.counts)
    return report


def _audit_line(line: RescanLine) -> dict[str, Any]:
    """A problem line for the audit log: no full account numbers, no raw payloads."""
    entry: dict[str, Any] = {"line": line.item.line, "stall": line.item.stall}
    entry["status"] = str(line.status)
    scanned = line.result.scanned
    if scanned is not None:
        entry["bank_bin"] = scanned.bank_bin
        entry["account"] = mask_account(scanned.account_number)
    reg = line.result.registration
    if reg is not None:
        entry["registered_vendor_id"] = reg.vendor.id
        entry["registered_stall"] = reg.vendor.stall
        entry["registered_market_id"] = reg.market.id
    if line.result.reason:
        entry["reason"] = line.result.reason[:200]
    return entry
