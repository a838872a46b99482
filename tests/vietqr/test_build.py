"""build_payload: published outputs reproduced exactly, and argument validation."""

from __future__ import annotations

from typing import Any

import pytest

from chopay.vietqr import (
    FieldTooLongError,
    InvalidFieldError,
    VietQRError,
    build_payload,
    parse_payload,
)

LONG_NOTE = (
    "chuyen khoan alsdkf laksjdflk asjdflja slkdalks djflkasjd fajsldk jalskdfj lkasjdflk ajslkfj l"
)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # NAPAS VietQR spec examples (see test_golden for provenance).
        (
            {
                "bank_bin": "970403",
                "account_number": "0011012345678",
                "amount": 180000,
                "bill_number": "NPS6869",
                "purpose": "thanh toan don hang",
            },
            "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
            "530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E",
        ),
        (
            {"bank_bin": "970403", "account_number": "9704031101234567", "service": "QRIBFTTC"},
            "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC"
            "53037045802VN63044F52",
        ),
        (
            {
                "bank_bin": "970403",
                "account_number": "9704031101234567",
                "service": "QRIBFTTC",
                "amount": 180000,
                "bill_number": "NPS6869",
                "purpose": "thanh toan don hang",
            },
            "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC"
            "530370454061800005802VN62340107NPS68690819thanh toan don hang6304A203",
        ),
        # Static to account: the spec prints F4E5 with a wrong inner length; correct is 9E6F.
        (
            {"bank_bin": "970403", "account_number": "0011012345678"},
            "00020101021138570010A00000072701270006970403011300110123456780208QRIBFTTA"
            "53037045802VN63049E6F",
        ),
        # vietnam-qr-pay README.
        (
            {"bank_bin": "970416", "account_number": "257678859"},
            "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA"
            "53037045802VN6304AE9F",
        ),
        (
            {
                "bank_bin": "970416",
                "account_number": "257678859",
                "amount": 10000,
                "purpose": "Chuyen tien",
            },
            "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA"
            "53037045405100005802VN62150811Chuyen tien630453E6",
        ),
        # subiz/vietqr: Vietnamese notes are transliterated before encoding.
        (
            {
                "bank_bin": "970415",
                "account_number": "0011001932418",
                "amount": 120000,
                "purpose": "ủng hộ lũ lụt",
            },
            "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
            "530370454061200005802VN62170813ung ho lu lut6304C15C",
        ),
        (
            {
                "bank_bin": "970422",
                "account_number": "0023457923442",
                "amount": 40123,
                "purpose": "chuyển khoản",
            },
            "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA"
            "53037045405401235802VN62160812chuyen khoan6304722F",
        ),
        (
            {"bank_bin": "970423", "account_number": "0099999999"},
            "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA"
            "53037045802VN6304CBB4",
        ),
        # subiz/vietqr trims the note to 25 characters; we do so only with truncate=True.
        (
            {
                "bank_bin": "970422",
                "account_number": "0023457923442ASDFLJ",
                "amount": 40123,
                "purpose": LONG_NOTE,
                "truncate": True,
            },
            "00020101021238630010A0000007270133000697042201190023457923442ASDFLJ0208QRIBFTTA"
            "53037045405401235802VN62290825chuyen khoan alsdkf laksj6304E5DB",
        ),
    ],
)
def test_reproduces_published_payloads(kwargs: dict[str, Any], expected: str) -> None:
    assert build_payload(**kwargs) == expected


def test_long_note_is_refused_without_truncate() -> None:
    with pytest.raises(FieldTooLongError) as info:
        build_payload("970422", "0023457923442", amount=40123, purpose=LONG_NOTE)
    assert info.value.field == "purpose"
    assert "max is 25" in str(info.value)


def test_limit_counts_characters_after_transliteration() -> None:
    note = "Tiền chợ Bến Thành sạp 12"  # 25 characters before and after
    assert len(note) == 25
    parsed = parse_payload(build_payload("970436", "1017595600", purpose=note))
    assert parsed.purpose == "Tien cho Ben Thanh sap 12"


def test_merchant_name_and_city_only_when_given() -> None:
    bare = build_payload("970436", "1017595600")
    assert "59" not in parse_payload(bare).tags
    full = build_payload("970436", "1017595600", merchant_name="Cô Ba Bún Bò", merchant_city="Huế")
    parsed = parse_payload(full)
    assert parsed.merchant_name == "Co Ba Bun Bo"
    assert parsed.merchant_city == "Hue"
    assert "5802VN5912Co Ba Bun Bo6003Hue6304" in full


def test_empty_optional_text_is_left_out() -> None:
    assert build_payload("970436", "1017595600", purpose="", bill_number="") == build_payload(
        "970436", "1017595600"
    )


def test_unknown_bin_is_accepted() -> None:
    parsed = parse_payload(build_payload("999999", "123"))
    assert parsed.bank_bin == "999999"
    assert parsed.bank is None


def test_amount_bounds() -> None:
    assert parse_payload(build_payload("970436", "1", amount=1)).amount == 1
    top = 9_999_999_999_999
    assert parse_payload(build_payload("970436", "1", amount=top)).amount == top


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"bank_bin": "97040"}, "bank_bin"),
        ({"bank_bin": "9704031"}, "bank_bin"),
        ({"bank_bin": "97040a"}, "bank_bin"),
        ({"bank_bin": "\uff19\uff17\uff10\uff14\uff10\uff13"}, "bank_bin"),  # full-width digits
        ({"bank_bin": 970403}, "bank_bin"),
        ({"account_number": ""}, "account_number"),
        ({"account_number": "1" * 20}, "account_number"),
        ({"account_number": "0011-0123"}, "account_number"),
        ({"account_number": "Đ123"}, "account_number"),
        ({"account_number": "ABC123", "service": "QRIBFTTC"}, "account_number"),
        ({"service": "QRPUSH"}, "service"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 10**13}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": "1000"}, "amount"),
        ({"purpose": "x" * 26}, "purpose"),
        ({"purpose": "line\nbreak"}, "purpose"),
        ({"purpose": "☕☕"}, "purpose"),
        ({"purpose": 12}, "purpose"),
        ({"bill_number": "B" * 26}, "bill_number"),
        ({"merchant_name": "N" * 26}, "merchant_name"),
        ({"merchant_city": "Thanh pho Ho Chi Minh"}, "merchant_city"),
    ],
)
def test_invalid_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"bank_bin": "970436", "account_number": "1017595600"}
    args.update(kwargs)
    with pytest.raises(VietQRError) as info:
        build_payload(**args)
    assert isinstance(info.value, InvalidFieldError)
    assert isinstance(info.value, ValueError)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert info.value.reason


def test_truncate_applies_to_every_text_field() -> None:
    payload = build_payload(
        "970436",
        "1017595600",
        purpose="p" * 30,
        bill_number="b" * 30,
        merchant_name="n" * 30,
        merchant_city="Thành phố Hồ Chí Minh",
        truncate=True,
    )
    parsed = parse_payload(payload)
    assert parsed.purpose == "p" * 25
    assert parsed.bill_number == "b" * 25
    assert parsed.merchant_name == "n" * 25
    assert parsed.merchant_city == "Thanh pho Ho Ch"
