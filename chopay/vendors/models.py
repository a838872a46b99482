"""Vendor, PaymentAccount and QrCode tables with their status rules."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chopay.db import Base, TimestampMixin, utcnow
from chopay.text import fold

if TYPE_CHECKING:
    from chopay.markets.models import Market


class VendorStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"


VENDOR_TRANSITIONS: dict[VendorStatus, frozenset[VendorStatus]] = {
    VendorStatus.PENDING: frozenset({VendorStatus.ACTIVE, VendorStatus.LEFT}),
    VendorStatus.ACTIVE: frozenset({VendorStatus.SUSPENDED, VendorStatus.LEFT}),
    VendorStatus.SUSPENDED: frozenset({VendorStatus.ACTIVE, VendorStatus.LEFT}),
    VendorStatus.LEFT: frozenset(),  # leaving is final: a returning trader is registered anew
}


class OnboardingOrg(enum.StrEnum):
    BANK = "bank"
    TELCO = "telco"
    COMMUNITY = "community"  # Tổ công nghệ số cộng đồng
    BOARD = "board"  # Ban quản lý chợ
    OTHER = "other"


class AccountKind(enum.StrEnum):
    BANK = "bank"
    EWALLET = "ewallet"


class AccountStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REPLACED = "replaced"


ACCOUNT_TRANSITIONS: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.PENDING: frozenset({AccountStatus.APPROVED, AccountStatus.REJECTED}),
    AccountStatus.APPROVED: frozenset({AccountStatus.REPLACED}),
    AccountStatus.REJECTED: frozenset(),
    AccountStatus.REPLACED: frozenset(),
}


S = TypeVar("S", bound=enum.StrEnum)


def can_transition(table: dict[S, frozenset[S]], current: S, new: S) -> bool:
    """Whether a status may move from ``current`` to ``new`` under ``table``."""
    return new in table.get(current, frozenset())


def _name_key_default(context: Any) -> str:
    """``name_key`` for rows inserted without one (factories, bulk inserts)."""
    return fold(context.get_current_parameters()["full_name"])[:120]


class Vendor(TimestampMixin, Base):
    """A trader at one market."""

    __tablename__ = "vendors"
    __table_args__ = (
        UniqueConstraint("market_id", "phone", name="uq_vendors_market_phone"),
        Index("ix_vendors_market_status", "market_id", "status"),
        Index("ix_vendors_market_stall", "market_id", "stall"),
        Index("ix_vendors_market_name_key", "market_id", "name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    full_name: Mapped[str] = mapped_column(String(120))
    # The name folded to lowercase ASCII ("Hường" → "huong"): accent-free search and the
    # same-stall-and-name duplicate check. Kept in step with full_name by the services.
    name_key: Mapped[str] = mapped_column(String(120), default=_name_key_default)
    stall: Mapped[str] = mapped_column(String(30))
    zone: Mapped[str | None] = mapped_column(String(60))
    goods_category: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(10))
    # Only the masked form is kept (e.g. "********1234"): the full number is never stored.
    id_number_masked: Mapped[str | None] = mapped_column(String(20))
    has_smartphone: Mapped[bool] = mapped_column(default=False)
    has_payment_speaker: Mapped[bool] = mapped_column(default=False)
    status: Mapped[VendorStatus] = mapped_column(String(12), default=VendorStatus.PENDING)
    onboarding_org: Mapped[OnboardingOrg | None] = mapped_column(String(12))
    onboarding_org_name: Mapped[str | None] = mapped_column(String(120))
    # users ↔ vendors reference each other; this side is added after both tables exist.
    onboarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    # Short code put at the front of every transfer note, to match incoming transfers.
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    left_at: Mapped[dt.datetime | None]

    market: Mapped[Market] = relationship()
    accounts: Mapped[list[PaymentAccount]] = relationship(
        back_populates="vendor", order_by="PaymentAccount.id"
    )

    def __repr__(self) -> str:
        return f"<Vendor {self.id} market={self.market_id} stall={self.stall}>"


class PaymentAccount(Base):
    """A bank account or e-wallet a vendor is paid into; changes need a second person."""

    __tablename__ = "payment_accounts"
    __table_args__ = (
        # At most one primary account per vendor.
        Index(
            "uq_payment_accounts_one_primary",
            "vendor_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
        # Account number first: the ledger matches transfers by number alone (webhooks,
        # statement lines); the duplicate check adds the bank.
        Index("ix_payment_accounts_number_bin", "account_number", "bank_bin"),
        CheckConstraint(
            "status != 'approved' OR decided_by_id IS NOT NULL", name="approved_has_checker"
        ),
        CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id != created_by_id", name="maker_is_not_checker"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    kind: Mapped[AccountKind] = mapped_column(String(8), default=AccountKind.BANK)
    bank_bin: Mapped[str] = mapped_column(String(6))
    account_number: Mapped[str] = mapped_column(String(19))
    account_name: Mapped[str] = mapped_column(String(120))
    status: Mapped[AccountStatus] = mapped_column(String(10), default=AccountStatus.PENDING)
    is_primary: Mapped[bool] = mapped_column(default=False)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("payment_accounts.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(300))

    vendor: Mapped[Vendor] = relationship(back_populates="accounts")
    qr_codes: Mapped[list[QrCode]] = relationship(back_populates="account")

    def __repr__(self) -> str:
        return f"<PaymentAccount {self.id} vendor={self.vendor_id} {self.status}>"


class QrCode(Base):
    """A VietQR payload issued for an approved account, with its public verification code."""

    __tablename__ = "qr_codes"
    __table_args__ = (
        CheckConstraint("amount_vnd IS NULL OR amount_vnd > 0", name="amount_positive"),
        Index("ix_qr_codes_vendor_revoked", "vendor_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("payment_accounts.id"), index=True)
    payload: Mapped[str] = mapped_column(Text)
    verify_code: Mapped[str] = mapped_column(String(16), unique=True)
    is_dynamic: Mapped[bool] = mapped_column(default=False)
    amount_vnd: Mapped[int | None]
    purpose: Mapped[str | None] = mapped_column(String(100))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(200))

    account: Mapped[PaymentAccount] = relationship(back_populates="qr_codes")
    vendor: Mapped[Vendor] = relationship()

    @property
    def is_revoked(self) -> bool:
        """Whether the code was withdrawn."""
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<QrCode {self.id} {self.verify_code}>"
