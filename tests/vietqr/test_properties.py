"""Hypothesis properties: round trip, corruption, truncation, fuzzing."""

from __future__ import annotations

import contextlib

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chopay.vietqr import VietQRError, build_payload, parse_payload
from tests.vietqr.strategies import ALNUM, DIGITS, PRINTABLE, SETTINGS, Inputs


def ascii_text(limit: int) -> st.SearchStrategy[str | None]:
    return st.none() | st.text(PRINTABLE, min_size=1, max_size=limit)


@st.composite
def inputs(draw: st.DrawFn) -> Inputs:
    service = draw(st.sampled_from(["QRIBFTTA", "QRIBFTTC"]))
    alphabet = DIGITS if service == "QRIBFTTC" else ALNUM
    return Inputs(
        bank_bin=draw(st.text(DIGITS, min_size=6, max_size=6)),
        account_number=draw(st.text(alphabet, min_size=1, max_size=19)),
        service=service,
        amount=draw(st.none() | st.integers(1, 9_999_999_999_999)),
        purpose=draw(ascii_text(25)),
        bill_number=draw(ascii_text(25)),
        merchant_name=draw(ascii_text(25)),
        merchant_city=draw(ascii_text(15)),
    )


def build(i: Inputs) -> str:
    return build_payload(
        i.bank_bin,
        i.account_number,
        amount=i.amount,
        purpose=i.purpose,
        service=i.service,
        bill_number=i.bill_number,
        merchant_name=i.merchant_name,
        merchant_city=i.merchant_city,
    )


@SETTINGS
@given(inputs())
def test_round_trip(i: Inputs) -> None:
    text = build(i)
    parsed = parse_payload(text)
    assert parsed.bank_bin == i.bank_bin
    assert parsed.account_number == i.account_number
    assert parsed.service == i.service
    assert parsed.amount == i.amount
    assert parsed.is_dynamic is (i.amount is not None)
    assert parsed.purpose == i.purpose
    assert parsed.bill_number == i.bill_number
    assert parsed.merchant_name == i.merchant_name
    assert parsed.merchant_city == i.merchant_city
    assert parsed.text == text
    assert text.startswith("000201010212" if i.amount is not None else "000201010211")
    assert text[-8:-4] == "6304"


@SETTINGS
@given(inputs(), st.data())
def test_any_single_character_corruption_is_rejected(i: Inputs, data: st.DataObject) -> None:
    text = build(i)
    index = data.draw(st.integers(0, len(text) - 1), label="index")
    char = data.draw(PRINTABLE, label="replacement")
    assume(char != text[index])
    if index >= len(text) - 4:
        # Lower-case CRC digits are accepted by design, so a pure case flip of the CRC
        # value is not corruption.
        assume(char.upper() != text[index].upper())
    corrupted = text[:index] + char + text[index + 1 :]
    try:
        parse_payload(corrupted)
    except VietQRError:
        return
    raise AssertionError(f"accepted corrupted payload {corrupted!r}")


@SETTINGS
@given(inputs(), st.data())
def test_truncation_is_rejected(i: Inputs, data: st.DataObject) -> None:
    text = build(i)
    cut = data.draw(st.integers(0, len(text) - 1), label="cut")
    try:
        parse_payload(text[:cut])
    except VietQRError:
        return
    raise AssertionError(f"accepted truncated payload {text[:cut]!r}")


@SETTINGS
@given(inputs(), st.data())
def test_insertion_or_deletion_is_rejected(i: Inputs, data: st.DataObject) -> None:
    text = build(i)
    index = data.draw(st.integers(0, len(text) - 5), label="index")
    if data.draw(st.booleans(), label="insert"):
        mutated = text[:index] + data.draw(PRINTABLE, label="char") + text[index:]
    else:
        mutated = text[:index] + text[index + 1 :]
    try:
        parse_payload(mutated)
    except VietQRError:
        return
    raise AssertionError(f"accepted mutated payload {mutated!r}")


@settings(database=None, deadline=None, max_examples=1500)
@given(st.text(max_size=300))
def test_fuzz_arbitrary_text_only_raises_vietqr_error(text: str) -> None:
    with contextlib.suppress(VietQRError):
        parse_payload(text)


@settings(database=None, deadline=None, max_examples=1500)
@given(st.text(alphabet="0123456789ABQRITVN .", max_size=200))
def test_fuzz_tlv_like_text_only_raises_vietqr_error(text: str) -> None:
    with contextlib.suppress(VietQRError):
        parse_payload(text)


@settings(database=None, deadline=None, max_examples=800)
@given(inputs(), st.lists(st.tuples(st.integers(0, 400), PRINTABLE), max_size=6))
def test_fuzz_mutated_payloads_only_raise_vietqr_error(
    i: Inputs, edits: list[tuple[int, str]]
) -> None:
    chars = list(build(i))
    for index, char in edits:
        chars[index % len(chars)] = char
    with contextlib.suppress(VietQRError):
        parse_payload("".join(chars))
