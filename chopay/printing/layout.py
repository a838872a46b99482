"""Stand data -> printable A6 payment stand (PDF, PNG, SVG) and whole-market PDFs.

Pure module: stdlib + qrcode, Pillow, fpdf2, fontpkg only (no Flask, no ``chopay.*`` imports).

Design
------
* One pure *layout pass* (:func:`plan_stand`) places everything in millimetres on an A6 page;
  the three renderers only translate that plan, so PDF, PNG and SVG look the same and every
  overflow decision is made (and testable) in one place.
* Text is measured with the font's own advance widths (the ones fpdf2 typesets with). Each text
  first shrinks a little, then wraps (names balance over two lines), then shrinks to a floor,
  and only as a last resort is cut with "…" - it can never run off the page.
* The QR module size is a whole number of pixels at 300 dpi (~75-77 mm wide symbol), so the PNG
  is pixel-exact and the vectors match it; a 4-module quiet zone is kept free of any ink.
* PDF text is real text in an embedded subset of Be Vietnam Pro; the QR is one fill of merged
  rectangles written straight into the page content stream (one operator string per symbol
  instead of hundreds of ``rect()`` calls - that is what keeps 500 stands fast).
* The PNG (8-bit greyscale, anti-aliased) is drawn from cached glyph bitmaps placed at the
  layout's own advances, and written by a small PNG encoder that reuses the compressed form of
  repeated rows (white space, QR module rows): ~8 ms a stand at 300 dpi instead of ~35 ms.

Empty market: :func:`stands_pdf` with no stands returns a valid one-page PDF that says
"Chưa có quầy nào có mã QR" rather than raising, so an "print the whole market" button never
turns into a server error and the person printing sees why the sheet is empty.
"""

from __future__ import annotations

import math
import re
import struct
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from fpdf import FPDF
from PIL import Image, ImageDraw

from . import fonts
from .fonts import BOLD, REGULAR, SEMIBOLD
from .qr import QUIET_ZONE, QrMatrix, qr_matrix, svg_path_data

__all__ = [
    "A4_HEIGHT_MM",
    "A4_WIDTH_MM",
    "A6_HEIGHT_MM",
    "A6_WIDTH_MM",
    "EMPTY_MESSAGE",
    "Frame",
    "SheetLayout",
    "Stand",
    "StandPlan",
    "TextLine",
    "format_vnd",
    "mask_account",
    "plan_stand",
    "stand_pdf",
    "stand_png",
    "stand_svg",
    "stands_pdf",
]

A6_WIDTH_MM = 105.0
A6_HEIGHT_MM = 148.0
A4_WIDTH_MM = 210.0
A4_HEIGHT_MM = 297.0
MARGIN_MM = 5.0
CONTENT_WIDTH_MM = A6_WIDTH_MM - 2 * MARGIN_MM
PT_MM = 25.4 / 72.0  # one typographic point in millimetres
QR_TARGET_MM = 78.0
REFERENCE_DPI = 300
FLOOR_PT = 6.0  # nothing is ever printed smaller than this
LINE_HEIGHT = 1.22  # line box / font size
BASELINE = 0.96  # baseline offset from the top of the line box / font size
ELLIPSIS = "…"
MASK_DOTS = "••••"
EMPTY_MESSAGE = "Chưa có quầy nào có mã QR"

SheetLayout = Literal["a6", "a4x4"]


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def _clean(value: str) -> str:
    """NFC, with runs of whitespace (incl. newlines) collapsed: one printed line per field."""
    return " ".join(unicodedata.normalize("NFC", value).split())


@dataclass(frozen=True)
class Stand:
    """Everything printed on one vendor's stand. Text is NFC-normalised on construction.

    ``payload`` is kept byte-for-byte (its CRC covers the exact bytes). ``account_number_masked``
    is masked by the caller (see :func:`mask_account`); it is rejected if it shows more than four
    digits, so a full account number cannot be printed by mistake.
    """

    payload: str
    vendor_name: str
    stall: str
    market_name: str
    bank_short_name: str
    account_name: str
    account_number_masked: str
    verify_code: str
    verify_url: str
    amount: int | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        """Normalise text fields and validate."""
        for name in (
            "vendor_name",
            "stall",
            "market_name",
            "bank_short_name",
            "account_name",
            "account_number_masked",
            "verify_code",
            "verify_url",
        ):
            object.__setattr__(self, name, _clean(getattr(self, name)))
        if self.note is not None:
            object.__setattr__(self, "note", _clean(self.note) or None)
        if not self.payload.strip():
            raise ValueError("payload must not be empty")
        if not self.vendor_name:
            raise ValueError("vendor_name must not be empty")
        if not self.verify_code:
            raise ValueError("verify_code must not be empty")
        if sum(ch.isdigit() for ch in self.account_number_masked) > 4:
            raise ValueError("account_number_masked shows more than 4 digits; mask it first")
        if self.amount is not None and (isinstance(self.amount, bool) or self.amount <= 0):
            raise ValueError("amount must be a positive whole number of đồng")


_ACCOUNT_SEPARATORS = re.compile(r"[\s.\-_/]+")


def mask_account(number: str) -> str:
    """Mask an account number to "•••• 6789": only the last 4 characters are shown.

    Separators (spaces, dots, dashes) are ignored. Numbers of 4 characters or fewer are masked
    completely ("••••"): showing "the last 4" of them would show the whole number.
    """
    compact = _ACCOUNT_SEPARATORS.sub("", unicodedata.normalize("NFKC", number))
    if not compact:
        raise ValueError("account number is empty")
    if len(compact) <= 4:
        return MASK_DOTS
    return f"{MASK_DOTS} {compact[-4:]}"


def format_vnd(amount: int) -> str:
    """Vietnamese money format: 1234567 -> "1.234.567 ₫"."""
    return f"{amount:,}".replace(",", ".") + " ₫"


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextLine:
    """One line of text, centred on ``cx``; all lengths in mm, size in pt."""

    text: str
    cx: float
    baseline: float
    size_pt: float
    weight: int
    width: float

    @property
    def left(self) -> float:
        """Left edge of the text."""
        return self.cx - self.width / 2

    @property
    def right(self) -> float:
        """Right edge of the text."""
        return self.cx + self.width / 2

    @property
    def top(self) -> float:
        """Top of the line box (room for stacked Vietnamese diacritics on capitals)."""
        return self.baseline - BASELINE * self.size_pt * PT_MM

    @property
    def bottom(self) -> float:
        """Bottom of the line box (below descenders)."""
        return self.top + LINE_HEIGHT * self.size_pt * PT_MM


@dataclass(frozen=True)
class Frame:
    """A rounded outline box (mm)."""

    x: float
    y: float
    w: float
    h: float
    radius: float
    line_width: float


@dataclass(frozen=True)
class StandPlan:
    """Positions (mm, origin top-left of the A6 page) of everything printed on a stand."""

    qr: QrMatrix
    qr_x: float
    qr_y: float
    module: float
    lines: tuple[TextLine, ...]
    frames: tuple[Frame, ...] = field(default=())

    @property
    def qr_width(self) -> float:
        """Printed width of the QR symbol (without quiet zone)."""
        return self.module * self.qr.size


def _mm(text: str, weight: int, size_pt: float) -> float:
    """Width of ``text`` in mm."""
    return fonts.text_width(text, weight, size_pt) * PT_MM


def _break_word(word: str, weight: int, size: float, width: float) -> list[str]:
    """Split a word that is wider than ``width`` into pieces that fit (URLs, long codes)."""
    m = fonts.metrics(weight)
    widths, missing = m.widths, m.missing_width
    pieces: list[str] = []
    current = ""
    units = 0.0  # == fonts.text_units(current, weight), summed as we go (same float result)
    for ch in word:
        w = widths.get(ord(ch), missing)
        if current and (units + w) * size / 1000.0 * PT_MM > width:
            pieces.append(current)
            current, units = ch, w
        else:
            current += ch
            units += w
    if current:
        pieces.append(current)
    return pieces


def _wrap(text: str, weight: int, size: float, width: float, max_lines: int) -> list[str] | None:
    """Greedy word wrap; ``None`` if it needs more than ``max_lines`` lines."""
    words: list[str] = []
    for word in text.split(" "):
        if _mm(word, weight, size) > width:
            words.extend(_break_word(word, weight, size, width))
        else:
            words.append(word)
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and _mm(candidate, weight, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    if len(lines) > max_lines:
        return None
    if len(lines) == 2 and len(text.split(" ")) == len(words):
        # Balance two lines (nicer, and a big name reads better as two similar halves).
        best = max(_mm(line, weight, size) for line in lines)
        for i in range(1, len(words)):
            a, b = " ".join(words[:i]), " ".join(words[i:])
            widest = max(_mm(a, weight, size), _mm(b, weight, size))
            if widest < best - 1e-9:
                best, lines = widest, [a, b]
    return lines


def _truncate(text: str, weight: int, size: float, width: float, max_lines: int) -> list[str]:
    """Last resort: wrap and cut the last line with an ellipsis so it fits."""
    lines = _wrap(text, weight, size, width, 10**6) or [text]
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    last = " ".join(lines[max_lines - 1 :])
    while last and _mm(last + ELLIPSIS, weight, size) > width:
        last = last[:-1].rstrip()
    kept[-1] = last + ELLIPSIS
    return kept


def _fit(
    text: str, weight: int, max_pt: float, min_pt: float, max_lines: int, width: float
) -> tuple[float, list[str]]:
    """Choose font size and line breaks so ``text`` fits ``width`` in at most ``max_lines``."""
    min_pt = max(min_pt, FLOOR_PT)
    max_pt = max(max_pt, min_pt)
    unit = _mm(text, weight, 1.0)
    one_line = math.floor(min(max_pt, width / unit if unit else max_pt) * 10) / 10
    # 1. One line, shrinking by at most 15 %.
    if one_line >= max(min_pt, max_pt * 0.85):
        return one_line, [text]
    # 2. Wrap, shrinking step by step down to min_pt.
    size = max_pt
    while max_lines > 1 and size >= min_pt - 1e-9:
        lines = _wrap(text, weight, size, width, max_lines)
        if lines is not None:
            return size, lines
        size = round(size - 0.5, 2)
    # 3. One line anywhere above min_pt.
    if one_line >= min_pt:
        return one_line, [text]
    # 4. Below min_pt down to the floor, wrapping allowed.
    size = min_pt
    while size >= FLOOR_PT - 1e-9:
        lines = _wrap(text, weight, size, width, max_lines)
        if lines is not None:
            return size, lines
        size = round(size - 0.5, 2)
    # 5. Cut.
    return FLOOR_PT, _truncate(text, weight, FLOOR_PT, width, max_lines)


@dataclass(frozen=True)
class _Field:
    text: str
    weight: int
    max_pt: float
    min_pt: float
    max_lines: int = 1
    framed: bool = False


TITLE = "Quét mã VietQR để thanh toán"
HEADER_TOP_MM = 4.5
BOTTOM_MM = 4.5
FRAME_PAD_X = 3.0
FRAME_PAD_Y = 1.1
GAP_MM = 0.9
MAX_EXTRA_GAP_MM = 2.5


def _fields(stand: Stand) -> list[_Field]:
    """The text blocks under the QR, most important first."""
    out = [_Field(fonts.printable(stand.vendor_name, BOLD), BOLD, 20, 12, 2)]
    place = " · ".join(p for p in (stand.stall, stand.market_name) if p)
    if place:
        out.append(_Field(fonts.printable(place, SEMIBOLD), SEMIBOLD, 12.5, 8, 2))
    bank = " · ".join(p for p in (stand.bank_short_name, stand.account_number_masked) if p)
    if bank:
        out.append(_Field(fonts.printable(bank), REGULAR, 11.5, 8, 1))
    if stand.account_name:
        holder = fonts.printable(f"Chủ tài khoản: {stand.account_name}")
        out.append(_Field(holder, REGULAR, 11, 7.5, 2))
    extra = []
    if stand.amount is not None:
        extra.append(f"Số tiền: {format_vnd(stand.amount)}")
    if stand.note:
        extra.append(f"Nội dung: {stand.note}")
    if extra:
        out.append(_Field(fonts.printable(" · ".join(extra), BOLD), BOLD, 12, 8, 2))
    code = fonts.printable(f"Mã xác thực: {stand.verify_code}", BOLD)
    out.append(_Field(code, BOLD, 16, 10, 1, framed=True))
    if stand.verify_url:
        check = fonts.printable(f"Kiểm tra quầy: {stand.verify_url}")
        out.append(_Field(check, REGULAR, 8.5, 6, 2))
    return out


def _place(
    fields: Sequence[_Field], top: float, budget: float, gap: float
) -> tuple[list[TextLine], list[Frame]] | None:
    """Lay the fields out top-down from ``top``; ``None`` if they need more than ``budget``."""
    cx = A6_WIDTH_MM / 2
    fitted: list[tuple[_Field, float, list[str], float]] = []
    total = 0.0
    for f in fields:
        pad = FRAME_PAD_X if f.framed else 0.0
        size, lines = _fit(
            f.text, f.weight, f.max_pt, f.min_pt, f.max_lines, CONTENT_WIDTH_MM - 2 * pad
        )
        height = len(lines) * LINE_HEIGHT * size * PT_MM + (2 * FRAME_PAD_Y if f.framed else 0.0)
        fitted.append((f, size, lines, height))
        total += height
    gaps = max(len(fields) - 1, 1)
    total += gap * gaps
    if total > budget:
        return None
    extra = min((budget - total) / gaps, MAX_EXTRA_GAP_MM)
    y = top + (budget - total - extra * gaps) / 2  # centre what is left
    out: list[TextLine] = []
    frames: list[Frame] = []
    for f, size, lines, height in fitted:
        line_h = LINE_HEIGHT * size * PT_MM
        inner = y + (FRAME_PAD_Y if f.framed else 0.0)
        widest = 0.0
        for i, text in enumerate(lines):
            width = _mm(text, f.weight, size)
            widest = max(widest, width)
            baseline = inner + i * line_h + BASELINE * size * PT_MM
            out.append(TextLine(text, cx, baseline, size, f.weight, width))
        if f.framed:
            w = widest + 2 * FRAME_PAD_X
            frames.append(Frame(cx - w / 2, y, w, height, radius=2.0, line_width=0.5))
        y += height + gap + extra
    return out, frames


@cache
def _header() -> TextLine:
    """The title line: the same on every stand, so it is laid out once."""
    size, (title,) = _fit(TITLE, BOLD, 17, 12, 1, CONTENT_WIDTH_MM)
    baseline = HEADER_TOP_MM + BASELINE * size * PT_MM
    return TextLine(title, A6_WIDTH_MM / 2, baseline, size, BOLD, _mm(title, BOLD, size))


def plan_stand(stand: Stand) -> StandPlan:
    """Compute the A6 layout of ``stand`` (pure; shared by all renderers)."""
    qr = qr_matrix(stand.payload)
    header = _header()
    fields = _fields(stand)
    # Whole pixels per module at 300 dpi: crisp PNG, vectors identical to it. The QR keeps its
    # full size unless the text would have to shrink below 70 %; then the QR gives up a little.
    best_px = max(1, math.floor(QR_TARGET_MM / 25.4 * REFERENCE_DPI / qr.size))
    attempts = [(best_px, s / 100) for s in range(100, 65, -5)]
    attempts += [
        (px, s / 100)
        for px in range(best_px - 1, max(best_px - 4, 0), -1)
        for s in range(100, 45, -5)
    ]
    for module_px, scale in attempts:
        module = module_px * 25.4 / REFERENCE_DPI
        quiet = QUIET_ZONE * module
        qr_y = header.bottom + quiet
        qr_w = module * qr.size
        text_top = qr_y + qr_w + quiet
        scaled = [replace(f, max_pt=f.max_pt * scale, min_pt=f.min_pt * scale) for f in fields]
        placed = _place(scaled, text_top, A6_HEIGHT_MM - BOTTOM_MM - text_top, GAP_MM * scale)
        if placed is not None:
            body, frames = placed
            return StandPlan(
                qr=qr,
                qr_x=(A6_WIDTH_MM - qr_w) / 2,
                qr_y=qr_y,
                module=module,
                lines=(header, *body),
                frames=tuple(frames),
            )
    # Unreachable with the field limits above (tested with absurdly long texts).
    raise ValueError("stand text does not fit on an A6 page")


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

CUT_MARK_MM = 4.0
CUT_MARK_WIDTH_MM = 0.2
A4X4_OFFSET_Y = (A4_HEIGHT_MM - 2 * A6_HEIGHT_MM) / 2  # 0.5 mm: centre the 2x2 grid


def _new_pdf(page: tuple[float, float]) -> FPDF:
    """An FPDF document with the three Be Vietnam Pro weights registered once."""
    pdf = FPDF(unit="mm", format=page)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creator("ChoPay")
    pdf.set_title("ChoPay - Bảng mã QR thanh toán")
    pdf.set_lang("vi")
    for weight, (family, style) in fonts.WEIGHTS.items():
        pdf.add_font(family, style, str(fonts.font_path(weight)))
    return pdf


def _qr_ops(plan: StandPlan, ox: float, oy: float, k: float, page_h: float) -> str:
    """PDF operators filling the QR's merged rectangles as one path (no seams, tiny stream).

    A ``cm`` matrix maps module units (y down) to page points, so each rectangle is written
    with small integers: cheap to format and compact in the file.
    """
    m = plan.module * k
    e = (ox + plan.qr_x) * k
    f = (page_h - oy - plan.qr_y) * k
    rects = " ".join(f"{x} {y} {w} {h} re" for x, y, w, h in plan.qr.rectangles)
    return f"q 0 g {m:.5f} 0 0 {-m:.5f} {e:.4f} {f:.4f} cm {rects} f Q"


def _draw_stand(pdf: FPDF, plan: StandPlan, ox: float, oy: float) -> None:
    """Draw one planned stand with its top-left corner at (ox, oy) mm on the current page."""
    pdf._out(_qr_ops(plan, ox, oy, pdf.k, pdf.h))  # private but stable: raw QR fill
    current: tuple[str, str, float] | None = None
    for line in plan.lines:
        family, style = fonts.WEIGHTS[line.weight]
        font = (family, style, line.size_pt)
        if font != current:
            pdf.set_font(family, style, line.size_pt)
            current = font
        pdf.text(ox + line.left, oy + line.baseline, line.text)
    for f in plan.frames:
        pdf.set_line_width(f.line_width)
        pdf.rect(
            ox + f.x, oy + f.y, f.w, f.h, style="D", round_corners=True, corner_radius=f.radius
        )


def _cut_marks(pdf: FPDF) -> None:
    """Thin crop marks on the cut lines between the four A6 cells of an A4 sheet."""
    pdf.set_draw_color(90)
    pdf.set_line_width(CUT_MARK_WIDTH_MM)
    mid_x = A6_WIDTH_MM
    mid_y = A4X4_OFFSET_Y + A6_HEIGHT_MM
    d = CUT_MARK_MM
    pdf.line(mid_x, 0, mid_x, d)  # top edge
    pdf.line(mid_x, A4_HEIGHT_MM - d, mid_x, A4_HEIGHT_MM)  # bottom edge
    pdf.line(0, mid_y, d, mid_y)  # left edge
    pdf.line(A4_WIDTH_MM - d, mid_y, A4_WIDTH_MM, mid_y)  # right edge
    pdf.line(mid_x - d, mid_y, mid_x + d, mid_y)  # centre cross
    pdf.line(mid_x, mid_y - d, mid_x, mid_y + d)
    pdf.set_draw_color(0)


def _empty_page(pdf: FPDF, width: float, height: float) -> None:
    """The single page of an empty market's PDF."""
    pdf.add_page()
    size, lines = _fit(EMPTY_MESSAGE, BOLD, 18, 12, 2, width - 2 * MARGIN_MM)
    family, style = fonts.WEIGHTS[BOLD]
    pdf.set_font(family, style, size)
    line_h = LINE_HEIGHT * size * PT_MM
    y = (height - line_h * len(lines)) / 2 + BASELINE * size * PT_MM
    for i, text in enumerate(lines):
        pdf.text((width - _mm(text, BOLD, size)) / 2, y + i * line_h, text)


def stands_pdf(stands: Sequence[Stand], *, layout: SheetLayout = "a6") -> bytes:
    """All stands in one PDF, in the given order: one per A6 page, or 2x2 per A4 with cut marks.

    An empty sequence gives a valid one-page PDF saying "Chưa có quầy nào có mã QR".
    """
    if layout not in ("a6", "a4x4"):
        raise ValueError(f"layout must be 'a6' or 'a4x4', not {layout!r}")
    page = (A6_WIDTH_MM, A6_HEIGHT_MM) if layout == "a6" else (A4_WIDTH_MM, A4_HEIGHT_MM)
    pdf = _new_pdf(page)
    try:
        _fill(pdf, stands, layout)
        return bytes(pdf.output())
    finally:
        fonts.close_fonts(pdf)


def _fill(pdf: FPDF, stands: Sequence[Stand], layout: SheetLayout) -> None:
    """Add the pages of :func:`stands_pdf` to ``pdf``."""
    if layout == "a6":
        if not stands:
            _empty_page(pdf, A6_WIDTH_MM, A6_HEIGHT_MM)
        for stand in stands:
            pdf.add_page()
            _draw_stand(pdf, plan_stand(stand), 0.0, 0.0)
    else:
        if not stands:
            _empty_page(pdf, A4_WIDTH_MM, A4_HEIGHT_MM)
        for i, stand in enumerate(stands):
            cell = i % 4
            if cell == 0:
                pdf.add_page()
                _cut_marks(pdf)
            ox = (cell % 2) * A6_WIDTH_MM
            oy = A4X4_OFFSET_Y + (cell // 2) * A6_HEIGHT_MM
            _draw_stand(pdf, plan_stand(stand), ox, oy)


def stand_pdf(stand: Stand) -> bytes:
    """One stand as a one-page A6 PDF with selectable text."""
    return stands_pdf([stand], layout="a6")


# --------------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------------


def _draw_text(img: Image.Image, line: TextLine, px: float, dpi: int) -> None:
    """Draw ``line`` in black by pasting cached glyph masks at the plan's own advances.

    The advances are the ones the layout measured, so the line is exactly ``line.width`` wide
    (centred on ``line.cx``) and can never pass the margin, whatever the hinting does.
    """
    size_px = round(line.size_pt * dpi / 72 * 4) / 4  # few distinct sizes: good cache hits
    per_unit = line.size_pt * dpi / 72 / 1000.0  # pixels per 1/1000 em
    m = fonts.metrics(line.weight)
    widths, missing = m.widths, m.missing_width
    pen = (line.cx - line.width / 2) * px
    baseline = math.floor(line.baseline * px + 0.5)
    for ch in line.text:
        g = fonts.glyph(line.weight, size_px, ch)
        if g.mask is not None:
            x = math.floor(pen + 0.5) + g.left
            y = baseline + g.top
            img.paste(0, (x, y, x + g.mask.width, y + g.mask.height), g.mask)
        pen += widths.get(ord(ch), missing) * per_unit


def stand_png(stand: Stand, dpi: int = REFERENCE_DPI) -> bytes:
    """One stand as a grayscale A6 PNG (300 dpi -> 1240x1748 px) with dpi metadata."""
    if not 72 <= dpi <= 1200:
        raise ValueError("dpi must be between 72 and 1200")
    plan = plan_stand(stand)
    px = dpi / 25.4
    width, height = round(A6_WIDTH_MM * px), round(A6_HEIGHT_MM * px)
    img = Image.new("L", (width, height), 255)
    module_px = max(1, round(plan.module * px))
    size_px = module_px * plan.qr.size
    img.paste(
        plan.qr.to_image(scale=module_px, border=0),
        ((width - size_px) // 2, round(plan.qr_y * px)),
    )
    for line in plan.lines:
        _draw_text(img, line, px, dpi)
    if plan.frames:
        draw = ImageDraw.Draw(img)
        for f in plan.frames:
            draw.rounded_rectangle(
                (f.x * px, f.y * px, (f.x + f.w) * px, (f.y + f.h) * px),
                radius=f.radius * px,
                outline=0,
                width=max(1, round(f.line_width * px)),
            )
    return _encode_png(img, dpi)


# A stand page is mostly rows that repeat the row above: the white margins and gaps, and each
# QR module row repeated ``module_px`` times. zlib spends most of its time on exactly those bytes
# (~3 ms for a blank 300 dpi page), so the encoder below writes every such row with PNG filter 2
# ("Up": all zeros) and takes the compressed form of runs of them from a cache. A deflate stream
# may be cut into pieces compressed separately: a full flush byte-aligns the output and resets the
# compressor, so no back-reference crosses a piece boundary, and the pieces concatenate into one
# valid stream. Only the rows that differ from the one above (text, ~45 QR module rows) are
# compressed per call. Output: an ordinary 8-bit greyscale PNG with a pHYs chunk and nothing else.

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, "fastest" (the level is only advisory)
_ADLER_BASE = 65521
_MIN_CACHED_RUN = 8  # shorter runs of repeated rows are cheaper to compress in place
_FILTER_NONE = b"\x00"
_FILTER_UP = b"\x02"
_STRIP_BYTES = 60 * 1024


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """Adler-32 of ``a + b`` from adler32(a), adler32(b) and len(b) (as zlib's adler32_combine)."""
    a1, b1 = adler1 & 0xFFFF, adler1 >> 16
    a2, b2 = adler2 & 0xFFFF, adler2 >> 16
    a = (a1 + a2 - 1) % _ADLER_BASE
    b = (b1 + b2 + len2 * (a1 - 1)) % _ADLER_BASE
    return b << 16 | a


@lru_cache(maxsize=64)
def _up_rows(width: int, rows: int) -> tuple[bytes, int, int]:
    """``rows`` unchanged rows ("Up" filter) as a self-contained deflate piece.

    Returns the piece, the Adler-32 of the filtered bytes and their length.
    """
    data = (_FILTER_UP + bytes(width)) * rows
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush(zlib.Z_FULL_FLUSH), zlib.adler32(data), len(data)


def _encode_png(img: Image.Image, dpi: int) -> bytes:
    """Encode an "L" image as a PNG with ``dpi`` metadata (see the comment above)."""
    if img.mode != "L":
        raise ValueError("only greyscale (mode L) images are encoded here")
    width, height = img.size
    up_row = _FILTER_UP + bytes(width)
    comp = zlib.compressobj(1, zlib.DEFLATED, -15)
    out = [_ZLIB_HEADER]
    adler = 1
    pending: list[bytes] = []  # filtered rows not yet handed to zlib
    run = 0  # rows equal to the one above, not yet written

    def feed() -> None:
        nonlocal adler
        if pending:
            data = b"".join(pending)
            pending.clear()
            adler = zlib.adler32(data, adler)
            out.append(comp.compress(data))

    def end_run() -> None:
        nonlocal adler, run
        if run >= _MIN_CACHED_RUN:
            feed()
            out.append(comp.flush(zlib.Z_FULL_FLUSH))
            bit = 1
            while run:  # the run as cached pieces of 1, 2, 4, ... rows
                if run & bit:
                    piece, piece_adler, piece_len = _up_rows(width, bit)
                    out.append(piece)
                    adler = _adler32_combine(adler, piece_adler, piece_len)
                    run ^= bit
                bit <<= 1
        elif run:
            pending.append(up_row * run)
            run = 0

    prev = b""
    # Strips of < 64 KiB: one 2 MB buffer would cost more in page faults than the copy itself.
    strip = max(1, _STRIP_BYTES // width)
    for top in range(0, height, strip):
        raw = img.crop((0, top, width, min(top + strip, height))).tobytes()
        for start in range(0, len(raw), width):
            row = raw[start : start + width]
            if row == prev:
                run += 1
                continue
            end_run()
            pending.append(_FILTER_NONE + row)
            prev = row
        feed()
    end_run()
    feed()
    out.append(comp.flush())
    out.append(struct.pack(">I", adler))
    ppm = int(dpi / 0.0254 + 0.5)  # pixels per metre, rounded as Pillow does
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)),
            _png_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
            _png_chunk(b"IDAT", b"".join(out)),
            _png_chunk(b"IEND", b""),
        )
    )


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------


def _num(value: float) -> str:
    """Compact SVG number (mm, 3 decimals)."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def stand_svg(stand: Stand) -> bytes:
    """One stand as an SVG in mm: real ``<text>`` elements and the QR as a single path."""
    plan = plan_stand(stand)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(A6_WIDTH_MM)}mm" '
        f'height="{_num(A6_HEIGHT_MM)}mm" viewBox="0 0 {_num(A6_WIDTH_MM)} {_num(A6_HEIGHT_MM)}">',
        f'<rect width="{_num(A6_WIDTH_MM)}" height="{_num(A6_HEIGHT_MM)}" fill="#fff"/>',
        f'<path fill="#000" shape-rendering="crispEdges" transform="translate({_num(plan.qr_x)} '
        f'{_num(plan.qr_y)}) scale({_num(plan.module)})" d="{svg_path_data(plan.qr)}"/>',
        f'<g font-family="\'{fonts.FAMILY}\', sans-serif" text-anchor="middle" fill="#000">',
    ]
    for line in plan.lines:
        # textLength pins the measured width, so a fallback font cannot overflow the page.
        parts.append(
            f'<text x="{_num(line.cx)}" y="{_num(line.baseline)}" '
            f'font-size="{_num(line.size_pt * PT_MM)}" font-weight="{line.weight}" '
            f'textLength="{_num(line.width)}" lengthAdjust="spacingAndGlyphs">'
            f"{escape(line.text)}</text>"
        )
    parts.append("</g>")
    for f in plan.frames:
        parts.append(
            f'<rect x="{_num(f.x)}" y="{_num(f.y)}" width="{_num(f.w)}" height="{_num(f.h)}" '
            f'rx="{_num(f.radius)}" fill="none" stroke="#000" '
            f"stroke-width={quoteattr(_num(f.line_width))}/>"
        )
    parts.append("</svg>\n")
    return "\n".join(parts).encode("utf-8")
