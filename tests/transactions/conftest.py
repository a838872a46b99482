"""Fixtures for the ledger tests: a market with vendors, accounts and the people around it."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from chopay.auth.services import create_token
from chopay.extensions import db as _db
from chopay.transactions import services
from chopay.transactions.models import DailyRollup, InboundPayment, Transaction
from chopay.transactions.webhooks import sign
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


# ---- provider webhooks ------------------------------------------------------------------

WEBHOOK_URL = "/api/v1/webhooks"


@pytest.fixture
def sepay(db: Any) -> tuple[Any, str]:
    made = services.create_webhook_source("sepay", format="sepay")
    db.session.commit()
    return made


@pytest.fixture
def own(db: Any) -> tuple[Any, str]:
    made = services.create_webhook_source("pos-app", format="chopay")
    db.session.commit()
    return made


def sepay_body(world: World, **change: Any) -> dict[str, Any]:
    """A SePay notification of a transfer to vendor 1's account. Another ``id`` is another
    transfer: it gets its own bank reference unless ``referenceCode`` is given."""
    body = {
        "id": 92704,
        "gateway": "Vietcombank",
        "transactionDate": "2025-11-21 14:02:37",
        "accountNumber": world.account.account_number,
        "code": None,
        "content": f"{world.vendor.reference} mua ca",
        "transferType": "in",
        "transferAmount": 227_000,
        "accumulated": 19_077_000,
        "subAccount": None,
        "referenceCode": "MBVCB.3278907687",
        "description": "",
    }
    body.update(change)
    if "id" in change and "referenceCode" not in change:
        body["referenceCode"] = f"MBVCB.{change['id']}"
    return body


def post_webhook(client: Any, name: str, secret: str, body: Any, **kw: Any) -> Any:
    """POST a notification to source ``name``, signed with ``secret``."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = kw.pop("signature", None) or sign(secret, raw, kw.pop("timestamp", None))
    return client.post(
        f"{WEBHOOK_URL}/{name}",
        data=raw,
        content_type="application/json",
        headers={"X-Chopay-Signature": header},
    )


# ---- concurrent clients (an app on its own database: real commits, many connections) ----

THREADS = 12


def race_setup(app: Flask) -> dict[str, Any]:
    """A market, a vendor with an approved account, its board's bearer token and a SePay
    source ``race``, committed on the app's own database."""
    with app.app_context():
        market = MarketFactory()
        vendor = VendorFactory(market=market)
        admin = UserFactory()
        checker = UserFactory()
        account = PaymentAccountFactory(
            vendor=vendor,
            status="approved",
            is_primary=True,
            created_by_id=admin.id,
            decided_by_id=checker.id,
        )
        board = UserFactory.board(market)
        _, token = create_token(board)
        _, secret = services.create_webhook_source("race", format="sepay")
        _db.session.commit()
        info = {
            "vendor_id": vendor.id,
            "reference": vendor.reference,
            "account": account.account_number,
            "headers": {"Authorization": f"Bearer {token}"},
            "secret": secret,
        }
        _db.session.remove()
    return info


def race_sepay_body(info: dict[str, Any], **change: Any) -> bytes:
    """A SePay notification (source ``race``) of 45,000 đ paid just now to the vendor of
    ``race_setup``, bank reference FT1."""
    body = {
        "id": 555,
        "gateway": "Vietcombank",
        "transactionDate": dt.datetime.now(VN).strftime("%Y-%m-%d %H:%M:%S"),
        "accountNumber": info["account"],
        "content": f"{info['reference']} mua rau",
        "transferType": "in",
        "transferAmount": 45_000,
        "referenceCode": "FT1",
    }
    body.update(change)
    return json.dumps(body).encode()


def run_together(app: Flask, send: Callable[[Any, int], Any]) -> list[Any]:
    """``send(client, i)`` in THREADS threads released at once; their answers, in order."""
    barrier = threading.Barrier(THREADS)
    answers: list[Any] = [None] * THREADS
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=30)
            answers[i] = send(client, i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return answers


def ledger_totals(app: Flask, vendor_id: int) -> tuple[int, int, int]:
    """(ledger rows, rollup count, rollup value) of a vendor."""
    with app.app_context():
        rows = _db.session.scalar(
            select(func.count()).select_from(Transaction).where(Transaction.vendor_id == vendor_id)
        )
        count, value = _db.session.execute(
            select(
                func.coalesce(func.sum(DailyRollup.tx_count), 0),
                func.coalesce(func.sum(DailyRollup.tx_value), 0),
            ).where(DailyRollup.vendor_id == vendor_id)
        ).one()
        _db.session.remove()
    return rows, int(count), int(value)


@pytest.fixture
def race_app(fresh_app: Callable[..., Flask]) -> Flask:
    return fresh_app(load_units=True)
