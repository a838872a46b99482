"""Reading single cells and rows of an imported list: headers, Excel numbers, hostile input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chopay.vendors.importer import CellError, cell_text, header_field, parse_row

COLUMNS = {
    "full_name": 0,
    "stall": 1,
    "phone": 2,
    "bank": 3,
    "account_number": 4,
    "account_name": 5,
    "has_smartphone": 6,
}


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    ("cell", "field"),
    [
        ("Họ và tên", "full_name"),
        ("HỌ VÀ TÊN (*)", "full_name"),
        ("Ho ten", "full_name"),
        ("ho_va_ten", "full_name"),
        ("Tên tiểu thương", "full_name"),
        ("Số quầy", "stall"),
        ("So ki-ot", "stall"),
        ("Ngành hàng", "goods_category"),
        ("Mặt hàng kinh doanh", "goods_category"),
        ("Số điện thoại", "phone"),
        ("SĐT", "phone"),
        ("Số điện thoại di động", "phone"),
        ("Ngân hàng", "bank"),
        ("Số tài khoản", "account_number"),
        ("STK", "account_number"),
        ("Số tài khoản ngân hàng", "account_number"),
        ("Chủ tài khoản", "account_name"),
        ("Tên chủ TK", "account_name"),
        ("Số CCCD/CMND", "id_number"),
        ("Điện thoại thông minh", "has_smartphone"),
        ("Loa thanh toán", "has_payment_speaker"),
        ("STT", None),
        ("Ghi chú", None),
        ("", None),
        (None, None),
        (2025, None),
    ],
)
def test_header_names(cell: Any, field: str | None) -> None:
    assert header_field(cell) == field


@pytest.mark.parametrize(
    ("value", "numeric", "expected"),
    [
        (None, True, (None, False)),
        ("  A-12 ", False, ("A-12", False)),
        ("", False, (None, False)),
        (912345678.0, True, ("912345678", True)),
        (912345678, True, ("912345678", True)),
        ("912345678.0", True, ("912345678", True)),
        ("9.12345678E+08", True, ("912345678", True)),
        ("1,012345678E+09", True, ("1012345678", True)),  # decimal comma
        ("0071000123456", True, ("0071000123456", False)),
        (123456789012345.0, True, ("123456789012345", True)),
    ],
)
def test_cell_text(value: Any, numeric: bool, expected: tuple[Any, bool], ctx: None) -> None:
    assert cell_text(value, numeric=numeric) == expected


@pytest.mark.parametrize(
    "value",
    [
        1234567890123456.0,  # Excel keeps 15 significant digits
        "1.23457E+12",  # digits lost in scientific notation
        float("nan"),
        dt.datetime(2025, 3, 1),  # "1-3" turned into a date
        dt.date(2025, 3, 1),
    ],
)
def test_lossy_numeric_cells_are_refused(value: Any, ctx: None) -> None:
    with pytest.raises(CellError):
        cell_text(value, numeric=True)


def row(**cells: Any) -> list[Any]:
    values: list[Any] = [None] * len(COLUMNS)
    for name, value in cells.items():
        values[COLUMNS[name]] = value
    return values


def test_row_with_smartphone_flag(ctx: None) -> None:
    planned = parse_row(5, row(full_name="Lan", stall="A1", has_smartphone="Có"), COLUMNS)
    assert planned.result.status == "created"
    assert planned.vendor["has_smartphone"] is True
    planned = parse_row(5, row(full_name="Lan", stall="A1", has_smartphone="hmm"), COLUMNS)
    assert planned.result.status == "error"
    assert "has_smartphone" in planned.result.errors


def test_bank_by_short_name_and_missing_number(ctx: None) -> None:
    planned = parse_row(
        7,
        row(full_name="Lan", stall="A1", bank="techcombank", account_number=190365478901.0),
        COLUMNS,
    )
    assert planned.account == {
        "kind": "bank",
        "bank_bin": "970407",
        "account_number": "190365478901",
        "account_name": "LAN",
    }
    planned = parse_row(7, row(full_name="Lan", stall="A1", account_number="123"), COLUMNS)
    assert "chưa ghi ngân hàng" in str(planned.result.errors["bank"][0])


cell_values = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["+84 9", "9.9E+99", "1e400", "\x00", "٠٩١٢٣٤٥٦٧٨٩", "0912345678", "VCB"]),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(cell_values, min_size=0, max_size=9))
def test_hostile_rows_never_crash_and_good_rows_are_clean(values: list[Any], ctx: None) -> None:
    planned = parse_row(9, values, COLUMNS)
    result = planned.result
    assert result.status in ("created", "error")
    if result.status == "error":
        assert result.errors and all(result.errors.values())
        return
    vendor = planned.vendor
    for text in (vendor["full_name"], vendor["stall"]):
        assert text and text == text.strip()
        assert not any(ord(c) < 32 for c in text)
    phone = vendor.get("phone")
    assert phone is None or (len(phone) == 10 and phone.isascii() and phone.startswith("0"))
    if planned.account is not None:
        number = planned.account["account_number"]
        assert 1 <= len(number) <= 19 and number.isascii() and number.isalnum()
