"""Figures shown on the dashboard, scoped to what the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select

from chopay.auth.policy import Action, can, market_scope, own_vendor_id, vendor_scope
from chopay.extensions import db
from chopay.formatting import VN_TZ
from chopay.markets.models import Market
from chopay.reports.models import MarketDailyRollup
from chopay.reports.queries import active_vendor_ids
from chopay.transactions.models import CASHLESS_METHODS, DailyRollup
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus


@dataclass(frozen=True)
class Overview:
    markets: int
    stall_count: int
    vendors: int
    vendors_with_qr: int
    pending_accounts: int


def overview(user: Any) -> Overview:
    """Counts over the markets and vendors in the user's scope."""
    markets, stalls = db.session.execute(
        select(func.count(Market.id), func.coalesce(func.sum(Market.stall_count), 0)).where(
            market_scope(user), Market.is_active
        )
    ).one()
    vendors = db.session.scalar(
        select(func.count(Vendor.id)).where(vendor_scope(user), Vendor.status != VendorStatus.LEFT)
    )
    with_qr = db.session.scalar(
        select(func.count(func.distinct(QrCode.vendor_id)))
        .join(Vendor, Vendor.id == QrCode.vendor_id)
        .where(
            vendor_scope(user),
            Vendor.status != VendorStatus.LEFT,
            QrCode.revoked_at.is_(None),
            QrCode.is_dynamic.is_(False),
        )
    )
    pending = db.session.scalar(
        select(func.count(PaymentAccount.id))
        .join(Vendor, Vendor.id == PaymentAccount.vendor_id)
        .where(vendor_scope(user), PaymentAccount.status == AccountStatus.PENDING)
    )
    return Overview(
        markets=markets or 0,
        stall_count=int(stalls or 0),
        vendors=vendors or 0,
        vendors_with_qr=with_qr or 0,
        pending_accounts=pending or 0,
    )


# The periods the dashboard sums, in days ending today (Vietnam's calendar).
WEEK_DAYS = 7
MONTH_DAYS = 30


@dataclass(frozen=True)
class Period:
    """Non-void payments over some days: count and value (đồng)."""

    count: int
    value: int


@dataclass(frozen=True)
class Sales:
    """Payments reported in the user's scope, from the rollups (voids excluded)."""

    today: Period
    week: Period  # the last WEEK_DAYS days, today included
    month: Period  # the last MONTH_DAYS days, today included
    month_cashless_value: int
    vendors_paid: int  # vendors with a cashless payment in the last MONTH_DAYS days

    @property
    def cashless_share(self) -> float | None:
        """Percent of the month's value paid without cash (None without payments)."""
        return 100 * self.month_cashless_value / self.month.value if self.month.value else None


def may_see_sales(user: Any) -> bool:
    """Whether the dashboard shows payment totals: a vendor their own; anyone who reads
    reports (admins, officers, boards) their scope's. Helpers read neither."""
    return own_vendor_id(user) is not None or can(user, Action.VIEW_REPORTS)


def sales(user: Any, today: dt.date | None = None) -> Sales:
    """Payment totals a user may see (see ``may_see_sales``): a vendor's own, from their
    daily rollups; anyone else's, over the markets in their scope, from the market
    rollups and the vendors' activity months, as the reports count them. Their cost
    grows with markets × days, never with vendors or payments."""
    today = today or dt.datetime.now(VN_TZ).date()
    week_start = today - dt.timedelta(days=WEEK_DAYS - 1)
    month_start = today - dt.timedelta(days=MONTH_DAYS - 1)
    vendor_id = own_vendor_id(user)
    r: Any = DailyRollup if vendor_id is not None else MarketDailyRollup
    markets = select(Market.id).where(market_scope(user))
    mine = r.vendor_id == vendor_id if vendor_id is not None else r.market_id.in_(markets)
    cashless = r.method.in_([str(m) for m in CASHLESS_METHODS])

    def total(column: Any, since: dt.date, *, only: Any = None) -> Any:
        when = r.day >= since if only is None else (r.day >= since) & only
        return func.coalesce(func.sum(case((when, column), else_=0)), 0)

    row = db.session.execute(
        select(
            total(r.tx_count, today),
            total(r.tx_value, today),
            total(r.tx_count, week_start),
            total(r.tx_value, week_start),
            func.coalesce(func.sum(r.tx_count), 0),
            func.coalesce(func.sum(r.tx_value), 0),
            total(r.tx_value, month_start, only=cashless),
        ).where(mine, r.day >= month_start, r.day <= today)
    ).one()
    values = [int(v or 0) for v in row]
    if vendor_id is not None:
        paid = int(values[6] > 0)
    else:
        active = active_vendor_ids(markets, month_start, today).subquery()
        paid = db.session.scalar(select(func.count(func.distinct(active.c.vendor_id)))) or 0
    return Sales(
        today=Period(values[0], values[1]),
        week=Period(values[2], values[3]),
        month=Period(values[4], values[5]),
        month_cashless_value=values[6],
        vendors_paid=paid,
    )


def has_qr(vendor_id: int) -> bool:
    """Whether the vendor has a valid static QR code to show customers."""
    return (
        db.session.scalar(
            select(QrCode.id).where(
                QrCode.vendor_id == vendor_id,
                QrCode.revoked_at.is_(None),
                QrCode.is_dynamic.is_(False),
            )
        )
        is not None
    )
