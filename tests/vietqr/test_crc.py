"""CRC-16/CCITT-FALSE (EMVCo ID 63) against hand-checked values and a bitwise reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chopay.vietqr import crc16_ccitt_false, crc16_hex

SETTINGS = settings(database=None, deadline=None, max_examples=300)


def reference_crc(data: bytes) -> int:
    """Independent bit-at-a-time CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_check_value_of_123456789() -> None:
    # The catalogue check value of CRC-16/CCITT-FALSE (a.k.a. CRC-16/IBM-3740).
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_empty_input_is_initial_value() -> None:
    assert crc16_ccitt_false(b"") == 0xFFFF


def test_reference_matches_check_value() -> None:
    # Guards the reference itself, so the property test below compares against truth.
    assert reference_crc(b"123456789") == 0x29B1


def test_hex_is_four_uppercase_digits_with_leading_zeros() -> None:
    # "A" -> 0xB915 and the NAPAS static-to-card example ends in 4F52 (checked by hand
    # against the published payload).
    assert crc16_hex("A") == "B915"
    body = (
        "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC"
        "53037045802VN6304"
    )
    assert crc16_hex(body) == "4F52"


@SETTINGS
@given(st.binary(max_size=300))
def test_matches_bitwise_reference(data: bytes) -> None:
    assert crc16_ccitt_false(data) == reference_crc(data)


@SETTINGS
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200))
def test_hex_formatting(text: str) -> None:
    expected = reference_crc(text.encode("ascii"))
    assert crc16_hex(text) == f"{expected:04X}"
