"""Report tables as CSV and XLSX with Vietnamese headers, safe against formula injection.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula. Unit, market and rule names come from people, so every
text cell starting with one of those gets a leading apostrophe (OWASP's advice);
numbers are written as numbers and never touched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from chopay.exports import safe_cell
from chopay.reports.queries import CASHLESS
from chopay.reports.services import AdoptionReport

METHOD_LABELS = {"vietqr": "VietQR", "ewallet": _l("ví điện tử"), "card": _l("thẻ")}

COLUMN_LABELS: dict[str, Any] = {
    "unit_code": _l("Mã đơn vị"),
    "unit_name": _l("Tên đơn vị"),
    "market_id": _l("ID chợ"),
    "commune_code": _l("Mã xã/phường"),
    "commune_name": _l("Xã/phường"),
    "markets": _l("Số chợ"),
    "qualifying_markets": _l("Số chợ đạt Chợ 4.0"),
    "stall_count": _l("Số quầy/hộ kinh doanh"),
    "vendors": _l("Tiểu thương đăng ký"),
    "vendors_with_qr": _l("Tiểu thương có QR"),
    "vendors_active": _l("Tiểu thương có giao dịch không tiền mặt"),
    "vendors_active_with_qr": _l("Tiểu thương có QR đã dùng"),
    "dormant_vendors": _l("Tiểu thương có QR chưa dùng"),
    "adoption_pct": _l("Tỷ lệ có QR trên số quầy (%)"),
    "active_pct": _l("Tỷ lệ tiểu thương có QR đã dùng (%)"),
    "tx_count": _l("Số giao dịch không tiền mặt"),
    "tx_value": _l("Giá trị không tiền mặt (đồng)"),
    "cash_count": _l("Số giao dịch tiền mặt"),
    "cash_value": _l("Giá trị tiền mặt (đồng)"),
    "cashless_share": _l("Tỷ trọng không tiền mặt (%)"),
    "qualification": _l("Chợ 4.0"),
    "rule": _l("Tiêu chí áp dụng"),
    "lacks": _l("Còn thiếu"),
}
for _method in CASHLESS:
    COLUMN_LABELS[f"tx_count_{_method}"] = _l(
        "Số giao dịch %(method)s", method=METHOD_LABELS.get(_method, _method)
    )
    COLUMN_LABELS[f"tx_value_{_method}"] = _l(
        "Giá trị %(method)s (đồng)", method=METHOD_LABELS.get(_method, _method)
    )


def report_columns(report: AdoptionReport) -> list[str]:
    """Column keys of the report's table."""
    keys = ["unit_code", "unit_name"]
    if report.level == "market":
        keys += ["market_id", "commune_code", "commune_name"]
    keys += list(report.totals)
    if report.level == "market":
        keys += ["qualification", "rule", "lacks"]
    return keys


def _cell(row: dict[str, Any], key: str) -> Any:
    if key == "qualification":
        return row["qualification"]["label"]
    if key == "rule":
        rule = row["qualification"]["rule"]
        return f"{rule['name']} ({rule['valid_from']})" if rule else ""
    if key == "lacks":
        return "; ".join(lack["message"] for lack in row["qualification"]["lacks"])
    value = row.get(key)
    return "" if value is None else value


def report_table(report: AdoptionReport) -> tuple[list[str], list[list[Any]]]:
    """Header labels and data rows (the totals last), ready for CSV or XLSX."""
    keys = report_columns(report)
    headers = [str(COLUMN_LABELS[k]) for k in keys]
    rows = [[_cell(row, k) for k in keys] for row in report.rows]
    total: list[Any] = []
    for k in keys:
        if k == "unit_name":
            total.append(str(_l("Tổng cộng")))
        elif k in report.totals:
            value = report.totals[k]
            total.append("" if value is None else value)
        else:
            total.append("")
    rows.append(total)
    return headers, rows


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel shows Vietnamese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str,
    notes: Sequence[str] = (),
) -> bytes:
    """One worksheet: title and notes, then a bold header row and the data."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Báo cáo"
    line = 1
    for text in (title, *notes):
        sheet.cell(row=line, column=1, value=safe_cell(text)).data_type = "s"
        line += 1
    header_row = line + 1 if notes or title else 1
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=header_row, column=col, value=safe_cell(header))
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=header_row + 1):
        for col, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=col, value=safe_cell(value))
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    for col, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = min(max(len(header), 10), 40)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
