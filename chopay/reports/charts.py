"""Server-rendered SVG charts: plain values in, an accessible SVG string out.

No Flask, no database and no JavaScript: the page embeds the markup as is, it prints,
and it passes a CSP without inline styles (colours and sizes are SVG presentation
attributes). Every chart carries a <title> and <desc>, and the numbers it shows are
also in the page's tables, so nothing is only in the picture.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

INK = "#1b1f24"
MUTED = "#5b6470"
GRID = "#d5dae0"
BAR = "#b3141b"
BAR_SOFT = "#e8a0a3"
LINE = "#1c5d99"
OK = "#1c7c3a"
FONT = "Be Vietnam Pro, Segoe UI, Roboto, Arial, sans-serif"

Formatter = Callable[[float], str]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ not below ``value`` (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _svg_open(width: int, height: int, title: str, desc: str, ident: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'font-family={quoteattr(FONT)} font-size="13" class="chart">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]


@dataclass(frozen=True)
class Bar:
    """One labelled value of a horizontal bar chart (None: not computable)."""

    label: str
    value: float | None
    highlight: bool = False  # e.g. a market that qualifies


def hbar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    desc: str,
    fmt: Formatter = lambda v: _num(v) + "%",
    scale_max: float | None = 100.0,
    threshold: float | None = None,
    threshold_label: str = "",
    none_label: str = "–",
    ident: str = "hbar",
) -> str:
    """Horizontal bars, one per label, on a 0..scale_max axis (grown if a value exceeds it)."""
    label_w, value_w, plot_w, row_h, top = 210, 70, 360, 26, 30
    width = label_w + plot_w + value_w
    height = top + row_h * max(len(bars), 1) + 24
    known = [b.value for b in bars if b.value is not None]
    top_value = max([*known, threshold or 0, scale_max or 0]) if known else (scale_max or 1)
    axis_max = scale_max if scale_max and top_value <= scale_max else nice_ceiling(top_value)
    out = _svg_open(width, height, title, desc, ident)
    for i in range(5):  # grid at 0, 25, 50, 75, 100 % of the axis
        x = label_w + plot_w * i / 4
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{height - 20}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{top - 12}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="11">{escape(fmt(axis_max * i / 4))}</text>'
        )
    for i, bar in enumerate(bars):
        y = top + i * row_h
        label = bar.label if len(bar.label) <= 30 else bar.label[:29] + "…"
        out.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" fill="{INK}">'
            f"{escape(label)}</text>"
        )
        if bar.value is None:
            out.append(
                f'<text x="{label_w + 4}" y="{y + 17}" fill="{MUTED}">{escape(none_label)}</text>'
            )
            continue
        w = plot_w * min(bar.value, axis_max) / axis_max
        colour = OK if bar.highlight else BAR
        out.append(
            f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" '
            f'fill="{colour}" data-value="{bar.value}"/>'
        )
        out.append(
            f'<text x="{label_w + plot_w + 6}" y="{y + 17}" fill="{INK}">'
            f"{escape(fmt(bar.value))}</text>"
        )
    if threshold is not None:
        x = label_w + plot_w * min(threshold, axis_max) / axis_max
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 20}" '
            f'stroke="{INK}" stroke-width="2" stroke-dasharray="5 3" class="threshold"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="{INK}" '
            f'font-size="11">{escape(threshold_label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


@dataclass(frozen=True)
class TrendPoint:
    """One period of a trend: a bar value and an optional line value."""

    label: str
    bar: float
    line: float | None = None
    partial: bool = False  # the period is not over yet (drawn lighter)


def trend_chart(
    points: Sequence[TrendPoint],
    *,
    title: str,
    desc: str,
    bar_name: str,
    line_name: str,
    bar_fmt: Formatter,
    line_fmt: Formatter = lambda v: _num(v) + "%",
    line_max: float = 100.0,
    ident: str = "trend",
) -> str:
    """Bars (left axis) with a line over them (right axis, 0..line_max), one per period."""
    left, right, top, plot_h, bottom = 70, 56, 36, 200, 40
    slot = 46.0
    plot_w = slot * max(len(points), 1)
    width = left + plot_w + right
    height = top + plot_h + bottom
    bar_max = nice_ceiling(max([p.bar for p in points] or [0]))
    known_line = [p.line for p in points if p.line is not None]
    line_top = max([*known_line, line_max]) if known_line else line_max
    line_axis = line_max if line_top <= line_max else nice_ceiling(line_top)
    out = _svg_open(width, height, title, desc, ident)
    base = top + plot_h
    for i in range(5):
        y = base - plot_h * i / 4
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" '
            f'font-size="11">{escape(bar_fmt(bar_max * i / 4))}</text>'
        )
        out.append(
            f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" fill="{LINE}" '
            f'font-size="11">{escape(line_fmt(line_axis * i / 4))}</text>'
        )
    line_pts = []
    for i, p in enumerate(points):
        x = left + i * slot
        h = plot_h * p.bar / bar_max if bar_max else 0
        out.append(
            f'<rect x="{x + 8}" y="{base - h:.1f}" width="{slot - 16}" height="{h:.1f}" '
            f'fill="{BAR_SOFT if p.partial else BAR}" data-value="{p.bar}">'
            f"<title>{escape(p.label)}: {escape(bar_fmt(p.bar))}</title></rect>"
        )
        out.append(
            f'<text x="{x + slot / 2:.1f}" y="{base + 16}" text-anchor="middle" '
            f'fill="{INK}" font-size="11">{escape(p.label)}</text>'
        )
        if p.line is not None:
            ly = base - plot_h * min(p.line, line_axis) / line_axis
            line_pts.append((x + slot / 2, ly, p))
    if line_pts:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in line_pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
        for x, y, p in line_pts:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{LINE}" '
                f'data-value="{p.line}"><title>{escape(p.label)}: '
                f"{escape(line_fmt(p.line or 0))}</title></circle>"
            )
    legend_y = 16
    out.append(f'<rect x="{left}" y="{legend_y - 10}" width="12" height="12" fill="{BAR}"/>')
    out.append(f'<text x="{left + 18}" y="{legend_y}" fill="{INK}">{escape(bar_name)}</text>')
    lx = left + 30 + 8.0 * len(bar_name)
    out.append(
        f'<line x1="{lx}" y1="{legend_y - 4}" x2="{lx + 16}" y2="{legend_y - 4}" '
        f'stroke="{LINE}" stroke-width="2.5"/>'
    )
    out.append(f'<text x="{lx + 22}" y="{legend_y}" fill="{INK}">{escape(line_name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# Short names of 10⁹, 10⁶ and 10³ đồng. Pages pass their translation (formatting.MONEY_UNITS).
VI_MONEY_UNITS = ("tỷ", "tr", "nghìn")


def compact_vnd(value: float, units: Sequence[object] = VI_MONEY_UNITS) -> str:
    """Short money labels for axes: 950 nghìn, 1,2 tr, 3,5 tỷ.

    ``units`` names 10⁹, 10⁶ and 10³ in the reader's language (anything ``str()`` turns
    into text, such as lazy translations)."""
    for size, unit in zip((1e9, 1e6, 1e3), units, strict=True):
        if abs(value) >= size:
            return f"{_num(value / size).replace('.', ',')} {unit}"
    return _num(value).replace(".", ",")
