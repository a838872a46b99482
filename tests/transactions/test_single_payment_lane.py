"""One payment per request (``bulk.single_payment``): on an app with its own database, so
that what a request commits, and only that, is what a later connection sees."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from chopay.extensions import db as _db
from chopay.transactions import services
from chopay.transactions.models import InboundPayment, InboundStatus, Transaction
from tests.conftest import IS_POSTGRES
from tests.transactions.conftest import (
    VN,
    ledger_totals,
    post_webhook,
    race_sepay_body,
    race_setup,
)

URL = "/api/v1/transactions"


def _payment(info: dict[str, Any], ref: str, amount: int = 70_000) -> dict[str, Any]:
    return {
        "vendor_id": info["vendor_id"],
        "amount": amount,
        "occurred_at": (dt.datetime.now(VN) - dt.timedelta(minutes=1)).isoformat(),
        "method": "vietqr",
        "external_ref": ref,
    }


def _held(app: Flask) -> list[tuple[str, str, int | None]]:
    with app.app_context():
        rows = _db.session.execute(
            select(
                InboundPayment.external_ref, InboundPayment.status, InboundPayment.transaction_id
            )
        ).all()
        _db.session.remove()
    return [tuple(r) for r in rows]


def test_every_outcome_of_a_single_payment_is_committed(race_app: Flask) -> None:
    info = race_setup(race_app)
    client = race_app.test_client()

    created = client.post(URL, json=_payment(info, "lane-1"), headers=info["headers"])
    assert created.status_code == 201
    again = client.post(URL, json=_payment(info, "lane-1"), headers=info["headers"])
    assert (again.status_code, again.get_json()["id"]) == (200, created.get_json()["id"])
    assert ledger_totals(race_app, info["vendor_id"]) == (1, 1, 70_000)

    # A notification to an account nobody has: held for a board, and that is committed.
    stray = race_sepay_body(info, id=901, accountNumber="000111222", content="khong ro")
    assert post_webhook(client, "race", info["secret"], stray).get_json()["status"] == "unmatched"
    assert _held(race_app) == [("race:901", InboundStatus.UNMATCHED.value, None)]

    # Delivered again once it can be matched: recorded and the held line settled, together.
    fixed = json.loads(stray) | {
        "accountNumber": info["account"],
        "content": f"{info['reference']} mua ca",
    }
    answer = post_webhook(client, "race", info["secret"], fixed).get_json()
    assert answer["status"] == "created"
    assert _held(race_app) == [("race:901", InboundStatus.ASSIGNED.value, answer["id"])]
    assert ledger_totals(race_app, info["vendor_id"]) == (2, 2, 115_000)


def test_a_refused_payment_leaves_nothing_behind(race_app: Flask) -> None:
    info = race_setup(race_app)
    client = race_app.test_client()
    future = _payment(info, "lane-future") | {
        "occurred_at": (dt.datetime.now(VN) + dt.timedelta(hours=1)).isoformat()
    }
    assert client.post(URL, json=future, headers=info["headers"]).status_code == 422
    other = client.post(
        URL, json=_payment(info, "x") | {"vendor_id": 999_999}, headers=info["headers"]
    )
    assert other.status_code == 404
    assert ledger_totals(race_app, info["vendor_id"]) == (0, 0, 0)


@pytest.mark.postgres_only
@pytest.mark.skipif(not IS_POSTGRES, reason="the driver lane is PostgreSQL's")
def test_pooled_connections_come_back_transactional(race_app: Flask) -> None:
    """The lane switches its connection to autocommit; whoever gets it from the pool
    next must find it in transactions again, or its multi-statement work would commit
    statement by statement."""
    info = race_setup(race_app)
    client = race_app.test_client()
    for n in range(3):
        assert (
            client.post(URL, json=_payment(info, f"pool-{n}"), headers=info["headers"]).status_code
            == 201
        )
        post_webhook(client, "race", info["secret"], race_sepay_body(info, id=700 + n))
    with race_app.app_context():
        engine = _db.engine
        held = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
        try:
            assert held
            assert all(fairy.driver_connection.autocommit is False for fairy in held)
        finally:
            for fairy in held:
                fairy.close()


@pytest.mark.postgres_only
@pytest.mark.skipif(not IS_POSTGRES, reason="the driver lane is PostgreSQL's")
def test_a_payment_whose_connection_dies_is_503_and_the_next_one_works(
    race_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = race_setup(race_app)
    client = race_app.test_client()
    # The server ends the session under the lane's first statement (as a restart would).
    monkeypatch.setattr(
        services,
        "_PG_VENDOR_ROW",
        "SELECT pg_terminate_backend(pg_backend_pid()), %s::int, NULL",
    )
    resp = client.post(URL, json=_payment(info, "dies"), headers=info["headers"])
    assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
    assert resp.headers["Retry-After"].isdigit()
    monkeypatch.undo()
    assert client.post(URL, json=_payment(info, "dies"), headers=info["headers"]).status_code == 201
    with race_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Transaction)) == 1
        _db.session.remove()
