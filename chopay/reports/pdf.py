"""The one-page A4 summary of an adoption report, for meetings (fpdf2, Be Vietnam Pro).

Real text throughout (searchable, copyable, readable by screen readers); the small
charts are drawn with PDF rectangles next to the numbers they show. Rows that do not
fit on the page are named in a closing line that points to the Excel export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import fontpkg
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from fpdf import FPDF

from chopay.formatting import (
    MONEY_UNITS,
    format_date,
    format_localtime,
    format_number,
    format_pct,
)
from chopay.reports.charts import compact_vnd, nice_ceiling
from chopay.reports.services import AdoptionReport, MonthPoint

FAMILY = "BeVietnamPro"
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 12.0
INNER_W = PAGE_W - 2 * MARGIN
BRAND = (179, 20, 27)
OK = (28, 124, 58)
INK = (27, 31, 36)
MUTED = (91, 100, 112)
LINE = (213, 218, 224)
SOFT = (238, 240, 243)

SCHEME_NAMES = {"legacy": _l("đơn vị trước 01/7/2025"), "2025": _l("đơn vị từ 01/7/2025")}
LEVEL_NAMES = {
    "province": _l("tỉnh"),
    "district": _l("huyện"),
    "commune": _l("xã/phường"),
    "market": _l("chợ"),
}


class _Summary(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.add_font(FAMILY, "", str(fontpkg.path("Be Vietnam Pro", weight=400)))
        self.add_font(FAMILY, "B", str(fontpkg.path("Be Vietnam Pro", weight=700)))
        self.set_creator("chopay")

    def font(self, size: float, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(*colour)

    def fit(self, text: str, width: float) -> str:
        """``text`` shortened with an ellipsis to fit ``width`` mm in the current font."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "…") > width:
            text = text[:-1]
        return text + "…"

    def text_at(self, x: float, y: float, w: float, h: float, text: str, align: str = "L") -> None:
        self.set_xy(x, y)
        self.cell(w, h, self.fit(text, w - 0.6), align=align)


def _pct(value: float | None) -> str:
    return format_pct(value)


def summary_pdf(
    report: AdoptionReport, trend: Sequence[MonthPoint], *, generated_at: dt.datetime
) -> bytes:
    """The report's key figures, rows, trend and market ranking on one A4 page."""
    pdf = _Summary()
    area = report.unit.name if report.unit is not None else _("Cả nước")
    pdf.set_title(_("Báo cáo Chợ 4.0: %(area)s", area=area))
    pdf.add_page()
    y = _header(pdf, report, area, generated_at)
    y = _key_figures(pdf, report.totals, y)
    reserved = (48 if trend else 0) + (34 if report.markets else 0) + 10
    y = _rows_table(pdf, report, y, PAGE_H - MARGIN - reserved)
    if trend:
        y = _trend(pdf, trend, y + 3)
    if report.markets:
        _ranking(pdf, report, y + 3)
    _footer(pdf)
    return bytes(pdf.output())


def _header(pdf: _Summary, report: AdoptionReport, area: str, generated_at: dt.datetime) -> float:
    pdf.set_fill_color(*BRAND)
    pdf.rect(MARGIN, MARGIN, INNER_W, 1.5, style="F")
    pdf.font(16, bold=True)
    pdf.text_at(MARGIN, MARGIN + 3, INNER_W, 8, _("Báo cáo Chợ 4.0: %(area)s", area=area))
    pdf.font(9, colour=MUTED)
    line = _(
        "Kỳ %(a)s – %(b)s · số liệu theo %(level)s, %(scheme)s · lập lúc %(at)s",
        a=format_date(report.start),
        b=format_date(report.end),
        level=LEVEL_NAMES.get(report.level, report.level),
        scheme=SCHEME_NAMES.get(report.scheme, report.scheme),
        at=format_localtime(generated_at),
    )
    pdf.text_at(MARGIN, MARGIN + 11, INNER_W, 5, line)
    y = MARGIN + 17
    if report.scope_limited:
        pdf.font(8.5, colour=BRAND)
        pdf.text_at(MARGIN, y, INNER_W, 4.5, _("Chỉ gồm các chợ trong phạm vi người lập được xem."))
        y += 5
    return y + 1


def _key_figures(pdf: _Summary, t: dict[str, Any], y: float) -> float:
    boxes = [
        (
            _("Chợ"),
            format_number(t["markets"]),
            _("%(n)s đạt Chợ 4.0", n=format_number(t["qualifying_markets"])),
        ),
        (_("Quầy/hộ kinh doanh"), format_number(t["stall_count"]), _("ban quản lý khai báo")),
        (_("Tiểu thương đăng ký"), format_number(t["vendors"]), ""),
        (
            _("Có mã QR"),
            format_number(t["vendors_with_qr"]),
            _("%(p)s số quầy", p=_pct(t["adoption_pct"])),
        ),
        (
            _("Đã dùng QR trong kỳ"),
            format_number(t["vendors_active_with_qr"]),
            _("%(p)s người có QR", p=_pct(t["active_pct"])),
        ),
        (_("Có QR chưa dùng"), format_number(t["dormant_vendors"]), _("cần theo dõi")),
        (
            _("Giá trị không tiền mặt"),
            compact_vnd(t["tx_value"], MONEY_UNITS) + " đ",
            _("%(n)s giao dịch", n=format_number(t["tx_count"])),
        ),
        (
            _("Tỷ trọng không tiền mặt"),
            _pct(t["cashless_share"]),
            _("ở chợ có báo tiền mặt"),
        ),
    ]
    w, h, gap = (INNER_W - 3 * 3) / 4, 16.5, 3
    for i, (label, value, note) in enumerate(boxes):
        x = MARGIN + (i % 4) * (w + gap)
        top = y + (i // 4) * (h + 2.5)
        pdf.set_fill_color(*SOFT)
        pdf.rect(x, top, w, h, style="F")
        pdf.font(7.5, colour=MUTED)
        pdf.text_at(x + 2, top + 1, w - 4, 4, label)
        pdf.font(13, bold=True)
        pdf.text_at(x + 2, top + 5, w - 4, 6, value)
        pdf.font(7, colour=MUTED)
        pdf.text_at(x + 2, top + 11.3, w - 4, 4, note)
    return y + 2 * h + 2.5 + 4


COLUMNS = (  # key, header, width mm, kind
    ("unit_name", _l("Đơn vị"), 47.0, "text"),
    ("markets", _l("Chợ"), 11.0, "int"),
    ("qualifying_markets", _l("Đạt"), 10.0, "int"),
    ("stall_count", _l("Quầy"), 14.0, "int"),
    ("vendors", _l("T.thương"), 15.0, "int"),
    ("vendors_with_qr", _l("Có QR"), 14.0, "int"),
    ("adoption_pct", _l("% có QR"), 30.0, "bar"),
    ("active_pct", _l("% đã dùng"), 20.0, "pct"),
    ("tx_value", _l("Giá trị KTM"), 25.0, "money"),
)


def _cell_text(row: dict[str, Any], key: str, kind: str) -> str:
    value = row.get(key)
    if kind == "text":
        return str(value)
    if kind in ("pct", "bar"):
        return _pct(value)
    if kind == "money":
        return compact_vnd(value or 0, MONEY_UNITS)
    return format_number(value)


def _rows_table(pdf: _Summary, report: AdoptionReport, y: float, bottom: float) -> float:
    row_h = 5.2
    pdf.font(10, bold=True)
    heading = _("Theo %(level)s", level=LEVEL_NAMES.get(report.level, report.level))
    pdf.text_at(MARGIN, y, INNER_W, 6, heading)
    y += 6.5
    pdf.set_fill_color(*SOFT)
    pdf.rect(MARGIN, y, INNER_W, row_h, style="F")
    pdf.font(7.5, bold=True)
    x = MARGIN
    for _key, header, width, kind in COLUMNS:
        pdf.text_at(x + 0.5, y, width - 1, row_h, str(header), "L" if kind == "text" else "R")
        x += width
    y += row_h
    with_markets = [r for r in report.rows if r["markets"]]
    empty = len(report.rows) - len(with_markets)
    room = int((bottom - y - 2 * row_h) // row_h)
    shown = with_markets[: max(room, 0)]
    hidden = len(with_markets) - len(shown)
    pdf.font(7.5)
    for row in shown:
        y = _table_row(pdf, row, y, row_h, bold=False)
    totals = {"unit_name": _("Tổng cộng"), **report.totals}
    pdf.set_draw_color(*INK)
    pdf.line(MARGIN, y, MARGIN + INNER_W, y)
    y = _table_row(pdf, totals, y, row_h, bold=True)
    notes = []
    if hidden:
        notes.append(_("… và %(n)d đơn vị khác (xem tệp Excel).", n=hidden))
    if empty:
        notes.append(_("%(n)d đơn vị chưa có chợ tham gia.", n=empty))
    if notes:
        pdf.font(7.5, colour=MUTED)
        pdf.text_at(MARGIN, y + 0.5, INNER_W, 4, " ".join(notes))
        y += 4.5
    return y


def _table_row(pdf: _Summary, row: dict[str, Any], y: float, h: float, *, bold: bool) -> float:
    pdf.font(7.5, bold=bold)
    x = MARGIN
    for key, _header, width, kind in COLUMNS:
        text = _cell_text(row, key, kind)
        if kind == "bar":
            value = row.get(key)
            if value is not None:
                pdf.set_fill_color(*(OK if value >= 90 else BRAND))
                pdf.rect(x + 1, y + 1.4, (width - 14) * min(value, 100) / 100, h - 2.8, style="F")
            pdf.text_at(x + width - 13, y, 12.5, h, text, "R")
        else:
            pdf.text_at(x + 0.5, y, width - 1, h, text, "L" if kind == "text" else "R")
        x += width
    pdf.set_draw_color(*LINE)
    pdf.line(MARGIN, y + h, MARGIN + INNER_W, y + h)
    return y + h


def _trend(pdf: _Summary, trend: Sequence[MonthPoint], y: float) -> float:
    pdf.font(10, bold=True)
    pdf.text_at(
        MARGIN, y, INNER_W, 6, _("Giá trị không tiền mặt theo tháng và tỷ lệ có QR cuối tháng")
    )
    y += 7
    chart_h, label_h = 26.0, 9.0
    slot = INNER_W / len(trend)
    top = nice_ceiling(max(p.tx_value for p in trend))
    base = y + chart_h
    for i, point in enumerate(trend):
        x = MARGIN + i * slot
        h = chart_h * point.tx_value / top if top else 0
        pdf.set_fill_color(*BRAND)
        pdf.rect(x + 2, base - h, slot - 4, h, style="F")
        pdf.font(6.5, colour=MUTED)
        pdf.text_at(x, base - h - 3.6, slot, 3.5, compact_vnd(point.tx_value, MONEY_UNITS), "C")
        pdf.font(7)
        pdf.text_at(x, base + 0.5, slot, 3.8, point.month.strftime("%m/%Y"), "C")
        pdf.font(7, bold=True, colour=OK)
        pdf.text_at(x, base + 4.3, slot, 3.8, _pct(point.adoption_pct), "C")
    return base + label_h


def _ranking(pdf: _Summary, report: AdoptionReport, y: float) -> None:
    ranked = report.ranking()
    best = ranked[:4]
    worst = [m for m in reversed(ranked[4:]) if not m.qualification.qualifies][:4]
    half = (INNER_W - 4) / 2
    for col, (title, markets) in enumerate(
        ((_("Chợ dẫn đầu"), best), (_("Chợ cần hỗ trợ thêm"), worst))
    ):
        x = MARGIN + col * (half + 4)
        pdf.font(10, bold=True)
        pdf.text_at(x, y, half, 6, title)
        line_y = y + 6.5
        for m in markets:
            d = m.indicators.as_dict()
            pdf.font(7.5, bold=True)
            pdf.text_at(x, line_y, half * 0.5, 4, m.place.name)
            pdf.font(7.5)
            pdf.text_at(
                x + half * 0.5,
                line_y,
                half * 0.5,
                4,
                _("%(a)s có QR · %(b)s dùng", a=_pct(d["adoption_pct"]), b=_pct(d["active_pct"])),
                "R",
            )
            line_y += 4.2
            detail = m.qualification.label
            if m.qualification.lacks:
                detail = "; ".join(lack.message for lack in m.qualification.lacks)
            pdf.font(7, colour=OK if m.qualification.qualifies else MUTED)
            pdf.text_at(x + 2, line_y, half - 2, 3.6, detail)
            line_y += 4.2


def _footer(pdf: _Summary) -> None:
    pdf.font(7, colour=MUTED)
    pdf.text_at(
        MARGIN,
        PAGE_H - MARGIN - 4,
        INNER_W,
        4,
        _(
            "Nguồn: chopay, tổng hợp từ sổ giao dịch (không tính giao dịch đã huỷ). "
            "KTM: không tiền mặt. Định nghĩa chỉ tiêu: trang Dữ liệu mở (/open-data)."
        ),
    )
