"""Whole-number query arguments of the HTML pages (ids, page numbers), read safely.

werkzeug's ``request.args.get(name, type=int)`` takes whatever ``int()`` takes (" 7 ",
"1_000", Arabic-Indic digits, numbers of any size) and silently drops the rest; a number
too large for the database's INTEGER then fails there (a 500 on PostgreSQL). Pages read
their numbers here instead: ASCII digits within bounds, or the default and a message that
names the argument it ignored. Views only: this module reads the request and flashes.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash, request
from flask_babel import gettext as _

from chopay.db import MAX_ID
from chopay.formatting import format_number

MAX_DIGITS = 20  # longer runs of digits are larger than any bound, no need to convert them


def int_arg(
    name: str,
    default: int | None = None,
    *,
    low: int = 1,
    high: int = MAX_ID,
    clamp: bool = False,
    values: Mapping[str, str] | None = None,
) -> int | None:
    """The argument ``name`` as a whole number from ``low`` to ``high``, else ``default``.

    Missing or blank gives ``default`` quietly; anything else out of bounds gives
    ``default`` with a flashed warning naming the argument. With ``clamp``, a number above
    ``high`` becomes ``high`` (a page number past the end shows the empty last page).
    ``values`` defaults to the query string (``request.values`` for forms that post it)."""
    raw = ((request.args if values is None else values).get(name) or "").strip()
    if not raw:
        return default
    number: int | None = None
    if raw.isascii() and raw.isdigit():
        number = int(raw) if len(raw) <= MAX_DIGITS else high + 1
    if number is not None and clamp and number > high:
        return high
    if number is None or not low <= number <= high:
        flash(
            _(
                "Đã bỏ qua tham số “%(name)s”: cần một số nguyên từ %(low)s đến %(high)s.",
                name=name,
                low=format_number(low),
                high=format_number(high),
            ),
            "warning",
        )
        return default
    return number


def parse_id(text: str | None) -> int | None:
    """``text`` as a row id (ASCII digits, 1 to MAX_ID), else None. ``str.isdigit`` alone
    lets "²" through, which ``int`` refuses; a larger id fails in PostgreSQL, not in Python."""
    text = (text or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)):
        number = int(text)
        if 0 < number <= MAX_ID:
            return number
    return None


def id_list(raw: list[str]) -> list[int]:
    """The ids among the ticked boxes; anything else is dropped (only a forged form sends it)."""
    return [number for number in map(parse_id, raw) if number is not None]


def ignored_args(names: list[str]) -> None:
    """Flash one warning per argument a page ignored because its value was not valid."""
    for name in names:
        flash(_("Đã bỏ qua tham số “%(name)s” vì giá trị không hợp lệ.", name=name), "warning")
