"""The Excel template boards fill in for a bulk import."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from chopay.exports import safe_row
from chopay.vietqr import BANKS

TITLE = "DANH SÁCH TIỂU THƯƠNG ĐĂNG KÝ THANH TOÁN KHÔNG DÙNG TIỀN MẶT"
HEADERS = (
    ("STT", 6),
    ("Họ và tên", 28),
    ("Số quầy", 10),
    ("Khu/dãy", 10),
    ("Ngành hàng", 18),
    ("Số điện thoại", 15),
    ("Ngân hàng", 14),
    ("Số tài khoản", 20),
    ("Chủ tài khoản", 26),
    ("Số CCCD", 15),
    ("Điện thoại thông minh", 12),
    ("Loa thanh toán", 12),
)
# Columns Excel must keep as text, or it drops leading zeros and long digits.
TEXT_COLUMNS = ("Số quầy", "Số điện thoại", "Ngân hàng", "Số tài khoản", "Số CCCD")
FIRST_DATA_ROW = 4
LAST_FORMATTED_ROW = 2003

GUIDE = (
    "Cách điền:",
    "• Mỗi tiểu thương một dòng, bắt đầu từ dòng 4. Có thể xoá bớt cột không dùng, "
    "nhưng giữ nguyên dòng tiêu đề (dòng 3).",
    "• Bắt buộc: Họ và tên, Số quầy. Số điện thoại: 10 chữ số, bắt đầu bằng 0.",
    "• Ngân hàng: tên viết tắt (VCB, BIDV, Agribank, MB, Techcombank…) hoặc mã BIN 6 số.",
    "• Số tài khoản: tối đa 19 chữ số/chữ cái. Các cột số đã định dạng Văn bản để giữ số 0 "
    "ở đầu — đừng đổi định dạng.",
    "• Chủ tài khoản: tên in trên thẻ/ứng dụng ngân hàng, ví dụ NGUYEN THI HUONG.",
    "• Điện thoại thông minh, Loa thanh toán: ghi “có” hoặc để trống.",
    "• Tài khoản nhập từ tệp sẽ ở trạng thái chờ duyệt: một người khác phải kiểm tra và duyệt.",
)


def build_template() -> io.BytesIO:
    """An XLSX with a title, the header row, text-formatted number columns and a guide."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet["A1"] = TITLE
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = (
        "Chợ: ............................................  Ngày lập: ....../....../......"
    )
    header_fill = PatternFill("solid", fgColor="FDE2E2")
    for index, (header, width) in enumerate(HEADERS, start=1):
        cell = sheet.cell(row=3, column=index, value=header)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = width
        if header in TEXT_COLUMNS:
            for row in range(FIRST_DATA_ROW, LAST_FORMATTED_ROW + 1):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A4"

    yes_no = DataValidation(type="list", formula1='"có,không"', allow_blank=True)
    sheet.add_data_validation(yes_no)
    for header in ("Điện thoại thông minh", "Loa thanh toán"):
        column = [h for h, _ in HEADERS].index(header) + 1
        letter = sheet.cell(row=3, column=column).column_letter
        yes_no.add(f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_FORMATTED_ROW}")

    guide = workbook.create_sheet("Hướng dẫn")
    for row, line in enumerate(GUIDE, start=1):
        guide.cell(row=row, column=1, value=line)
    guide.column_dimensions["A"].width = 110
    banks = workbook.create_sheet("Ngân hàng")
    banks.append(("Tên viết tắt", "Mã BIN", "Tên đầy đủ"))
    for bank in sorted(BANKS, key=lambda b: b.short_name.lower()):
        banks.append(safe_row((bank.short_name, bank.bin, bank.name)))
    for letter, width in (("A", 22), ("B", 10), ("C", 60)):
        banks.column_dimensions[letter].width = width

    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out
