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
    World,
    counts,
    ledger_totals,
    payment,
    post_webhook,
    race_sepay_body,
    race_setup,
    sepay_body,
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
    future = (dt.datetime.now(VN) + dt.timedelta(hours=1)).isoformat()
    for n in range(3):
        assert (
            client.post(URL, json=_payment(info, f"pool-{n}"), headers=info["headers"]).status_code
            == 201
        )
        post_webhook(client, "race", info["secret"], race_sepay_body(info, id=700 + n))
        # refusals raise out of the lane: the connection must be switched back all the same
        refused = [
            client.post(
                URL,
                json=_payment(info, f"late-{n}") | {"occurred_at": future},
                headers=info["headers"],
            ),
            client.post(
                URL,
                json=_payment(info, f"who-{n}") | {"vendor_id": 999_999},
                headers=info["headers"],
            ),
            post_webhook(client, "race", info["secret"], race_sepay_body(info, transferAmount=-5)),
        ]
        assert [r.status_code for r in refused] == [422, 404, 422]
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


# ---- vendors seen earlier (the hints of bulk.single_payment), on the tests' database --------
# On PostgreSQL these run through the driver lane, where a payment's vendor is remembered;
# on SQLite through record_payments. The answers must be the same.


def _move_behind_the_apps_back(db: Any, vendor: Any, **values: Any) -> None:
    """Change a vendor as another worker process would: no flush in this one, so its
    remembered vendors are not forgotten."""
    from sqlalchemy import update

    from chopay.vendors.models import Vendor

    db.session.execute(update(Vendor).where(Vendor.id == vendor.id).values(**values))
    db.session.commit()  # so that a refused request's rollback keeps it
    db.session.expire(vendor)


def test_a_vendor_moved_elsewhere_is_judged_where_it_is_now(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    board, other_board = auth.token_headers(world.board), auth.token_headers(world.other_board)
    assert client.post(URL, json=payment(world.vendor, "m-1"), headers=board).status_code == 201
    _move_behind_the_apps_back(db, world.vendor, market_id=world.other_market.id)

    refused = client.post(URL, json=payment(world.vendor, "m-2"), headers=board)
    assert refused.status_code == 403
    stored = client.post(URL, json=payment(world.vendor, "m-3"), headers=other_board)
    assert stored.status_code == 201
    assert stored.get_json()["transaction"]["market_id"] == world.other_market.id
    assert counts(db)[:2] == (2, 2)
    # and the old market's board keeps being refused once the new place is known
    again = client.post(URL, json=payment(world.vendor, "m-4"), headers=board)
    assert again.status_code == 403


def test_a_vendor_who_left_meanwhile_is_refused_but_old_payments_answer_duplicate(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    headers = auth.token_headers(world.board)
    first = client.post(URL, json=payment(world.vendor, "l-1"), headers=headers)
    assert first.status_code == 201
    _move_behind_the_apps_back(db, world.vendor, status="left")

    left = client.post(URL, json=payment(world.vendor, "l-2"), headers=headers)
    assert left.status_code == 422
    assert "vendor_id" in left.get_json()["error"]["details"]
    retried = client.post(URL, json=payment(world.vendor, "l-1"), headers=headers)
    assert (retried.status_code, retried.get_json()["id"]) == (200, first.get_json()["id"])
    assert counts(db)[:2] == (1, 1)


def test_a_retry_is_a_duplicate_and_a_changed_payment_a_conflict(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    headers = auth.token_headers(world.board)
    first = client.post(URL, json=payment(world.vendor, "d-1", amount=90_000), headers=headers)
    retry = client.post(URL, json=payment(world.vendor, "d-1", amount=90_000), headers=headers)
    changed = client.post(URL, json=payment(world.vendor, "d-1", amount=91_000), headers=headers)
    assert (first.status_code, retry.status_code, changed.status_code) == (201, 200, 409)
    assert retry.get_json()["transaction"] == first.get_json()["transaction"]
    assert changed.get_json()["error"]["details"]["external_ref"]
    # a payment from the future that was stored earlier (clock skew then) is a duplicate
    future = (dt.datetime.now(VN) + dt.timedelta(hours=2)).isoformat()
    late = client.post(
        URL, json=payment(world.vendor, "d-1", amount=90_000, occurred_at=future), headers=headers
    )
    assert late.status_code == 200
    assert counts(db)[:2] == (1, 1)


def test_webhook_redelivery_answers_the_stored_row(
    client: Any, db: Any, world: World, sepay: tuple[Any, str]
) -> None:
    body = sepay_body(world, id=4242)
    first = post_webhook(client, "sepay", sepay[1], body)
    again = post_webhook(client, "sepay", sepay[1], body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["status"] == "duplicate"
    assert counts(db)[:2] == (1, 1)


@pytest.mark.postgres_only
@pytest.mark.skipif(not IS_POSTGRES, reason="the driver lane is PostgreSQL's")
def test_no_database_server_is_503_for_a_payment_authorised_from_the_workers_cache(
    race_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API token and the webhook source are remembered by the worker, so a payment
    gets as far as the lane without touching the database; when no connection can be
    opened there (the server restarting), it is 503 with Retry-After, never a 500."""
    import psycopg

    info = race_setup(race_app)
    client = race_app.test_client()
    assert client.post(URL, json=_payment(info, "up-1"), headers=info["headers"]).status_code == 201
    assert post_webhook(client, "race", info["secret"], race_sepay_body(info)).status_code == 201
    with race_app.app_context():
        pool = _db.engine.pool
        pool.dispose()  # every pooled connection gone, as after a restart

        def refused(*_: Any) -> Any:
            raise psycopg.OperationalError("connection refused (test)")

        monkeypatch.setattr(pool, "_invoke_creator", refused)
    answers = [
        client.post(URL, json=_payment(info, "down-1"), headers=info["headers"]),
        post_webhook(client, "race", info["secret"], race_sepay_body(info, id=556)),
    ]
    for resp in answers:
        assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
        assert resp.headers["Retry-After"].isdigit()
        assert resp.get_json()["error"]["code"] == "unavailable"
    monkeypatch.undo()
    assert (
        client.post(URL, json=_payment(info, "down-1"), headers=info["headers"]).status_code == 201
    )


def test_one_payment_holds_one_pooled_connection_at_a_time(race_app: Flask) -> None:
    """The first request of a token or a webhook source reads it from the database (and
    the token's last_used_at is written): that must not keep a second connection checked
    out beside the payment's own for the rest of the request, nor make the token's owner
    be read again. A pool sized to the worker's threads would otherwise run dry."""
    from sqlalchemy import event

    from chopay.auth.models import ApiToken
    from chopay.auth.services import forget_tokens
    from chopay.transactions.webhooks import forget_sources

    info = race_setup(race_app)
    client = race_app.test_client()
    out = {"now": 0, "most": 0}
    reads_of_users: list[str] = []

    def checkout(*_: Any) -> None:
        out["now"] += 1
        out["most"] = max(out["most"], out["now"])

    def checkin(*_: Any) -> None:
        out["now"] -= 1

    def statement(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        if "FROM users" in sql and "api_tokens" not in sql:
            reads_of_users.append(sql)

    with race_app.app_context():
        engine = _db.engine
    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        most = []
        for n in range(2):
            forget_tokens()
            forget_sources()
            out["most"] = 0
            api = client.post(URL, json=_payment(info, f"one-{n}"), headers=info["headers"])
            assert api.status_code == 201
            most.append(out["most"])
            out["most"] = 0
            body = race_sepay_body(info, id=800 + n, referenceCode=f"FT{800 + n}")
            hook = post_webhook(client, "race", info["secret"], body)
            assert hook.status_code == 201
            most.append(out["most"])
    finally:
        event.remove(engine.pool, "checkout", checkout)
        event.remove(engine.pool, "checkin", checkin)
        event.remove(engine, "before_cursor_execute", statement)
    assert most == [1, 1, 1, 1]
    assert out["now"] == 0
    assert reads_of_users == []
    # The token's use was recorded (the first request wrote it; within a minute, no more).
    with race_app.app_context():
        used = _db.session.scalar(select(ApiToken.last_used_at))
        _db.session.remove()
    assert used is not None
