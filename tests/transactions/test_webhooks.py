"""Signed provider webhooks (SePay and chopay formats) and the held-lines API."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from chopay.transactions.models import InboundPayment, Transaction
from chopay.transactions.webhooks import sign
from tests.transactions.conftest import (
    VN,
    WEBHOOK_URL,
    World,
    counts,
    post_webhook,
    rollup,
    sepay_body,
)

URL = WEBHOOK_URL


def test_incoming_sepay_transfer_is_recorded_once(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    _, secret = sepay
    first = post_webhook(client, "sepay", secret, sepay_body(world))
    assert first.status_code == 201
    data = first.get_json()
    assert data["success"] is True and data["status"] == "created"
    row = db.session.get(Transaction, data["id"])
    assert row.vendor_id == world.vendor.id and row.amount_vnd == 227_000
    assert row.source == "webhook" and row.external_ref == "sepay:92704"
    assert row.webhook_source_id == sepay[0].id and row.reporter_id is None
    # SePay's time is Vietnam time
    assert row.occurred_at == dt.datetime(2025, 11, 21, 7, 2, 37, tzinfo=dt.UTC)
    again = post_webhook(client, "sepay", secret, sepay_body(world))
    assert again.status_code == 200
    assert again.get_json() == {**data, "status": "duplicate"}
    assert rollup(db, world.vendor.id) == [(dt.date(2025, 11, 21), "vietqr", 1, 227_000)]


def test_outgoing_sepay_transfer_is_ignored(client: Any, db: Any, world: World, sepay: Any) -> None:
    resp = post_webhook(client, "sepay", sepay[1], sepay_body(world, transferType="out"))
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "ignored"
    assert counts(db) == (0, 0, 0)


def test_bank_prefixes_in_the_note_still_match_the_reference(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    body = sepay_body(
        world,
        accountNumber="00011122233",  # the market's collection account, not a vendor's
        content=f"MBVCB.3278907687.{world.vendor2.reference}.CT tu 0123 NGUYEN VAN A",
    )
    resp = post_webhook(client, "sepay", sepay[1], body)
    assert resp.status_code == 201
    assert db.session.get(Transaction, resp.get_json()["id"]).vendor_id == world.vendor2.id


def test_unmatched_notification_is_held_assigned_once_and_audited(
    client: Any, auth: Any, db: Any, world: World, sepay: Any
) -> None:
    body = sepay_body(world, id=777, accountNumber="12121212", content="chuyen khoan")
    resp = post_webhook(client, "sepay", sepay[1], body)
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["status"] == "unmatched" and data["id"] is None
    held = db.session.get(InboundPayment, data["inbound_id"])
    assert held.reason == "unknown_account" and held.raw["id"] == 777
    assert held.market_id is None  # no clue which market: admins see it
    assert post_webhook(client, "sepay", sepay[1], body).get_json()["status"] == "duplicate"
    assert counts(db) == (0, 0, 1)

    listing = client.get("/api/v1/inbound-payments", headers=auth.token_headers(world.board))
    assert listing.get_json()["items"] == []
    admin = auth.token_headers(world.admin)
    items = client.get("/api/v1/inbound-payments", headers=admin).get_json()["items"]
    assert [i["id"] for i in items] == [held.id]
    assign = f"/api/v1/inbound-payments/{held.id}/assign"
    bad = client.post(assign, json={"vendor_id": 424242}, headers=admin)
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["vendor_id"]
    done = client.post(assign, json={"vendor_id": world.vendor.id}, headers=admin)
    assert done.status_code == 200
    assert done.get_json()["status"] == "assigned"
    tx = db.session.get(Transaction, done.get_json()["transaction_id"])
    assert (tx.vendor_id, tx.amount_vnd, tx.external_ref) == (world.vendor.id, 227_000, "sepay:777")
    assert (
        client.post(assign, json={"vendor_id": world.vendor.id}, headers=admin).status_code == 409
    )
    # a late retry of the provider changes nothing
    assert post_webhook(client, "sepay", sepay[1], body).get_json()["status"] == "duplicate"
    assert counts(db) == (1, 1, 1)


def test_board_assigns_lines_held_for_its_market_only(
    client: Any, auth: Any, db: Any, world: World, sepay: Any
) -> None:
    # vendor 1's account with vendor 2's reference: held, guessed market = vendor 1's
    body = sepay_body(world, id=1, content=f"{world.vendor2.reference} tien hang")
    held_id = post_webhook(client, "sepay", sepay[1], body).get_json()["inbound_id"]
    assert db.session.get(InboundPayment, held_id).market_id == world.market.id
    board = auth.token_headers(world.board)
    items = client.get("/api/v1/inbound-payments", headers=board).get_json()["items"]
    assert [i["reason"] for i in items] == ["reference_mismatch"]
    other = auth.token_headers(world.other_board)
    assert client.get("/api/v1/inbound-payments", headers=other).get_json()["items"] == []
    url = f"/api/v1/inbound-payments/{held_id}"
    assert (
        client.post(
            f"{url}/assign", json={"vendor_id": world.outsider.id}, headers=other
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"{url}/assign", json={"vendor_id": world.outsider.id}, headers=board
        ).status_code
        == 403
    )
    officer = auth.token_headers(world.officer)
    assert client.get("/api/v1/inbound-payments", headers=officer).status_code == 403
    ignored = client.post(f"{url}/ignore", json={"note": "Tiền trả nhà cung cấp"}, headers=board)
    assert ignored.status_code == 200 and ignored.get_json()["status"] == "ignored"
    assert (
        client.post(
            f"{url}/assign", json={"vendor_id": world.vendor2.id}, headers=board
        ).status_code
        == 409
    )
    assert counts(db)[:2] == (0, 0)


@pytest.mark.parametrize(
    "tamper",
    ["no_header", "wrong_secret", "stale", "ahead", "garbage", "body_changed", "unknown_source"],
)
def test_bad_signatures_get_401_and_store_nothing(
    client: Any, db: Any, world: World, sepay: Any, tamper: str
) -> None:
    raw = json.dumps(sepay_body(world)).encode()
    now = int(time.time())
    name, headers = "sepay", {"X-Chopay-Signature": sign(sepay[1], raw)}
    if tamper == "no_header":
        headers = {}
    elif tamper == "wrong_secret":
        headers = {"X-Chopay-Signature": sign("0" * 64, raw)}
    elif tamper == "stale":
        headers = {"X-Chopay-Signature": sign(sepay[1], raw, now - 301)}
    elif tamper == "ahead":
        headers = {"X-Chopay-Signature": sign(sepay[1], raw, now + 301)}
    elif tamper == "garbage":
        headers = {"X-Chopay-Signature": "t=abc,v1=zz"}
    elif tamper == "body_changed":
        raw = raw.replace(b"227000", b"927000")
    elif tamper == "unknown_source":
        name = "nobody"
    resp = client.post(f"{URL}/{name}", data=raw, content_type="application/json", headers=headers)
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
    assert counts(db) == (0, 0, 0)


def test_a_nul_character_is_judged_after_the_signature(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    """A body with a NUL in it (PostgreSQL cannot store one) is refused, naming the
    field, but only once the signature says it is the provider's: anyone else gets the
    same 401 as for any other body."""
    raw = json.dumps(sepay_body(world, content=f"{world.vendor.reference} rau\x00")).encode()
    forged = client.post(
        f"{URL}/sepay",
        data=raw,
        content_type="application/json",
        headers={"X-Chopay-Signature": sign("0" * 64, raw)},
    )
    assert forged.status_code == 401
    signed = post_webhook(client, "sepay", sepay[1], raw)
    assert signed.status_code == 422
    details = signed.get_json()["error"]["details"]
    assert list(details) == ["content"] and "NUL" in details["content"][0]
    assert counts(db) == (0, 0, 0)


def test_timestamp_within_five_minutes_is_accepted(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    resp = post_webhook(
        client, "sepay", sepay[1], sepay_body(world), timestamp=int(time.time()) - 290
    )
    assert resp.status_code == 201


def test_inactive_source_is_refused(client: Any, db: Any, world: World, sepay: Any) -> None:
    sepay[0].is_active = False
    db.session.flush()
    assert post_webhook(client, "sepay", sepay[1], sepay_body(world)).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"transferAmount": 1.5}, "transferAmount"),
        ({"transferAmount": 0}, "transferAmount"),
        ({"transferAmount": 600_000_000}, "transferAmount"),
        ({"transactionDate": "hôm qua"}, "transactionDate"),
        ({"transferType": "sideways"}, "transferType"),
        ({"id": {"x": 1}}, "id"),
        ({"id": None}, "id"),
    ],
)
def test_malformed_sepay_bodies_are_422(
    client: Any, db: Any, world: World, sepay: Any, change: dict[str, Any], field: str
) -> None:
    resp = post_webhook(client, "sepay", sepay[1], sepay_body(world, **change))
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][field]
    assert counts(db) == (0, 0, 0)


def test_missing_sepay_fields_and_non_json_are_422(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    body = sepay_body(world)
    del body["transferType"]
    resp = post_webhook(client, "sepay", sepay[1], body)
    assert resp.status_code == 422 and resp.get_json()["error"]["details"]["transferType"]
    assert post_webhook(client, "sepay", sepay[1], b"{not json").status_code == 422
    assert post_webhook(client, "sepay", sepay[1], b"[1, 2]").status_code == 422
    future = (dt.datetime.now(VN) + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    resp = post_webhook(client, "sepay", sepay[1], sepay_body(world, transactionDate=future))
    assert resp.status_code == 422 and resp.get_json()["error"]["details"]["occurred_at"]
    assert counts(db) == (0, 0, 0)


def test_chopay_format_by_vendor_id_or_by_account(
    client: Any, db: Any, world: World, own: Any
) -> None:
    _, secret = own
    base = {
        "id": "evt-1",
        "amount": 88_000,
        "occurred_at": "2025-11-21T10:00:00+07:00",
        "method": "ewallet",
        "vendor_id": world.vendor2.id,
    }
    first = post_webhook(client, "pos-app", secret, base)
    assert first.status_code == 201
    row = db.session.get(Transaction, first.get_json()["id"])
    assert (row.vendor_id, row.method, row.external_ref) == (
        world.vendor2.id,
        "ewallet",
        "pos-app:evt-1",
    )
    by_account = {
        "id": "evt-2",
        "amount": 10_000,
        "occurred_at": "2025-11-21T10:05:00",
        "account_number": world.account.account_number,
        "content": "thanh toan",
    }
    second = post_webhook(client, "pos-app", secret, by_account)
    assert second.status_code == 201
    assert db.session.get(Transaction, second.get_json()["id"]).vendor_id == world.vendor.id
    out = post_webhook(client, "pos-app", secret, {**by_account, "id": "evt-3", "direction": "out"})
    assert out.get_json()["status"] == "ignored"
    bad = post_webhook(client, "pos-app", secret, {**base, "id": "evt-4", "amount": 12.5})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["amount"]
    left = post_webhook(client, "pos-app", secret, {**base, "id": "evt-5", "vendor_id": 31337})
    assert left.get_json()["status"] == "unmatched"
    reasons = db.session.scalars(select(InboundPayment.reason)).all()
    assert reasons == ["unknown_vendor"]


def test_oversized_body_is_refused(client: Any, db: Any, world: World, sepay: Any) -> None:
    raw = b'{"pad": "' + b"x" * 70_000 + b'"}'
    resp = post_webhook(client, "sepay", sepay[1], raw)
    assert resp.status_code == 413
    assert counts(db) == (0, 0, 0)


def test_a_source_disabled_elsewhere_stops_within_the_cache_time(
    app: Any,
    client: Any,
    db: Any,
    world: World,
    sepay: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Workers keep what they read of a source for CREDENTIALS_CACHE_SECONDS; a source
    turned off by another process (a raw write here) is refused once that has passed,
    one turned off through this process at once."""
    from sqlalchemy import text

    from chopay.transactions import webhooks

    source, secret = sepay
    clock = [1000.0]
    monkeypatch.setattr(webhooks.time, "monotonic", lambda: clock[0])
    app.config["CREDENTIALS_CACHE_SECONDS"] = 5
    assert post_webhook(client, "sepay", secret, sepay_body(world, id=1)).status_code == 201
    db.session.execute(
        text("UPDATE webhook_sources SET is_active = false WHERE id = :i"), {"i": source.id}
    )
    clock[0] += 4.9
    assert post_webhook(client, "sepay", secret, sepay_body(world, id=2)).status_code == 201
    clock[0] += 0.2
    assert post_webhook(client, "sepay", secret, sepay_body(world, id=3)).status_code == 401
    db.session.execute(
        text("UPDATE webhook_sources SET is_active = true WHERE id = :i"), {"i": source.id}
    )
    clock[0] += 10
    assert post_webhook(client, "sepay", secret, sepay_body(world, id=4)).status_code == 201
    db.session.expire_all()
    db.session.get(type(source), source.id).is_active = False
    db.session.flush()
    assert post_webhook(client, "sepay", secret, sepay_body(world, id=5)).status_code == 401
