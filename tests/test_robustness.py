"""Bad input and lost databases are answered plainly (found by fuzzing and the fault test).

Each test pins one fix: a body that is not JSON, blank optional text, numbers too large
for the database, days outside the calendar, pages past the end, an error handler whose
rollback fails, the driver's own errors from the COPY path, and connections the server
dropped.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError

from chopay.auth.services import create_token
from chopay.config import engine_options
from chopay.extensions import db as _db
from chopay.transactions import bulk
from chopay.transactions.services import day_bounds
from tests.conftest import IS_POSTGRES
from tests.factories import MarketFactory, UserFactory, VendorFactory

HUGE = 2**70
INT4 = 2**31  # one past PostgreSQL's INTEGER
VN = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture
def admin_headers(db: Any, auth: Any) -> dict[str, str]:
    headers = auth.token_headers(UserFactory())
    db.session.commit()
    return headers


def test_a_body_that_is_not_json_is_400_with_details(client: Any, admin_headers: Any) -> None:
    resp = client.post(
        "/api/v1/markets",
        data=b"\x80\x81 not json",
        content_type="application/json",
        headers=admin_headers,
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"]["details"] == {"json": ["Invalid JSON body."]}


def test_blank_optional_text_is_missing_not_a_crash(client: Any, admin_headers: Any) -> None:
    body = {"name": "x" * 300, "address": "", "code": "", "scheme": "2025", "stall_count": 5}
    resp = client.post("/api/v1/markets", json={**body, "commune_code": ""}, headers=admin_headers)
    assert resp.status_code == 422
    details = resp.get_json()["error"]["details"]
    assert "name" in details and "address" not in details and "code" not in details


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", f"/api/v1/markets/{HUGE}", None),
        ("get", f"/api/v1/markets/{INT4}", None),  # fits BIGINT, not the INTEGER key
        ("get", f"/api/v1/vendors/{INT4}/qr", None),
        ("post", f"/api/v1/accounts/{INT4}/approve", None),
        ("get", f"/api/v1/transactions/{HUGE}", None),
        ("get", f"/api/v1/transactions/{INT4}", None),  # a BIGINT key: a real lookup
        ("post", f"/api/v1/inbound-payments/{HUGE}/assign", {"vendor_id": 1}),
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(
    client: Any, admin_headers: Any, method: str, path: str, body: Any
) -> None:
    resp = getattr(client, method)(path, json=body, headers=admin_headers)
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "params", "body"),
    [
        ("/api/v1/transactions", {"market": HUGE}, None),
        ("/api/v1/transactions", {"market": INT4}, None),
        ("/api/v1/transactions", {"vendor": HUGE}, None),
        ("/api/v1/inbound-payments", {"market": HUGE}, None),
        ("/api/v1/inbound-payments/1/assign", {}, {"vendor_id": HUGE}),
    ],
)
def test_a_number_too_large_for_the_database_is_invalid_input(
    client: Any, admin_headers: Any, path: str, params: Any, body: Any
) -> None:
    call = client.post if body is not None else client.get
    resp = call(path, query_string=params, json=body, headers=admin_headers)
    assert resp.status_code == 422, resp.get_json()


@pytest.mark.parametrize("vendor_id", [HUGE, INT4])
def test_a_payment_for_a_vendor_id_too_large_is_rejected(
    client: Any, admin_headers: Any, vendor_id: int
) -> None:
    payment = {
        "vendor_id": vendor_id,
        "amount": 1000,
        "occurred_at": dt.datetime.now(VN).isoformat(),
        "method": "cash",
        "external_ref": "huge-1",
    }
    single = client.post("/api/v1/transactions", json=payment, headers=admin_headers)
    assert single.status_code == 422
    batch = client.post("/api/v1/transactions", json=[payment], headers=admin_headers)
    assert batch.status_code == 200
    assert batch.get_json()["results"][0]["status"] == "rejected"


def test_days_outside_the_calendar_filter_as_everything(client: Any, admin_headers: Any) -> None:
    resp = client.get(
        "/api/v1/transactions",
        query_string={"from": "0001-01-01", "to": "9999-12-31"},
        headers=admin_headers,
    )
    assert resp.status_code == 200
    lower, upper = day_bounds(dt.date.min, dt.date.max)
    assert lower.year == 1999 and upper.year == 9999


def test_pages_past_the_end_are_empty(client: Any, auth: Any, db: Any) -> None:
    admin = UserFactory()
    VendorFactory()
    headers = auth.token_headers(admin)
    db.session.commit()
    vendors = client.get("/api/v1/vendors", query_string={"page": 2**60}, headers=headers)
    assert vendors.status_code == 200 and vendors.get_json() == []
    ledger = client.get("/api/v1/transactions", query_string={"page": 100_000}, headers=headers)
    assert ledger.status_code == 200 and ledger.get_json()["items"] == []
    auth.login(admin)
    assert client.get("/vendors", query_string={"page": 10**20}).status_code == 200
    assert client.post("/transactions/import", data={"market": str(HUGE)}).status_code < 500


def test_an_error_is_still_answered_when_the_rollback_fails(
    client: Any, admin_headers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lost(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("ROLLBACK", None, Exception("the connection is lost"))

    monkeypatch.setattr(_db.session, "rollback", lost)
    resp = client.get("/api/v1/markets/999999", headers=admin_headers)
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_postgresql_connections_are_not_pinged_but_recycled() -> None:
    # a ping before every request cost 4 % of the payment endpoints' capacity; the next
    # test shows the app recovers without it
    assert engine_options("postgresql+psycopg://postgres@127.0.0.1/x") == {"pool_recycle": 1800}
    assert engine_options("sqlite://") == {}


@pytest.mark.postgres_only
@pytest.mark.skipif(not IS_POSTGRES, reason="server-side connection loss needs PostgreSQL")
def test_when_the_server_drops_every_connection_the_app_recovers_by_itself(
    fresh_app: Callable[..., Flask],
) -> None:
    """What a PostgreSQL restart does to the pool: every pooled connection is dead. The
    request that finds one answers 503 with Retry-After (never 500), and the requests
    after it work again, with the same app."""
    from sqlalchemy import create_engine, text

    app = fresh_app(load_units=False)
    client = app.test_client()
    for _ in range(3):  # several pooled connections, all idle afterwards
        assert client.get("/healthz").status_code == 200
    with app.app_context():
        url = _db.engine.url
    killer = create_engine(url, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    killer.dispose()
    assert killed >= 1
    answers = [client.get("/healthz") for _ in range(3)]
    assert answers[0].status_code == 503  # it found the dead pooled connection
    assert answers[0].headers["Retry-After"].isdigit()
    assert [a.status_code for a in answers[1:]] == [200, 200]


@pytest.mark.postgres_only
@pytest.mark.skipif(not IS_POSTGRES, reason="the COPY path runs on PostgreSQL only")
def test_a_batch_whose_connection_dies_is_503_and_the_next_one_works(
    fresh_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fresh_app()
    with app.app_context():
        admin = UserFactory()
        vendor = VendorFactory(market=MarketFactory())
        _, token = create_token(admin)
        _db.session.commit()
        vendor_id = vendor.id
        _db.session.remove()
    headers = {"Authorization": f"Bearer {token}"}
    when = (dt.datetime.now(VN) - dt.timedelta(minutes=1)).isoformat()
    batch = [
        {"vendor_id": vendor_id, "amount": 1000 + n, "occurred_at": when, "method": "cash"}
        | {"external_ref": f"die-{n}"}
        for n in range(2)
    ]
    client = app.test_client()
    # The server ends the session in the middle of the COPY path (as a restart would).
    monkeypatch.setattr(bulk, "_PG_STAGE", "SELECT pg_terminate_backend(pg_backend_pid())")
    resp = client.post("/api/v1/transactions", json=batch, headers=headers)
    assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
    assert resp.headers["Retry-After"].isdigit()
    assert resp.get_json()["error"]["code"] == "unavailable"
    monkeypatch.undo()
    again = client.post("/api/v1/transactions", json=batch, headers=headers)
    assert again.status_code == 200
    assert again.get_json()["created"] == 2


def _ledger_rows() -> int:
    from chopay.transactions.models import Transaction

    return _db.session.scalar(sa.select(sa.func.count()).select_from(Transaction))


def _payment(**change: Any) -> dict[str, Any]:
    """A valid payment for a new vendor (committed), with ``change`` applied."""
    vendor = VendorFactory()
    _db.session.commit()
    return {
        "vendor_id": vendor.id,
        "amount": 10_000,
        "occurred_at": dt.datetime.now(VN).isoformat(),
        "method": "cash",
        "external_ref": "nul-1",
        **change,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"note": "rau\x00muong"}, "note"),
        ([{"external_ref": "nul-ok"}, {"note": "\x00"}], "1.note"),
        ({"external_ref": "nul\x00ref"}, "external_ref"),
    ],
)
def test_text_with_a_nul_character_is_invalid_input_and_stores_nothing(
    client: Any, admin_headers: Any, body: Any, field: str
) -> None:
    # PostgreSQL cannot store NUL in text: the note once reached the INSERT (a 500 there)
    base = _payment()
    payload = [{**base, **item} for item in body] if isinstance(body, list) else {**base, **body}
    resp = client.post("/api/v1/transactions", json=payload, headers=admin_headers)
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert list(error["details"]) == [field]
    assert "NUL" in error["details"][field][0]
    assert _ledger_rows() == 0  # not even the valid item of the list


def test_the_text_backslash_u0000_is_not_a_nul(client: Any, admin_headers: Any) -> None:
    body = _payment(note="\\u0000 is six characters")
    resp = client.post("/api/v1/transactions", json=body, headers=admin_headers)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["transaction"]["note"] == "\\u0000 is six characters"


def test_a_nul_in_a_query_or_a_form_is_refused_in_vietnamese(
    client: Any, auth: Any, admin_headers: Any
) -> None:
    resp = client.get("/api/v1/vendors", query_string={"q": "a\x00"}, headers=admin_headers)
    assert resp.status_code == 422
    assert list(resp.get_json()["error"]["details"]) == ["q"]
    page = client.post("/login", data={"username": "ad\x00min", "password": "x"})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "Có ký tự điều khiển không hợp lệ (NUL, mã 0)" in text and "username" in text


def test_a_statement_with_a_nul_is_refused_with_its_line(client: Any, admin_headers: Any) -> None:
    csv_text = "date,amount,account_number,content,reference\n21/11/2025 09:15,1000,1,x,FT1\n"
    csv_text += "21/11/2025 09:16,2000,1,x,FT\x002\n"
    resp = client.post(
        "/api/v1/transactions/import",
        data={"file": (io.BytesIO(csv_text.encode()), "statement.csv")},
        headers=admin_headers,
    )
    assert resp.status_code == 422
    assert "Dòng 3" in resp.get_json()["error"]["details"]["file"][0]
    assert _ledger_rows() == 0


@pytest.mark.postgres_only
@pytest.mark.skipif(not IS_POSTGRES, reason="SQLite casts 'x' to 0 instead of refusing it")
def test_a_value_the_database_refuses_is_422_not_500(
    client: Any, admin_headers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chopay.markets import services as market_services

    def refused(*args: Any, **kwargs: Any) -> None:
        _db.session.execute(sa.text("SELECT CAST(:v AS integer)"), {"v": "not a number"})

    monkeypatch.setattr(market_services, "get_market", refused)
    resp = client.get("/api/v1/markets/1", headers=admin_headers)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "invalid_input"


def test_nul_path_names_the_field_in_nested_json() -> None:
    from chopay.text import nul_path

    assert nul_path([{"note": "ok"}, {"note": "x\x00"}]) == "1.note"
    assert nul_path({"a": [1, {"b\x00c": 2}]}) == "a.1.bc"  # in a key: named without it
    assert nul_path("\x00") == "_schema"
    assert nul_path({"note": "\\u0000", "n": None, "k": 3}) is None
