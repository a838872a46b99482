"""Published VietQR payloads, copied verbatim with their CRCs, parsed field by field.

Sources:
* NAPAS, specification of the VietQR format in the NAPAS247 fast transfer service
  (v1.5.2), IBFT examples: static/dynamic, to account/to card, BIN 970403. Peers use
  the same strings as fixtures (e.g. subiz/vietqr crc32_test.go, JS/PHP/Java ports).
* NAPAS QR Switching technical specification v1.5.2, push-payment example 6.1.3, as
  corrected by liopayvn/vietqr-php.
* Peer libraries: xuannghia/vietnam-qr-pay README, subiz/vietqr README and tests,
  dynamic-vietqr README, a Laravel QRServiceTest (anyLEARN), vietqr-parser README.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chopay.vietqr import (
    CRCMismatchError,
    InvalidFieldError,
    MissingFieldError,
    TLVError,
    VietQRPayload,
    parse_payload,
)


@dataclass(frozen=True)
class Golden:
    payload: str
    bank_bin: str
    account_number: str
    service: str
    amount: int | None
    is_dynamic: bool
    crc: str
    purpose: str | None = None
    bill_number: str | None = None


SPEC_STATIC_CARD = (
    "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC"
    "53037045802VN63044F52"
)
SPEC_DYNAMIC_ACCOUNT = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
)
SPEC_DYNAMIC_CARD = (
    "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang6304A203"
)

GOLDEN = [
    # --- NAPAS VietQR spec, IBFT examples that are correct -----------------------------
    Golden(SPEC_STATIC_CARD, "970403", "9704031101234567", "QRIBFTTC", None, False, "4F52"),
    Golden(
        SPEC_DYNAMIC_ACCOUNT,
        "970403",
        "0011012345678",
        "QRIBFTTA",
        180000,
        True,
        "2E2E",
        "thanh toan don hang",
        "NPS6869",
    ),
    Golden(
        SPEC_DYNAMIC_CARD,
        "970403",
        "9704031101234567",
        "QRIBFTTC",
        180000,
        True,
        "A203",
        "thanh toan don hang",
        "NPS6869",
    ),
    # The spec's static-to-account example with its account length corrected to 13, as
    # peers publish it (9E6F; e.g. the "makeQRData" JS tests and the PHP VietQrCode tests).
    Golden(
        "00020101021138570010A00000072701270006970403011300110123456780208QRIBFTTA"
        "53037045802VN63049E6F",
        "970403",
        "0011012345678",
        "QRIBFTTA",
        None,
        False,
        "9E6F",
    ),
    # --- xuannghia/vietnam-qr-pay README ------------------------------------------------
    Golden(
        "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA"
        "53037045802VN6304AE9F",
        "970416",
        "257678859",
        "QRIBFTTA",
        None,
        False,
        "AE9F",
    ),
    Golden(
        "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA"
        "53037045405100005802VN62150811Chuyen tien630453E6",
        "970416",
        "257678859",
        "QRIBFTTA",
        10000,
        True,
        "53E6",
        "Chuyen tien",
    ),
    Golden(
        "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA"
        "5303704540410005802VN62150811Chuyen tien6304BBB8",
        "970416",
        "257678859",
        "QRIBFTTA",
        1000,
        True,
        "BBB8",
        "Chuyen tien",
    ),
    # --- subiz/vietqr README and vietqr_test.go -----------------------------------------
    Golden(
        "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
        "530370454061200005802VN62170813ung ho lu lut6304C15C",
        "970415",
        "0011001932418",
        "QRIBFTTA",
        120000,
        True,
        "C15C",
        "ung ho lu lut",
    ),
    Golden(
        "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA"
        "53037045802VN6304CBB4",
        "970423",
        "0099999999",
        "QRIBFTTA",
        None,
        False,
        "CBB4",
    ),
    Golden(
        "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA"
        "53037045405401235802VN62200816test text string6304D9C6",
        "970422",
        "0023457923442",
        "QRIBFTTA",
        40123,
        True,
        "D9C6",
        "test text string",
    ),
    Golden(
        "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA"
        "53037045405401235802VN62160812chuyen khoan6304722F",
        "970422",
        "0023457923442",
        "QRIBFTTA",
        40123,
        True,
        "722F",
        "chuyen khoan",
    ),
    Golden(
        "00020101021238630010A0000007270133000697042201190023457923442ASDFLJ0208QRIBFTTA"
        "53037045405401235802VN62290825chuyen khoan alsdkf laksj6304E5DB",
        "970422",
        "0023457923442ASDFLJ",
        "QRIBFTTA",
        40123,
        True,
        "E5DB",
        "chuyen khoan alsdkf laksj",
    ),
    # --- dynamic-vietqr README -------------------------------------------------------
    Golden(
        "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
        "530370454061800005802VN62230819thanh toan don hang63045FAB",
        "970403",
        "0011012345678",
        "QRIBFTTA",
        180000,
        True,
        "5FAB",
        "thanh toan don hang",
    ),
    Golden(
        "00020101021238530010A0000007270123000697040301090123456780208QRIBFTTA"
        "530370454061000005802VN62090805order6304D44C",
        "970403",
        "012345678",
        "QRIBFTTA",
        100000,
        True,
        "D44C",
        "order",
    ),
    # --- Laravel QRServiceTest (anyLEARN) ----------------------------------------------
    Golden(
        "00020101021238500010A0000007270120000697041601065454460208QRIBFTTA"
        "53037045405801005802VN62250821Thanh toan anyLEARN 86304FA27",
        "970416",
        "545446",
        "QRIBFTTA",
        80100,
        True,
        "FA27",
        "Thanh toan anyLEARN 8",
    ),
]


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: g.crc)
def test_parse_golden(golden: Golden) -> None:
    result = parse_payload(golden.payload)
    assert isinstance(result, VietQRPayload)
    assert result.bank_bin == golden.bank_bin
    assert result.account_number == golden.account_number
    assert result.service == golden.service
    assert result.amount == golden.amount
    assert result.is_dynamic is golden.is_dynamic
    assert result.point_of_initiation == ("12" if golden.is_dynamic else "11")
    assert result.purpose == golden.purpose
    assert result.bill_number == golden.bill_number
    assert result.crc == golden.crc
    assert result.currency == "704"
    assert result.country == "VN"
    assert result.guid == "A000000727"
    assert result.payload_format == "01"
    assert result.merchant_name is None
    assert result.merchant_city is None
    assert result.text == golden.payload
    assert result.tags["63"] == golden.crc
    assert next(iter(result.tags)) == "00"
    assert list(result.tags)[-1] == "63"


def test_raw_tags_are_read_only() -> None:
    result = parse_payload(SPEC_DYNAMIC_ACCOUNT)
    assert dict(result.tags) == {
        "00": "01",
        "01": "12",
        "38": "0010A00000072701270006970403011300110123456780208QRIBFTTA",
        "53": "704",
        "54": "180000",
        "58": "VN",
        "62": "0107NPS68690819thanh toan don hang",
        "63": "2E2E",
    }
    assert dict(result.additional_data) == {"01": "NPS6869", "08": "thanh toan don hang"}
    with pytest.raises(TypeError):
        result.tags["54"] = "1"  # type: ignore[index]
    with pytest.raises(AttributeError):
        result.amount = 1  # type: ignore[misc]


def test_bank_property() -> None:
    bank = parse_payload(SPEC_STATIC_CARD).bank
    assert bank is not None
    assert bank.short_name == "Sacombank"


# --- Published examples that are WRONG --------------------------------------------------


def test_spec_static_to_account_example_is_rejected() -> None:
    # NAPAS VietQR spec, static QR to account (CRC F4E5). The account 0011012345678 has
    # 13 digits but its 38.01.01 length says "12"; the enclosing 38.01 length (27) and 38
    # length (57) were counted with 13. Read strictly, 38.01.01 is "001101234567" and a
    # lone "8" is left over inside 38.01. The CRC F4E5 was computed over this malformed
    # text, so the CRC check passes and only the nested length check catches it. With the
    # length corrected to 13 the CRC becomes 9E6F (see GOLDEN above).
    payload = (
        "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA"
        "53037045802VN6304F4E5"
    )
    with pytest.raises(TLVError) as info:
        parse_payload(payload)
    assert info.value.field == "38.01"
    assert "'8'" in info.value.reason


def test_spec_push_example_with_country_length_typo_is_rejected() -> None:
    # NAPAS QR Switching spec v1.5.2, example 6.1.3 (dynamic push payment, no service
    # code). liopayvn/vietqr-php documents that the PDF prints tag 58 without the "2" of
    # its length ("580VN" instead of "5802VN") and uses the corrected string below
    # (CRC 79EE). The typo version is reconstructed from that description: "0V" is not a
    # length, so the TLV walk stops at ID 58.
    corrected = (
        "00020101021238480010A00000072701300006970403011621129950446040255204"
        "581253037045406180000" + "5802VN5910PHUONG CAC6005HANOI62110307NPS6869630479EE"
    )
    as_printed = corrected.replace("5802VN", "580VN")
    with pytest.raises(TLVError) as info:
        parse_payload(as_printed)
    assert info.value.field == "58"
    # The corrected push-payment example is well formed (its CRC checks) but it is a
    # merchant push payment without the IBFT service code 38.02, so it is not a VietQR
    # transfer payload.
    with pytest.raises(MissingFieldError) as missing:
        parse_payload(corrected)
    assert missing.value.field == "38.02"


def test_peer_example_with_payload_format_00_is_rejected() -> None:
    # vietqr-parser (Go) README prints this as a generated VietQR: its payload format
    # indicator is "00" (EMVCo allows only "01") and it is dynamic "12" without amount.
    # The CRC CD60 matches, so the rejection is about ID 00.
    payload = (
        "00020001021238570010A00000072701270006970436011308810004580860208QRIBFTTA"
        "53037045802VN6304CD60"
    )
    with pytest.raises(InvalidFieldError) as info:
        parse_payload(payload)
    assert info.value.field == "00"


def test_tampered_golden_fails_crc() -> None:
    # Amount 180000 -> 980000 in the spec's dynamic example, CRC left as printed.
    tampered = SPEC_DYNAMIC_ACCOUNT.replace("5406180000", "5406980000")
    with pytest.raises(CRCMismatchError) as info:
        parse_payload(tampered)
    assert info.value.field == "63"
    assert info.value.found == "2E2E"
