"""Ledger, daily rollups, webhook sources and inbound notifications waiting for a vendor."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chopay.db import Base, BigIntPK, utcnow

MAX_AMOUNT_VND = 499_999_999


class Method(enum.StrEnum):
    VIETQR = "vietqr"
    EWALLET = "ewallet"
    CARD = "card"
    CASH = "cash"


CASHLESS_METHODS = (Method.VIETQR, Method.EWALLET, Method.CARD)


class Source(enum.StrEnum):
    VENDOR = "vendor"
    BOARD = "board"
    IMPORT = "import"
    WEBHOOK = "webhook"


class Transaction(Base):
    """One reported payment. Never deleted or edited: a void takes it out of every total."""

    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("source", "external_ref", name="uq_transactions_source_external_ref"),
        CheckConstraint(
            f"amount_vnd > 0 AND amount_vnd <= {MAX_AMOUNT_VND}", name="amount_in_range"
        ),
        CheckConstraint("(voided_at IS NULL) = (void_reason IS NULL)", name="void_has_reason"),
        Index("ix_transactions_vendor_occurred", "vendor_id", "occurred_at"),
        Index("ix_transactions_market_occurred", "market_id", "occurred_at"),
        # One bank transfer, one row, whichever way it arrived (see ``bank_ref``).
        Index(
            "uq_transactions_bank_ref",
            "bank_ref",
            unique=True,
            sqlite_where=text("bank_ref IS NOT NULL"),
            postgresql_where=text("bank_ref IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    amount_vnd: Mapped[int]
    occurred_at: Mapped[dt.datetime]
    # The day in Asia/Ho_Chi_Minh the payment counts for (the rollup key).
    local_day: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[Method] = mapped_column(String(8))
    source: Mapped[Source] = mapped_column(String(8))
    external_ref: Mapped[str] = mapped_column(String(120))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    webhook_source_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_sources.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[dt.datetime | None]
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(String(300))
    # "<receiving account>:<bank's reference>" of a bank transfer (see
    # matching.bank_transfer_ref), set by the statement import and by provider
    # notifications that carry the bank's reference. Unique where set: the same transfer
    # notified by a provider and later imported from the statement (two sources, two
    # external_refs) is recorded once. Payments reported through the API have none.
    bank_ref: Mapped[str | None] = mapped_column(String(120))

    @property
    def is_voided(self) -> bool:
        """Whether the payment was voided."""
        return self.voided_at is not None

    def __repr__(self) -> str:
        return f"<Transaction {self.id} {self.source}:{self.external_ref} {self.amount_vnd}>"


class DailyRollup(Base):
    """Count and sum of non-void payments per vendor, local day and method."""

    __tablename__ = "daily_rollups"
    __table_args__ = (
        Index("ix_daily_rollups_market_day", "market_id", "day"),
        CheckConstraint("tx_count >= 0 AND tx_value >= 0", name="not_negative"),
    )

    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    method: Mapped[Method] = mapped_column(String(8), primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    tx_count: Mapped[int] = mapped_column(default=0)
    tx_value: Mapped[int] = mapped_column(BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<DailyRollup v={self.vendor_id} {self.day} {self.method} {self.tx_count}>"


class WebhookFormat(enum.StrEnum):
    SEPAY = "sepay"
    CHOPAY = "chopay"


class WebhookSource(Base):
    """A payment provider allowed to post signed notifications."""

    __tablename__ = "webhook_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    format: Mapped[WebhookFormat] = mapped_column(String(10))
    # HMAC needs the secret itself, so it is kept (the database is the trust boundary).
    secret: Mapped[str] = mapped_column(String(128))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<WebhookSource {self.name}>"


class InboundStatus(enum.StrEnum):
    UNMATCHED = "unmatched"
    ASSIGNED = "assigned"
    IGNORED = "ignored"


class InboundPayment(Base):
    """A notification or statement line no vendor matched yet, kept for a board to assign."""

    __tablename__ = "inbound_payments"
    __table_args__ = (
        UniqueConstraint("source", "external_ref", name="uq_inbound_payments_source_ref"),
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        # The other held copies of one bank transfer (see ``services.same_transfer``).
        Index("ix_inbound_payments_bank_ref", "bank_ref"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source: Mapped[Source] = mapped_column(String(8))
    external_ref: Mapped[str] = mapped_column(String(120))
    webhook_source_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_sources.id"))
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[dt.datetime]
    account_number: Mapped[str | None] = mapped_column(String(40))
    content: Mapped[str | None] = mapped_column(String(500))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[InboundStatus] = mapped_column(String(10), default=InboundStatus.UNMATCHED)
    # The line's bank_ref (see Transaction.bank_ref), carried into the ledger on assignment.
    bank_ref: Mapped[str | None] = mapped_column(String(120))
    # Why no vendor was matched (one of chopay.transactions.matching.UnmatchedReason).
    reason: Mapped[str | None] = mapped_column(String(40))
    market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id"), index=True)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    # A board's note when it sets a line aside (e.g. "refund to a customer").
    decision_note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<InboundPayment {self.id} {self.source}:{self.external_ref}>"
