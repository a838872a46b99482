"""Vendor references, verification codes and the static QR lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from chopay.errors import ConflictError
from chopay.vendors import codes
from chopay.vendors.models import AccountStatus, QrCode
from chopay.vietqr import parse_payload
from tests.factories import PaymentAccountFactory, UserFactory, VendorFactory

UNAMBIGUOUS = set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def test_codes_avoid_confusable_characters(db: Any) -> None:
    refs = codes.new_references(300)
    verify = codes.new_verify_codes(300)
    assert len(set(refs)) == 300 and len(set(verify)) == 300
    for ref in refs:
        assert ref.startswith("CP") and len(ref) == 8 and set(ref[2:]) <= UNAMBIGUOUS
    for code in verify:
        assert len(code) == 6 and set(code) <= UNAMBIGUOUS
        assert not set(code) & set("01ILO")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("abc-def", "ABCDEF"),
        ("ABC DEF", "ABCDEF"),
        ("abcdef", "ABCDEF"),
        ("ABC-DE0", None),
        ("ABCDEFG", None),
        ("", None),
    ],
)
def test_parse_verify_code(typed: str, expected: str | None) -> None:
    assert codes.parse_verify_code(typed) == expected


def test_format_verify_code() -> None:
    assert codes.format_verify_code("K7M2QX") == "K7M-2QX"


def test_issue_static_code_replaces_the_previous_one(db: Any) -> None:
    admin = UserFactory()
    vendor = VendorFactory(reference="CPTEST23")
    account = PaymentAccountFactory(
        vendor=vendor, status=AccountStatus.APPROVED, is_primary=True, decided_by_id=admin.id
    )
    assert codes.current_code(vendor) is None
    first = codes.issue_static_code(account, actor=admin)
    payload = parse_payload(first.payload)
    assert (payload.bank_bin, payload.account_number, payload.purpose) == (
        account.bank_bin,
        account.account_number,
        "CPTEST23",
    )
    assert codes.current_code(vendor) == first
    second = codes.issue_static_code(account, actor=admin)
    assert first.revoked_at is not None and second.revoked_at is None
    assert codes.current_code(vendor) == second
    assert codes.revoke_codes(account, reason="test", actor=admin) == 1
    assert codes.current_code(vendor) is None
    assert len(db.session.scalars(select(QrCode)).all()) == 2  # nothing deleted


def test_no_code_for_a_pending_account(db: Any) -> None:
    account = PaymentAccountFactory()
    with pytest.raises(ConflictError):
        codes.issue_static_code(account, actor=None)
