"""``/api/v1/transactions``: report, list, export and void."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest

from chopay.transactions import services
from tests.factories import VendorFactory
from tests.transactions.conftest import VN, World, counts, payment, rollup

URL = "/api/v1/transactions"


def test_post_one_payment_answers_created_then_duplicate(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    headers = auth.token_headers(world.board)
    body = payment(world.vendor, "api-1", amount=250_000, method="cash")
    first = client.post(URL, json=body, headers=headers)
    assert first.status_code == 201
    data = first.get_json()
    assert data["status"] == "created"
    tx = data["transaction"]
    assert tx["amount"] == 250_000 and tx["method"] == "cash" and tx["source"] == "board"
    assert tx["external_ref"] == "api-1" and tx["voided"] is False
    assert tx["vendor_id"] == world.vendor.id
    again = client.post(URL, json=body, headers=headers)
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert again.get_json()["id"] == data["id"]
    assert counts(db)[:2] == (1, 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -1000}, "amount"),
        ({"amount": 500_000_000}, "amount"),
        ({"amount": 1234.5}, "amount"),
        ({"amount": "1.000"}, "amount"),
        ({"amount": None}, "amount"),
        ({"method": "gold"}, "method"),
        ({"occurred_at": "tomorrow"}, "occurred_at"),
        ({"external_ref": None}, "external_ref"),
        ({"vendor_id": None}, "vendor_id"),
        ({"vendor_id": -3}, "vendor_id"),
    ],
)
def test_bad_input_is_422_with_field_and_reason_and_stores_nothing(
    client: Any, auth: Any, db: Any, world: World, change: dict[str, Any], field: str
) -> None:
    body = payment(world.vendor, "bad-1")
    body.update(change)
    if change.get(field, 0) is None:
        del body[field]
    resp = client.post(URL, json=body, headers=auth.token_headers(world.board))
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"][field]
    assert counts(db) == (0, 0, 0)


def test_future_time_and_left_vendor_are_422(client: Any, auth: Any, db: Any, world: World) -> None:
    headers = auth.token_headers(world.board)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    resp = client.post(URL, json=payment(world.vendor, "f", occurred_at=future), headers=headers)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"]["occurred_at"]
    gone = VendorFactory(market=world.market, status="left")
    resp = client.post(URL, json=payment(gone, "g"), headers=headers)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"]["vendor_id"]
    assert counts(db) == (0, 0, 0)


def test_other_markets_vendor_is_403_and_unknown_vendor_404(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    headers = auth.token_headers(world.board)
    resp = client.post(URL, json=payment(world.outsider, "o"), headers=headers)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["details"]["vendor_id"]
    body = payment(world.vendor, "u")
    body["vendor_id"] = 10_000_000
    resp = client.post(URL, json=body, headers=headers)
    assert resp.status_code == 404
    assert resp.get_json()["error"]["details"]["vendor_id"]
    assert counts(db) == (0, 0, 0)


def test_officer_may_not_report_or_list(client: Any, auth: Any, db: Any, world: World) -> None:
    headers = auth.token_headers(world.officer)
    assert client.post(URL, json=payment(world.vendor, "o"), headers=headers).status_code == 403
    assert client.get(URL, headers=headers).status_code == 403
    assert client.get(f"{URL}?format=csv", headers=headers).status_code == 403
    assert client.get(URL, headers=auth.token_headers(world.helper)).status_code == 403
    assert counts(db) == (0, 0, 0)


def test_no_token_is_401(client: Any, db: Any, world: World) -> None:
    assert client.post(URL, json=payment(world.vendor, "x")).status_code == 401
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    "body",
    [b"not json", b"", b'"a string"', b"42", b"[]", b"[" + b"{}," * 1000 + b"{}]"],
)
def test_malformed_bodies_are_422(
    client: Any, auth: Any, db: Any, world: World, body: bytes
) -> None:
    resp = client.post(
        URL, data=body, content_type="application/json", headers=auth.token_headers(world.board)
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"]
    assert counts(db) == (0, 0, 0)


def test_list_body_answers_per_item_and_keeps_the_valid_ones(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    items = [
        payment(world.vendor, "l-1"),
        payment(world.vendor, "l-2", amount=0),
        payment(world.outsider, "l-3"),
        payment(world.vendor2, "l-4", method="ewallet"),
        payment(world.vendor, "l-1"),
    ]
    resp = client.post(URL, json=items, headers=auth.token_headers(world.board))
    assert resp.status_code == 200
    data = resp.get_json()
    assert (data["created"], data["duplicates"], data["rejected"]) == (2, 1, 2)
    statuses = [(r["index"], r["status"]) for r in data["results"]]
    assert statuses == [
        (0, "created"),
        (1, "rejected"),
        (2, "rejected"),
        (3, "created"),
        (4, "duplicate"),
    ]
    assert data["results"][1]["error"]["details"]["amount"]
    assert data["results"][2]["error"]["code"] == "forbidden"
    assert counts(db)[:2] == (2, 2)


def test_a_thousand_items_in_one_request(client: Any, auth: Any, db: Any, world: World) -> None:
    items = [payment(world.vendor, f"k-{i}", amount=1000 + i) for i in range(1000)]
    resp = client.post(URL, json=items, headers=auth.token_headers(world.admin))
    assert resp.status_code == 200
    assert resp.get_json()["created"] == 1000
    (_, _, count, value) = rollup(db, world.vendor.id)[0]
    assert count == 1000 and value == sum(1000 + i for i in range(1000))


def _seed(world: World) -> dict[str, Any]:
    when = dt.datetime(2025, 11, 10, 9, 0, tzinfo=VN)
    made = {}
    for name, vendor, method, days in [
        ("a", world.vendor, "vietqr", 0),
        ("b", world.vendor, "cash", 1),
        ("c", world.vendor2, "vietqr", 2),
        ("d", world.outsider, "vietqr", 0),
    ]:
        row, _ = services.record_transaction(
            payment(
                vendor,
                f"s-{name}",
                method=method,
                occurred_at=(when + dt.timedelta(days=days)).isoformat(),
            ),
            actor=world.admin,
        )
        made[name] = row
    return made


def _refs(resp: Any) -> list[str]:
    assert resp.status_code == 200, resp.get_json()
    return sorted(item["external_ref"] for item in resp.get_json()["items"])


def test_list_is_scoped_by_role(client: Any, auth: Any, db: Any, world: World) -> None:
    _seed(world)
    assert _refs(client.get(URL, headers=auth.token_headers(world.admin))) == [
        "s-a",
        "s-b",
        "s-c",
        "s-d",
    ]
    assert _refs(client.get(URL, headers=auth.token_headers(world.board))) == ["s-a", "s-b", "s-c"]
    assert _refs(client.get(URL, headers=auth.token_headers(world.other_board))) == ["s-d"]
    assert _refs(client.get(URL, headers=auth.token_headers(world.vendor_user))) == ["s-a", "s-b"]


def test_list_filters_and_pages(client: Any, auth: Any, db: Any, world: World) -> None:
    made = _seed(world)
    headers = auth.token_headers(world.board)
    assert _refs(client.get(f"{URL}?vendor={world.vendor2.id}", headers=headers)) == ["s-c"]
    assert _refs(client.get(f"{URL}?market={world.market.id}&method=cash", headers=headers)) == [
        "s-b"
    ]
    assert _refs(client.get(f"{URL}?from=2025-11-11&to=2025-11-12", headers=headers)) == [
        "s-b",
        "s-c",
    ]
    assert _refs(client.get(f"{URL}?to=2025-11-10", headers=headers)) == ["s-a"]
    page = client.get(f"{URL}?per_page=2&page=2", headers=headers).get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 1)
    item = page["items"][0]
    assert set(item) >= {
        "id",
        "external_ref",
        "voided",
        "amount",
        "occurred_at",
        "method",
        "source",
        "vendor_id",
    }
    assert item["id"] == made["a"].id  # newest first: a is the oldest


def test_list_refuses_filters_outside_scope(client: Any, auth: Any, db: Any, world: World) -> None:
    headers = auth.token_headers(world.board)
    assert client.get(f"{URL}?vendor={world.outsider.id}", headers=headers).status_code == 403
    assert client.get(f"{URL}?market={world.other_market.id}", headers=headers).status_code == 403
    assert client.get(f"{URL}?vendor=99999999", headers=headers).status_code == 404
    resp = client.get(f"{URL}?from=2025-11-12&to=2025-11-10", headers=headers)
    assert resp.status_code == 422 and resp.get_json()["error"]["details"]["to"]
    assert client.get(f"{URL}?method=gold", headers=headers).status_code == 422
    assert client.get(f"{URL}?per_page=100000", headers=headers).status_code == 422


def test_csv_export_guards_against_formulas(client: Any, auth: Any, db: Any, world: World) -> None:
    world.vendor.full_name = '=HYPERLINK("http://evil")'
    db.session.flush()
    services.record_transaction(payment(world.vendor, "=1+2"), actor=world.board)
    services.record_transaction(payment(world.vendor, "@attack"), actor=world.board)
    services.record_transaction(payment(world.vendor, "-5"), actor=world.board)
    resp = client.get(f"{URL}?format=csv", headers=auth.token_headers(world.board))
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 3
    assert sorted(r["external_ref"] for r in rows) == ["'-5", "'=1+2", "'@attack"]
    assert all(r["vendor_name"].startswith("'=") for r in rows)
    assert all(r["amount"] == "150000" and r["voided"] == "no" for r in rows)


def test_void_via_api(client: Any, auth: Any, db: Any, world: World) -> None:
    made = _seed(world)
    target = made["a"]
    url = f"{URL}/{target.id}/void"
    assert client.post(url, json={}, headers=auth.token_headers(world.board)).status_code == 422
    assert (
        client.post(url, json={"reason": "sai"}, headers=auth.token_headers(world.vendor_user))
    ).status_code == 403
    assert (
        client.post(url, json={"reason": "sai"}, headers=auth.token_headers(world.other_board))
    ).status_code == 404
    headers = auth.token_headers(world.board)
    done = client.post(url, json={"reason": "Nhập nhầm số tiền"}, headers=headers)
    assert done.status_code == 200
    assert done.get_json()["voided"] is True
    assert done.get_json()["void_reason"] == "Nhập nhầm số tiền"
    again = client.post(url, json={"reason": "Nhập nhầm số tiền"}, headers=headers)
    assert again.status_code == 409
    assert rollup(db, world.vendor.id) == [(dt.date(2025, 11, 11), "cash", 1, 150_000)]
    listed = client.get(f"{URL}?voided=true", headers=headers).get_json()["items"]
    assert [(i["id"], i["voided"]) for i in listed] == [(target.id, True)]
    assert (
        client.post(f"{URL}/99999999/void", json={"reason": "xyz"}, headers=headers).status_code
        == 404
    )


def test_openapi_documents_the_ledger(client: Any, db: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/transactions"]["post"]
    one_of = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert one_of[0] == {"$ref": "#/components/schemas/TransactionCreate"}
    assert one_of[1]["maxItems"] == 1000
    assert "dd/mm/yyyy hh:mm" in spec["paths"]["/api/v1/transactions/import"]["post"]["description"]
    assert "X-Chopay-Signature" in spec["paths"]["/api/v1/webhooks/{source}"]["post"]["description"]


def test_single_post_answers_exactly_what_the_documented_schema_dumps(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    """The hot path writes its JSON by hand; it must match marshmallow's dump of
    TransactionSchema for a new row, a duplicate, and a duplicate of a voided row."""
    from chopay.transactions.models import Transaction
    from chopay.transactions.schemas import TransactionSchema

    headers = auth.token_headers(world.board)
    body = payment(world.vendor, "shape-1", amount=123_000, method="ewallet", note="Bánh")
    created = client.post(URL, json=body, headers=headers).get_json()

    def stored(tx_id: int) -> dict[str, Any]:
        db.session.expire_all()
        dumped: dict[str, Any] = TransactionSchema().dump(db.session.get(Transaction, tx_id))
        return dumped

    assert created["transaction"] == stored(created["id"])
    assert created["transaction"]["note"] == "Bánh"
    void = client.post(
        f"{URL}/{created['id']}/void", json={"reason": "Khách trả lại"}, headers=headers
    )
    assert void.status_code == 200
    again = client.post(URL, json=body, headers=headers).get_json()
    assert again["status"] == "duplicate"
    assert again["transaction"] == stored(created["id"])
    assert again["transaction"]["voided"] is True
