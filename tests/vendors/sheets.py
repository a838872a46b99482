"""Build the kind of XLSX and CSV files boards really send (used by tests and benchmarks)."""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

HEADER = [
    "STT",
    "Họ và tên",
    "Số quầy",
    "Ngành hàng",
    "Số điện thoại",
    "Ngân hàng",
    "Số tài khoản",
    "Chủ tài khoản",
]
HEADER_PLAIN = ["STT", "Ho ten", "So quay", "Nganh hang", "SDT", "Ngan hang", "So TK", "Chu TK"]
TITLE_ROWS = [
    ["DANH SÁCH TIỂU THƯƠNG CHỢ TRUNG TÂM ĐẠI TỪ"],
    ["(Kèm theo Kế hoạch số 12/KH-BQL ngày 05/3/2025)"],
    [],
]


def xlsx(rows: Iterable[Sequence[Any]]) -> bytes:
    """An XLSX whose first sheet holds ``rows`` exactly as given (floats stay floats)."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(
    rows: Iterable[Sequence[Any]], *, delimiter: str = ",", encoding: str = "utf-8-sig"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    if encoding == "cp1258":
        return to_cp1258(out.getvalue())
    return out.getvalue().encode(encoding)


def to_cp1258(text: str) -> bytes:
    """Windows-1258 the way Vietnamese Windows writes it: base letters such as â, ơ, ư
    precomposed, tone marks as separate combining characters ("ầ" = "â" + U+0300)."""
    out = []
    for char in text:
        try:
            out.append(char.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        vowel_marks = "".join(m for m in marks if m in "\u0302\u0306\u031b")  # â ă ơ ư
        tones = "".join(m for m in marks if m not in vowel_marks)
        base = unicodedata.normalize("NFC", base + vowel_marks)
        out.append(base.encode("cp1258") + tones.encode("cp1258"))
    return b"".join(out)


SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương"]
MIDDLE = ["Thị", "Văn", "Thị Thu", "Văn Minh", "Thị Ngọc", "Đức", "Thị Hồng"]
GIVEN = ["Hường", "Lan", "Mai", "Tám", "Bình", "Đức", "Hà", "Yến", "Phúc", "Quỳnh", "Sơn", "Thảo"]
GOODS = ["Rau củ", "Thịt lợn", "Cá", "Gạo", "Quần áo", "Tạp hóa", "Hoa quả", "Chè Thái Nguyên"]
BANKS = ["Vietcombank", "VCB", "BIDV", "Agribank", "970405", "MB", "Techcombank", "970422"]


def vendor_rows(n: int, *, seed: int = 7, excel_floats: bool = True) -> list[list[Any]]:
    """``n`` distinct, valid vendor rows in HEADER order, phones and accounts as Excel
    would store them when the column was not formatted as text (floats, no leading 0)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)} {i}"
        phone = f"09{i:08d}"
        account = f"{rng.randrange(1, 10)}{i:09d}"
        rows.append(
            [
                i + 1,
                name,
                f"{'ABCDEFGH'[i % 8]}-{i:04d}",
                rng.choice(GOODS),
                float(phone) if excel_floats else phone,
                rng.choice(BANKS),
                float(account) if excel_floats else account,
                "",
            ]
        )
    return rows


def board_file(n: int, **kw: Any) -> bytes:
    """An XLSX like a board's own list: title rows, a blank line, header, ``n`` rows."""
    return xlsx([*TITLE_ROWS, HEADER, *vendor_rows(n, **kw)])
