"""Field parsers, and the fast payment loader agreeing with the documented schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from chopay.errors import InvalidInputError
from chopay.transactions.matching import note_tokens
from chopay.transactions.schemas import (
    TransactionCreateSchema,
    load_payment,
    parse_statement_time,
    parse_vnd_text,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.250.000", 1_250_000),
        ("1,250,000", 1_250_000),
        ("1250000", 1_250_000),
        (" 1.250.000 ₫", 1_250_000),
        ("1.250.000 VND", 1_250_000),
        ("75.000đ", 75_000),
        ("1.250.000,00", 1_250_000),
        ("1,250,000.00", 1_250_000),
        ("500", 500),
        ("499.999.999", 499_999_999),
    ],
)
def test_vietnamese_amounts(text: str, value: int) -> None:
    assert parse_vnd_text(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "0", "-1.000", "1.25", "1.250,5", "12.5.00", "1,250.000", "abc", "500.000.000", "1.2.3"],
)
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_vnd_text(text)


def test_statement_times_are_vietnam_time() -> None:
    assert parse_statement_time("21/11/2025 09:15") == dt.datetime(
        2025, 11, 21, 2, 15, tzinfo=dt.UTC
    )
    assert parse_statement_time("1/2/2025") == dt.datetime(2025, 1, 31, 17, 0, tzinfo=dt.UTC)
    assert parse_statement_time("21/11/2025 09:15:30").second == 30
    for bad in ("2025-11-21 09:15", "31/02/2025 10:00", "21/11/25 10:00", "21/11/2025 25:00"):
        with pytest.raises(ValueError, match=r"."):
            parse_statement_time(bad)


def test_note_tokens_find_references_among_bank_codes() -> None:
    assert note_tokens("MBVCB.3278907687.CP7K3QF9.CT tu 0123") == ["CP7K3QF9"]
    assert note_tokens("cp7k3qf9 mua rau") == ["CP7K3QF9"]
    assert note_tokens("thanh toan tien hang") == []


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 600_000_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "vietqr",
            "cash",
            "card",
            "ewallet",
            "2025-11-21T09:15:00+07:00",
            "2025-11-21T09:15:00",
            "ref-1",
            "a b",
        ]
    ),
)
items = st.fixed_dictionaries(
    {},
    optional={
        "vendor_id": values,
        "amount": values,
        "occurred_at": values,
        "method": values,
        "external_ref": values,
    },
)


@given(item=items)
def test_fast_loader_accepts_exactly_what_the_documented_schema_accepts(
    item: dict[str, Any],
) -> None:
    try:
        load_payment(item)
        fast_ok = True
    except InvalidInputError:
        fast_ok = False
    try:
        loaded = TransactionCreateSchema().load(item)
        slow_ok = loaded.get("occurred_at") is not None
    except (ValidationError, TypeError, ValueError):
        slow_ok = False
    assert fast_ok == slow_ok, item
