"""Adoption reports: indicators per unit, Chợ 4.0 qualification, trend, market detail.

Definitions (the data dictionary on /open-data repeats them for the public):

- The period is ``[start, end]``, whole days in Asia/Ho_Chi_Minh, both included.
- Markets and their declared ``stall_count`` are today's register (inactive markets are
  left out); no history is kept for them. Vendor and QR figures are taken *as at the end
  of the period* (the first instant of the day after ``end``, Vietnam time), from
  ``created_at``/``left_at`` and the codes' ``issued_at``/``revoked_at``, so a report on
  last quarter is not rewritten by vendors who joined or left since.
- ``vendors``: registered (any status but ``left``); ``vendors_with_qr``: of those, with
  an approved account and an unrevoked static code (counted once however many);
  ``vendors_active``: every vendor of the markets with at least one non-void cashless
  payment in the period (a vendor who left after trading still traded);
  ``vendors_active_with_qr``: active and counted in vendors_with_qr;
  ``dormant_vendors`` = vendors_with_qr − vendors_active_with_qr.
- ``tx_count``/``tx_value``: non-void payments by every method but cash;
  ``tx_count_<method>``/``tx_value_<method>`` for vietqr, ewallet and card;
  ``cash_count``/``cash_value`` for cash.
- Percentages are 0–100 with one decimal, rounded half up, computed from the summed
  integer counts of the row (never averaged), null when the denominator is 0:
  ``adoption_pct`` = vendors_with_qr / stall_count (above 100 means the declared stall
  count is too low, and is shown as is); ``active_pct`` = vendors_active_with_qr /
  vendors_with_qr, i.e. the share of QR holders who used it, so that active_pct and the
  dormant share add up to 100; ``cashless_share`` = cashless value / (cashless + cash
  value) over the row's markets that reported at least one cash payment in the period
  (a market that never reports cash would otherwise read as 100 % cashless).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select

from chopay.admin_units.models import AdminUnit, Scheme, UnitLevel
from chopay.admin_units.services import descendants_at_level, find_unit
from chopay.auth.policy import Action, authorize, can, market_scope, markets_in_unit
from chopay.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from chopay.extensions import db
from chopay.formatting import VN_TZ
from chopay.markets.models import Market
from chopay.reports import queries
from chopay.reports.models import QualificationRule
from chopay.reports.queries import CASH, CASHLESS, MarketPlace, Payments, VendorCounts

logger = logging.getLogger(__name__)

SCHEMES = (str(Scheme.LEGACY), str(Scheme.NEW))
LEVELS = ("province", "district", "commune", "market")
LEVEL_RANK = {level: i for i, level in enumerate(LEVELS)}
MAX_PERIOD_DAYS = 1096  # three years: enough for any programme review, bounded work
DEFAULT_PERIOD_DAYS = 30

# Output field names, in column order. Per-method names follow the Method enum.
METHOD_FIELDS = tuple(
    name for method in CASHLESS for name in (f"tx_count_{method}", f"tx_value_{method}")
)
INDICATOR_FIELDS = (
    "markets",
    "qualifying_markets",
    "stall_count",
    "vendors",
    "vendors_with_qr",
    "vendors_active",
    "vendors_active_with_qr",
    "dormant_vendors",
    "adoption_pct",
    "active_pct",
    "tx_count",
    "tx_value",
    *METHOD_FIELDS,
    "cash_count",
    "cash_value",
    "cashless_share",
)
PCT_FIELDS = ("adoption_pct", "active_pct", "cashless_share")


def pct(numerator: int, denominator: int) -> float | None:
    """numerator/denominator as a percentage with one decimal, half up; None if /0."""
    if denominator == 0:
        return None
    exact = Decimal(numerator) * 100 / Decimal(denominator)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def day_start_utc(day: dt.date) -> dt.datetime:
    """The first instant of ``day`` in Vietnam, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=VN_TZ).astimezone(dt.UTC)


def period_end_instant(end: dt.date) -> dt.datetime:
    """The instant registry figures are taken at: the start of the day after ``end``."""
    return day_start_utc(end + dt.timedelta(days=1))


def today_vn() -> dt.date:
    """Today's date in Vietnam."""
    return dt.datetime.now(VN_TZ).date()


# --- indicators ---------------------------------------------------------------------


@dataclass
class Indicators:
    """Additive figures of a set of markets; ``as_dict`` derives the rest."""

    markets: int = 0
    qualifying_markets: int = 0
    stall_count: int = 0
    adoption_stalls: int = 0  # stalls behind adoption_pct (open data may leave some out)
    vendors: int = 0
    vendors_with_qr: int = 0
    vendors_active: int = 0
    vendors_active_with_qr: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    values: dict[str, int] = field(default_factory=dict)
    share_cashless_value: int = 0  # cashless value of markets that reported cash
    share_cash_value: int = 0

    def add(self, other: Indicators) -> None:
        """Add another set's figures to this one."""
        for name in (
            "markets",
            "qualifying_markets",
            "stall_count",
            "adoption_stalls",
            "vendors",
            "vendors_with_qr",
            "vendors_active",
            "vendors_active_with_qr",
            "share_cashless_value",
            "share_cash_value",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for method, n in other.counts.items():
            self.counts[method] = self.counts.get(method, 0) + n
        for method, v in other.values.items():
            self.values[method] = self.values.get(method, 0) + v

    @property
    def tx_count(self) -> int:
        return sum(n for method, n in self.counts.items() if method != CASH)

    @property
    def tx_value(self) -> int:
        return sum(v for method, v in self.values.items() if method != CASH)

    @property
    def dormant_vendors(self) -> int:
        return self.vendors_with_qr - self.vendors_active_with_qr

    def as_dict(self) -> dict[str, Any]:
        """Every indicator under its published name, in column order."""
        share_total = self.share_cashless_value + self.share_cash_value
        out: dict[str, Any] = {
            "markets": self.markets,
            "qualifying_markets": self.qualifying_markets,
            "stall_count": self.stall_count,
            "vendors": self.vendors,
            "vendors_with_qr": self.vendors_with_qr,
            "vendors_active": self.vendors_active,
            "vendors_active_with_qr": self.vendors_active_with_qr,
            "dormant_vendors": self.dormant_vendors,
            "adoption_pct": pct(self.vendors_with_qr, self.adoption_stalls),
            "active_pct": pct(self.vendors_active_with_qr, self.vendors_with_qr),
            "tx_count": self.tx_count,
            "tx_value": self.tx_value,
        }
        for method in CASHLESS:
            out[f"tx_count_{method}"] = self.counts.get(method, 0)
            out[f"tx_value_{method}"] = self.values.get(method, 0)
        out["cash_count"] = self.counts.get(CASH, 0)
        out["cash_value"] = self.values.get(CASH, 0)
        out["cashless_share"] = (
            pct(self.share_cashless_value, share_total) if self.share_cash_value else None
        )
        return out


def market_indicators(place: MarketPlace, vendors: VendorCounts, pay: Payments) -> Indicators:
    """One market's figures (qualifying_markets is filled in once it is judged)."""
    ind = Indicators(
        markets=1,
        stall_count=place.stall_count,
        adoption_stalls=place.stall_count,
        vendors=vendors.vendors,
        vendors_with_qr=vendors.vendors_with_qr,
        vendors_active=vendors.vendors_active,
        vendors_active_with_qr=vendors.vendors_active_with_qr,
        counts=dict(pay.count),
        values=dict(pay.value),
    )
    if pay.count.get(CASH, 0) > 0:
        ind.share_cash_value = pay.value.get(CASH, 0)
        ind.share_cashless_value = ind.tx_value
    return ind


# --- qualification --------------------------------------------------------------------

QUALIFIES = "qualifies"
NOT_YET = "not_yet"
NO_RULE = "no_rule"

STATUS_LABELS = {
    QUALIFIES: _l("Đạt Chợ 4.0"),
    NOT_YET: _l("Chưa đạt"),
    NO_RULE: _l("Tỉnh chưa ban hành tiêu chí"),
}


LACK_MESSAGES = {
    "vendors_with_qr": _l("cần thêm %(n)d tiểu thương có QR"),
    "vendors_active_with_qr": _l(
        "cần thêm %(n)d tiểu thương có QR phát sinh giao dịch không tiền mặt"
    ),
    "vendors_active": _l("cần thêm %(n)d tiểu thương có giao dịch không tiền mặt"),
    "stall_count": _l("chợ chưa khai báo số quầy, chưa tính được tỷ lệ"),
}


@dataclass(frozen=True)
class Lack:
    """One unmet threshold: which, how many more, and the sentence for people."""

    criterion: str
    needed: int

    @property
    def message(self) -> str:
        """e.g. "cần thêm 37 tiểu thương có QR" (in the request's language)."""
        return str(LACK_MESSAGES[self.criterion]) % {"n": self.needed}


@dataclass(frozen=True)
class Qualification:
    """A market's Chợ 4.0 status under the rule version that judged it."""

    status: str
    rule: QualificationRule | None = None
    lacks: tuple[Lack, ...] = ()

    @property
    def qualifies(self) -> bool:
        return self.status == QUALIFIES

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])

    def as_dict(self) -> dict[str, Any]:
        """JSON shape: status, the rule version, and what is still lacking."""
        rule = self.rule
        return {
            "status": self.status,
            "label": self.label,
            "rule": None
            if rule is None
            else {
                "id": rule.id,
                "name": rule.name,
                "scheme": rule.scheme,
                "province_code": rule.province_code,
                "valid_from": rule.valid_from.isoformat(),
            },
            "lacks": [
                {"criterion": lack.criterion, "needed": lack.needed, "message": lack.message}
                for lack in self.lacks
            ],
        }


@functools.lru_cache(maxsize=256)
def _exact(threshold_pct: float) -> Fraction:
    return Fraction(Decimal(str(threshold_pct)))


def _ceil_share(threshold_pct: float, base: int) -> int:
    """Smallest whole number n with n / base >= threshold_pct / 100, computed exactly."""
    share = _exact(threshold_pct) * base / 100
    return -(-share.numerator // share.denominator)  # ceiling, in integers


def judge(rule: QualificationRule | None, ind: Indicators) -> Qualification:
    """Judge one market's period figures against a rule version.

    Thresholds compare exact ratios (not the rounded percentages shown), so "90 %" means
    at least 90 of every 100 declared stalls. ``min_adoption_pct`` and
    ``min_vendors_with_qr`` are both about QR holders and become one "cần thêm N tiểu
    thương có QR" line (the larger need); ``min_active_pct`` counts QR holders who used
    their code; ``min_active_vendors`` counts vendors with any cashless payment.
    """
    if rule is None:
        return Qualification(NO_RULE)
    lacks: list[Lack] = []
    need_qr = 0
    if rule.min_adoption_pct is not None:
        if ind.stall_count == 0 and rule.min_adoption_pct > 0:
            lacks.append(Lack("stall_count", 0))
        else:
            need_qr = _ceil_share(rule.min_adoption_pct, ind.stall_count) - ind.vendors_with_qr
    if rule.min_vendors_with_qr is not None:
        need_qr = max(need_qr, rule.min_vendors_with_qr - ind.vendors_with_qr)
    if need_qr > 0:
        lacks.append(Lack("vendors_with_qr", need_qr))
    if rule.min_active_pct is not None:
        needed = _ceil_share(rule.min_active_pct, ind.vendors_with_qr) - (
            ind.vendors_active_with_qr
        )
        if ind.vendors_with_qr == 0 and rule.min_active_pct > 0:
            needed = max(needed, 1)
        if needed > 0:
            lacks.append(Lack("vendors_active_with_qr", needed))
    if rule.min_active_vendors is not None:
        needed = rule.min_active_vendors - ind.vendors_active
        if needed > 0:
            lacks.append(Lack("vendors_active", needed))
    return Qualification(NOT_YET if lacks else QUALIFIES, rule, tuple(lacks))


def rule_for(place: MarketPlace, rules: list[QualificationRule]) -> QualificationRule | None:
    """The rule version that judges a market: the newest one in force for its province.

    A market carries a province in each scheme (Thái Nguyên legacy 19, or Bắc Kạn legacy
    06, both in 2025 province 19); rules of either apply, and the newest ``valid_from``
    wins, so a 2025 province's rule supersedes a legacy one from the merger on and the
    status is the same whichever scheme the report is grouped by. ``rules`` come newest
    first (``queries.rules_up_to``).
    """
    for rule in rules:
        if (rule.scheme == Scheme.LEGACY and rule.province_code == place.legacy_province_code) or (
            rule.scheme == Scheme.NEW and rule.province_code == place.new_province_code
        ):
            return rule
    return None


# --- area: which markets, grouped by which units ------------------------------------


@dataclass(frozen=True)
class Area:
    """What a report covers: units of ``level`` inside ``unit`` (None: the country)."""

    scheme: str
    level: str
    unit: AdminUnit | None
    market_ids: Select[Any]
    scope_limited: bool = False


def child_level(scheme: str, unit: AdminUnit | None) -> str:
    """The level one step below ``unit`` (the country's is province)."""
    if unit is None:
        return "province"
    if unit.level == UnitLevel.PROVINCE:
        return "district" if scheme == Scheme.LEGACY else "commune"
    if unit.level == UnitLevel.DISTRICT:
        return "commune"
    return "market"


def next_level(scheme: str, level: str) -> str | None:
    """The level a row of ``level`` drills down to (None below markets)."""
    if level == "province":
        return "district" if scheme == Scheme.LEGACY else "commune"
    return {"district": "commune", "commune": "market"}.get(level)


def check_level(scheme: str, level: str, unit: AdminUnit | None) -> None:
    """Raise InvalidInputError unless ``level`` exists in ``scheme`` and lies under ``unit``."""
    if level not in LEVELS:
        raise InvalidInputError.for_field("level", _l("Cấp phải là tỉnh, huyện, xã hoặc chợ."))
    if scheme == Scheme.NEW and level == "district":
        raise InvalidInputError.for_field(
            "level", _l("Hệ đơn vị 2025 không có cấp huyện; chọn tỉnh, xã hoặc chợ.")
        )
    if unit is not None and LEVEL_RANK[level] < LEVEL_RANK[str(unit.level)]:
        raise InvalidInputError.for_field(
            "level", _l("Cấp báo cáo phải bằng hoặc thấp hơn cấp của đơn vị được chọn.")
        )


def _country_markets(scheme: str) -> Select[Any]:
    column = queries.commune_column(scheme)
    return select(Market.id).where(column.is_not(None))


def _provinces(scheme: str) -> list[AdminUnit]:
    return list(
        db.session.scalars(
            select(AdminUnit)
            .where(AdminUnit.scheme == scheme, AdminUnit.level == UnitLevel.PROVINCE)
            .order_by(AdminUnit.code)
        )
    )


def _unit(scheme: str, code: str) -> AdminUnit:
    unit = find_unit(scheme, code)
    if unit is None:
        raise InvalidInputError.for_field(
            "unit",
            _l("Không có đơn vị mã %(code)s trong hệ %(scheme)s.", code=code, scheme=scheme),
        )
    return unit


def default_unit(user: Any, scheme: str) -> AdminUnit | None:
    """The caller's scope as a unit of ``scheme``: an officer's own unit, else the
    narrowest unit holding every market the caller may see (a board: its market's
    commune; an admin: the province, if all markets lie in one), else the country."""
    own = getattr(user, "unit", None)
    if own is not None and own.scheme == scheme:
        return own
    column = queries.commune_column(scheme)
    commune_ids = list(
        db.session.scalars(
            select(column).where(market_scope(user), column.is_not(None)).distinct().limit(2000)
        )
    )
    if not commune_ids:
        return None
    communes = list(db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(commune_ids))))
    if len(communes) == 1:
        return communes[0]
    for attr in ("district_code", "province_code"):
        codes = {getattr(c, attr) for c in communes}
        if len(codes) == 1 and None not in codes:
            return find_unit(scheme, codes.pop())
    return None


def resolve_area(
    user: Any, *, scheme: str | None, level: str | None, unit_code: str | None
) -> Area:
    """Check the request against the caller's rights and work out what it covers.

    A unit the caller may report on as a whole (``can(VIEW_REPORTS, unit)``) gives every
    row, zeros included. Otherwise the report is limited to the markets of the unit the
    caller may see (a board's market, an officer looking through the other scheme's
    units); units without such markets are then left out rather than shown as zeros,
    and ``scope_limited`` says so. No such market at all: PermissionDeniedError.
    """
    authorize(user, Action.VIEW_REPORTS)
    own = getattr(user, "unit", None)
    scheme = scheme or (str(own.scheme) if own is not None else str(Scheme.NEW))
    if scheme not in SCHEMES:
        raise InvalidInputError.for_field("scheme", _l("Hệ đơn vị phải là legacy hoặc 2025."))
    unit = _unit(scheme, unit_code) if unit_code else default_unit(user, scheme)
    level = level or child_level(scheme, unit)
    check_level(scheme, level, unit)

    if unit is None:
        in_unit = _country_markets(scheme)
        whole = all(can(user, Action.VIEW_REPORTS, p) for p in _provinces(scheme))
    else:
        in_unit = markets_in_unit(unit)
        whole = can(user, Action.VIEW_REPORTS, unit)
    market_ids = select(Market.id).where(Market.id.in_(in_unit), market_scope(user))
    if not whole:
        visible = db.session.scalar(select(exists(market_ids.where(Market.is_active.is_(True)))))
        if not visible and unit_code:
            raise PermissionDeniedError(_l("Bạn không có quyền xem báo cáo của đơn vị này."))
    return Area(scheme, level, unit, market_ids, scope_limited=not whole)


def public_area(*, scheme: str, level: str, unit_code: str | None) -> Area:
    """An area for open data: every active market, no caller scope."""
    if scheme not in SCHEMES:
        raise InvalidInputError.for_field("scheme", _l("Hệ đơn vị phải là legacy hoặc 2025."))
    unit = _unit(scheme, unit_code) if unit_code else None
    check_level(scheme, level, unit)
    market_ids = select(Market.id).where(
        Market.id.in_(_country_markets(scheme) if unit is None else markets_in_unit(unit))
    )
    return Area(scheme, level, unit, market_ids)


# --- the report -------------------------------------------------------------------------


@dataclass
class MarketFigures:
    """One market of the area: where it lies, its figures and its Chợ 4.0 status."""

    place: MarketPlace
    indicators: Indicators
    qualification: Qualification


@dataclass
class RowUnit:
    """A row's unit: an admin unit, or a market at market level."""

    code: str
    name: str
    market_id: int | None = None
    commune_code: str | None = None
    commune_name: str | None = None


@dataclass
class AdoptionReport:
    """Rows of a report plus their totals, and the markets behind them."""

    scheme: str
    level: str
    unit: AdminUnit | None
    start: dt.date
    end: dt.date
    scope_limited: bool
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    markets: list[MarketFigures]
    area: Area | None = None

    def as_dict(self) -> dict[str, Any]:
        """The API body."""
        return {
            "scheme": self.scheme,
            "level": self.level,
            "unit": None
            if self.unit is None
            else {"code": self.unit.code, "name": self.unit.name, "level": str(self.unit.level)},
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "scope_limited": self.scope_limited,
            "rows": self.rows,
            "totals": self.totals,
        }

    def ranking(self) -> list[MarketFigures]:
        """Markets best first: adoption, then share of QR holders active, then value."""

        def key(m: MarketFigures) -> tuple[float, float, int, str]:
            d = m.indicators.as_dict()
            return (
                -(d["adoption_pct"] if d["adoption_pct"] is not None else -1),
                -(d["active_pct"] if d["active_pct"] is not None else -1),
                -d["tx_value"],
                m.place.code,
            )

        return sorted(self.markets, key=key)


def market_figures(area: Area, start: dt.date, end: dt.date) -> list[MarketFigures]:
    """Figures and Chợ 4.0 status of every market in the area for the period."""
    session = db.session
    places = queries.market_places(session, area.scheme, area.market_ids)
    if not places:
        return []
    ids = select(Market.id).where(Market.id.in_([p.market_id for p in places]))
    vendors = queries.vendor_counts(
        session, ids, as_of=period_end_instant(end), start=start, end=end
    )
    payments = queries.payments_by_market(session, ids, start, end)
    rules = queries.rules_up_to(session, end)
    out = []
    for place in places:
        ind = market_indicators(
            place,
            vendors.get(place.market_id, VendorCounts()),
            payments.get(place.market_id, Payments()),
        )
        status = judge(rule_for(place, rules), ind)
        ind.qualifying_markets = 1 if status.qualifies else 0
        out.append(MarketFigures(place, ind, status))
    return out


def row_units(area: Area, markets: Iterable[MarketFigures]) -> list[RowUnit]:
    """The report's rows in order: every unit of the level in the area, or its markets."""
    if area.level == "market":
        return [
            RowUnit(
                m.place.code,
                m.place.name,
                m.place.market_id,
                m.place.commune_code,
                m.place.commune_name,
            )
            for m in markets
        ]
    if area.unit is None:
        units = (
            _provinces(area.scheme)
            if area.level == "province"
            else list(
                db.session.scalars(
                    select(AdminUnit)
                    .where(AdminUnit.scheme == area.scheme, AdminUnit.level == area.level)
                    .order_by(AdminUnit.code)
                )
            )
        )
    else:
        units = descendants_at_level(area.unit, area.level)
    return [RowUnit(u.code, u.name) for u in units]


def row_key(level: str, place: MarketPlace) -> str:
    """The code of the row a market falls in at ``level``."""
    if level == "market":
        return place.code
    if level == "commune":
        return place.commune_code
    if level == "district":
        return place.district_code or ""
    return place.province_code


def group_rows(
    area: Area, markets: list[MarketFigures], contributions: list[Indicators] | None = None
) -> tuple[list[tuple[RowUnit, Indicators]], Indicators]:
    """Sum market figures into the rows of the area's level, and into totals.

    ``contributions`` (one per market, same order) replaces the markets' own figures:
    open data passes figures with suppressed cells taken out.
    """
    figures = contributions if contributions is not None else [m.indicators for m in markets]
    units = row_units(area, markets)
    sums: dict[str, Indicators] = {u.code: Indicators() for u in units}
    totals = Indicators()
    for market, ind in zip(markets, figures, strict=True):
        key = row_key(area.level, market.place)
        if key not in sums:  # a market outside the listed units: cannot happen, but be safe
            logger.warning("market %s has no row at level %s", market.place.code, area.level)
            continue
        sums[key].add(ind)
        totals.add(ind)
    rows = [(u, sums[u.code]) for u in units]
    if area.scope_limited and area.level != "market":
        rows = [(u, s) for u, s in rows if s.markets > 0]
    return rows, totals


def row_dict(unit: RowUnit, level: str, ind: Indicators) -> dict[str, Any]:
    """One API row: the unit's code and name, then every indicator."""
    out: dict[str, Any] = {"unit_code": unit.code, "unit_name": unit.name}
    if level == "market":
        out["market_id"] = unit.market_id
        out["commune_code"] = unit.commune_code
        out["commune_name"] = unit.commune_name
    out.update(ind.as_dict())
    return out


def build_report(area: Area, start: dt.date, end: dt.date) -> AdoptionReport:
    """Indicators for every row of the area, and the totals, for [start, end]."""
    markets = market_figures(area, start, end)
    rows, totals = group_rows(area, markets)
    by_id = {m.place.market_id: m for m in markets}
    out_rows = []
    for unit, ind in rows:
        row = row_dict(unit, area.level, ind)
        if unit.market_id is not None:
            row["qualification"] = by_id[unit.market_id].qualification.as_dict()
        out_rows.append(row)
    return AdoptionReport(
        scheme=area.scheme,
        level=area.level,
        unit=area.unit,
        start=start,
        end=end,
        scope_limited=area.scope_limited,
        rows=out_rows,
        totals=totals.as_dict(),
        markets=markets,
        area=area,
    )


def check_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The period asked for, or the last 30 days up to today; InvalidInputError if wrong."""
    end = end or today_vn()
    start = start or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise InvalidInputError.for_field("from", _l("Ngày bắt đầu phải trước ngày kết thúc."))
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInputError.for_field(
            "to", _l("Kỳ báo cáo dài tối đa %(n)d ngày.", n=MAX_PERIOD_DAYS)
        )
    return start, end


def adoption_report(
    user: Any,
    *,
    scheme: str | None = None,
    level: str | None = None,
    unit: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> AdoptionReport:
    """The adoption report a user asked for, within their rights."""
    start, end = check_period(start, end)
    area = resolve_area(user, scheme=scheme, level=level, unit_code=unit)
    return build_report(area, start, end)


# --- monthly trend ---------------------------------------------------------------------


@dataclass(frozen=True)
class MonthPoint:
    """One month of the trend: payments in it, QR holders at its end."""

    month: dt.date  # first day of the month
    last_day: dt.date  # last day counted (the period end for the final month)
    tx_count: int
    tx_value: int
    cash_value: int
    vendors_with_qr: int
    adoption_pct: float | None


def month_end(first: dt.date) -> dt.date:
    """Last day of the month starting at ``first``."""
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def month_starts(end: dt.date, months: int) -> list[dt.date]:
    """First days of the ``months`` months ending with ``end``'s month, oldest first."""
    first = end.replace(day=1)
    out = [first]
    while len(out) < months:
        prev = out[-1] - dt.timedelta(days=1)
        out.append(prev.replace(day=1))
    return list(reversed(out))


def monthly_trend(area: Area, end: dt.date, months: int = 12) -> list[MonthPoint]:
    """Cashless payments per month and QR holders at each month's end, up to ``end``."""
    session = db.session
    starts = month_starts(end, months)
    places = queries.market_places(session, area.scheme, area.market_ids)
    ids = select(Market.id).where(Market.id.in_([p.market_id for p in places]))
    stalls = sum(p.stall_count for p in places)
    days = queries.payments_by_day(session, ids, starts[0], end) if places else {}
    lasts = [min(month_end(first), end) for first in starts]
    holders = (
        queries.qr_holder_counts(session, ids, [period_end_instant(d) for d in lasts])
        if places
        else [0] * len(starts)
    )
    points = []
    for first, last, with_qr in zip(starts, lasts, holders, strict=True):
        count = value = cash = 0
        for day, pay in days.items():
            if first <= day <= last:
                count += sum(n for method, n in pay.count.items() if method != CASH)
                value += sum(v for method, v in pay.value.items() if method != CASH)
                cash += pay.value.get(CASH, 0)
        points.append(MonthPoint(first, last, count, value, cash, with_qr, pct(with_qr, stalls)))
    return points


# --- one market --------------------------------------------------------------------------


@dataclass
class MarketReport:
    """A market's figures, status and (for those allowed) its vendors."""

    market: Market
    figures: MarketFigures | None
    start: dt.date
    end: dt.date
    vendors: list[queries.VendorLine] | None  # None: the caller may not see vendors
    scheme: str = str(Scheme.NEW)

    @property
    def dormant(self) -> list[queries.VendorLine]:
        """Vendors with a QR and no cashless payment in the period, longest silent first."""
        lines = [v for v in self.vendors or [] if v.has_qr and not v.is_active]
        return sorted(lines, key=lambda v: (v.last_cashless_day or dt.date.min, v.stall))


def get_market(market_id: int) -> Market:
    """The market; NotFoundError if none."""
    market = db.session.get(Market, market_id)
    if market is None:
        raise NotFoundError(_l("Không tìm thấy chợ."))
    return market


def market_report(
    user: Any,
    market_id: int,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    scheme: str | None = None,
) -> MarketReport:
    """One market's report; the per-vendor sales list only for those who may see payments."""
    start, end = check_period(start, end)
    market = get_market(market_id)
    authorize(user, Action.VIEW_REPORTS, market)
    if scheme not in SCHEMES:
        scheme = str(Scheme.NEW)
    if scheme == Scheme.NEW and market.new_commune_id is None:
        scheme = str(Scheme.LEGACY)
    elif scheme == Scheme.LEGACY and market.legacy_commune_id is None:
        scheme = str(Scheme.NEW)
    area = Area(scheme, "market", None, select(Market.id).where(Market.id == market.id))
    found = market_figures(area, start, end)
    vendors = None
    if can(user, Action.VIEW_PAYMENTS, market):
        vendors = queries.vendor_lines(
            db.session, market.id, start=start, end=end, as_of=period_end_instant(end)
        )
    return MarketReport(market, found[0] if found else None, start, end, vendors, scheme)


def market_trend(result: MarketReport, months: int = 12) -> list[MonthPoint]:
    """The monthly trend of one market, up to the end of its report's period."""
    area = Area(
        result.scheme, "market", None, select(Market.id).where(Market.id == result.market.id)
    )
    return monthly_trend(area, result.end, months)


# --- rules ---------------------------------------------------------------------------------


def list_rules(
    *, scheme: str | None = None, province: str | None = None
) -> list[QualificationRule]:
    """Rule versions, by province then newest first."""
    stmt = select(QualificationRule)
    if scheme:
        stmt = stmt.where(QualificationRule.scheme == scheme)
    if province:
        stmt = stmt.where(QualificationRule.province_code == province)
    return list(
        db.session.scalars(
            stmt.order_by(
                QualificationRule.scheme,
                QualificationRule.province_code,
                QualificationRule.valid_from.desc(),
            )
        )
    )


def add_rule(
    *,
    scheme: str,
    province_code: str,
    valid_from: dt.date,
    name: str,
    min_adoption_pct: float | None = None,
    min_active_pct: float | None = None,
    min_active_vendors: int | None = None,
    min_vendors_with_qr: int | None = None,
    notes: str | None = None,
) -> QualificationRule:
    """Add a rule version for a province; InvalidInputError on bad or duplicate input."""
    errors: dict[str, list[Any]] = {}
    province = find_unit(scheme, province_code) if scheme in SCHEMES else None
    if scheme not in SCHEMES:
        errors["scheme"] = [_l("Hệ đơn vị phải là legacy hoặc 2025.")]
    elif province is None or province.level != UnitLevel.PROVINCE:
        errors["province_code"] = [_l("Không có tỉnh mã %(code)s.", code=province_code)]
    for key, value in (("min_adoption_pct", min_adoption_pct), ("min_active_pct", min_active_pct)):
        if value is not None and not 0 <= value <= 100:
            errors[key] = [_l("Tỷ lệ phải từ 0 đến 100.")]
    for key, count in (
        ("min_active_vendors", min_active_vendors),
        ("min_vendors_with_qr", min_vendors_with_qr),
    ):
        if count is not None and count < 0:
            errors[key] = [_l("Không được âm.")]
    if all(
        v is None
        for v in (min_adoption_pct, min_active_pct, min_active_vendors, min_vendors_with_qr)
    ):
        errors["min_adoption_pct"] = [_l("Cần ít nhất một ngưỡng.")]
    if not name.strip():
        errors["name"] = [_l("Cần tên tiêu chí.")]
    if not errors and db.session.scalar(
        select(QualificationRule.id).where(
            QualificationRule.scheme == scheme,
            QualificationRule.province_code == province_code,
            QualificationRule.valid_from == valid_from,
        )
    ):
        errors["valid_from"] = [_l("Tỉnh này đã có tiêu chí áp dụng từ ngày này.")]
    if errors:
        raise InvalidInputError(details=errors)
    rule = QualificationRule(
        scheme=scheme,
        province_code=province_code,
        valid_from=valid_from,
        name=name.strip(),
        min_adoption_pct=min_adoption_pct,
        min_active_pct=min_active_pct,
        min_active_vendors=min_active_vendors,
        min_vendors_with_qr=min_vendors_with_qr,
        notes=notes,
    )
    db.session.add(rule)
    db.session.flush()
    logger.info(
        "qualification rule added: %s:%s from %s (id %s)",
        scheme,
        province_code,
        valid_from,
        rule.id,
    )
    return rule


# Thái Nguyên's demo rule. Its 2022 plan aimed at every trader in a Chợ 4.0 market
# having a QR code; a literal 100 % of *declared stalls* would fail markets over stalls
# that stand empty or are shared, so the demo rule asks for 90 % of declared stalls
# with a valid static code, and, since a stand nobody scans is not adoption, half of
# those vendors using it within the period judged. It is an assumption for the demo,
# not the text of a provincial decision. The same thresholds continue for the merged
# 2025 province (Thái Nguyên + Bắc Kạn) from 1 July 2025.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {
        "scheme": "legacy",
        "province_code": "19",
        "valid_from": dt.date(2022, 1, 1),
        "name": "Chợ 4.0 Thái Nguyên (theo kế hoạch 2022: mọi tiểu thương có QR)",
        "min_adoption_pct": 90.0,
        "min_active_pct": 50.0,
        "notes": "Giả định cho dữ liệu mẫu: ≥ 90% số quầy có mã QR tĩnh hợp lệ, "
        "≥ 50% tiểu thương có QR phát sinh giao dịch không tiền mặt trong kỳ.",
    },
    {
        "scheme": "2025",
        "province_code": "19",
        "valid_from": dt.date(2025, 7, 1),
        "name": "Chợ 4.0 tỉnh Thái Nguyên (sau sáp nhập 01/7/2025)",
        "min_adoption_pct": 90.0,
        "min_active_pct": 50.0,
        "notes": "Giữ ngưỡng của kế hoạch 2022 cho tỉnh Thái Nguyên mới (gồm Bắc Kạn cũ).",
    },
)


def seed_default_rules() -> list[QualificationRule]:
    """Add Thái Nguyên's demo rule versions that are missing (safe to run twice)."""
    added = []
    for spec in DEFAULT_RULES:
        exists_already = db.session.scalar(
            select(QualificationRule.id).where(
                QualificationRule.scheme == spec["scheme"],
                QualificationRule.province_code == spec["province_code"],
                QualificationRule.valid_from == spec["valid_from"],
            )
        )
        if exists_already is None and find_unit(spec["scheme"], spec["province_code"]):
            added.append(add_rule(**spec))
    return added


# --- report rollups upkeep ------------------------------------------------------------------


def report_rollup_drift(limit: int = 100) -> list[tuple[Any, ...]]:
    """Rows where ``market_daily_rollups`` or ``vendor_activity_months`` disagree with
    ``daily_rollups``; empty when all is well."""
    session = db.session
    return queries.market_rollup_drift(session, limit=limit) + queries.activity_drift(
        session, limit=limit
    )


def rebuild_report_rollups() -> int:
    """Recompute ``market_daily_rollups`` and ``vendor_activity_months`` from
    ``daily_rollups``; flushes, never commits.

    For repairs (e.g. after a bulk load with the triggers disabled, or a SQLite table
    rebuild that dropped them). On PostgreSQL, writers of vendor rollups wait until the
    caller commits, so nothing slips between the deletes and the inserts.
    """
    from sqlalchemy import delete, func, insert, text

    from chopay.reports.models import MarketDailyRollup, VendorActivityMonth
    from chopay.transactions.models import DailyRollup

    db.session.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE daily_rollups IN EXCLUSIVE MODE"))
    db.session.execute(delete(MarketDailyRollup))
    db.session.execute(delete(VendorActivityMonth))
    source = select(
        DailyRollup.market_id,
        DailyRollup.day,
        DailyRollup.method,
        func.sum(DailyRollup.tx_count),
        func.sum(DailyRollup.tx_value),
    ).group_by(DailyRollup.market_id, DailyRollup.day, DailyRollup.method)
    result = db.session.execute(
        insert(MarketDailyRollup).from_select(
            ["market_id", "day", "method", "tx_count", "tx_value"], source
        )
    )
    db.session.execute(
        text(
            "INSERT INTO vendor_activity_months (market_id, month, vendor_id, day_mask) "
            + queries.activity_from_rollups(db.session)
        )
    )
    rows = int(getattr(result, "rowcount", 0) or 0)
    logger.info("report rollups rebuilt: %s market-day rows", rows)
    return rows
