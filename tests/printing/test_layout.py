"""Tests for chopay.printing.layout: stands as PDF, PNG and SVG.

Every QR is decoded back with zxing-cpp from an image produced by an independent renderer:
Pillow output as is, PDFs rasterised by poppler's ``pdftoppm`` (Debian poppler-utils), SVGs by
``rsvg-convert`` (Debian librsvg2-bin). PDF text is read back with pypdf.
"""

from __future__ import annotations

import io
import itertools
import math
import random
import re
import shutil
import struct
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
import zlib
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from chopay.printing import fonts
from chopay.printing.layout import (
    _FILTER_UP,
    A6_HEIGHT_MM,
    A6_WIDTH_MM,
    EMPTY_MESSAGE,
    MARGIN_MM,
    PT_MM,
    Stand,
    _adler32_combine,
    _break_word,
    _encode_png,
    format_vnd,
    mask_account,
    plan_stand,
    stand_pdf,
    stand_png,
    stand_svg,
    stands_pdf,
)
from chopay.printing.qr import QUIET_ZONE
from tests.printing.test_qr import decode_all, decode_one, rasterise_svg, vietqr_payload

PT_PER_MM = 72 / 25.4
SVG_NS = "{http://www.w3.org/2000/svg}"

VENDORS = [
    # (name, stall, market, bank BIN, bank, full account number)
    ("Nguyễn Thị Hường", "Quầy A-12", "Chợ Đại Từ", "970436", "Vietcombank", "0011004123456"),
    ("Đặng Văn Đức", "Quầy A-13", "Chợ Đại Từ", "970415", "VietinBank", "108869912345"),
    ("Trần Thị Ánh Tuyết", "Quầy B-01", "Chợ Đại Từ", "970418", "BIDV", "21510001234567"),
    ("Lê Quốc Bảo", "Quầy B-02", "Chợ Đại Từ", "970422", "MB Bank", "0987654321"),
    ("Phạm Ngọc Ước", "Quầy C-07", "Chợ Đại Từ", "970405", "Agribank", "1500205123456789"),
    ("Hoàng Thị Mỹ Lệ", "Quầy C-08", "Chợ Đại Từ", "970407", "Techcombank", "19033344455566"),
]
LONG_NAME = "Cửa hàng rau củ quả sạch Nguyễn Thị Hường và Đặng Văn Đức Chợ Đại Từ"


def make_stand(i: int, **overrides: object) -> Stand:
    name, stall, market, bank_bin, bank, account = VENDORS[i % len(VENDORS)]
    code = f"7K{i}-QF9"
    base = Stand(
        payload=vietqr_payload(bank_bin, account, f"CHOPAY CHO DAI TU {stall[-4:]}"),
        vendor_name=name,
        stall=stall,
        market_name=market,
        bank_short_name=bank,
        account_name=unicodedata.normalize("NFC", name).upper(),
        account_number_masked=mask_account(account),
        verify_code=code,
        verify_url=f"https://chopay.vn/verify/{code.replace('-', '')}",
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def full_account(i: int) -> str:
    return VENDORS[i % len(VENDORS)][5]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def rasterise_pdf(pdf: bytes, tmp_path: Path, dpi: int = 150) -> list[Image.Image]:
    """Every page as an image, rendered by poppler (not by anything we wrote)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.fail("pdftoppm missing: apt-get install poppler-utils")
    src = tmp_path / "doc.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        [tool, "-r", str(dpi), "-png", str(src), str(tmp_path / "page")], check=True, timeout=120
    )
    pages = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
    return [Image.open(p) for p in pages]


def pdf_text(reader: PdfReader, page: int | None = None) -> str:
    pages = reader.pages if page is None else [reader.pages[page]]
    text = "\n".join(p.extract_text() for p in pages)
    return unicodedata.normalize("NFC", text)


def flat(text: str) -> str:
    """Whitespace-insensitive view (wrapped lines joined)."""
    return " ".join(text.split())


def darkest(img: Image.Image) -> float:
    """Lowest grey value in a single-band image (0 = black ink somewhere)."""
    low, _high = img.convert("L").getextrema()
    assert isinstance(low, int | float)
    return low


def page_size_mm(reader: PdfReader, index: int) -> tuple[float, float]:
    box = reader.pages[index].mediabox
    return float(box.width) / PT_PER_MM, float(box.height) / PT_PER_MM


# --------------------------------------------------------------------------------------------
# mask_account / Stand
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("0011004123456", "•••• 3456"),
        ("1234 5678 9012", "•••• 9012"),
        ("1903-3344-4555", "•••• 4555"),
        ("12345", "•••• 2345"),
        ("1234", "••••"),
        ("12", "••••"),
        ("VQRQ0001ABCD", "•••• ABCD"),
    ],
)
def test_mask_account(number: str, expected: str) -> None:
    assert mask_account(number) == expected
    # Never more than four characters of the number survive.
    digits = "".join(ch for ch in number if ch.isalnum())
    shown = mask_account(number).replace("•", "").strip()
    assert len(shown) <= 4 and (not shown or digits.endswith(shown))
    if len(digits) <= 4:
        assert shown == ""


def test_mask_account_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        mask_account(" - ")


def test_stand_normalises_to_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn  Thị\nHường")
    assert nfd != unicodedata.normalize("NFC", nfd)
    stand = make_stand(0, vendor_name=nfd, market_name=unicodedata.normalize("NFD", "Chợ Đại Từ"))
    assert stand.vendor_name == "Nguyễn Thị Hường"
    assert unicodedata.is_normalized("NFC", stand.vendor_name)
    assert stand.market_name == "Chợ Đại Từ"


def test_stand_validation() -> None:
    with pytest.raises(ValueError, match="mask"):
        make_stand(0, account_number_masked="0011004123456")
    with pytest.raises(ValueError, match="vendor_name"):
        make_stand(0, vendor_name="  ")
    with pytest.raises(ValueError, match="payload"):
        make_stand(0, payload="")
    with pytest.raises(ValueError, match="amount"):
        make_stand(0, amount=0)


def test_format_vnd() -> None:
    assert format_vnd(1234567) == "1.234.567 ₫"
    assert format_vnd(500) == "500 ₫"


def test_font_covers_vietnamese() -> None:
    sample = (
        "ăâđêôơư ĂÂĐÊÔƠƯ àáảãạ ằắẳẵặ ầấẩẫậ èéẻẽẹ ềếểễệ ìíỉĩị òóỏõọ ồốổỗộ ờớởỡợ ùúủũụ ừứửữự ỳýỷỹỵ"
    )
    for weight in fonts.WEIGHTS:
        assert fonts.printable(sample, weight) == sample
        assert fonts.printable(sample.upper(), weight) == sample.upper()
    assert fonts.printable("Cô Ba 🍜 陳") == "Cô Ba ? ?"


# --------------------------------------------------------------------------------------------
# Layout plan
# --------------------------------------------------------------------------------------------


def assert_plan_fits(stand: Stand) -> None:
    plan = plan_stand(stand)
    quiet = QUIET_ZONE * plan.module
    qr_top, qr_bottom = plan.qr_y - quiet, plan.qr_y + plan.qr_width + quiet
    assert plan.qr_x - quiet >= 0 and plan.qr_x + plan.qr_width + quiet <= A6_WIDTH_MM
    for line in plan.lines:
        assert line.left >= MARGIN_MM - 1e-6, line
        assert line.right <= A6_WIDTH_MM - MARGIN_MM + 1e-6, line
        assert line.top >= 0 and line.bottom <= A6_HEIGHT_MM, line
        # No text in the QR or its quiet zone.
        assert line.bottom <= qr_top + 1e-6 or line.top >= qr_bottom - 1e-6, line
        assert line.size_pt >= 6
    for a, b in zip(plan.lines, plan.lines[1:], strict=False):
        assert a.bottom <= b.top + 1e-6, (a, b)  # lines never overlap
    for f in plan.frames:
        assert f.x >= MARGIN_MM - 3.01 and f.x + f.w <= A6_WIDTH_MM - MARGIN_MM + 3.01
        assert f.y >= qr_bottom and f.y + f.h <= A6_HEIGHT_MM


def test_plan_regular_stand() -> None:
    stand = make_stand(0)
    assert_plan_fits(stand)
    plan = plan_stand(stand)
    assert 74 <= plan.qr_width <= 80  # large QR
    texts = [line.text for line in plan.lines]
    assert texts[0] == "Quét mã VietQR để thanh toán"
    name = next(line for line in plan.lines if line.text == "Nguyễn Thị Hường")
    assert name.weight == fonts.BOLD and name.size_pt >= 18  # big and bold
    code = next(line for line in plan.lines if "7K0-QF9" in line.text)
    assert code.weight == fonts.BOLD and code.size_pt >= 14
    assert len(plan.frames) == 1  # the verification code is boxed
    assert any(t == "Kiểm tra quầy: https://chopay.vn/verify/7K0QF9" for t in texts)
    assert "Quầy A-12 · Chợ Đại Từ" in texts
    assert "Vietcombank · •••• 3456" in texts


def test_plan_long_name_wraps_and_fits() -> None:
    assert len(LONG_NAME) >= 60
    stand = make_stand(0, vendor_name=LONG_NAME, amount=150000, note="Tiền rau muống")
    assert_plan_fits(stand)
    plan = plan_stand(stand)
    name_lines = [line for line in plan.lines if line.weight == fonts.BOLD][1:3]
    assert flat(" ".join(line.text for line in name_lines)) == LONG_NAME  # wrapped, not cut
    assert plan.qr_width >= 70


def test_plan_widths_match_fpdf_measurement() -> None:
    """The layout's widths are what fpdf2 itself measures (so the PDF can't overflow)."""
    plan = plan_stand(make_stand(0, vendor_name=LONG_NAME))
    pdf = FPDF(unit="mm")
    for weight, (family, style) in fonts.WEIGHTS.items():
        pdf.add_font(family, style, str(fonts.font_path(weight)))
    try:
        for line in plan.lines:
            family, style = fonts.WEIGHTS[line.weight]
            pdf.set_font(family, style, line.size_pt)
            assert pdf.get_string_width(line.text) == pytest.approx(line.width, abs=0.01)
            assert pdf.get_string_width(line.text) <= A6_WIDTH_MM - 2 * MARGIN_MM + 0.01
    finally:
        fonts.close_fonts(pdf)


def test_plan_absurdly_long_texts_never_overflow() -> None:
    word = "Nguyễn Thị Hường Đặng Văn Đức "
    stand = make_stand(
        1,
        vendor_name=word * 8,
        stall="Quầy " + "A" * 80,
        market_name="Chợ " + word * 5,
        bank_short_name="Ngân hàng " + word * 4,
        account_name=word * 6,
        verify_url="https://chopay.vn/verify/" + "X" * 200,
        amount=10**12,
        note=word * 6,
    )
    assert_plan_fits(stand)
    assert any(line.text.endswith("…") for line in plan_stand(stand).lines)


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def test_stand_pdf(tmp_path: Path) -> None:
    stand = make_stand(0)
    data = stand_pdf(stand)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    w, h = page_size_mm(reader, 0)
    assert w == pytest.approx(105, abs=0.5) and h == pytest.approx(148, abs=0.5)
    text = pdf_text(reader)
    for expected in ("Nguyễn Thị Hường", "Quầy A-12", "Chợ Đại Từ", "7K0-QF9", "•••• 3456"):
        assert expected in text
    assert "Quét mã VietQR để thanh toán" in text
    assert "Kiểm tra quầy: https://chopay.vn/verify/7K0QF9" in text
    assert full_account(0) not in text
    # Real text in an embedded subset of Be Vietnam Pro, and no raster images at all.
    resources = cast(DictionaryObject, reader.pages[0]["/Resources"])
    page_fonts = cast(DictionaryObject, resources["/Font"]).values()
    names = [str(cast(DictionaryObject, f.get_object())["/BaseFont"]) for f in page_fonts]
    # Subset fonts are named "ABCDEF+Family" (PDF 32000-1, 9.6.4).
    assert names and all(re.fullmatch(r"/[A-Z]{6}\+BeVietnamPro.*", n) for n in names), names
    for f in page_fonts:
        descendants = cast(ArrayObject, cast(DictionaryObject, f.get_object())["/DescendantFonts"])
        descendant = cast(DictionaryObject, descendants[0].get_object())
        assert "/FontFile2" in cast(DictionaryObject, descendant["/FontDescriptor"])
    assert "/XObject" not in resources
    # The QR, rasterised by poppler, decodes to the payload.
    (page,) = rasterise_pdf(data, tmp_path)
    assert decode_one(page) == stand.payload


def test_stand_pdf_long_name(tmp_path: Path) -> None:
    stand = make_stand(2, vendor_name=LONG_NAME)
    data = stand_pdf(stand)
    reader = PdfReader(io.BytesIO(data))
    assert LONG_NAME in flat(pdf_text(reader))
    (page,) = rasterise_pdf(data, tmp_path)
    assert decode_one(page) == stand.payload
    # Nothing printed in the outer margin strip (3 mm) of the page.
    gray = page.convert("L")
    strip = round(3 / 25.4 * 150)
    width, height = gray.size
    for box in (
        (0, 0, strip, height),
        (width - strip, 0, width, height),
        (0, height - strip, width, height),
    ):
        assert darkest(gray.crop(box)) > 200, box


def test_stands_pdf_a6_every_page(tmp_path: Path) -> None:
    stands = [make_stand(i) for i in range(6)]
    data = stands_pdf(stands, layout="a6")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 6
    pages = rasterise_pdf(data, tmp_path)
    assert [decode_one(p) for p in pages] == [s.payload for s in stands]
    for i, stand in enumerate(stands):
        w, h = page_size_mm(reader, i)
        assert w == pytest.approx(105, abs=0.5) and h == pytest.approx(148, abs=0.5)
        text = pdf_text(reader, i)
        assert stand.vendor_name in text and stand.verify_code in text
        assert stand.account_number_masked in text and stand.stall in text
        assert full_account(i) not in text


@pytest.mark.parametrize("n", [1, 4, 6, 9])
def test_stands_pdf_a4x4(n: int, tmp_path: Path) -> None:
    stands = [make_stand(i) for i in range(n)]
    data = stands_pdf(stands, layout="a4x4")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == math.ceil(n / 4)
    for i in range(len(reader.pages)):
        w, h = page_size_mm(reader, i)
        assert w == pytest.approx(210, abs=0.5) and h == pytest.approx(297, abs=0.5)
    decoded = []
    for page_no, page in enumerate(rasterise_pdf(data, tmp_path)):
        codes = decode_all(page)
        assert len(codes) == min(4, n - 4 * page_no)
        decoded += [c.text for c in codes]
    assert decoded == [s.payload for s in stands]  # order kept: row by row, left to right
    text = flat(pdf_text(reader))
    for i, stand in enumerate(stands):
        assert stand.vendor_name in text and stand.verify_code in text
        assert full_account(i) not in text


def test_stands_pdf_a4x4_cut_marks(tmp_path: Path) -> None:
    (page,) = rasterise_pdf(stands_pdf([make_stand(0)], layout="a4x4"), tmp_path, dpi=100)
    gray = page.convert("L")
    w, h = gray.size
    # Marks on the vertical cut line at the top and bottom edges, and on the horizontal one.
    assert darkest(gray.crop((w // 2 - 2, 0, w // 2 + 3, 8))) < 160
    assert darkest(gray.crop((w // 2 - 2, h - 8, w // 2 + 3, h))) < 160
    assert darkest(gray.crop((0, h // 2 - 2, 8, h // 2 + 3))) < 160
    assert darkest(gray.crop((w // 2 - 2, h // 2 - 2, w // 2 + 3, h // 2 + 3))) < 160


@pytest.mark.parametrize(("layout", "width"), [("a6", 105), ("a4x4", 210)])
def test_stands_pdf_empty(layout: str, width: float) -> None:
    reader = PdfReader(io.BytesIO(stands_pdf([], layout=layout)))  # type: ignore[arg-type]
    assert len(reader.pages) == 1
    assert page_size_mm(reader, 0)[0] == pytest.approx(width, abs=0.5)
    assert EMPTY_MESSAGE in flat(pdf_text(reader))


def test_stands_pdf_bad_layout() -> None:
    with pytest.raises(ValueError, match="layout"):
        stands_pdf([make_stand(0)], layout="a5")  # type: ignore[arg-type]


def test_stand_pdf_amount_and_note() -> None:
    stand = make_stand(3, amount=35000, note="Tiền cá")
    text = flat(pdf_text(PdfReader(io.BytesIO(stand_pdf(stand)))))
    assert "Số tiền: 35.000 ₫" in text and "Nội dung: Tiền cá" in text


# --------------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("i", [0, 4])
def test_stand_png(i: int) -> None:
    stand = make_stand(i)
    data = stand_png(stand)
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (1240, 1748)
    dpi = img.info["dpi"]
    assert dpi == pytest.approx((300, 300), abs=0.01)
    assert decode_one(img) == stand.payload
    # No metadata chunks that could carry data, and the full number is nowhere in the bytes.
    assert set(img.info) <= {"dpi"}
    assert full_account(i).encode() not in data


def test_stand_png_quiet_zone_is_white() -> None:
    stand = make_stand(1)
    plan = plan_stand(stand)
    img = Image.open(io.BytesIO(stand_png(stand))).convert("L")
    px = 300 / 25.4
    module = round(plan.module * px)
    size = module * plan.qr.size
    left = (img.width - size) // 2
    top = round(plan.qr_y * px)
    quiet = QUIET_ZONE * module
    bands = [
        (left - quiet, top - quiet, left + size + quiet, top),  # above
        (left - quiet, top + size, left + size + quiet, top + size + quiet),  # below
        (left - quiet, top, left, top + size),  # left
        (left + size, top, left + size + quiet, top + size),  # right
    ]
    for band in bands:
        assert img.crop(band).getextrema() == (255, 255), band
    # Modules are whole pixels: the top-left finder is exactly 7 modules of solid black.
    assert img.crop((left, top, left + 7 * module, top + module)).getextrema() == (0, 0)


def test_stand_png_long_name_and_other_dpi() -> None:
    stand = make_stand(2, vendor_name=LONG_NAME)
    img = Image.open(io.BytesIO(stand_png(stand, dpi=200)))
    assert img.size == (827, 1165)
    assert img.info["dpi"] == pytest.approx((200, 200), abs=0.01)
    assert decode_one(img) == stand.payload
    with pytest.raises(ValueError, match="dpi"):
        stand_png(stand, dpi=10)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk of a PNG, checking the signature and each chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def test_stand_png_is_plain_greyscale_and_deterministic() -> None:
    stand = make_stand(5, vendor_name="Ứng Thị Ỷ Ỡ")  # glyphs no other test has drawn yet
    first, again = stand_png(stand), stand_png(stand)
    assert first == again  # cold and warm glyph / row caches give the same bytes
    assert [kind for kind, _ in png_chunks(first)] == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]
    img = Image.open(io.BytesIO(first))
    assert img.mode == "L" and img.size == (1240, 1748)
    # Re-encoding the decoded pixels gives the same file: the encoder depends on pixels only.
    assert _encode_png(img.convert("L"), 300) == first
    assert decode_one(img) == stand.payload


def test_stand_png_text_is_antialiased_and_where_planned() -> None:
    stand = make_stand(2, vendor_name=LONG_NAME, amount=150000, note="Tiền rau muống")
    plan = plan_stand(stand)
    img = Image.open(io.BytesIO(stand_png(stand))).convert("L")
    px = 300 / 25.4
    ink = img.point(lambda v: 255 if v < 128 else 0)
    for line in plan.lines:
        # Baseline to cap height: every glyph inks it, neighbouring lines never reach it.
        size = line.size_pt * PT_MM * px
        band = (0, round(line.baseline * px - 0.75 * size), img.width, round(line.baseline * px))
        for f in plan.frames:  # look inside the frame around the verification code
            if f.y <= line.top and line.bottom <= f.y + f.h:
                inset = f.line_width * px + 2
                band = (round(f.x * px + inset), band[1], round((f.x + f.w) * px - inset), band[3])
        box = ink.crop(band).getbbox()
        assert box is not None, line
        x0, x1 = band[0] + box[0], band[0] + box[2]
        # Drawn at the plan's own advances: centred and as wide as measured (ink may stick out
        # of the advance box by a hair, e.g. the horn of "ư", never by more).
        assert line.left * px - 0.1 * size <= x0 <= line.left * px + 0.25 * size, line
        assert line.right * px - 0.25 * size <= x1 <= line.right * px + 0.1 * size, line
    # Anti-aliased text (many grey levels), not a bilevel image.
    text_top = round((plan.qr_y + plan.qr_width) * px) + 60
    histogram = img.crop((0, text_top, img.width, img.height)).histogram()
    assert sum(1 for level in range(1, 255) if histogram[level]) > 100
    # Nothing in the outer 3 mm of the page.
    strip = round(3 * px)
    for margin in ((0, 0, strip, img.height), (img.width - strip, 0, img.width, img.height)):
        assert darkest(img.crop(margin)) == 255, margin
    assert darkest(img.crop((0, img.height - strip, img.width, img.height))) == 255


@pytest.mark.parametrize(
    ("weight", "size", "char"),
    [(fonts.BOLD, 83.25, "Ự"), (fonts.REGULAR, 35.5, "ẩ"), (fonts.SEMIBOLD, 52.0, "g"),
     (fonts.REGULAR, 200.0, "Đ")],
)  # fmt: skip
def test_glyph_is_what_pillow_draws(weight: int, size: float, char: str) -> None:
    g = fonts.glyph(weight, size, char)
    ref = Image.new("L", (600, 600), 0)
    font = fonts.pil_font(weight, size)
    ImageDraw.Draw(ref).text((100, 400), char, font=font, fill=255, anchor="ls")
    box = ref.getbbox()
    assert g.mask is not None and box is not None
    assert (g.left, g.top) == (box[0] - 100, box[1] - 400)
    assert g.mask.tobytes() == ref.crop(box).tobytes()
    # Cached up to GLYPH_CACHE_MAX_PX (same object back), rasterised afresh above it.
    cached = fonts.glyph(weight, size, char) is g
    assert cached == (size <= fonts.GLYPH_CACHE_MAX_PX)


def test_glyph_without_ink() -> None:
    assert fonts.glyph(fonts.REGULAR, 40.0, " ").mask is None


def test_text_units_are_the_sum_of_advances() -> None:
    m = fonts.metrics(fonts.BOLD)
    text = "Nguyễn Thị Hường · 🍜"
    expected = sum(m.widths.get(ord(ch), m.missing_width) for ch in text)
    assert fonts.text_units(text, fonts.BOLD) == expected
    assert fonts.text_width(text, fonts.BOLD, 12.5) == expected * 12.5 / 1000.0


@pytest.mark.parametrize("size", [6.0, 8.5, 11.0])
def test_break_word_matches_naive_measurement(size: float) -> None:
    word = "https://chopay.vn/verify/" + "XỨ9" * 40
    width = 60.0
    pieces = _break_word(word, fonts.REGULAR, size, width)
    assert "".join(pieces) == word
    for piece in pieces:
        assert fonts.text_width(piece, fonts.REGULAR, size) * PT_MM <= width
    for piece, following in itertools.pairwise(pieces):  # greedy: each piece is as long as fits
        longer = piece + following[0]
        assert fonts.text_width(longer, fonts.REGULAR, size) * PT_MM > width


def test_adler32_combine() -> None:
    rnd = random.Random(7)
    for _ in range(50):
        a = rnd.randbytes(rnd.randrange(0, 3000))
        b = bytes([255]) * rnd.randrange(0, 70000) + rnd.randbytes(rnd.randrange(0, 50))
        assert _adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


@pytest.mark.parametrize("run", [0, 1, 7, 8, 9, 64, 300, 1001])
def test_encode_png_round_trip(run: int) -> None:
    """Runs of repeated rows (cached pieces) between distinct rows decode to the same pixels."""
    rnd = random.Random(run)
    width = 53
    rows = [rnd.randbytes(width) for _ in range(3)]
    rows += [rows[-1]] * run  # a run of rows equal to the one above
    rows += [bytes([255]) * width] * (run // 2 + 1) + [rnd.randbytes(width)]
    rows += [rows[-1]] * 9 + [rnd.randbytes(width)]
    img = Image.frombytes("L", (width, len(rows)), b"".join(rows))
    data = _encode_png(img, 200)
    chunks = png_chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))  # + adler
    assert len(raw) == (width + 1) * len(rows)
    filters = raw[:: width + 1]
    assert filters.count(_FILTER_UP) == run + run // 2 + 9  # repeated rows are sent as "Up"
    back = Image.open(io.BytesIO(data))
    assert back.mode == "L" and back.size == img.size
    assert back.tobytes() == img.tobytes()
    assert back.info["dpi"] == pytest.approx((200, 200), abs=0.01)
    with pytest.raises(ValueError, match="mode L"):
        _encode_png(img.convert("RGB"), 300)


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------


def test_stand_svg(tmp_path: Path) -> None:
    stand = make_stand(0)
    data = stand_svg(stand)
    root = ET.fromstring(data)  # noqa: S314 - our own output
    assert root.get("width") == "105mm" and root.get("height") == "148mm"
    assert root.get("viewBox") == "0 0 105 148"
    assert len(root.findall(f".//{SVG_NS}path")) == 1
    group = root.find(f"{SVG_NS}g")
    assert group is not None
    family = group.get("font-family") or ""
    assert "Be Vietnam Pro" in family and family.endswith("sans-serif")
    texts = [t.text or "" for t in root.iter(f"{SVG_NS}text")]
    joined = "\n".join(texts)
    for expected in ("Nguyễn Thị Hường", "Quầy A-12", "7K0-QF9", "•••• 3456"):
        assert expected in joined
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)
    assert full_account(0).encode() not in data
    img = rasterise_svg(data, tmp_path, 1240)
    assert decode_one(img) == stand.payload


def test_stand_svg_long_name_escaped(tmp_path: Path) -> None:
    stand = make_stand(3, vendor_name=LONG_NAME + " & <Con>")
    data = stand_svg(stand)
    root = ET.fromstring(data)  # noqa: S314 - our own output
    joined = flat(" ".join(t.text or "" for t in root.iter(f"{SVG_NS}text")))
    assert LONG_NAME + " & <Con>" in joined
    for t in root.iter(f"{SVG_NS}text"):
        x, length = float(t.get("x") or 0), float(t.get("textLength") or 0)
        assert x - length / 2 >= MARGIN_MM - 1e-3 and x + length / 2 <= 100 + 1e-3
    assert decode_one(rasterise_svg(data, tmp_path, 1240)) == stand.payload
