"""Cells for the CSV and XLSX files people open in spreadsheets, safe against formulas.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula (``=cmd|' /C calc'!A0``, ``=HYPERLINK(…)``).
Names, stalls, notes and references come from people, so every exported text cell goes
through ``safe_cell``: text starting with one of those characters gets a leading
apostrophe (OWASP, "CSV Injection"). Numbers, dates and None are written as they are.
Every CSV/XLSX export uses this one helper.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will show it, never run it: risky text is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """``safe_cell`` of every value of a row."""
    return [safe_cell(v) for v in values]
