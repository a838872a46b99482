"""SVG charts: well-formed, accessible, escaped, proportional, CSP-clean."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chopay.reports.charts import (
    Bar,
    TrendPoint,
    compact_vnd,
    hbar_chart,
    nice_ceiling,
    trend_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is well-formed


def test_bar_widths_are_proportional_and_names_escaped() -> None:
    svg = hbar_chart(
        [
            Bar("Chợ <Đồng> & Co", 50.0),
            Bar("Chợ Đại Từ", 100.0, highlight=True),
            Bar("Chưa rõ", None),
        ],
        title="Tỷ lệ có QR",
        desc="ba chợ",
    )
    root = parse(svg)  # well-formed XML, so the name was escaped
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Tỷ lệ có QR"
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("data-value")]
    widths = [float(r.get("width")) for r in bars]
    assert widths[1] == 2 * widths[0]
    assert bars[1].get("fill") != bars[0].get("fill")  # qualifying markets stand out
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Chợ <Đồng> & Co" in texts and "–" in texts
    assert "style=" not in svg and "<script" not in svg


def test_values_above_the_scale_grow_the_axis() -> None:
    root = parse(hbar_chart([Bar("A", 125.0), Bar("B", 50.0)], title="t", desc="d"))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.get("data-value")]
    assert widths[0] == 360 * 125 / 200 and widths[1] == 360 * 50 / 200


def test_trend_has_a_bar_per_month_and_a_line() -> None:
    points = [TrendPoint(f"{m:02d}/26", m * 1_000_000.0, m * 5.0) for m in range(1, 13)]
    points[-1] = TrendPoint("12/26", 3_000_000.0, 61.0, partial=True)
    root = parse(
        trend_chart(
            points, title="t", desc="d", bar_name="Giá trị", line_name="Tỷ lệ", bar_fmt=compact_vnd
        )
    )
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("data-value")]
    assert len(bars) == 12 and bars[-1].get("fill") != bars[0].get("fill")
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 12


def test_nice_ceiling_and_compact_money() -> None:
    assert [nice_ceiling(v) for v in (0, 7, 13, 230, 4_100_000)] == [1, 10, 20, 250, 5_000_000]
    assert compact_vnd(1_200_000) == "1,2 tr"
    assert compact_vnd(3_500_000_000) == "3,5 tỷ" and compact_vnd(950_000) == "950 nghìn"
    english = ("bn", "m", "k")
    assert compact_vnd(1_200_000, english) == "1,2 m" and compact_vnd(950_000, english) == "950 k"
    assert compact_vnd(3_500_000_000, english) == "3,5 bn" and compact_vnd(12, english) == "12"
