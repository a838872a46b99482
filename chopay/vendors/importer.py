"""Bulk import of a market's vendor list from the CSV or Excel file the board already keeps.

Boards' lists are messy in known ways, all handled here:

* a title row or two above the header, blank lines in between;
* Vietnamese headers with or without diacritics ("Họ và tên", "Ho ten", "SĐT", "STK");
* numbers that Excel turned into floats (912345678.0: the phone lost its leading 0) or
  into scientific notation (9.70436E+12: digits may be gone for good);
* banks written as a BIN (970436) or a common short name (VCB, Vietcombank).

Every row is checked with the same schemas as the form and the API. A dry run reports
row by row and writes nothing; a real run writes every good row in the caller's single
transaction (bulk INSERTs, so 5,000 rows take about a second) and returns the same
report. Rows that match a vendor already at the market, or an earlier row of the same
file, are reported as duplicates, so importing a file twice creates nothing new.
Imported accounts are ``pending``: someone other than the importer must approve them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import insert, select

from chopay.audit.services import Origin, event_values, record_event, record_events
from chopay.auth.models import User
from chopay.auth.policy import Action, authorize
from chopay.db import utcnow
from chopay.errors import InvalidInputError
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.text import fold, slugify
from chopay.vendors import codes
from chopay.vendors.models import (
    AccountKind,
    AccountStatus,
    OnboardingOrg,
    PaymentAccount,
    Vendor,
    VendorStatus,
)
from chopay.vendors.schemas import AccountCreateSchema, VendorImportRowSchema
from chopay.vendors.services import VENDOR_FIELDS, stall_key
from chopay.vietqr import lookup_bank, to_ascii

logger = logging.getLogger(__name__)

MAX_ROWS = 10_000
HEADER_SEARCH_ROWS = 30
# Hostile files: only the first MAX_COLUMNS columns are read (a vendor list has a dozen);
# an XLSX may unpack to at most MAX_XLSX_UNPACKED bytes (a zip bomb is refused before
# parsing: zipfile never inflates an entry past its declared size); rows past Excel's last
# row are not read; a cell longer than MAX_CELL_LENGTH is an error of its row (no field
# holds more than a few hundred characters); text echoed back is cut to MAX_ECHO.
MAX_COLUMNS = 100
MAX_CELL_LENGTH = 1000
MAX_XLSX_UNPACKED = 64 * 1024 * 1024
MAX_SHEET_ROW = 1_048_576
MAX_ECHO = 200

# Column → header spellings, compared after slugify (lowercase ASCII, letters and digits
# only): "Họ và tên" → "hovaten", "Số ĐT" → "sodt".
_ALIASES: dict[str, str] = {
    "full_name": (
        "hovaten hoten hotentieuthuong hovatentieuthuong tentieuthuong ten "
        "hotenchuho tenchuho hotennguoibanhang fullname name"
    ),
    "stall": (
        "soquay quay quayso soquayhang maquay kiot sokiot quaykiot soquaykiot "
        "ki0t soki0t vitriquay stall"
    ),
    "zone": "khu khuvuc day khuday daykhu zone khuvucday",
    "goods_category": (
        "nganhhang mathang nganhhangkinhdoanh mathangkinhdoanh nhomhang "
        "goodscategory category goods"
    ),
    "phone": ("sodienthoai dienthoai sdt sodt dt didong sodidong phone mobile phonenumber"),
    "bank": "nganhang tennganhang manganhang bin mabin bank bankbin bankname",
    "account_number": "sotaikhoan stk sotk taikhoan sotaikhoannganhang accountnumber account",
    "account_name": (
        "chutaikhoan tenchutaikhoan tentaikhoan chutk tenchutk accountname accountholder"
    ),
    "id_number": (
        "cccd socccd cmnd socmnd cmndcccd cccdcmnd socmndcccd socccdcmnd "
        "sodinhdanh sodinhdanhcanhan idnumber"
    ),
    "has_smartphone": (
        "dienthoaithongminh codienthoaithongminh smartphone dtthongminh codtthongminh"
    ),
    "has_payment_speaker": (
        "loathanhtoan coloathanhtoan loathongbao coloa loa speaker paymentspeaker"
    ),
}
HEADER_ALIASES = {name: tuple(text.split()) for name, text in _ALIASES.items()}
_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")

# How the page and the report name each column (the template's header row).
COLUMN_LABELS: dict[str, Any] = {
    "full_name": _l("Họ và tên"),
    "stall": _l("Số quầy"),
    "zone": _l("Khu/dãy"),
    "goods_category": _l("Ngành hàng"),
    "phone": _l("Số điện thoại"),
    "bank": _l("Ngân hàng"),
    "account_number": _l("Số tài khoản"),
    "account_name": _l("Chủ tài khoản"),
    "id_number": _l("Số CCCD"),
    "has_smartphone": _l("Điện thoại thông minh"),
    "has_payment_speaker": _l("Loa thanh toán"),
}
REQUIRED_COLUMNS = ("full_name", "stall")
# Columns holding digits that Excel likes to turn into numbers.
NUMERIC_TEXT_COLUMNS = ("phone", "account_number", "id_number", "bank", "stall")

_TRUE = {"co", "x", "1", "yes", "y", "true", "c", "v", "da co", "cos"}
_FALSE = {"khong", "0", "no", "n", "false", "k", "chua", "chua co", "ko", "-"}
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_FLOAT_ZERO = re.compile(r"^(\d+)[.,]0+$")


@dataclass
class RowResult:
    """What happened (or would happen) to one data row."""

    row: int
    status: str = "error"  # created | duplicate | error
    full_name: str | None = None
    stall: str | None = None
    phone: str | None = None
    bank_bin: str | None = None
    account_number: str | None = None
    vendor_id: int | None = None
    duplicate_of_row: int | None = None
    errors: dict[str, list[Any]] = field(default_factory=dict)
    warnings: list[Any] = field(default_factory=list)


@dataclass
class ImportReport:
    """Per-row results and totals of one import (or dry run)."""

    dry_run: bool
    header_row: int
    columns: dict[str, str]
    rows: list[RowResult]

    def _count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def duplicate(self) -> int:
        return self._count("duplicate")

    @property
    def error(self) -> int:
        return self._count("error")

    @property
    def accounts_pending(self) -> int:
        return sum(1 for r in self.rows if r.status == "created" and r.account_number)


@dataclass
class _Planned:
    result: RowResult
    vendor: dict[str, Any]
    account: dict[str, Any] | None


# --- reading the file ----------------------------------------------------------------


def _file_error(reason: Any) -> InvalidInputError:
    return InvalidInputError(_l("Không đọc được tệp danh sách."), details={"file": [reason]})


def read_rows(data: bytes, filename: str | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(spreadsheet row number, cell values) of the first sheet of an XLSX, or of a CSV."""
    if not data.strip():
        raise _file_error(_l("Tệp trống."))
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _file_error(
            _l("Đây là tệp Excel đời cũ (.xls). Hãy mở bằng Excel và lưu lại dạng .xlsx hoặc CSV.")
        )
    return _read_csv(data)


_XLSX_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    InvalidFileException,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    OSError,
    EOFError,
    ElementTree.ParseError,
)


def _read_xlsx(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    corrupt = _l("Tệp Excel bị hỏng hoặc không phải .xlsx.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except _XLSX_ERRORS:
        raise _file_error(corrupt) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise _file_error(
            _l(
                "Tệp Excel quá lớn khi giải nén. "
                "Hãy chia thành nhiều tệp nhỏ hơn hoặc lưu dạng CSV."
            )
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0] if workbook.worksheets else None
    except _XLSX_ERRORS:
        raise _file_error(corrupt) from None
    if sheet is None:
        raise _file_error(_l("Tệp Excel không có trang tính nào."))
    # The <dimension> a file declares can be a lie (A1:XFD1048576 would pad every row to
    # 16,384 cells and add a million empty rows): read what is really there.
    sheet.reset_dimensions()

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            cells = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
            for number, values in enumerate(cells, start=1):
                if number > MAX_SHEET_ROW:
                    break
                if values.count(None) < len(values):  # skip empty rows cheaply
                    yield number, list(values)
        except _XLSX_ERRORS:
            raise _file_error(corrupt) from None
        finally:
            workbook.close()

    return rows()


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258")  # Excel "CSV" on Vietnamese Windows
    except UnicodeDecodeError:
        raise _file_error(
            _l("Không đọc được bảng mã của tệp CSV. Hãy lưu lại dạng “CSV UTF-8”.")
        ) from None


def _read_csv(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data).replace("\x00", "")
    sample = text[:20_000].splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = max(",;\t", key=lambda d: sum(line.count(d) for line in sample))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, values in enumerate(reader, start=1):
                yield number, values[:MAX_COLUMNS]
        except csv.Error as exc:
            raise _file_error(_l("Tệp CSV sai định dạng ở dòng %(n)d.", n=reader.line_num)) from exc

    return rows()


def header_field(cell: Any) -> str | None:
    """Which column a header cell names, or None: 'Họ và tên (*)' → 'full_name'."""
    if cell is None:
        return None
    text = str(cell)
    if len(text) > MAX_ECHO:  # no header is that long (and slugifying it would cost)
        return None
    key = slugify(_PARENTHESES.sub("", text))
    if not key:
        return None
    if key in _ALIAS_TO_FIELD:
        return _ALIAS_TO_FIELD[key]
    # "Số tài khoản ngân hàng Agribank" → the longest alias it starts with (4+ letters)
    best = max(
        (a for a in _ALIAS_TO_FIELD if len(a) >= 4 and key.startswith(a)), key=len, default=None
    )
    return _ALIAS_TO_FIELD[best] if best else None


def find_header(
    rows: Iterator[tuple[int, list[Any]]],
) -> tuple[int, dict[str, int]]:
    """Find the header row among the first rows: its number and the column of each field."""
    best: tuple[int, dict[str, int]] | None = None
    for number, values in rows:
        columns: dict[str, int] = {}
        for index, cell in enumerate(values):
            name = header_field(cell)
            if name is not None and name not in columns:
                columns[name] = index
        if all(c in columns for c in REQUIRED_COLUMNS):
            return number, columns
        if len(columns) >= 2 and (best is None or len(columns) > len(best[1])):
            best = (number, columns)
        if number >= HEADER_SEARCH_ROWS:
            break
    if best is not None:
        missing = [str(COLUMN_LABELS[c]) for c in REQUIRED_COLUMNS if c not in best[1]]
        raise _file_error(
            _l(
                "Dòng tiêu đề (dòng %(n)d) thiếu cột: %(cols)s.",
                n=best[0],
                cols=", ".join(missing),
            )
        )
    raise _file_error(
        _l(
            "Không tìm thấy dòng tiêu đề có cột “Họ và tên” và “Số quầy” trong %(n)d dòng đầu. "
            "Hãy dùng tệp mẫu.",
            n=HEADER_SEARCH_ROWS,
        )
    )


# --- cells ---------------------------------------------------------------------------


class CellError(ValueError):
    """A cell that cannot be read; the message is for the person fixing the file."""

    def __init__(self, reason: Any) -> None:
        self.reason = reason
        super().__init__(str(reason))


def _number_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
        raise CellError(_l("Ô chứa giá trị số không hợp lệ."))
    if value.is_integer():
        if abs(value) >= 1e15:
            raise CellError(
                _l(
                    "Excel đã lưu ô này dạng số và chỉ giữ 15 chữ số, các chữ số cuối có thể "
                    "đã bị mất. Hãy định dạng cột là Văn bản (Text) và nhập lại."
                )
            )
        return str(int(value))
    return repr(value)


def _scientific_text(text: str) -> str:
    """'9.12345678E+08' → '912345678' when no digit was lost; else CellError."""
    mantissa, _, _ = text.upper().replace(",", ".").partition("E")
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise CellError(_l("Ô chứa số không hợp lệ.")) from None
    if number != number.to_integral_value() or number < 0:
        raise CellError(_l("Ô chứa số không hợp lệ."))
    significant = len(mantissa.lstrip("+-").replace(".", "").lstrip("0"))
    whole = str(int(number))
    if significant < len(whole.rstrip("0")) or significant < len(whole) - 1:
        raise CellError(
            _l(
                "Excel đã đổi số này sang dạng số mũ (%(text)s) và làm mất chữ số. "
                "Hãy định dạng cột là Văn bản (Text) và nhập lại số đầy đủ.",
                text=_echo(text),
            )
        )
    return whole


def cell_text(value: Any, *, numeric: bool = False) -> tuple[str | None, bool]:
    """A cell as text, and whether it arrived as a number (leading zeros may be gone)."""
    if value is None:
        return None, False
    if isinstance(value, bool):
        return ("1" if value else "0"), True
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        return _number_text(value), True
    if isinstance(value, dt.datetime | dt.date | dt.time):
        if numeric:
            raise CellError(
                _l("Excel đã đổi ô này thành ngày/giờ. Hãy định dạng cột là Văn bản và nhập lại.")
            )
        return str(value), False
    text = str(value)
    if len(text) > MAX_CELL_LENGTH:  # checked first: a huge cell costs nothing more
        raise CellError(_l("Ô dài quá %(n)d ký tự.", n=MAX_CELL_LENGTH))
    text = text.strip()
    if numeric:
        compact = text.replace(" ", "")
        if _SCIENTIFIC.match(compact):
            return _scientific_text(compact), True
        match = _FLOAT_ZERO.match(compact)
        if match:
            return match.group(1), True
    return (text or None), False


def _echo(text: str | None) -> str | None:
    """Text to show back in the report, at most MAX_ECHO characters."""
    if text is None or len(text) <= MAX_ECHO:
        return text
    return text[: MAX_ECHO - 1] + "…"


def _flag(value: Any) -> bool:
    text, _ = cell_text(value)
    if text is None:
        return False
    key = fold(text).strip(" .")
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError(_l("Ghi “có” hoặc “không” (hoặc x / để trống)."))


# --- one row -------------------------------------------------------------------------

_VENDOR_COLUMNS = ("full_name", "stall", "zone", "goods_category", "phone", "id_number")
_ACCOUNT_ERROR_FIELDS = {
    "bank_bin": "bank",
    "account_number": "account_number",
    "account_name": "account_name",
    "kind": "bank",
}


def _flatten(messages: Any) -> list[Any]:
    if isinstance(messages, dict):
        return [m for v in messages.values() for m in _flatten(v)]
    if isinstance(messages, list | tuple):
        return [m for v in messages for m in _flatten(v)]
    return [messages]


@dataclass(frozen=True)
class RowSchemas:
    """The schemas a row is loaded with, made once per file (building them is not free)."""

    vendor: VendorImportRowSchema = field(default_factory=VendorImportRowSchema)
    account: AccountCreateSchema = field(default_factory=AccountCreateSchema)


def parse_row(
    number: int, values: list[Any], columns: dict[str, int], schemas: RowSchemas | None = None
) -> _Planned:
    """Read and validate one data row (no database access)."""
    schemas = schemas or RowSchemas()
    result = RowResult(row=number)
    errors = result.errors
    raw: dict[str, Any] = {}
    as_number: set[str] = set()

    def cell(name: str) -> Any:
        index = columns.get(name)
        return values[index] if index is not None and index < len(values) else None

    for name in (*_VENDOR_COLUMNS, "bank", "account_number", "account_name"):
        try:
            text, was_number = cell_text(cell(name), numeric=name in NUMERIC_TEXT_COLUMNS)
        except CellError as exc:
            errors.setdefault(name, []).append(exc.reason)
            continue
        raw[name] = text
        if was_number:
            as_number.add(name)
    for name in ("has_smartphone", "has_payment_speaker"):
        try:
            raw[name] = _flag(cell(name))
        except CellError as exc:
            errors.setdefault(name, []).append(exc.reason)

    # Echoed as typed (cut short: one huge shared cell may be referenced by every row).
    result.full_name = _echo(raw.get("full_name"))
    result.stall = _echo(raw.get("stall"))
    result.phone = _echo(raw.get("phone"))
    result.account_number = _echo(raw.get("account_number"))

    vendor_input = {k: raw.get(k) for k in _VENDOR_COLUMNS if k not in errors}
    vendor_input["has_smartphone"] = raw.get("has_smartphone", False)
    vendor_input["has_payment_speaker"] = raw.get("has_payment_speaker", False)
    vendor: dict[str, Any] = {}
    try:
        vendor = schemas.vendor.load(vendor_input)
    except ValidationError as exc:
        for key, messages in exc.normalized_messages().items():
            if key not in errors:  # the cell itself was already reported
                errors[key] = _flatten(messages)
    else:
        result.full_name, result.stall, result.phone = (
            vendor["full_name"],
            vendor["stall"],
            vendor.get("phone"),
        )

    account = _parse_account(raw, vendor, result, schemas.account)
    return _finish(result, vendor, account, as_number)


def _finish(
    result: RowResult, vendor: dict[str, Any], account: dict[str, Any] | None, as_number: set[str]
) -> _Planned:
    if result.errors:
        result.status = "error"
        return _Planned(result=result, vendor={}, account=None)
    if account is not None and "account_number" in as_number:
        result.warnings.append(
            _l(
                "Excel lưu số tài khoản dạng số: nếu số tài khoản thật bắt đầu bằng 0 thì số 0 "
                "đã bị mất. Người duyệt hãy đối chiếu với tiểu thương."
            )
        )
    result.status = "created"
    return _Planned(result=result, vendor=vendor, account=account)


def _parse_account(
    raw: dict[str, Any], vendor: dict[str, Any], result: RowResult, schema: AccountCreateSchema
) -> dict[str, Any] | None:
    bank_text = raw.get("bank")
    number = raw.get("account_number")
    holder = raw.get("account_name")
    if not (bank_text or number or holder):
        return None
    errors = result.errors
    if not bank_text:
        errors.setdefault("bank", []).append(_l("Có số tài khoản nhưng chưa ghi ngân hàng."))
        return None
    bank = lookup_bank(bank_text)
    if bank is None:
        errors.setdefault("bank", []).append(
            _l(
                "Không nhận ra ngân hàng “%(text)s”: ghi mã BIN 6 số hoặc tên viết tắt "
                "(VCB, BIDV, Agribank, MB…).",
                text=_echo(bank_text),
            )
        )
        return None
    result.bank_bin = bank.bin
    if not number:
        errors.setdefault("account_number", []).append(
            _l("Có ngân hàng nhưng chưa ghi số tài khoản.")
        )
        return None
    if not holder and vendor.get("full_name"):
        holder = to_ascii(vendor["full_name"]).upper()
        result.warnings.append(
            _l("Chưa ghi chủ tài khoản: tạm dùng họ tên tiểu thương (%(name)s).", name=holder)
        )
    try:
        account = schema.load(
            {"bank_bin": bank.bin, "account_number": number, "account_name": holder}
        )
    except ValidationError as exc:
        for key, messages in exc.normalized_messages().items():
            errors.setdefault(_ACCOUNT_ERROR_FIELDS.get(key, key), []).extend(_flatten(messages))
        return None
    result.account_number = account["account_number"]
    return account


# --- the whole file ------------------------------------------------------------------


def _existing(market: Market) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Phones and (stall, name) pairs already registered at the market → vendor id."""
    phones: dict[str, int] = {}
    pairs: dict[tuple[str, str], int] = {}
    rows = db.session.execute(
        select(Vendor.id, Vendor.phone, Vendor.stall, Vendor.name_key, Vendor.status).where(
            Vendor.market_id == market.id
        )
    )
    for vendor_id, phone, stall, name_key, status in rows:
        if phone:
            phones.setdefault(phone, vendor_id)
        if status != VendorStatus.LEFT:
            pairs.setdefault((stall_key(stall), name_key), vendor_id)
    return phones, pairs


def _existing_accounts(market: Market) -> set[tuple[str, str]]:
    rows = db.session.execute(
        select(PaymentAccount.bank_bin, PaymentAccount.account_number)
        .join(Vendor, Vendor.id == PaymentAccount.vendor_id)
        .where(
            Vendor.market_id == market.id,
            PaymentAccount.status.in_((AccountStatus.PENDING, AccountStatus.APPROVED)),
        )
    )
    return {(b, n) for b, n in rows}


def plan_import(
    market: Market, data: bytes, filename: str | None = None
) -> tuple[int, dict[str, int], list[_Planned]]:
    """Read, validate and de-duplicate every row; nothing is written."""
    rows = read_rows(data, filename)
    header_row, columns = find_header(rows)
    phones, pairs = _existing(market)
    accounts = _existing_accounts(market)
    file_phones: dict[str, int] = {}
    file_pairs: dict[tuple[str, str], int] = {}
    file_accounts: dict[tuple[str, str], int] = {}
    planned: list[_Planned] = []
    schemas = RowSchemas()
    for number, values in rows:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue  # blank line
        if len(planned) >= MAX_ROWS:
            raise _file_error(
                _l("Tệp có hơn %(n)d dòng. Hãy chia thành nhiều tệp nhỏ hơn.", n=MAX_ROWS)
            )
        item = parse_row(number, values, columns, schemas)
        planned.append(item)
        result = item.result
        if result.status != "created":
            continue
        phone = item.vendor.get("phone")
        pair = (stall_key(item.vendor["stall"]), fold(item.vendor["full_name"]))
        if phone and phone in phones:
            result.status, result.vendor_id = "duplicate", phones[phone]
        elif pair in pairs:
            result.status, result.vendor_id = "duplicate", pairs[pair]
        elif phone and phone in file_phones:
            result.status, result.duplicate_of_row = "duplicate", file_phones[phone]
        elif pair in file_pairs:
            result.status, result.duplicate_of_row = "duplicate", file_pairs[pair]
        if result.status == "duplicate":
            result.warnings.clear()
            continue
        if phone:
            file_phones[phone] = number
        file_pairs[pair] = number
        if item.account is not None:
            key = (item.account["bank_bin"], item.account["account_number"])
            if key in accounts:
                result.warnings.append(
                    _l("Số tài khoản này đã có ở một tiểu thương khác trong chợ.")
                )
            elif key in file_accounts:
                result.warnings.append(
                    _l("Số tài khoản trùng với dòng %(n)d.", n=file_accounts[key])
                )
            file_accounts.setdefault(key, number)
    if not planned:
        raise _file_error(_l("Không có dòng dữ liệu nào dưới dòng tiêu đề."))
    labels = {name: str(COLUMN_LABELS[name]) for name in columns}
    return header_row, labels, planned


def import_vendors(
    market: Market,
    data: bytes,
    *,
    filename: str | None = None,
    dry_run: bool,
    actor: User,
    origin: Origin | None = None,
    onboarding_org: OnboardingOrg | None = None,
) -> ImportReport:
    """Import a vendor list into a market; with ``dry_run`` only report what would happen."""
    authorize(actor, Action.ONBOARD, market)
    header_row, columns, planned = plan_import(market, data, filename)
    report = ImportReport(
        dry_run=dry_run, header_row=header_row, columns=columns, rows=[p.result for p in planned]
    )
    to_create = [p for p in planned if p.result.status == "created"]
    if dry_run or not to_create:
        return report
    _write(market, to_create, actor=actor, origin=origin, onboarding_org=onboarding_org)
    record_event(
        actor_id=actor.id,
        action="vendor.import",
        entity_type="market",
        entity_id=market.id,
        market_id=market.id,
        new={
            "file": (filename or "")[:200],
            "rows": report.total,
            "created": report.created,
            "duplicate": report.duplicate,
            "error": report.error,
            "accounts_pending": report.accounts_pending,
        },
        origin=origin,
    )
    logger.info(
        "user %s imported %d vendors into market %s (%d duplicates, %d errors)",
        actor.id,
        report.created,
        market.id,
        report.duplicate,
        report.error,
    )
    return report


def _write(
    market: Market,
    items: list[_Planned],
    *,
    actor: User,
    origin: Origin | None,
    onboarding_org: OnboardingOrg | None,
) -> None:
    """Bulk INSERT vendors, their pending accounts and one audit event per record."""
    now = utcnow()
    origin = origin or Origin()
    references = codes.new_references(len(items))
    vendor_rows = []
    for item, reference in zip(items, references, strict=True):
        v = item.vendor
        vendor_rows.append(
            {
                "market_id": market.id,
                "full_name": v["full_name"],
                "name_key": fold(v["full_name"])[:120],
                "stall": v["stall"],
                "zone": v.get("zone"),
                "goods_category": v.get("goods_category"),
                "phone": v.get("phone"),
                "id_number_masked": v.get("id_number_masked"),
                "has_smartphone": bool(v.get("has_smartphone")),
                "has_payment_speaker": bool(v.get("has_payment_speaker")),
                "status": VendorStatus.PENDING,
                "onboarding_org": onboarding_org,
                "onboarding_org_name": actor.organisation,
                "onboarded_by_id": actor.id,
                "reference": reference,
                "created_at": now,
                "updated_at": now,
            }
        )
    # Plain executemany (no RETURNING: keeping row order with it costs one statement per
    # row on some backends); the new ids are then read back by their unique references.
    db.session.execute(insert(Vendor.__table__), vendor_rows)
    id_by_reference = dict(
        _in_chunks(select(Vendor.reference, Vendor.id), Vendor.reference, references)
    )
    vendor_ids = [id_by_reference[r] for r in references]
    account_rows = []
    account_items = []
    for item, vendor_id in zip(items, vendor_ids, strict=True):
        item.result.vendor_id = vendor_id
        if item.account is None:
            continue
        a = item.account
        account_rows.append(
            {
                "vendor_id": vendor_id,
                "kind": AccountKind(a.get("kind") or AccountKind.BANK),
                "bank_bin": a["bank_bin"],
                "account_number": a["account_number"],
                "account_name": a["account_name"].upper(),
                "status": AccountStatus.PENDING,
                "is_primary": False,
                "created_by_id": actor.id,
                "created_at": now,
            }
        )
        account_items.append(item)
    account_ids: list[int] = []
    if account_rows:
        db.session.execute(insert(PaymentAccount.__table__), account_rows)
        owners = [row["vendor_id"] for row in account_rows]
        id_by_vendor = dict(
            _in_chunks(
                select(PaymentAccount.vendor_id, PaymentAccount.id),
                PaymentAccount.vendor_id,
                owners,
            )
        )
        account_ids = [id_by_vendor[v] for v in owners]

    def event(action: str, entity_type: str, entity_id: int, new: dict[str, Any]) -> dict[str, Any]:
        return event_values(
            actor_id=actor.id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            market_id=market.id,
            new=new,
            origin=origin,
            created_at=now,
        )

    vendor_fields = (*VENDOR_FIELDS, "status", "reference")
    events = [
        event(
            "vendor.create",
            "vendor",
            vendor_id,
            {**{k: row[k] for k in vendor_fields}, "import_row": item.result.row},
        )
        for item, vendor_id, row in zip(items, vendor_ids, vendor_rows, strict=True)
    ]
    account_fields = (
        "kind",
        "bank_bin",
        "account_number",
        "account_name",
        "status",
        "is_primary",
        "vendor_id",
    )
    events += [
        event(
            "account.create",
            "payment_account",
            account_id,
            {k: row[k] for k in account_fields},
        )
        for account_id, row in zip(account_ids, account_rows, strict=True)
    ]
    record_events(events)


def _in_chunks(stmt: Any, column: Any, values: list[Any], size: int = 900) -> list[Any]:
    """Rows of ``stmt`` WHERE column IN values, a few hundred values per query."""
    rows: list[Any] = []
    for start in range(0, len(values), size):
        rows.extend(db.session.execute(stmt.where(column.in_(values[start : start + size]))))
    return rows
