"""Fixtures for the QR code, stand, verification and sell tests (app-backed ones only).

The pure renderer tests in this folder (test_qr.py, test_layout.py) use none of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from chopay.auth.models import User
from chopay.db import utcnow
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus
from chopay.vietqr import build_payload
from tests.factories import PaymentAccountFactory, UserFactory, VendorFactory
from tests.vendors.helpers import World, make_world


def add_vendor(
    market: Market,
    stall: str,
    *,
    name: str = "Nguyễn Thị Hường",
    bank_bin: str = "970436",
    account_number: str | None = None,
    verify_code: str | None = None,
    checker: User | None = None,
    status: VendorStatus = VendorStatus.ACTIVE,
    account_status: AccountStatus = AccountStatus.APPROVED,
    with_code: bool = True,
) -> Vendor:
    """A vendor with a primary payment account and (by default) its live stand code."""
    vendor = VendorFactory(market=market, stall=stall, full_name=name, status=status)
    account = PaymentAccountFactory(
        vendor=vendor,
        bank_bin=bank_bin,
        account_name="NGUYEN THI HUONG",
        status=account_status,
        is_primary=account_status == AccountStatus.APPROVED,
        decided_by_id=(checker or UserFactory()).id
        if account_status != AccountStatus.PENDING
        else None,
        **({"account_number": account_number} if account_number else {}),
    )
    if with_code and account_status == AccountStatus.APPROVED:
        issue_code(account, verify_code=verify_code)
    db.session.flush()
    return vendor


_codes = iter(range(10**6))
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def next_verify_code() -> str:
    """Distinct verification codes in the real alphabet (test-only, deterministic)."""
    n = next(_codes)
    out = ""
    for _ in range(6):
        n, r = divmod(n, len(_ALPHABET))
        out += _ALPHABET[r]
    return "Z" + out[:5]  # never collides with hand-picked codes, which start otherwise


def issue_code(account: PaymentAccount, *, verify_code: str | None = None) -> QrCode:
    """A static stand code for an approved account, as the onboarding services issue it."""
    vendor = account.vendor
    code = QrCode(
        vendor_id=vendor.id,
        account=account,
        payload=build_payload(account.bank_bin, account.account_number, purpose=vendor.reference),
        verify_code=verify_code or next_verify_code(),
        is_dynamic=False,
    )
    db.session.add(code)
    db.session.flush()
    return code


def stand_code(vendor: Vendor) -> QrCode:
    """The vendor's live static code."""
    return db.session.scalars(
        select(QrCode).where(
            QrCode.vendor_id == vendor.id,
            QrCode.is_dynamic.is_(False),
            QrCode.revoked_at.is_(None),
        )
    ).one()


def revoke(code: QrCode) -> None:
    code.revoked_at = utcnow()
    code.revoked_reason = "test"
    db.session.flush()


@dataclass
class Stands:
    """make_world()'s markets and people, plus vendors with stands."""

    world: World
    vendor: Vendor  # A-12, Vietcombank, verify code ABCDEF
    neighbour: Vendor  # A-13 in the same market
    far_vendor: Vendor  # in the other market
    vendor_user: User

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)


@pytest.fixture
def stands(db: Any) -> Stands:
    world = make_world()
    vendor = add_vendor(world.market, "A-12", account_number="0011004123456", verify_code="ABCDEF")
    neighbour = add_vendor(world.market, "A-13", name="Đặng Văn Đức", bank_bin="970415")
    far = add_vendor(world.other_market, "B-1", name="Lê Quốc Bảo", bank_bin="970422")
    vendor_user = UserFactory.vendor(vendor, username="tt.huong")
    return Stands(world, vendor, neighbour, far, vendor_user)


@pytest.fixture
def api(client: Any, auth: Any) -> Any:
    """Call the JSON API as a user: ``api.get(user, url)``; ``api.get(None, url)`` anonymous."""

    class Api:
        def __init__(self) -> None:
            self.headers: dict[int, dict[str, str]] = {}

        def _h(self, user: Any) -> dict[str, str]:
            if user is None:
                return {}
            if user.id not in self.headers:
                self.headers[user.id] = auth.token_headers(user)
            return self.headers[user.id]

        def get(self, user: Any, url: str, **kw: Any) -> Any:
            return client.get(url, headers=self._h(user), **kw)

        def post(self, user: Any, url: str, **kw: Any) -> Any:
            return client.post(url, headers=self._h(user), **kw)

    return Api()
