"""Open data: public monthly aggregates per market and unit, small cells suppressed.

What is published: for one calendar month (a month that is over), per market or per
unit of a level, the registry figures (markets, stall_count) and the adoption figures
of PUBLIC_FIELDS. No names of people, no accounts, no per-vendor data, no per-method
split and no cash figures.

Suppression (threshold: 5 vendors), decided once per market and month, the same in
every query:

1. A market's *vendor cells* (vendors, vendors_with_qr, vendors_active,
   vendors_active_with_qr, dormant_vendors, adoption_pct, active_pct and its Chợ 4.0
   status) are withheld when it has fewer than 5 registered vendors.
2. A market's *payment cells* (tx_count, tx_value) are withheld when fewer than 5
   vendors took a cashless payment in the month: they would be one trader's takings.
3. Totals never include withheld cells. A unit's figures are sums over the markets
   whose own cells are published (adoption_pct over those markets' stalls), and each
   row says how many markets were left out (``markets_vendor_data_withheld``,
   ``markets_payment_data_withheld``). A withheld value therefore appears in no
   published number, so no subtraction — unit minus its published markets, a legacy
   district minus the 2025 communes it overlaps, one month minus another — can bring
   it back. This is "suppress what is derived from small cells" rather than picking
   complementary cells to hide: with two schemes whose units overlap differently,
   complementary suppression would have to hold across every pair of units, and
   leaving small markets out of the sums holds by construction.
4. Only whole past months are offered: with free date ranges, the difference between
   two overlapping periods would publish a single day of a single market.

Residual risks, stated: a market with 5 or more active vendors where one of them takes
most of the money still publishes the total (no dominance rule yet); a payment voided
after a month was downloaded changes that month's figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from chopay.admin_units.services import find_unit
from chopay.errors import InvalidInputError
from chopay.reports import services
from chopay.reports.services import Indicators, MarketFigures, row_key

THRESHOLD = 5
LICENCE = {
    "name": "CC BY 4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}
ATTRIBUTION = "chopay — Chợ 4.0"

VENDOR_FIELDS = (
    "qualifying_markets",
    "vendors",
    "vendors_with_qr",
    "vendors_active",
    "vendors_active_with_qr",
    "dormant_vendors",
    "adoption_pct",
    "active_pct",
)
PAYMENT_FIELDS = ("tx_count", "tx_value")
PUBLIC_FIELDS = ("markets", "stall_count", *VENDOR_FIELDS, *PAYMENT_FIELDS)
WITHHELD_FIELDS = ("markets_vendor_data_withheld", "markets_payment_data_withheld")

# The data dictionary: (field, type, meaning). Shown on /open-data and in the JSON.
DICTIONARY: tuple[tuple[str, str, Any], ...] = (
    ("unit_code", "string", _l("Mã đơn vị hành chính (Tổng cục Thống kê) hoặc mã chợ ở cấp chợ.")),
    ("unit_name", "string", _l("Tên đơn vị hành chính hoặc tên chợ.")),
    ("market_id", "integer", _l("Cấp chợ: mã số chợ trong chopay.")),
    ("commune_code", "string", _l("Cấp chợ: mã xã/phường của chợ trong hệ đơn vị đã chọn.")),
    ("markets", "integer", _l("Số chợ đang hoạt động trong đơn vị.")),
    ("stall_count", "integer", _l("Tổng số quầy/hộ kinh doanh do ban quản lý chợ khai báo.")),
    (
        "qualifying_markets",
        "integer",
        _l("Số chợ đạt tiêu chí Chợ 4.0 của tỉnh (phiên bản tiêu chí có hiệu lực cuối tháng)."),
    ),
    ("vendors", "integer", _l("Tiểu thương đã đăng ký, chưa nghỉ, tính đến hết tháng.")),
    (
        "vendors_with_qr",
        "integer",
        _l(
            "Tiểu thương có tài khoản đã duyệt và mã QR tĩnh còn hiệu lực cuối tháng "
            "(mỗi người tính một lần)."
        ),
    ),
    (
        "vendors_active",
        "integer",
        _l("Tiểu thương có ít nhất một giao dịch không tiền mặt (không bị huỷ) trong tháng."),
    ),
    (
        "vendors_active_with_qr",
        "integer",
        _l("Trong số có QR, người đã có giao dịch không tiền mặt."),
    ),
    ("dormant_vendors", "integer", _l("Có QR nhưng chưa có giao dịch không tiền mặt trong tháng.")),
    (
        "adoption_pct",
        "number|null",
        _l(
            "vendors_with_qr / stall_count × 100, một chữ số thập phân, làm tròn nửa lên; "
            "trống khi mẫu số bằng 0. Có thể vượt 100 khi số quầy khai báo thấp."
        ),
    ),
    ("active_pct", "number|null", _l("vendors_active_with_qr / vendors_with_qr × 100.")),
    (
        "tx_count",
        "integer",
        _l("Số giao dịch không tiền mặt (VietQR, ví điện tử, thẻ), không tính giao dịch đã huỷ."),
    ),
    ("tx_value", "integer", _l("Tổng giá trị các giao dịch đó, đồng.")),
    (
        "markets_vendor_data_withheld",
        "integer",
        _l(
            "Số chợ có dưới 5 tiểu thương: số liệu tiểu thương của chợ bị ẩn "
            "và không cộng vào dòng này."
        ),
    ),
    (
        "markets_payment_data_withheld",
        "integer",
        _l(
            "Số chợ có dưới 5 tiểu thương giao dịch không tiền mặt: số liệu giao dịch "
            "bị ẩn và không cộng vào dòng này."
        ),
    ),
)


@dataclass
class OpenData:
    """One month of public aggregates."""

    scheme: str
    level: str
    unit: Any
    month: dt.date
    end: dt.date
    rows: list[dict[str, Any]]
    totals: dict[str, Any]

    def as_dict(self, generated_at: dt.datetime) -> dict[str, Any]:
        """The JSON document."""
        return {
            "dataset": "chopay-adoption-monthly",
            "licence": LICENCE,
            "attribution": ATTRIBUTION,
            "generated_at": generated_at.isoformat(timespec="seconds"),
            "scheme": self.scheme,
            "level": self.level,
            "unit": None
            if self.unit is None
            else {"code": self.unit.code, "name": self.unit.name, "level": str(self.unit.level)},
            "month": self.month.strftime("%Y-%m"),
            "from": self.month.isoformat(),
            "to": self.end.isoformat(),
            "suppression": {
                "threshold_vendors": THRESHOLD,
                "vendor_fields": list(VENDOR_FIELDS),
                "payment_fields": list(PAYMENT_FIELDS),
                "rule": (
                    "Vendor fields of a market with fewer than 5 registered vendors, and "
                    "payment fields of a market with fewer than 5 vendors paid cashless in "
                    "the month, are null and are left out of every total."
                ),
            },
            "rows": self.rows,
            "totals": self.totals,
        }


def last_complete_month(today: dt.date) -> dt.date:
    """First day of the month before ``today``'s."""
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def masked(market: MarketFigures) -> tuple[Indicators, bool, bool]:
    """A market's publishable contribution, and whether vendor / payment cells are withheld."""
    ind = market.indicators
    vendor_ok = ind.vendors >= THRESHOLD
    payment_ok = ind.vendors_active >= THRESHOLD
    out = Indicators(markets=1, stall_count=ind.stall_count)
    if vendor_ok:
        out.qualifying_markets = ind.qualifying_markets
        out.adoption_stalls = ind.adoption_stalls
        out.vendors = ind.vendors
        out.vendors_with_qr = ind.vendors_with_qr
        out.vendors_active = ind.vendors_active
        out.vendors_active_with_qr = ind.vendors_active_with_qr
    if payment_ok:
        out.counts = dict(ind.counts)
        out.values = dict(ind.values)
    return out, not vendor_ok, not payment_ok


def _public(
    ind: Indicators, vendor_withheld: int, payment_withheld: int, markets: int
) -> dict[str, Any]:
    full = ind.as_dict()
    out = {name: full[name] for name in PUBLIC_FIELDS}
    # Nothing published behind the row but something withheld: unknown, not zero.
    if vendor_withheld and vendor_withheld == markets:
        out.update(dict.fromkeys(VENDOR_FIELDS))
    if payment_withheld and payment_withheld == markets:
        out.update(dict.fromkeys(PAYMENT_FIELDS))
    out["markets_vendor_data_withheld"] = vendor_withheld
    out["markets_payment_data_withheld"] = payment_withheld
    return out


def open_data(
    *, scheme: str, level: str | None, unit_code: str | None, month: dt.date | None, today: dt.date
) -> OpenData:
    """Public aggregates for a whole past month; InvalidInputError for a month not over."""
    latest = last_complete_month(today)
    month = month or latest
    if month > latest:
        raise InvalidInputError.for_field(
            "month",
            _l(
                "Chỉ công bố số liệu của tháng đã kết thúc (đến %(m)s).", m=latest.strftime("%Y-%m")
            ),
        )
    unit = find_unit(scheme, unit_code) if unit_code else None
    level = level or services.child_level(scheme, unit)
    area = services.public_area(scheme=scheme, level=level, unit_code=unit_code)
    end = services.month_end(month)
    markets = services.market_figures(area, month, end)
    parts = [masked(m) for m in markets]
    rows, totals = services.group_rows(area, markets, [p[0] for p in parts])
    withheld: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for market, (_, vendor_off, payment_off) in zip(markets, parts, strict=True):
        slot = withheld[row_key(area.level, market.place)]
        slot[0] += vendor_off
        slot[1] += payment_off
    out_rows = []
    for row_unit, ind in rows:
        row: dict[str, Any] = {"unit_code": row_unit.code, "unit_name": row_unit.name}
        if row_unit.market_id is not None:
            row["market_id"] = row_unit.market_id
            row["commune_code"] = row_unit.commune_code
        v_off, p_off = withheld.get(row_unit.code, [0, 0])
        row.update(_public(ind, v_off, p_off, ind.markets))
        out_rows.append(row)
    total_v = sum(p[1] for p in parts)
    total_p = sum(p[2] for p in parts)
    return OpenData(
        scheme=scheme,
        level=level,
        unit=area.unit,
        month=month,
        end=end,
        rows=out_rows,
        totals=_public(totals, total_v, total_p, totals.markets),
    )


def csv_columns(level: str) -> list[str]:
    """Machine-readable column names of the CSV (the data dictionary's)."""
    keys = ["unit_code", "unit_name"]
    if level == "market":
        keys += ["market_id", "commune_code"]
    return keys + list(PUBLIC_FIELDS) + list(WITHHELD_FIELDS)


def csv_rows(data: OpenData) -> tuple[list[str], list[list[Any]]]:
    """Header and rows (totals last, unit_code 'total'); withheld cells are empty."""
    keys = csv_columns(data.level)
    rows = [["" if row.get(k) is None else row.get(k) for k in keys] for row in data.rows]
    total = {"unit_code": "total", "unit_name": "Tổng cộng", **data.totals}
    rows.append(["" if total.get(k) is None else total.get(k) for k in keys])
    return keys, rows
