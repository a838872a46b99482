"""Cross-check against an independent implementation: PyPI vietnam-qr-pay 1.0.0.

vietnam-qr-pay (a port of xuannghia/vietnam-qr-pay) builds with
``QRPay.init_viet_qr(bank_bin=..., bank_number=..., amount=str, purpose=..., service=...)``
plus attributes for the rest, and decodes with ``QRPay(content)`` exposing
``is_valid``, ``consumer.bank_bin/bank_number``, ``amount`` (str),
``additional_data.purpose/bill_number``, ``provider.service``, ``init_method``,
``merchant.name`` and ``city``.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from vietnam_qr_pay import QRPay, VietQRService

from chopay.vietqr import build_payload, parse_payload
from tests.vietqr.strategies import ALNUM, DIGITS, PRINTABLE, SETTINGS, Inputs


@st.composite
def inputs(draw: st.DrawFn) -> Inputs:
    service = draw(st.sampled_from(["QRIBFTTA", "QRIBFTTC"]))
    alphabet = DIGITS if service == "QRIBFTTC" else ALNUM

    def text(limit: int) -> str | None:
        return draw(st.none() | st.text(PRINTABLE, min_size=1, max_size=limit))

    return Inputs(
        bank_bin=draw(st.text(DIGITS, min_size=6, max_size=6)),
        account_number=draw(st.text(alphabet, min_size=1, max_size=19)),
        service=service,
        amount=draw(st.none() | st.integers(1, 9_999_999_999_999)),
        purpose=text(25),
        bill_number=text(25),
        merchant_name=text(25),
        merchant_city=text(15),
    )


def theirs_build(i: Inputs) -> str:
    qr = QRPay.init_viet_qr(
        bank_bin=i.bank_bin,
        bank_number=i.account_number,
        amount=None if i.amount is None else str(i.amount),
        purpose=i.purpose,
        service=VietQRService(i.service),
    )
    qr.additional_data.bill_number = i.bill_number
    qr.merchant.name = i.merchant_name
    qr.city = i.merchant_city
    return qr.build()


def ours_build(i: Inputs) -> str:
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
def test_they_decode_what_we_build(i: Inputs) -> None:
    decoded = QRPay(ours_build(i))
    assert decoded.is_valid
    assert decoded.consumer.bank_bin == i.bank_bin
    assert decoded.consumer.bank_number == i.account_number
    assert decoded.provider.service == i.service
    assert decoded.amount == (None if i.amount is None else str(i.amount))
    assert decoded.init_method == ("11" if i.amount is None else "12")
    assert decoded.additional_data.purpose == i.purpose
    assert decoded.additional_data.bill_number == i.bill_number
    assert decoded.merchant.name == i.merchant_name
    assert decoded.city == i.merchant_city
    assert decoded.currency == "704"
    assert decoded.nation == "VN"


@SETTINGS
@given(inputs())
def test_we_decode_what_they_build(i: Inputs) -> None:
    parsed = parse_payload(theirs_build(i))
    assert parsed.bank_bin == i.bank_bin
    assert parsed.account_number == i.account_number
    assert parsed.service == i.service
    assert parsed.amount == i.amount
    assert parsed.is_dynamic is (i.amount is not None)
    assert parsed.purpose == i.purpose
    assert parsed.bill_number == i.bill_number
    assert parsed.merchant_name == i.merchant_name
    assert parsed.merchant_city == i.merchant_city


@SETTINGS
@given(inputs())
def test_both_build_the_same_string(i: Inputs) -> None:
    # Both emit data objects in ascending ID order, so the strings must be identical.
    assert ours_build(i) == theirs_build(i)


def test_they_accept_the_spec_examples_we_accept() -> None:
    for payload in (
        "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC"
        "530370454061800005802VN62340107NPS68690819thanh toan don hang6304A203",
        "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC"
        "53037045802VN63044F52",
    ):
        theirs = QRPay(payload)
        ours = parse_payload(payload)
        assert theirs.is_valid
        assert theirs.consumer.bank_bin == ours.bank_bin
        assert theirs.consumer.bank_number == ours.account_number
        assert theirs.provider.service == ours.service


def test_their_lenient_decoder_misreads_the_malformed_spec_example() -> None:
    # vietnam-qr-pay checks lengths only at the root and stops reading a template when
    # fewer than 5 characters remain, so it silently returns the 12-digit account
    # "001101234567" for NAPAS's malformed static example (length 12, 13 digits). We
    # reject that payload (see test_golden); this documents the difference.
    payload = (
        "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA"
        "53037045802VN6304F4E5"
    )
    theirs = QRPay(payload)
    assert theirs.is_valid
    assert theirs.consumer.bank_number == "001101234567"
