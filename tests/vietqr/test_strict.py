"""parse_payload rejects malformed payloads with the right error and field.

Payloads are assembled by hand here and sealed with a CRC computed by an independent
bitwise implementation, so each case isolates one defect behind a valid checksum.
"""

from __future__ import annotations

import pytest

from chopay.vietqr import (
    CRCMismatchError,
    DuplicateFieldError,
    FieldTooLongError,
    InvalidFieldError,
    MissingFieldError,
    TLVError,
    VietQRError,
    parse_payload,
)


def crc(text: str) -> str:
    """Bitwise CRC-16/CCITT-FALSE, independent of the library."""
    value = 0xFFFF
    for byte in text.encode("latin-1"):
        value ^= byte << 8
        for _ in range(8):
            value = ((value << 1) ^ 0x1021) if value & 0x8000 else value << 1
            value &= 0xFFFF
    return f"{value:04X}"


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def seal(body: str) -> str:
    """Append ID 63 with a correct CRC."""
    return body + "6304" + crc(body + "6304")


GUID = "0010A000000727"
BENEFICIARY = "0006970403" + "0113" + "0011012345678"
NAPAS = GUID + tlv("01", BENEFICIARY) + "0208QRIBFTTA"
ADDITIONAL = "0107NPS6869" + "0819thanh toan don hang"


def body(**overrides: str | None) -> str:
    """Root fields of the NAPAS dynamic-to-account example, with overrides (None drops)."""
    fields: dict[str, str | None] = {
        "00": "01",
        "01": "12",
        "38": NAPAS,
        "53": "704",
        "54": "180000",
        "58": "VN",
        "62": ADDITIONAL,
    }
    fields.update({key.removeprefix("t"): value for key, value in overrides.items()})
    return "".join(tlv(tag, value) for tag, value in fields.items() if value is not None)


def test_baseline_is_the_spec_example() -> None:
    # Sanity check of the helpers: they rebuild NAPAS's dynamic-to-account example.
    assert seal(body()) == (
        "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
        "530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
    )
    assert parse_payload(seal(body())).amount == 180000


def expect(payload: str, error: type[VietQRError], field: str) -> VietQRError:
    with pytest.raises(error) as info:
        parse_payload(payload)
    assert info.value.field == field, str(info.value)
    assert isinstance(info.value, ValueError)
    assert field in str(info.value)
    return info.value


# --- TLV lengths at every nesting level -------------------------------------------------


def test_bad_length_at_root() -> None:
    # 62 declares 35 characters but holds 34, so it swallows the "6" of "6304" and the
    # root walk then meets "304..." where "4?" is no length: the structure is broken.
    bad = body().replace("6234", "6235")
    with pytest.raises(TLVError):
        parse_payload(seal(bad))


def test_root_value_running_past_the_end() -> None:
    text = seal(body())[:-1]  # CRC value has 3 of its 4 characters
    expect(text, TLVError, "63")


def test_bad_length_inside_38() -> None:
    # 38.01 declares 28 instead of 27; 38's own length still matches its content.
    napas = GUID + "0128" + BENEFICIARY + "0208QRIBFTTA"
    error = expect(seal(body(t38=napas)), TLVError, "38.20")
    assert "length" in error.reason


def test_bad_length_inside_38_01() -> None:
    beneficiary = "0006970403" + "0114" + "0011012345678"  # 14 declared, 13 present
    napas = GUID + tlv("01", beneficiary) + "0208QRIBFTTA"
    error = expect(seal(body(t38=napas)), TLVError, "38.01.01")
    assert "truncated" in error.reason


def test_bad_length_inside_62() -> None:
    additional = "0107NPS6869" + "0820thanh toan don hang"  # 20 declared, 19 present
    expect(seal(body(t62=additional)), TLVError, "62.08")


def test_zero_length_value() -> None:
    expect(seal(body() + "5400"), TLVError, "54")


# --- mandatory fields -----------------------------------------------------------------


@pytest.mark.parametrize("tag", ["01", "38", "53", "58"])
def test_missing_mandatory_root_field(tag: str) -> None:
    expect(seal(body(**{f"t{tag}": None})), MissingFieldError, tag)


def test_missing_payload_format() -> None:
    expect(seal(body(t00=None)), MissingFieldError, "00")


def test_missing_crc() -> None:
    expect(body(), MissingFieldError, "63")


@pytest.mark.parametrize(
    ("napas", "field"),
    [
        (tlv("01", BENEFICIARY) + "0208QRIBFTTA", "38.00"),
        (GUID + "0208QRIBFTTA", "38.01"),
        (GUID + tlv("01", BENEFICIARY), "38.02"),
        (GUID + tlv("01", "0113" + "0011012345678") + "0208QRIBFTTA", "38.01.00"),
        (GUID + tlv("01", "0006970403") + "0208QRIBFTTA", "38.01.01"),
    ],
)
def test_missing_nested_field(napas: str, field: str) -> None:
    expect(seal(body(t38=napas)), MissingFieldError, field)


# --- fixed values -------------------------------------------------------------------


def test_wrong_guid() -> None:
    # A000000775 is VNPAY's GUID, not NAPAS's.
    napas = "0010A000000775" + tlv("01", BENEFICIARY) + "0208QRIBFTTA"
    expect(seal(body(t38=napas)), InvalidFieldError, "38.00")


def test_currency_840() -> None:
    expect(seal(body(t53="840")), InvalidFieldError, "53")


def test_country_us() -> None:
    expect(seal(body(t58="US")), InvalidFieldError, "58")


def test_payload_format_02() -> None:
    expect(seal(body(t00="02")), InvalidFieldError, "00")


def test_payload_format_not_first() -> None:
    text = seal("010212" + body(t01=None))
    expect(text, InvalidFieldError, "00")


@pytest.mark.parametrize("value", ["13", "21", "1"])
def test_point_of_initiation(value: str) -> None:
    expect(seal(body(t01=value)), InvalidFieldError, "01")


@pytest.mark.parametrize("service", ["QRPUSH", "QRCASH", "qribftta", "QRIBFTTX"])
def test_service_code(service: str) -> None:
    napas = GUID + tlv("01", BENEFICIARY) + tlv("02", service)
    expect(seal(body(t38=napas)), InvalidFieldError, "38.02")


def test_unknown_subfield_in_38() -> None:
    napas = NAPAS + "0303abc"
    expect(seal(body(t38=napas)), InvalidFieldError, "38.03")


# --- digits and lengths -------------------------------------------------------------


@pytest.mark.parametrize("amount", ["18000a", "1800.00", "180,000", "-18000", " 18000", "1e5"])
def test_non_digit_amount(amount: str) -> None:
    expect(seal(body(t54=amount)), InvalidFieldError, "54")


@pytest.mark.parametrize("amount", ["0180000", "0", "00"])
def test_amount_with_leading_zero_or_zero(amount: str) -> None:
    # Decision: amounts must be canonical positive integers (no leading zeros); a zero
    # amount is meaningless for a transfer.
    expect(seal(body(t54=amount)), InvalidFieldError, "54")


def test_amount_longer_than_13() -> None:
    expect(seal(body(t54="1" * 14)), FieldTooLongError, "54")


@pytest.mark.parametrize("bin_", ["97040A", "97040", "9704031", "970 03"])
def test_bin_must_be_six_digits(bin_: str) -> None:
    beneficiary = tlv("00", bin_) + "0113" + "0011012345678"
    napas = GUID + tlv("01", beneficiary) + "0208QRIBFTTA"
    expect(seal(body(t38=napas)), InvalidFieldError, "38.01.00")


@pytest.mark.parametrize(
    ("account", "service", "error"),
    [
        ("1" * 20, "QRIBFTTA", FieldTooLongError),
        ("0011-0123", "QRIBFTTA", InvalidFieldError),
        ("0011 0123", "QRIBFTTA", InvalidFieldError),
        ("97040311ABCD", "QRIBFTTC", InvalidFieldError),
    ],
)
def test_account_number(account: str, service: str, error: type[VietQRError]) -> None:
    beneficiary = "0006970403" + tlv("01", account)
    napas = GUID + tlv("01", beneficiary) + tlv("02", service)
    expect(seal(body(t38=napas)), error, "38.01.01")


def test_purpose_longer_than_25() -> None:
    additional = "0826" + "x" * 26
    expect(seal(body(t62=additional)), FieldTooLongError, "62.08")


def test_bill_number_longer_than_25() -> None:
    additional = "0126" + "x" * 26
    expect(seal(body(t62=additional)), FieldTooLongError, "62.01")


def test_merchant_name_and_city_limits() -> None:
    expect(seal(body() + tlv("59", "N" * 26)), FieldTooLongError, "59")
    expect(seal(body() + tlv("60", "C" * 16)), FieldTooLongError, "60")


def test_merchant_name_and_city_parsed() -> None:
    parsed = parse_payload(seal(body() + tlv("59", "CO BA") + tlv("60", "HUE")))
    assert parsed.merchant_name == "CO BA"
    assert parsed.merchant_city == "HUE"


def test_mcc_must_be_four_digits() -> None:
    assert parse_payload(seal(body() + "52045812")).tags["52"] == "5812"
    expect(seal(body() + "520358A"), InvalidFieldError, "52")


# --- CRC ------------------------------------------------------------------------------


def test_crc_mismatch() -> None:
    good = seal(body())
    wrong = good[:-4] + ("0000" if good[-4:] != "0000" else "FFFF")
    error = expect(wrong, CRCMismatchError, "63")
    assert isinstance(error, CRCMismatchError)
    assert error.expected == good[-4:]


def test_lowercase_crc_is_accepted() -> None:
    good = seal(body())
    assert good[-4:] == "2E2E"
    parsed = parse_payload(good[:-4] + "2e2e")
    assert parsed.crc == "2E2E"  # normalised to upper case


def test_crc_not_hex() -> None:
    expect(seal(body())[:-4] + "2E2G", InvalidFieldError, "63")


def test_crc_not_last() -> None:
    # ID 63 placed before ID 62: whatever its value, it is not the last field.
    text = body(t62=None)
    text = text + "6304" + crc(text + "6304") + tlv("62", ADDITIONAL)
    expect(text, InvalidFieldError, "63")


# --- duplicates ---------------------------------------------------------------------


def test_duplicate_root_tag() -> None:
    expect(seal(body() + "5802VN"), DuplicateFieldError, "58")


def test_duplicate_crc() -> None:
    once = seal(body())
    expect(seal(once), DuplicateFieldError, "63")


def test_duplicate_in_62() -> None:
    expect(seal(body(t62=ADDITIONAL + "0802ab")), DuplicateFieldError, "62.08")


def test_duplicate_in_38() -> None:
    expect(seal(body(t38=NAPAS + "0208QRIBFTTA")), DuplicateFieldError, "38.02")


def test_duplicate_in_38_01() -> None:
    napas = GUID + tlv("01", BENEFICIARY + "0006970436") + "0208QRIBFTTA"
    expect(seal(body(t38=napas)), DuplicateFieldError, "38.01.00")


# --- characters, whitespace, types ----------------------------------------------------


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\t", " \r\n "])
def test_trailing_whitespace_is_accepted(suffix: str) -> None:
    # Decision: scanners and copy-paste append CR/LF or spaces; they are stripped.
    good = seal(body())
    assert parse_payload(good + suffix).text == good


@pytest.mark.parametrize("prefix", [" ", "\n", "\ufeff"])
def test_leading_junk_is_rejected(prefix: str) -> None:
    with pytest.raises(VietQRError):
        parse_payload(prefix + seal(body()))


def test_non_ascii_is_rejected() -> None:
    # EMVCo "ans" is printable ASCII; a UTF-8 note is refused rather than guessed at.
    additional = "0107NPS6869" + tlv("08", "thanh toán")
    error = expect(seal(body(t62=additional)), InvalidFieldError, "payload")
    assert "'á'" in error.reason


def test_control_character_is_rejected() -> None:
    additional = "0107NPS6869" + tlv("08", "thanh\ttoan")
    expect(seal(body(t62=additional)), InvalidFieldError, "payload")


def test_empty_and_wrong_types() -> None:
    expect("", MissingFieldError, "payload")
    expect(" \r\n", MissingFieldError, "payload")
    with pytest.raises(InvalidFieldError):
        parse_payload(seal(body()).encode())  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError):
        parse_payload(None)  # type: ignore[arg-type]


def test_longer_than_512_is_rejected() -> None:
    filler = "".join(tlv(str(tag), "x" * 60) for tag in range(80, 87))
    expect(seal(body() + filler), FieldTooLongError, "payload")


def test_unknown_root_tags_are_kept() -> None:
    parsed = parse_payload(seal(body() + tlv("99", "chopay")))
    assert parsed.tags["99"] == "chopay"


def test_dynamic_without_amount_and_static_with_amount_are_accepted() -> None:
    # EMVCo does not tie ID 01 to ID 54; both combinations occur in the wild.
    dynamic = parse_payload(seal(body(t54=None)))
    assert dynamic.is_dynamic
    assert dynamic.amount is None
    static = parse_payload(seal(body(t01="11")))
    assert static.is_static
    assert static.amount == 180000
