"""Concurrent clients against an app on its own database (real commits, many connections)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from chopay.auth.services import create_token
from chopay.extensions import db
from chopay.transactions.models import DailyRollup, Transaction
from chopay.transactions.webhooks import sign
from tests.factories import MarketFactory, PaymentAccountFactory, UserFactory, VendorFactory

THREADS = 12


def _setup(app: Flask) -> dict[str, Any]:
    from chopay.transactions.services import create_webhook_source

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
        _, secret = create_webhook_source("race", format="sepay")
        db.session.commit()
        info = {
            "vendor_id": vendor.id,
            "reference": vendor.reference,
            "account": account.account_number,
            "headers": {"Authorization": f"Bearer {token}"},
            "secret": secret,
        }
        db.session.remove()
    return info


def _run_together(app: Flask, send: Callable[[Any, int], Any]) -> list[Any]:
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


def _ledger(app: Flask, vendor_id: int) -> tuple[int, int, int]:
    with app.app_context():
        rows = db.session.scalar(
            select(func.count()).select_from(Transaction).where(Transaction.vendor_id == vendor_id)
        )
        count, value = db.session.execute(
            select(
                func.coalesce(func.sum(DailyRollup.tx_count), 0),
                func.coalesce(func.sum(DailyRollup.tx_value), 0),
            ).where(DailyRollup.vendor_id == vendor_id)
        ).one()
        db.session.remove()
    return rows, int(count), int(value)


@pytest.fixture
def race_app(fresh_app: Callable[..., Flask]) -> Flask:
    return fresh_app(load_units=True)


def test_same_payment_posted_at_once_is_stored_exactly_once(race_app: Flask) -> None:
    info = _setup(race_app)
    body = {
        "vendor_id": info["vendor_id"],
        "amount": 123_000,
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "method": "vietqr",
        "external_ref": "same-instant-1",
    }

    def send(client: Any, i: int) -> Any:
        resp = client.post("/api/v1/transactions", json=body, headers=info["headers"])
        return resp.status_code, resp.get_json()

    answers = _run_together(race_app, send)
    statuses = sorted(code for code, _ in answers)
    assert statuses == [200] * (THREADS - 1) + [201], answers
    assert len({data["id"] for _, data in answers}) == 1
    assert sorted(data["status"] for _, data in answers).count("created") == 1
    assert _ledger(race_app, info["vendor_id"]) == (1, 1, 123_000)


def test_different_payments_at_once_lose_no_rollup_update(race_app: Flask) -> None:
    info = _setup(race_app)

    def send(client: Any, i: int) -> Any:
        body = {
            "vendor_id": info["vendor_id"],
            "amount": 1_000 + i,
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
            "method": "cash",
            "external_ref": f"many-{i}",
        }
        return client.post("/api/v1/transactions", json=body, headers=info["headers"]).status_code

    assert _run_together(race_app, send) == [201] * THREADS
    expected_value = sum(1_000 + i for i in range(THREADS))
    assert _ledger(race_app, info["vendor_id"]) == (THREADS, THREADS, expected_value)


def test_same_webhook_delivered_at_once_is_stored_once(race_app: Flask) -> None:
    import json

    info = _setup(race_app)
    body = json.dumps(
        {
            "id": 555,
            "gateway": "Vietcombank",
            "transactionDate": dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "accountNumber": info["account"],
            "content": f"{info['reference']} mua rau",
            "transferType": "in",
            "transferAmount": 45_000,
            "referenceCode": "FT1",
        }
    ).encode()

    def send(client: Any, i: int) -> Any:
        headers = {"X-Chopay-Signature": sign(info["secret"], body)}
        resp = client.post(
            "/api/v1/webhooks/race", data=body, headers=headers, content_type="application/json"
        )
        return resp.status_code, resp.get_json()["status"]

    answers = _run_together(race_app, send)
    assert sorted(answers) == [(200, "duplicate")] * (THREADS - 1) + [(201, "created")]
    assert _ledger(race_app, info["vendor_id"]) == (1, 1, 45_000)


def test_concurrent_voids_let_exactly_one_through(race_app: Flask) -> None:
    info = _setup(race_app)
    client = race_app.test_client()
    created = client.post(
        "/api/v1/transactions",
        json={
            "vendor_id": info["vendor_id"],
            "amount": 50_000,
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
            "method": "cash",
            "external_ref": "to-void",
        },
        headers=info["headers"],
    ).get_json()

    def send(c: Any, i: int) -> Any:
        return c.post(
            f"/api/v1/transactions/{created['id']}/void",
            json={"reason": "nhập nhầm"},
            headers=info["headers"],
        ).status_code

    assert sorted(_run_together(race_app, send)) == [200] + [409] * (THREADS - 1)
    assert _ledger(race_app, info["vendor_id"]) == (1, 0, 0)
