"""Read-only aggregates behind the adoption reports (SQLAlchemy only, no Flask).

Every function takes the session and a SELECT of market ids (the area being reported
on) and returns plain rows or dataclasses. Payments come from two tables the triggers
on ``daily_rollups`` keep: ``market_daily_rollups`` for counts and sums (markets × days
× methods rows) and ``vendor_activity_months`` for "did this vendor take a cashless
payment in the period" (vendors × months rows). The raw ledger is never read and
neither grows with the number of payments; only the one-market vendor list reads
``daily_rollups`` itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased, scoped_session

from chopay.admin_units.models import AdminUnit, Scheme
from chopay.markets.models import Market
from chopay.reports.models import MarketDailyRollup, QualificationRule, VendorActivityMonth
from chopay.transactions.models import CASHLESS_METHODS, DailyRollup, Method
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus

# Every method but cash is cashless (the triggers say ``method != 'cash'`` too); these are
# the ones reported one by one.
CASHLESS = tuple(str(m) for m in CASHLESS_METHODS)
CASH = str(Method.CASH)
# A plain session or Flask-SQLAlchemy's scoped one: these functions only execute selects.
Session = OrmSession | scoped_session[Any]


@dataclass(frozen=True)
class MarketPlace:
    """A market of the area and where it lies (its commune in the report's scheme)."""

    market_id: int
    code: str
    name: str
    stall_count: int
    commune_id: int
    commune_code: str
    commune_name: str
    district_code: str | None
    province_code: str
    legacy_province_code: str | None
    new_province_code: str | None


@dataclass
class VendorCounts:
    """Vendor figures of one market (each vendor counted once)."""

    vendors: int = 0  # registered at the end of the period, not left
    vendors_with_qr: int = 0  # of those, with an approved account and a valid static code
    vendors_active: int = 0  # any vendor with a non-void cashless payment in the period
    vendors_active_with_qr: int = 0  # active and counted in vendors_with_qr


@dataclass
class Payments:
    """Count and value per method of one market (or one day) in the period."""

    count: dict[str, int] = field(default_factory=dict)
    value: dict[str, int] = field(default_factory=dict)


def commune_column(scheme: str) -> Any:
    """The Market column holding its commune in ``scheme``."""
    return Market.legacy_commune_id if scheme == Scheme.LEGACY else Market.new_commune_id


def market_places(session: Session, scheme: str, market_ids: Select[Any]) -> list[MarketPlace]:
    """Active markets among ``market_ids`` that have a commune in ``scheme``, by code."""
    commune = aliased(AdminUnit)
    legacy = aliased(AdminUnit)
    new = aliased(AdminUnit)
    column = commune_column(scheme)
    stmt = (
        select(
            Market.id,
            Market.code,
            Market.name,
            Market.stall_count,
            commune.id,
            commune.code,
            commune.name,
            commune.district_code,
            commune.province_code,
            legacy.province_code,
            new.province_code,
        )
        .join(commune, commune.id == column)
        .outerjoin(legacy, legacy.id == Market.legacy_commune_id)
        .outerjoin(new, new.id == Market.new_commune_id)
        .where(Market.id.in_(market_ids), Market.is_active.is_(True))
        .order_by(Market.code)
    )
    return [MarketPlace(*row) for row in session.execute(stmt)]


def registered_clause(as_of: dt.datetime) -> ColumnElement[bool]:
    """Vendor registered before ``as_of`` and not left by then."""
    return and_(
        Vendor.created_at < as_of,
        or_(
            Vendor.status != VendorStatus.LEFT,
            and_(Vendor.left_at.is_not(None), Vendor.left_at >= as_of),
        ),
    )


def qr_vendor_ids(market_ids: Select[Any], as_of: dt.datetime) -> Select[Any]:
    """Ids of the area's vendors holding a static code valid at ``as_of``.

    A code counts while it is unrevoked and its account approved; for a past date, a
    code of an account replaced since counts if it was revoked only after that date
    (replacing an account revokes its codes, so ``revoked_at`` dates the change).
    """
    return (
        select(QrCode.vendor_id)
        .join(PaymentAccount, PaymentAccount.id == QrCode.account_id)
        .join(Vendor, Vendor.id == QrCode.vendor_id)
        .where(
            Vendor.market_id.in_(market_ids),
            QrCode.is_dynamic.is_(False),
            QrCode.issued_at < as_of,
            or_(
                and_(QrCode.revoked_at.is_(None), PaymentAccount.status == AccountStatus.APPROVED),
                and_(
                    QrCode.revoked_at >= as_of,
                    PaymentAccount.status.in_([AccountStatus.APPROVED, AccountStatus.REPLACED]),
                ),
            ),
        )
    )


def month_masks(start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """(first day of month, bit mask of the period's days in it) for each month of [start, end]."""
    out = []
    month = start.replace(day=1)
    while month <= end:
        first = max(start, month).day
        following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        last = min(end, following - dt.timedelta(days=1)).day
        out.append((month, ((1 << last) - 1) ^ ((1 << (first - 1)) - 1)))
        month = following
    return out


def active_vendor_ids(market_ids: Select[Any], start: dt.date, end: dt.date) -> Select[Any]:
    """Ids of the area's vendors with a non-void cashless payment in [start, end].

    Reads one ``vendor_activity_months`` row per vendor and month of the period and
    ANDs its day bits with the period's: no rollup or ledger row is scanned.
    """
    a = VendorActivityMonth
    per_month = [
        and_(a.month == month, a.day_mask != 0)  # the whole month
        if mask == _month_bits(month)
        else and_(a.month == month, a.day_mask.op("&")(mask) != 0)
        for month, mask in month_masks(start, end)
    ]
    return select(a.vendor_id).where(
        a.market_id.in_(market_ids),
        a.month >= start.replace(day=1),
        a.month <= end,
        or_(*per_month),
    )


def _month_bits(month: dt.date) -> int:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (1 << (following - dt.timedelta(days=1)).day) - 1


def vendor_counts(
    session: Session,
    market_ids: Select[Any],
    *,
    as_of: dt.datetime,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[int, VendorCounts]:
    """Vendor figures per market; activity only when ``start``/``end`` are given.

    One pass over the area's vendors, LEFT JOINed to the set of QR holders and the set
    of active vendors (each computed once, then hashed or auto-indexed by the engine),
    grouped by market and the three flags: at most eight rows per market come back.
    """
    reg = case((registered_clause(as_of), 1), else_=0)
    holders = qr_vendor_ids(market_ids, as_of).distinct().subquery("holders")
    stmt = (
        select(Vendor.market_id, reg, holders.c.vendor_id.is_not(None))
        .outerjoin(holders, holders.c.vendor_id == Vendor.id)
        .where(Vendor.market_id.in_(market_ids))
    )
    group = [Vendor.market_id, reg, holders.c.vendor_id.is_not(None)]
    if start is not None and end is not None:
        active = active_vendor_ids(market_ids, start, end).distinct().subquery("active")
        stmt = stmt.add_columns(active.c.vendor_id.is_not(None)).outerjoin(
            active, active.c.vendor_id == Vendor.id
        )
        group.append(active.c.vendor_id.is_not(None))
    else:
        stmt = stmt.add_columns(literal(False))
    stmt = stmt.add_columns(func.count()).group_by(*group)
    out: dict[int, VendorCounts] = defaultdict(VendorCounts)
    for market_id, is_reg, has_qr, is_active, n in session.execute(stmt):
        counts = out[market_id]
        with_qr = bool(is_reg) and bool(has_qr)
        if is_reg:
            counts.vendors += n
        if with_qr:
            counts.vendors_with_qr += n
        if is_active:
            counts.vendors_active += n
            if with_qr:
                counts.vendors_active_with_qr += n
    return dict(out)


def qr_holder_counts(
    session: Session, market_ids: Select[Any], cutoffs: list[dt.datetime]
) -> list[int]:
    """vendors_with_qr of the area at each of several instants (for trend charts).

    Same rule as ``registered_clause`` and ``qr_vendor_ids``, applied in Python to the
    area's vendors and static codes fetched once, instead of one query per instant.
    """
    vendors = session.execute(
        select(Vendor.id, Vendor.created_at, Vendor.status, Vendor.left_at).where(
            Vendor.market_id.in_(market_ids)
        )
    ).all()
    spans: dict[int, list[tuple[dt.datetime, dt.datetime | None, str]]] = defaultdict(list)
    for vendor_id, issued, revoked, status in session.execute(
        select(QrCode.vendor_id, QrCode.issued_at, QrCode.revoked_at, PaymentAccount.status)
        .join(PaymentAccount, PaymentAccount.id == QrCode.account_id)
        .join(Vendor, Vendor.id == QrCode.vendor_id)
        .where(Vendor.market_id.in_(market_ids), QrCode.is_dynamic.is_(False))
    ):
        spans[vendor_id].append((issued, revoked, str(status)))

    def holds(vendor_id: int, at: dt.datetime) -> bool:
        for issued, revoked, status in spans.get(vendor_id, ()):
            if issued >= at:
                continue
            if revoked is None and status == AccountStatus.APPROVED:
                return True
            if revoked is not None and revoked >= at and status in VALID_THEN:
                return True
        return False

    out = []
    for at in cutoffs:
        n = 0
        for vendor_id, created, status, left in vendors:
            if vendor_id not in spans or created >= at:
                continue
            if status == VendorStatus.LEFT and (left is None or left < at):
                continue
            n += holds(vendor_id, at)
        out.append(n)
    return out


VALID_THEN = (str(AccountStatus.APPROVED), str(AccountStatus.REPLACED))


def payments_by_market(
    session: Session, market_ids: Select[Any], start: dt.date, end: dt.date
) -> dict[int, Payments]:
    """Count and value per method and market in [start, end] from the market rollups."""
    r = MarketDailyRollup
    stmt = (
        select(r.market_id, r.method, func.sum(r.tx_count), func.sum(r.tx_value))
        .where(r.market_id.in_(market_ids), r.day >= start, r.day <= end)
        .group_by(r.market_id, r.method)
    )
    out: dict[int, Payments] = defaultdict(Payments)
    for market_id, method, count, value in session.execute(stmt):
        out[market_id].count[method] = int(count or 0)
        out[market_id].value[method] = int(value or 0)
    return dict(out)


def payments_by_day(
    session: Session, market_ids: Select[Any], start: dt.date, end: dt.date
) -> dict[dt.date, Payments]:
    """Count and value per method and day over the area, for trend charts."""
    r = MarketDailyRollup
    stmt = (
        select(r.day, r.method, func.sum(r.tx_count), func.sum(r.tx_value))
        .where(r.market_id.in_(market_ids), r.day >= start, r.day <= end)
        .group_by(r.day, r.method)
    )
    out: dict[dt.date, Payments] = defaultdict(Payments)
    for day, method, count, value in session.execute(stmt):
        out[day].count[method] = int(count or 0)
        out[day].value[method] = int(value or 0)
    return dict(out)


def rules_up_to(session: Session, day: dt.date) -> list[QualificationRule]:
    """Every rule version in force on or before ``day``, newest first."""
    stmt = (
        select(QualificationRule)
        .where(QualificationRule.valid_from <= day)
        .order_by(QualificationRule.valid_from.desc(), QualificationRule.id.desc())
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class VendorLine:
    """One vendor of a market with their figures for the period."""

    vendor_id: int
    full_name: str
    stall: str
    zone: str | None
    phone: str | None
    status: str
    is_registered: bool
    has_qr: bool
    last_cashless_day: dt.date | None
    tx_count: int
    tx_value: int
    cash_count: int
    cash_value: int

    @property
    def is_active(self) -> bool:
        """A non-void cashless payment in the period."""
        return self.tx_count > 0


def vendor_lines(
    session: Session, market_id: int, *, start: dt.date, end: dt.date, as_of: dt.datetime
) -> list[VendorLine]:
    """Every vendor of one market (left ones only if they were paid in the period)."""
    r = DailyRollup
    this_market = select(Market.id).where(Market.id == market_id)
    last_day = (
        select(r.day)
        .where(
            r.vendor_id == Vendor.id,
            r.day <= end,
            r.method != CASH,
            r.tx_count > 0,
        )
        .order_by(r.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    vendors = session.execute(
        select(
            Vendor.id,
            Vendor.full_name,
            Vendor.stall,
            Vendor.zone,
            Vendor.phone,
            Vendor.status,
            case((registered_clause(as_of), 1), else_=0),
            case((Vendor.id.in_(qr_vendor_ids(this_market, as_of)), 1), else_=0),
            last_day,
        ).where(Vendor.market_id == market_id)
    ).all()
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for vendor_id, method, count, value in session.execute(
        select(r.vendor_id, r.method, func.sum(r.tx_count), func.sum(r.tx_value))
        .where(r.market_id == market_id, r.day >= start, r.day <= end)
        .group_by(r.vendor_id, r.method)
    ):
        slot = sums[vendor_id]
        offset = 2 if method == CASH else 0
        slot[offset] += int(count or 0)
        slot[offset + 1] += int(value or 0)
    lines = []
    for vid, name, stall, zone, phone, status, is_reg, has_qr, last in vendors:
        tx_count, tx_value, cash_count, cash_value = sums.get(vid, [0, 0, 0, 0])
        if not is_reg and tx_count == 0 and cash_count == 0:
            continue
        lines.append(
            VendorLine(
                vendor_id=vid,
                full_name=name,
                stall=stall,
                zone=zone,
                phone=phone,
                status=str(status),
                is_registered=bool(is_reg),
                has_qr=bool(is_reg) and bool(has_qr),
                last_cashless_day=last,
                tx_count=tx_count,
                tx_value=tx_value,
                cash_count=cash_count,
                cash_value=cash_value,
            )
        )
    lines.sort(key=lambda v: (v.stall, v.full_name, v.vendor_id))
    return lines


def market_rollup_drift(session: Session, *, limit: int = 100) -> list[tuple[object, ...]]:
    """Market-day-method keys whose market rollup differs from the sum of vendor rollups."""
    r = DailyRollup
    m = MarketDailyRollup
    truth = (
        select(
            r.market_id.label("market_id"),
            r.day.label("day"),
            r.method.label("method"),
            func.sum(r.tx_count).label("n"),
            func.sum(r.tx_value).label("v"),
        )
        .group_by(r.market_id, r.day, r.method)
        .subquery()
    )
    kept = select(m.market_id, m.day, m.method, m.tx_count, m.tx_value).subquery()
    # Both directions of the comparison, without FULL OUTER JOIN (SQLite before 3.39).
    missing_or_wrong = (
        select(
            truth.c.market_id,
            truth.c.day,
            truth.c.method,
            kept.c.tx_count,
            kept.c.tx_value,
            truth.c.n,
            truth.c.v,
        )
        .outerjoin(
            kept,
            and_(
                kept.c.market_id == truth.c.market_id,
                kept.c.day == truth.c.day,
                kept.c.method == truth.c.method,
            ),
        )
        .where(
            or_(
                # Vendor rows that are all empty need no market row (the PostgreSQL
                # triggers skip zero changes), as a market row of zeros is no drift.
                and_(kept.c.tx_count.is_(None), or_(truth.c.n != 0, truth.c.v != 0)),
                kept.c.tx_count != truth.c.n,
                kept.c.tx_value != truth.c.v,
            )
        )
    )
    extra = (
        select(
            kept.c.market_id,
            kept.c.day,
            kept.c.method,
            kept.c.tx_count,
            kept.c.tx_value,
            literal(0),
            literal(0),
        )
        .outerjoin(
            truth,
            and_(
                kept.c.market_id == truth.c.market_id,
                kept.c.day == truth.c.day,
                kept.c.method == truth.c.method,
            ),
        )
        .where(truth.c.market_id.is_(None), or_(kept.c.tx_count != 0, kept.c.tx_value != 0))
    )
    rows = [tuple(row) for row in session.execute(missing_or_wrong.limit(limit))]
    rows += [tuple(row) for row in session.execute(extra.limit(limit))]
    return rows[:limit]


ACTIVITY_FROM_ROLLUPS = {
    # One bit per distinct active day: the sum of distinct powers of two is their OR.
    "sqlite": (
        "SELECT market_id, date(day, 'start of month') AS month, vendor_id, "
        "SUM(DISTINCT 1 << (CAST(strftime('%d', day) AS INTEGER) - 1)) AS day_mask "
        "FROM daily_rollups WHERE method != 'cash' AND tx_count > 0 "
        "GROUP BY market_id, date(day, 'start of month'), vendor_id"
    ),
    "postgresql": (
        "SELECT market_id, date_trunc('month', day)::date AS month, vendor_id, "
        "bit_or(1 << (extract(day FROM day)::integer - 1)) AS day_mask "
        "FROM daily_rollups WHERE method <> 'cash' AND tx_count > 0 "
        "GROUP BY market_id, date_trunc('month', day)::date, vendor_id"
    ),
}


def activity_from_rollups(session: Session) -> str:
    """SQL computing every vendor_activity_months row afresh from daily_rollups."""
    name = session.get_bind().dialect.name
    return ACTIVITY_FROM_ROLLUPS["postgresql" if name == "postgresql" else "sqlite"]


def activity_drift(session: Session, *, limit: int = 100) -> list[tuple[object, ...]]:
    """(market_id, month, vendor_id, kept mask, true mask) rows that disagree."""
    fresh = {
        (m, str(month), v): int(mask)
        for m, month, v, mask in session.execute(text(activity_from_rollups(session)))
    }
    a = VendorActivityMonth
    kept = {
        (m, str(month), v): int(mask)
        for m, month, v, mask in session.execute(
            select(a.market_id, a.month, a.vendor_id, a.day_mask)
        )
    }
    out = []
    for key in sorted(set(fresh) | set(kept)):
        if fresh.get(key, 0) != kept.get(key, 0):
            out.append((*key, kept.get(key), fresh.get(key)))
            if len(out) >= limit:
                break
    return out
