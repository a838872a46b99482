"""Be Vietnam Pro font access and metrics, shared by the PDF, PNG and SVG renderers.

The font files come from the ``fontpkg-be-vietnam-pro`` package (nothing is copied into the repo).
Widths are read once per weight from the font's own advance table through fpdf2's font loader,
so the layout measures text exactly as fpdf2 will typeset it in the PDF. The PNG renderer places
Pillow-rasterised glyphs (:func:`glyph`, cached) at those same advances (no kerning, as in the
PDF), so all three outputs share one layout and a PNG line is exactly as wide as planned.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

import fontpkg
from fpdf import FPDF
from fpdf.fonts import TTFFont
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "BOLD",
    "FAMILY",
    "GLYPH_CACHE_MAX_PX",
    "PDF_FAMILY",
    "REGULAR",
    "SEMIBOLD",
    "WEIGHTS",
    "FontMetrics",
    "Glyph",
    "close_fonts",
    "font_path",
    "glyph",
    "metrics",
    "pil_font",
    "printable",
    "text_units",
    "text_width",
]

FAMILY = "Be Vietnam Pro"
PDF_FAMILY = "BeVietnamPro"  # fpdf2 family key (no spaces)
REGULAR = 400
SEMIBOLD = 600
BOLD = 700
# fpdf2 only knows "" and "B" styles per family, so semi-bold is registered as its own family.
WEIGHTS: Mapping[int, tuple[str, str]] = MappingProxyType(
    {
        REGULAR: (PDF_FAMILY, ""),
        SEMIBOLD: (PDF_FAMILY + "SemiBold", ""),
        BOLD: (PDF_FAMILY, "B"),
    }
)


@cache
def font_path(weight: int) -> Path:
    """Path of the installed Be Vietnam Pro TTF for ``weight`` (400, 600 or 700)."""
    if weight not in WEIGHTS:
        raise ValueError(f"unsupported weight {weight}")
    return Path(fontpkg.path(FAMILY, weight=weight))


@dataclass(frozen=True)
class FontMetrics:
    """Advance widths (1/1000 em) of every character the font maps, plus vertical metrics."""

    weight: int
    widths: Mapping[int, float]
    missing_width: float
    ascent: float  # 1/1000 em, positive
    descent: float  # 1/1000 em, positive (below the baseline)

    def has_glyph(self, char: str) -> bool:
        """Whether the font can draw ``char`` (a single code point)."""
        return ord(char) in self.widths


@cache
def metrics(weight: int) -> FontMetrics:
    """Metrics for ``weight``, loaded once per process (immutable, safe to share)."""
    family, style = WEIGHTS[weight]
    probe = FPDF()
    probe.add_font(family, style, str(font_path(weight)))
    (font,) = probe.fonts.values()
    if not isinstance(font, TTFFont):  # pragma: no cover - add_font always loads a TTF
        raise TypeError(f"unexpected font type {type(font).__name__}")
    widths = {cp: float(font.cw[cp]) for cp in font.cmap}
    desc = font.desc
    font.close()  # fontTools keeps the file open (lazy loading) until told otherwise
    return FontMetrics(
        weight=weight,
        widths=MappingProxyType(widths),
        missing_width=float(desc.missing_width),
        ascent=float(desc.ascent),
        descent=float(-desc.descent),
    )


def text_width(text: str, weight: int, size: float) -> float:
    """Advance width of ``text`` at font size ``size``, in the unit of ``size``."""
    return text_units(text, weight) * size / 1000.0


@lru_cache(maxsize=8192)
def text_units(text: str, weight: int) -> float:
    """Advance width of ``text`` in 1/1000 em (cached: the layout measures the same words and
    candidate lines at many sizes while it looks for the best fit)."""
    m = metrics(weight)
    widths, missing = m.widths, m.missing_width
    return sum(widths.get(ord(ch), missing) for ch in text)


def close_fonts(pdf: FPDF) -> None:
    """Close the font files fpdf2 keeps open (it only closes fonts it embedded)."""
    for font in pdf.fonts.values():
        if isinstance(font, TTFFont):
            font.close()


_SUBSTITUTES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00a0": " ",
}


def printable(text: str, weight: int = REGULAR) -> str:
    """``text`` in NFC with characters the font cannot draw replaced (diacritics kept if any).

    Why: a vendor name pasted from a phone can contain emoji or CJK characters; printing them
    would give empty boxes, so we degrade to the base letter (via NFKD) or "?" instead.
    """
    text = unicodedata.normalize("NFC", text)
    m = metrics(weight)
    if all(m.has_glyph(ch) for ch in text):
        return text
    out: list[str] = []
    for ch in text:
        if m.has_glyph(ch):
            out.append(ch)
            continue
        sub = _SUBSTITUTES.get(ch)
        if sub is None:
            decomposed = unicodedata.normalize("NFKD", ch)
            sub = "".join(c for c in decomposed if m.has_glyph(c) and not unicodedata.combining(c))
        out.append(sub or "?")
    return unicodedata.normalize("NFC", "".join(out))


@lru_cache(maxsize=256)
def pil_font(weight: int, size_px: float) -> ImageFont.FreeTypeFont:
    """Cached Pillow font; basic layout so advances match the shared (fpdf2) metrics."""
    return ImageFont.truetype(str(font_path(weight)), size_px, layout_engine=ImageFont.Layout.BASIC)


@dataclass(frozen=True)
class Glyph:
    """A rasterised glyph: coverage ``mask`` (mode "L", 255 = ink) placed relative to the pen.

    The mask's top-left pixel goes at (pen x + ``left``, baseline + ``top``); ``mask`` is
    ``None`` for glyphs without ink (spaces).
    """

    mask: Image.Image | None
    left: int
    top: int


# Glyphs up to this size are cached: that covers every stand text at 300 dpi (20 pt = 83 px)
# and keeps the cache small (~3 KB a glyph, a few MB when full). Bigger ones (high-dpi
# exports, rare) are rasterised on each use instead of filling memory.
GLYPH_CACHE_MAX_PX = 128.0


def glyph(weight: int, size_px: float, char: str) -> Glyph:
    """``char`` rendered by Pillow at ``size_px``, cropped to its ink; cached per process.

    Rasterising is most of the cost of drawing text at 300 dpi, and stands repeat the same
    few dozen characters at the same few sizes (the title and labels identically on every
    stand), so after warm-up a line is drawn by pasting cached masks. The mask is exactly what
    Pillow's own ``ImageDraw.text`` would draw for this character: its basic layout also puts
    every glyph at a whole-pixel pen position. Treat the returned image as read-only.
    """
    if size_px <= GLYPH_CACHE_MAX_PX:
        return _cached_glyph(weight, size_px, char)
    return _render_glyph(weight, size_px, char)


def _render_glyph(weight: int, size_px: float, char: str) -> Glyph:
    """Rasterise one glyph (see :func:`glyph`)."""
    font = pil_font(weight, size_px)
    left, top, right, bottom = (int(v) for v in font.getbbox(char, anchor="ls"))
    if right <= left or bottom <= top:
        return _NO_INK
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), char, font=font, fill=255, anchor="ls")
    ink = mask.getbbox()
    if ink is None:
        return _NO_INK
    return Glyph(mask.crop(ink), left + ink[0], top + ink[1])


_NO_INK = Glyph(None, 0, 0)
_cached_glyph = lru_cache(maxsize=2048)(_render_glyph)
