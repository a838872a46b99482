"""EMVCo TLV encoding and decoding."""

from __future__ import annotations

import pytest

from chopay.vietqr import DuplicateFieldError, TLVError, decode_tlv, encode_tlv


def test_encode() -> None:
    assert encode_tlv("53", "704") == "5303704"
    assert encode_tlv("08", "x" * 25) == "0825" + "x" * 25
    assert encode_tlv("62", "y" * 99).startswith("6299")


@pytest.mark.parametrize(
    ("tag", "value"), [("5", "704"), ("5a", "704"), ("53", ""), ("53", "z" * 100)]
)
def test_encode_rejects(tag: str, value: str) -> None:
    with pytest.raises(TLVError):
        encode_tlv(tag, value)


def test_decode_keeps_order() -> None:
    fields = decode_tlv("0107NPS68690819thanh toan don hang", "62")
    assert list(fields.items()) == [("01", "NPS6869"), ("08", "thanh toan don hang")]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("0107NPS686", "62.01"),  # declares 7, only 6 remain
        ("0107NPS68690", "62"),  # one dangling character
        ("0a07NPS6869", "62"),  # ID not digits
        ("01x7NPS6869", "62.01"),  # length not digits
        ("0100", "62.01"),  # zero length
    ],
)
def test_decode_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(TLVError) as info:
        decode_tlv(text, "62")
    assert info.value.field == field


def test_duplicate_id() -> None:
    with pytest.raises(DuplicateFieldError) as info:
        decode_tlv("0802ab0802cd", "62")
    assert info.value.field == "62.08"
    assert "more than once" in str(info.value)
