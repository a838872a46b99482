"""Vietnamese number, money and time formatting for pages and exports."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Short names of 10⁹, 10⁶ and 10³ đồng on chart axes and in the PDF summary (1,2 tr; 1,2 m).
MONEY_UNITS = (_l("tỷ"), _l("tr"), _l("nghìn"))


def format_number(value: int | float | None) -> str:
    """1234567 → '1.234.567' (Vietnamese thousands separator)."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        whole = f"{value:,.1f}"
        return whole.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return f"{int(value):,}".replace(",", ".")


def format_vnd(value: int | None) -> str:
    """1250000 → '1.250.000 ₫'."""
    if value is None:
        return "–"
    return f"{format_number(value)} ₫"


def format_pct(value: float | None) -> str:
    """42.857 → '42,9%'."""
    if value is None:
        return "–"
    return f"{value:.1f}".replace(".", ",") + "%"


def to_local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in Asia/Ho_Chi_Minh."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(VN_TZ)


def format_localtime(value: dt.datetime | None) -> str:
    """'21/11/2026 14:05' in Vietnam time."""
    if value is None:
        return "–"
    return to_local(value).strftime("%d/%m/%Y %H:%M")


def format_date(value: dt.date | None) -> str:
    """'21/11/2026'."""
    if value is None:
        return "–"
    return value.strftime("%d/%m/%Y")


# How pages name the fields that error details are keyed by (the API's and forms' field
# names); a name not listed is shown as it is.
FIELD_LABELS = {
    "account_number": _l("Số tài khoản"),
    "amount": _l("Số tiền"),
    "content": _l("Nội dung"),
    "date": _l("Thời gian"),
    "external_ref": _l("Mã giao dịch"),
    "file": _l("Tệp"),
    "from": _l("Từ ngày"),
    "level": _l("Cấp"),
    "market": _l("Chợ"),
    "market_id": _l("Chợ"),
    "method": _l("Phương thức"),
    "note": _l("Ghi chú"),
    "occurred_at": _l("Thời gian"),
    "page": _l("Trang"),
    "q": _l("Tìm"),
    "reason": _l("Lý do"),
    "scheme": _l("Hệ đơn vị"),
    "status": _l("Trạng thái"),
    "to": _l("Đến ngày"),
    "type": _l("Loại"),
    "unit": _l("Đơn vị hành chính"),
    "vendor": _l("Tiểu thương"),
    "vendor_id": _l("Tiểu thương"),
}


# Errors about the request as a whole: the reason speaks for itself (the form's hidden
# idempotency token included: "the form is out of date, reload the page").
_WHOLE_REQUEST = frozenset({"_schema", "token"})


def field_label(name: str) -> str:
    """The words a page shows for an error's field: 'amount' → 'Số tiền'; '' for the
    request as a whole."""
    if name in _WHOLE_REQUEST:
        return ""
    return str(FIELD_LABELS.get(name, name))
