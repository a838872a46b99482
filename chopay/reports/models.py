"""Chợ 4.0 qualification rule sets, and the per-market daily rollup reports read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from chopay.db import Base, utcnow


class QualificationRule(Base):
    """One version of a province's Chợ 4.0 rule; null thresholds are not checked."""

    __tablename__ = "qualification_rules"
    __table_args__ = (
        UniqueConstraint("scheme", "province_code", "valid_from", name="uq_rules_version"),
        CheckConstraint(
            "min_adoption_pct IS NULL OR (min_adoption_pct >= 0 AND min_adoption_pct <= 100)",
            name="adoption_pct_range",
        ),
        CheckConstraint(
            "min_active_pct IS NULL OR (min_active_pct >= 0 AND min_active_pct <= 100)",
            name="active_pct_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(String(8))
    province_code: Mapped[str] = mapped_column(String(10))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    min_adoption_pct: Mapped[float | None] = mapped_column(Float)
    min_active_pct: Mapped[float | None] = mapped_column(Float)
    min_active_vendors: Mapped[int | None]
    min_vendors_with_qr: Mapped[int | None]
    # Where the thresholds come from (plan, decision number) and any caveat.
    notes: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<QualificationRule {self.scheme}:{self.province_code} from {self.valid_from}>"


class MarketDailyRollup(Base):
    """Count and sum of non-void payments per market, local day and method.

    Kept by database triggers on ``daily_rollups`` (created in the migration that made
    this table; on PostgreSQL set-based, once per statement, since revision
    1257cc86824a), so every ledger write that touches a vendor's rollup updates its
    market's row in the same transaction, whoever writes it. Reports sum these rows:
    their cost grows with markets × days, never with the number of payments.
    """

    __tablename__ = "market_daily_rollups"
    __table_args__ = (
        CheckConstraint("tx_count >= 0 AND tx_value >= 0", name="not_negative"),
        {"sqlite_with_rowid": False},  # SQLite keeps rows in primary-key order: range scans
    )

    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    method: Mapped[str] = mapped_column(String(8), primary_key=True)
    tx_count: Mapped[int] = mapped_column(default=0)
    tx_value: Mapped[int] = mapped_column(BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<MarketDailyRollup m={self.market_id} {self.day} {self.method} {self.tx_count}>"


class VendorActivityMonth(Base):
    """Which days of a month a vendor took at least one non-void cashless payment.

    Bit ``d - 1`` of ``day_mask`` is set when day ``d`` has a cashless rollup row with
    payments. "Was this vendor active in [from, to]" is then one row per vendor and month
    of the period, ANDed with the period's days: the cost depends on vendors × months,
    never on the number of payments. Kept by triggers on ``daily_rollups``, like
    MarketDailyRollup.
    """

    __tablename__ = "vendor_activity_months"
    __table_args__ = ({"sqlite_with_rowid": False},)

    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # first day of the month
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), primary_key=True)
    day_mask: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<VendorActivityMonth v={self.vendor_id} {self.month:%Y-%m} {self.day_mask:#x}>"
