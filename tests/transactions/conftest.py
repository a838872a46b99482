"""Fixtures for the ledger tests: a market with vendors, accounts and the people around it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from chopay.transactions.models import DailyRollup, InboundPayment, Transaction
from chopay.vendors.models import AccountStatus, Vendor
from tests.factories import (
    MarketFactory,
    PaymentAccountFactory,
    UserFactory,
    VendorFactory,
    commune,
)

VN = dt.timezone(dt.timedelta(hours=7))


@dataclass
class World:
    """Two markets; vendors with approved accounts; a board, a vendor user, an officer."""

    market: Any
    other_market: Any
    vendor: Any
    vendor2: Any
    outsider: Any  # a vendor at the other market
    account: Any
    account2: Any
    outsider_account: Any
    admin: Any
    board: Any
    other_board: Any
    vendor_user: Any
    officer: Any
    helper: Any


def approved_account(vendor: Vendor, maker: Any, checker: Any, **kw: Any) -> Any:
    return PaymentAccountFactory(
        vendor=vendor,
        status=AccountStatus.APPROVED,
        is_primary=kw.pop("is_primary", True),
        created_by_id=maker.id,
        decided_by_id=checker.id,
        **kw,
    )


@pytest.fixture
def world(db: Any) -> World:
    market = MarketFactory()
    other = MarketFactory()
    admin = UserFactory()
    checker = UserFactory()
    vendor = VendorFactory(market=market)
    vendor2 = VendorFactory(market=market)
    outsider = VendorFactory(market=other)
    made = World(
        market=market,
        other_market=other,
        vendor=vendor,
        vendor2=vendor2,
        outsider=outsider,
        account=approved_account(vendor, admin, checker),
        account2=approved_account(vendor2, admin, checker),
        outsider_account=approved_account(outsider, admin, checker),
        admin=admin,
        board=UserFactory.board(market),
        other_board=UserFactory.board(other),
        vendor_user=UserFactory.vendor(vendor),
        officer=UserFactory.officer(commune()),
        helper=UserFactory.helper(market),
    )
    # Committed (into the test's outer transaction, rolled back afterwards) so that a
    # request whose error handler rolls back does not take the fixtures with it.
    db.session.commit()
    return made


def counts(db: Any) -> tuple[int, int, int]:
    """(ledger rows, sum of rollup counts, held lines)."""
    return (
        db.session.scalar(select(func.count()).select_from(Transaction)) or 0,
        db.session.scalar(select(func.coalesce(func.sum(DailyRollup.tx_count), 0))) or 0,
        db.session.scalar(select(func.count()).select_from(InboundPayment)) or 0,
    )


def rollup(db: Any, vendor_id: int) -> list[tuple[Any, ...]]:
    return [
        (r.day, r.method, r.tx_count, r.tx_value)
        for r in db.session.scalars(
            select(DailyRollup)
            .where(DailyRollup.vendor_id == vendor_id)
            .order_by(DailyRollup.day, DailyRollup.method)
        )
    ]


def now_vn() -> dt.datetime:
    return dt.datetime.now(VN).replace(microsecond=0)


def payment(vendor: Any, ref: str, amount: int = 150_000, **kw: Any) -> dict[str, Any]:
    body = {
        "vendor_id": vendor.id,
        "amount": amount,
        "occurred_at": kw.pop("occurred_at", (now_vn() - dt.timedelta(minutes=1)).isoformat()),
        "method": kw.pop("method", "vietqr"),
        "external_ref": ref,
    }
    body.update(kw)
    return body
