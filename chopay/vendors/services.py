"""Vendors and their payment accounts: register, edit, search, maker-checker approval."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from chopay.audit.models import AuditEvent
from chopay.audit.services import Origin, record_event
from chopay.auth.models import User
from chopay.auth.policy import Action, authorize, can, vendor_scope
from chopay.db import MAX_ID, utcnow
from chopay.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.text import fold
from chopay.vendors import codes
from chopay.vendors.models import (
    VENDOR_TRANSITIONS,
    AccountKind,
    AccountStatus,
    PaymentAccount,
    QrCode,
    Vendor,
    VendorStatus,
    can_transition,
)

logger = logging.getLogger(__name__)

VENDOR_FIELDS = (
    "full_name",
    "stall",
    "zone",
    "goods_category",
    "phone",
    "id_number_masked",
    "has_smartphone",
    "has_payment_speaker",
    "onboarding_org",
    "onboarding_org_name",
)
ACCOUNT_FIELDS = ("kind", "bank_bin", "account_number", "account_name")


class DuplicateVendorError(ConflictError):
    """The vendor is already registered at this market (same phone, or same stall and name)."""

    code = "duplicate"

    def __init__(self, existing: Vendor, field: str) -> None:
        self.existing = existing
        if field == "phone":
            reason = _l(
                "Số điện thoại này đã đăng ký cho %(name)s (quầy %(stall)s, mã %(ref)s).",
                name=existing.full_name,
                stall=existing.stall,
                ref=existing.reference,
            )
        else:
            reason = _l(
                "Quầy %(stall)s đã có tiểu thương %(name)s (mã %(ref)s).",
                stall=existing.stall,
                name=existing.full_name,
                ref=existing.reference,
            )
        super().__init__(
            _l("Tiểu thương đã được đăng ký ở chợ này."),
            details={field: [reason], "duplicate_of": existing.id},
        )


def stall_key(stall: str) -> str:
    """Stalls compare on letters and digits only: 'a 12', 'A-12' and 'A.12' are one stall."""
    return re.sub(r"[^0-9a-z]", "", fold(stall))


def vendor_snapshot(vendor: Vendor) -> dict[str, Any]:
    """The audited fields of a vendor (the ID number only ever in masked form)."""
    values = {key: getattr(vendor, key) for key in VENDOR_FIELDS}
    values["status"] = vendor.status
    values["reference"] = vendor.reference
    return values


def account_snapshot(account: PaymentAccount) -> dict[str, Any]:
    """The audited fields of a payment account."""
    values = {key: getattr(account, key) for key in ACCOUNT_FIELDS}
    values.update(status=account.status, is_primary=account.is_primary, vendor_id=account.vendor_id)
    return values


# --- lookups -------------------------------------------------------------------------


def find_vendor(vendor_id: int) -> Vendor | None:
    """The vendor with this id, or None (also for ids no table can hold)."""
    return db.session.get(Vendor, vendor_id) if 0 < vendor_id <= MAX_ID else None


def get_vendor(vendor_id: int, *, actor: User, action: Action = Action.VIEW) -> Vendor:
    """The vendor, if the actor may see it (else NotFoundError) and do ``action`` (else 403)."""
    vendor = find_vendor(vendor_id)
    if vendor is None or not can(actor, Action.VIEW, vendor):
        raise NotFoundError(_l("Không tìm thấy tiểu thương số %(id)s.", id=vendor_id))
    authorize(actor, action, vendor)
    return vendor


def get_account(account_id: int, *, actor: User, action: Action = Action.VIEW) -> PaymentAccount:
    """The payment account, if the actor may see its vendor; 403 unless ``action`` allowed."""
    account = db.session.get(PaymentAccount, account_id) if 0 < account_id <= MAX_ID else None
    if account is None or not can(actor, Action.VIEW, account.vendor):
        raise NotFoundError(_l("Không tìm thấy tài khoản thanh toán số %(id)s.", id=account_id))
    authorize(actor, action, account.vendor)
    return account


def vendors_query(
    *,
    actor: User,
    market: Market | None = None,
    query: str | None = None,
    status: str | None = None,
) -> Select[tuple[Vendor]]:
    """SELECT of the vendors the actor may see, filtered; newest registrations last."""
    stmt = select(Vendor).where(vendor_scope(actor))
    if market is not None:
        stmt = stmt.where(Vendor.market_id == market.id)
    if status:
        stmt = stmt.where(Vendor.status == status)
    if query and query.strip():
        text = query.strip()
        folded = fold(text)
        conditions = [
            Vendor.name_key.contains(folded, autoescape=True),
            func.upper(Vendor.stall) == text.upper(),
            func.upper(Vendor.reference) == text.upper(),
        ]
        digits = re.sub(r"[^0-9]", "", text)
        if len(digits) >= 4 and not any(c.isalpha() for c in text):
            if digits.startswith("84") and len(digits) == 11:
                digits = "0" + digits[2:]
            conditions.append(Vendor.phone.contains(digits, autoescape=True))
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(Vendor.market_id, Vendor.stall, Vendor.id)


def list_vendors(**kwargs: Any) -> list[Vendor]:
    """Vendors the actor may see (see :func:`vendors_query` for the filters)."""
    return list(db.session.scalars(vendors_query(**kwargs)))


# --- duplicates ----------------------------------------------------------------------


def find_duplicate(
    market_id: int,
    *,
    full_name: str,
    stall: str,
    phone: str | None,
    exclude_id: int | None = None,
) -> tuple[Vendor, str] | None:
    """An existing vendor at the market with the same phone, or the same stall and name.

    Returns the vendor and the field that matched. Vendors who left keep their phone
    number (the database holds it unique per market) but free their stall.
    """
    if phone:
        stmt = select(Vendor).where(Vendor.market_id == market_id, Vendor.phone == phone)
        if exclude_id is not None:
            stmt = stmt.where(Vendor.id != exclude_id)
        found = db.session.scalar(stmt)
        if found is not None:
            return found, "phone"
    stmt = select(Vendor).where(
        Vendor.market_id == market_id,
        Vendor.name_key == fold(full_name),
        Vendor.status != VendorStatus.LEFT,
    )
    if exclude_id is not None:
        stmt = stmt.where(Vendor.id != exclude_id)
    key = stall_key(stall)
    for candidate in db.session.scalars(stmt):
        if stall_key(candidate.stall) == key:
            return candidate, "stall"
    return None


def _flush_or_conflict() -> None:
    """Flush; a unique constraint hit by a concurrent request becomes a 409."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        logger.info("integrity conflict: %s", exc.orig)
        raise ConflictError(
            _l("Dữ liệu vừa được người khác thay đổi. Vui lòng tải lại trang và thử lại.")
        ) from None


# --- vendors -------------------------------------------------------------------------


def register_vendor(
    market: Market, data: Mapping[str, Any], *, actor: User, origin: Origin | None = None
) -> Vendor:
    """Register a vendor at a market, with an optional first (pending) account.

    Raises :class:`DuplicateVendorError` instead of registering the same trader twice.
    """
    authorize(actor, Action.ONBOARD, market)
    duplicate = find_duplicate(
        market.id, full_name=data["full_name"], stall=data["stall"], phone=data.get("phone")
    )
    if duplicate is not None:
        raise DuplicateVendorError(*duplicate)
    vendor = Vendor(
        market=market,
        market_id=market.id,
        name_key=fold(data["full_name"]),
        reference=codes.new_references(1)[0],
        status=VendorStatus.PENDING,
        onboarded_by_id=actor.id,
        **{key: data.get(key) for key in VENDOR_FIELDS if key in data},
    )
    db.session.add(vendor)
    _flush_or_conflict()
    record_event(
        actor_id=actor.id,
        action="vendor.create",
        entity_type="vendor",
        entity_id=vendor.id,
        market_id=market.id,
        new=vendor_snapshot(vendor),
        origin=origin,
    )
    logger.info("user %s registered vendor %s at market %s", actor.id, vendor.id, market.id)
    if data.get("account"):
        add_account(vendor, data["account"], actor=actor, origin=origin)
    return vendor


def update_vendor(
    vendor: Vendor, data: Mapping[str, Any], *, actor: User, origin: Origin | None = None
) -> Vendor:
    """Change a vendor's fields and/or status; the change is audited.

    A vendor who leaves keeps their record; their QR codes are revoked.
    """
    authorize(actor, Action.EDIT, vendor)
    before = vendor_snapshot(vendor)
    changes = {key: data[key] for key in VENDOR_FIELDS if key in data}
    new_status = data.get("status")
    moving = new_status is not None and new_status != vendor.status
    if moving and not can_transition(VENDOR_TRANSITIONS, VendorStatus(vendor.status), new_status):
        raise InvalidInputError.for_field(
            "status",
            _l(
                "Không thể chuyển trạng thái từ “%(old)s” sang “%(new)s”.",
                old=status_label(vendor.status),
                new=status_label(new_status),
            ),
        )
    identity = {
        "full_name": changes.get("full_name", vendor.full_name),
        "stall": changes.get("stall", vendor.stall),
        "phone": changes.get("phone", vendor.phone),
    }
    if any(identity[k] != getattr(vendor, k) for k in identity):
        duplicate = find_duplicate(vendor.market_id, exclude_id=vendor.id, **identity)
        if duplicate is not None:
            raise DuplicateVendorError(*duplicate)
    for key, value in changes.items():
        setattr(vendor, key, value)
    vendor.name_key = fold(vendor.full_name)
    if new_status is not None and new_status != vendor.status:
        vendor.status = VendorStatus(new_status)
        if new_status == VendorStatus.LEFT:
            vendor.left_at = utcnow()
            codes.revoke_vendor_codes(
                vendor, reason="Tiểu thương nghỉ bán", actor=actor, origin=origin
            )
    after = vendor_snapshot(vendor)
    old = {k: v for k, v in before.items() if after[k] != v}
    if old:
        _flush_or_conflict()
        record_event(
            actor_id=actor.id,
            action="vendor.status" if set(old) == {"status"} else "vendor.update",
            entity_type="vendor",
            entity_id=vendor.id,
            market_id=vendor.market_id,
            old=old,
            new={k: after[k] for k in old},
            origin=origin,
        )
        logger.info("user %s updated vendor %s: %s", actor.id, vendor.id, sorted(old))
    return vendor


STATUS_LABELS = {
    VendorStatus.PENDING: _l("Chờ kích hoạt"),
    VendorStatus.ACTIVE: _l("Đang bán"),
    VendorStatus.SUSPENDED: _l("Tạm dừng"),
    VendorStatus.LEFT: _l("Đã nghỉ"),
}

ACCOUNT_STATUS_LABELS = {
    AccountStatus.PENDING: _l("Chờ duyệt"),
    AccountStatus.APPROVED: _l("Đã duyệt"),
    AccountStatus.REJECTED: _l("Bị từ chối"),
    AccountStatus.REPLACED: _l("Đã thay thế"),
}


def status_label(status: str) -> Any:
    """The Vietnamese name of a vendor status."""
    try:
        return STATUS_LABELS[VendorStatus(status)]
    except ValueError:
        return status


# --- payment accounts ----------------------------------------------------------------


def primary_account(vendor: Vendor) -> PaymentAccount | None:
    """The vendor's approved primary account, if any."""
    return db.session.scalar(
        select(PaymentAccount).where(
            PaymentAccount.vendor_id == vendor.id, PaymentAccount.is_primary.is_(True)
        )
    )


def add_account(
    vendor: Vendor, data: Mapping[str, Any], *, actor: User, origin: Origin | None = None
) -> PaymentAccount:
    """Add a payment account to a vendor; it is pending until someone else approves it."""
    authorize(actor, Action.ONBOARD, vendor)
    if vendor.status == VendorStatus.LEFT:
        raise ConflictError(_l("Tiểu thương đã nghỉ bán: không thêm tài khoản mới."))
    same = db.session.scalar(
        select(PaymentAccount).where(
            PaymentAccount.vendor_id == vendor.id,
            PaymentAccount.bank_bin == data["bank_bin"],
            PaymentAccount.account_number == data["account_number"],
            PaymentAccount.status.in_((AccountStatus.PENDING, AccountStatus.APPROVED)),
        )
    )
    if same is not None:
        raise ConflictError(
            _l("Tài khoản này đã có trong hồ sơ tiểu thương."),
            details={
                "account_number": [
                    _l(
                        "Tài khoản đã có (trạng thái: %(s)s).",
                        s=ACCOUNT_STATUS_LABELS[AccountStatus(same.status)],
                    )
                ]
            },
        )
    current = primary_account(vendor)
    account = PaymentAccount(
        vendor=vendor,
        kind=data.get("kind") or AccountKind.BANK,
        bank_bin=data["bank_bin"],
        account_number=data["account_number"],
        account_name=data["account_name"].upper(),
        status=AccountStatus.PENDING,
        is_primary=False,
        replaces_id=current.id if current is not None else None,
        created_by_id=actor.id,
    )
    db.session.add(account)
    db.session.flush()
    record_event(
        actor_id=actor.id,
        action="account.create",
        entity_type="payment_account",
        entity_id=account.id,
        market_id=vendor.market_id,
        new=account_snapshot(account),
        origin=origin,
    )
    logger.info("user %s added account %s to vendor %s", actor.id, account.id, vendor.id)
    return account


def _check_decidable(account: PaymentAccount, actor: User) -> None:
    """The actor may approve/reject this account: rights on the market, not the maker."""
    authorize(actor, Action.APPROVE, account.vendor)
    if account.created_by_id is not None and account.created_by_id == actor.id:
        raise PermissionDeniedError(
            _l("Bạn đã nhập tài khoản này nên không thể tự duyệt; cần một người khác duyệt."),
            details={"account": [_l("Người nhập không được tự duyệt (nguyên tắc hai người).")]},
        )
    if account.status != AccountStatus.PENDING:
        raise ConflictError(
            _l(
                "Tài khoản này đã được xử lý (%(s)s).",
                s=ACCOUNT_STATUS_LABELS[AccountStatus(account.status)],
            ),
            details={"account": [_l("Chỉ duyệt hoặc từ chối được tài khoản đang chờ duyệt.")]},
        )
    if account.vendor.status == VendorStatus.LEFT:
        raise ConflictError(_l("Tiểu thương đã nghỉ bán: không duyệt tài khoản."))


def approve_account(
    account: PaymentAccount, *, actor: User, origin: Origin | None = None
) -> PaymentAccount:
    """Approve a pending account: it becomes primary and the vendor's QR is issued.

    The account it replaces (the previous primary) is marked ``replaced`` and its codes
    are revoked. A vendor still ``pending`` becomes ``active``.
    """
    _check_decidable(account, actor)
    _approve([account], actor=actor, origin=origin)
    return account


def _approve(accounts: Sequence[PaymentAccount], *, actor: User, origin: Origin | None) -> None:
    """Approve already-checked accounts (at most one per vendor) with a handful of queries,
    whatever their number: the approval queue approves hundreds at once."""
    vendors = {a.vendor_id: a.vendor for a in accounts}
    if len(vendors) != len(accounts):
        raise ConflictError(
            _l("Đã chọn hai tài khoản của cùng một tiểu thương: hãy duyệt từng tài khoản một."),
            details={"account": [_l("Mỗi tiểu thương chỉ duyệt một tài khoản mỗi lần.")]},
        )
    vendor_ids = list(vendors)
    previous = {
        p.vendor_id: p
        for p in db.session.scalars(
            select(PaymentAccount).where(
                PaymentAccount.vendor_id.in_(vendor_ids), PaymentAccount.is_primary.is_(True)
            )
        )
    }
    live = db.session.scalars(
        select(QrCode).where(QrCode.vendor_id.in_(vendor_ids), QrCode.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for old in previous.values():
        old.is_primary = False
        old.status = AccountStatus.REPLACED
    if previous:
        db.session.flush()  # free the one-primary-per-vendor index before taking it
    replaced_ids = {old.id for old in previous.values()}
    stale = [c for c in live if c.account_id in replaced_ids or not c.is_dynamic]
    codes.revoke(stale, reason="Tài khoản đã được thay thế", actor=actor, origin=origin, at=now)
    for old in previous.values():
        record_event(
            actor_id=actor.id,
            action="account.replace",
            entity_type="payment_account",
            entity_id=old.id,
            market_id=vendors[old.vendor_id].market_id,
            old={"status": AccountStatus.APPROVED, "is_primary": True},
            new={"status": AccountStatus.REPLACED, "is_primary": False},
            origin=origin,
        )
    for account in accounts:
        account.status = AccountStatus.APPROVED
        account.is_primary = True
        account.decided_by_id = actor.id
        account.decided_at = now
        if account.vendor_id in previous:
            account.replaces_id = previous[account.vendor_id].id
    issued = codes.build_static_codes(accounts, actor=actor)
    _flush_or_conflict()
    for account, code in zip(accounts, issued, strict=True):
        vendor = vendors[account.vendor_id]
        record_event(
            actor_id=actor.id,
            action="account.approve",
            entity_type="payment_account",
            entity_id=account.id,
            market_id=vendor.market_id,
            old={"status": AccountStatus.PENDING, "is_primary": False},
            new={"status": AccountStatus.APPROVED, "is_primary": True},
            origin=origin,
        )
        codes.record_issue(code, actor=actor, origin=origin)
        if vendor.status == VendorStatus.PENDING:
            vendor.status = VendorStatus.ACTIVE
            record_event(
                actor_id=actor.id,
                action="vendor.status",
                entity_type="vendor",
                entity_id=vendor.id,
                market_id=vendor.market_id,
                old={"status": VendorStatus.PENDING},
                new={"status": VendorStatus.ACTIVE, "reason": "account approved"},
                origin=origin,
            )
    logger.info(
        "user %s approved %d account(s): %s",
        actor.id,
        len(accounts),
        [a.id for a in accounts][:20],
    )


def reject_account(
    account: PaymentAccount, *, reason: str, actor: User, origin: Origin | None = None
) -> PaymentAccount:
    """Reject a pending account with a reason; it stays in the vendor's history."""
    _check_decidable(account, actor)
    account.status = AccountStatus.REJECTED
    account.decided_by_id = actor.id
    account.decided_at = utcnow()
    account.decision_reason = reason
    _flush_or_conflict()
    record_event(
        actor_id=actor.id,
        action="account.reject",
        entity_type="payment_account",
        entity_id=account.id,
        market_id=account.vendor.market_id,
        old={"status": AccountStatus.PENDING},
        new={"status": AccountStatus.REJECTED, "reason": reason},
        origin=origin,
    )
    logger.info("user %s rejected account %s", actor.id, account.id)
    return account


def _load_batch(account_ids: Iterable[int], actor: User) -> list[PaymentAccount]:
    ids = list(dict.fromkeys(account_ids))
    accounts = db.session.scalars(
        select(PaymentAccount)
        .where(PaymentAccount.id.in_(ids))
        .options(selectinload(PaymentAccount.vendor).selectinload(Vendor.market))
    ).all()
    by_id = {a.id: a for a in accounts}
    missing = [i for i in ids if i not in by_id or not can(actor, Action.VIEW, by_id[i].vendor)]
    if missing:
        raise NotFoundError(
            _l("Không tìm thấy tài khoản: %(ids)s.", ids=", ".join(map(str, missing)))
        )
    for account_id in ids:  # no right to decide here at all: refused (403), not a problem row
        authorize(actor, Action.APPROVE, by_id[account_id].vendor)
    problems: dict[str, list[Any]] = {}
    for account_id in ids:
        try:
            _check_decidable(by_id[account_id], actor)
        except (PermissionDeniedError, ConflictError) as exc:
            problems[str(account_id)] = [exc.message]
    if problems:
        raise ConflictError(
            _l("Không xử lý được %(n)d tài khoản đã chọn; chưa thay đổi gì.", n=len(problems)),
            details=problems,
        )
    return [by_id[i] for i in ids]


def approve_accounts(
    account_ids: Sequence[int], *, actor: User, origin: Origin | None = None
) -> list[PaymentAccount]:
    """Approve several pending accounts at once: all of them, or none if one cannot be."""
    accounts = _load_batch(account_ids, actor)
    _approve(accounts, actor=actor, origin=origin)
    return accounts


def reject_accounts(
    account_ids: Sequence[int], *, reason: str, actor: User, origin: Origin | None = None
) -> list[PaymentAccount]:
    """Reject several pending accounts with one reason: all of them, or none."""
    accounts = _load_batch(account_ids, actor)
    for account in accounts:
        reject_account(account, reason=reason, actor=actor, origin=origin)
    return accounts


@dataclass(frozen=True)
class PendingAccount:
    """A pending account as the approval page shows it."""

    account: PaymentAccount
    vendor: Vendor
    market: Market
    can_decide: bool
    is_own_entry: bool


def list_pending_accounts(
    *, actor: User, market: Market | None = None, limit: int = 1000
) -> list[PendingAccount]:
    """Pending accounts in the actor's scope, with whether the actor may decide each one."""
    stmt = (
        select(PaymentAccount)
        .join(Vendor, Vendor.id == PaymentAccount.vendor_id)
        .where(vendor_scope(actor), PaymentAccount.status == AccountStatus.PENDING)
        .options(selectinload(PaymentAccount.vendor).selectinload(Vendor.market))
        .order_by(Vendor.market_id, Vendor.stall, PaymentAccount.id)
        .limit(limit)
    )
    if market is not None:
        stmt = stmt.where(Vendor.market_id == market.id)
    approvable: dict[int, bool] = {}
    rows = []
    for account in db.session.scalars(stmt):
        vendor = account.vendor
        if vendor.market_id not in approvable:
            approvable[vendor.market_id] = can(actor, Action.APPROVE, vendor)
        own = account.created_by_id == actor.id
        rows.append(
            PendingAccount(
                account=account,
                vendor=vendor,
                market=vendor.market,
                can_decide=approvable[vendor.market_id] and not own,
                is_own_entry=own,
            )
        )
    return rows


def count_pending_accounts(*, actor: User, market: Market | None = None) -> int:
    """How many pending accounts the actor can see."""
    stmt = (
        select(func.count(PaymentAccount.id))
        .join(Vendor, Vendor.id == PaymentAccount.vendor_id)
        .where(vendor_scope(actor), PaymentAccount.status == AccountStatus.PENDING)
    )
    if market is not None:
        stmt = stmt.where(Vendor.market_id == market.id)
    return db.session.scalar(stmt) or 0


@dataclass(frozen=True)
class VendorDetail:
    """A vendor with its live stand code, for the vendor page and ``GET /vendors/<id>``."""

    vendor: Vendor
    current_qr: QrCode | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.vendor, name)


def vendor_detail(vendor: Vendor) -> VendorDetail:
    """The vendor together with its current static QR code."""
    return VendorDetail(vendor=vendor, current_qr=codes.current_code(vendor))


def vendor_history(vendor: Vendor, *, actor: User) -> list[AuditEvent]:
    """Every audited change to the vendor, their accounts and their QR codes, newest first."""
    authorize(actor, Action.AUDIT, vendor)
    account_ids = [
        str(i)
        for i in db.session.scalars(
            select(PaymentAccount.id).where(PaymentAccount.vendor_id == vendor.id)
        )
    ]
    code_ids = [
        str(i) for i in db.session.scalars(select(QrCode.id).where(QrCode.vendor_id == vendor.id))
    ]
    conditions = [and_(AuditEvent.entity_type == "vendor", AuditEvent.entity_id == str(vendor.id))]
    if account_ids:
        conditions.append(
            and_(AuditEvent.entity_type == "payment_account", AuditEvent.entity_id.in_(account_ids))
        )
    if code_ids:
        conditions.append(
            and_(AuditEvent.entity_type == "qr_code", AuditEvent.entity_id.in_(code_ids))
        )
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(or_(*conditions))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        )
    )
