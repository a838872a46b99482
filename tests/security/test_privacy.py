"""Personal data (Personal Data Protection Law 91/2025): ID numbers only ever masked,
personal exports only for the roles allowed, a vendor's data exported and erased on
request with every total kept."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from chopay.audit.models import AuditEvent
from chopay.auth.models import ApiToken, User
from chopay.extensions import db as _db
from chopay.reports.models import MarketDailyRollup
from chopay.transactions import importer
from chopay.transactions import services as tx_services
from chopay.transactions.models import DailyRollup, InboundPayment, Source, Transaction
from chopay.vendors import services as vendor_services
from chopay.vendors.models import PaymentAccount, QrCode, Vendor
from chopay.vendors.privacy import ERASED
from tests.factories import PASSWORD
from tests.security.world import World, build_world

API = "/api/v1"
FULL_IDS = ("001085012345", "079190001234", "038095005678", "001185009876")


@pytest.fixture
def world(db: Any) -> World:
    made = build_world()
    db.session.commit()
    return made


def _login(client: FlaskClient, world: World, role: str) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(world.users[role])
        session["_fresh"] = True


def _bearer(world: World, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[role]}"}


def _text(resp: Any) -> str:
    if resp.mimetype == "application/json":
        return json.dumps(resp.get_json(silent=True), ensure_ascii=False)
    return resp.get_data(as_text=True)


def find_everywhere(needles: list[str]) -> list[str]:
    """Every table cell (JSON decoded) in the database that contains one of ``needles``."""
    hits = []
    for table in _db.metadata.sorted_tables:
        for row in _db.session.execute(select(table)).mappings():
            for column, value in row.items():
                if value is None:
                    continue
                text = (
                    json.dumps(value, ensure_ascii=False, default=str)
                    if isinstance(value, dict | list)
                    else str(value)
                )
                hits += [f"{table.name}.{column} holds {n!r}" for n in needles if n in text]
    return hits


# --- ID numbers ------------------------------------------------------------------------------


def test_full_id_numbers_are_never_stored_nor_shown(
    client: FlaskClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    market = world.scopes["in"].market_id
    _login(client, world, "board")
    answers = []
    # a page form, once refused for another field (the form comes back) and once accepted
    form = {"full_name": "Do Thi Cancuoc", "stall": "C-1", "id_number": FULL_IDS[0]}
    answers.append(client.post(f"/markets/{market}/vendors/new", data={**form, "phone": "12"}))
    assert answers[-1].status_code == 422
    answers.append(client.post(f"/markets/{market}/vendors/new", data=form))
    assert answers[-1].status_code == 302
    # the API, likewise
    body = {"full_name": "Vu Van Cancuoc", "stall": "C-2", "id_number": FULL_IDS[1]}
    board, api = _bearer(world, "board"), client.application.test_client()  # no cookie
    url = f"{API}/markets/{market}/vendors"
    answers.append(api.post(url, json={**body, "phone": "1"}, headers=board))
    assert answers[-1].status_code == 422
    answers.append(api.post(url, json=body, headers=board))
    assert answers[-1].status_code == 201
    created = answers[-1].get_json()
    assert created["id_number_masked"] == "********1234"
    # an imported list, previewed then imported
    sheet = f"Họ và tên,Số quầy,Số CCCD\nLy Thi Cancuoc,C-3,{FULL_IDS[2]}\n".encode()
    for dry_run in ("1", "0"):
        answers.append(
            client.post(
                f"/markets/{market}/vendors/import",
                data={"file": (io.BytesIO(sheet), "ds.csv"), "dry_run": dry_run},
            )
        )
        assert answers[-1].status_code == 200
    # an edit that sets a new number
    answers.append(
        api.patch(f"{API}/vendors/{created['id']}", json={"id_number": FULL_IDS[3]}, headers=board)
    )
    assert answers[-1].status_code == 200
    assert answers[-1].get_json()["id_number_masked"] == "********9876"

    vendor_ids = [
        v.id for v in _db.session.scalars(select(Vendor).where(Vendor.full_name.like("%Cancuoc")))
    ]
    assert len(vendor_ids) == 3
    pages = ["/vendors", f"/vendors?market={market}", "/vendors/pending", f"{API}/vendors"]
    for vid in vendor_ids:
        pages += [
            f"/vendors/{vid}",
            f"/vendors/{vid}/edit",
            f"/vendors/{vid}/history",
            f"/vendors/{vid}/export.json",
            f"{API}/vendors/{vid}",
            f"{API}/vendors/{vid}/history",
            f"{API}/vendors/{vid}/export",
        ]
    for path in pages:
        resp = client.get(path)
        assert resp.status_code == 200, path
        answers.append(resp)
    shown = [a for a in answers for full in FULL_IDS if full in _text(a)]
    assert not shown, "a full ID number was sent back"
    assert "********2345" in client.get(f"/vendors/{vendor_ids[0]}").get_data(as_text=True)
    assert not find_everywhere(list(FULL_IDS))
    assert not [r for r in caplog.records for full in FULL_IDS if full in r.getMessage()]


# --- personal exports only for the roles allowed ---------------------------------------------


def test_officers_get_aggregates_but_no_personal_exports(client: FlaskClient, world: World) -> None:
    inside = world.scopes["in"]
    headers = _bearer(world, "officer")
    for path in (
        f"{API}/transactions?format=csv",
        f"{API}/transactions?market={inside.market_id}",
        f"{API}/vendors/{inside.vendor_id}/export",
    ):
        assert client.get(path, headers=headers).status_code == 403, path
    _login(client, world, "officer")
    assert client.get("/transactions/export.csv").status_code == 403
    assert client.get(f"/vendors/{inside.vendor_id}/export.json").status_code == 403
    query = f"scheme=legacy&unit={inside.district}&level=market"
    for fmt in ("", ".csv", ".xlsx"):
        resp = client.get(f"{API}/reports/adoption{fmt}?{query}", headers=headers)
        assert resp.status_code == 200, fmt
        data = resp.get_data()
        for value in inside.secrets():
            assert value.encode() not in data, (fmt, value)
    assert inside.market_name in client.get(f"{API}/reports/adoption?{query}").get_data(
        as_text=True
    )


def test_officers_do_not_see_per_vendor_sales_in_the_market_report(
    client: FlaskClient, world: World
) -> None:
    inside = world.scopes["in"]
    _login(client, world, "officer")
    page = client.get(f"/reports/markets/{inside.market_id}")
    assert page.status_code == 200
    assert inside.vendor_name not in page.get_data(as_text=True)


# --- export on request -----------------------------------------------------------------------


def test_vendor_data_export_holds_everything_and_is_audited(
    client: FlaskClient, world: World
) -> None:
    inside = world.scopes["in"]
    resp = client.get(f"{API}/vendors/{inside.vendor_id}/export", headers=_bearer(world, "board"))
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["vendor"]["full_name"] == inside.vendor_name
    assert data["vendor"]["phone"] == inside.vendor_phone
    assert data["market"]["id"] == inside.market_id
    assert {a["account_number"] for a in data["accounts"]} == {
        inside.account_number,
        inside.pending_account_number,
    }
    assert [c["payload"] for c in data["qr_codes"]] == [inside.payload]
    assert [t["id"] for t in data["transactions"]] == [inside.transaction_id]
    assert data["transactions"][0]["amount_vnd"] == 120_001
    assert [u["username"] for u in data["logins"]] == ["sec.vendor"]
    assert "password_hash" not in json.dumps(data)
    assert resp.headers["Cache-Control"] == "no-store"

    assert data["transactions"][0]["bank_ref"] is None  # reported by hand, not a transfer
    _login(client, world, "vendor")  # the vendor may take their own copy
    page = client.get(f"/vendors/{inside.vendor_id}/export.json")
    assert page.status_code == 200
    assert page.headers["Content-Disposition"].startswith("attachment;")
    assert json.loads(page.get_data(as_text=True))["vendor"]["id"] == inside.vendor_id
    exports = _db.session.scalars(
        select(AuditEvent.actor_id).where(
            AuditEvent.action == "vendor.export", AuditEvent.entity_id == str(inside.vendor_id)
        )
    ).all()
    assert sorted(exports) == sorted([world.users["board"], world.users["vendor"]])


# --- erasure on request ----------------------------------------------------------------------


def _totals(market_ids: list[int]) -> dict[str, Any]:
    """Every figure payments feed, per market: ledger, rollups and the report tables."""

    def one(stmt: Any) -> Any:
        return tuple(_db.session.execute(stmt).one())

    out = {}
    for mid in market_ids:
        out[mid] = (
            one(
                select(func.count(), func.sum(Transaction.amount_vnd)).where(
                    Transaction.market_id == mid, Transaction.voided_at.is_(None)
                )
            ),
            one(
                select(func.sum(DailyRollup.tx_count), func.sum(DailyRollup.tx_value)).where(
                    DailyRollup.market_id == mid
                )
            ),
            one(
                select(
                    func.sum(MarketDailyRollup.tx_count), func.sum(MarketDailyRollup.tx_value)
                ).where(MarketDailyRollup.market_id == mid)
            ),
        )
    return out


MONEY = ("tx_count", "tx_value", "cash_count", "cash_value")


def _report_money(client: FlaskClient, world: World) -> list[dict[str, Any]]:
    resp = client.get(
        f"{API}/reports/adoption?scheme=legacy&unit=19&level=market",
        headers=_bearer(world, "admin"),
    )
    assert resp.status_code == 200
    rows = resp.get_json()["rows"]
    return [
        {k: v for k, v in row.items() if k.startswith(MONEY) or k == "market_id"} for row in rows
    ]


def _more_personal_rows(world: World) -> dict[str, Any]:
    """A statement import (its reference embeds the account number), a provider's
    notification (its bank_ref does too), a note naming the vendor, held lines paid into
    the vendor's account, and the vendor's own login."""
    inside = world.scopes["in"]
    board = _db.session.get(User, world.users["board"])
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).astimezone(
        dt.timezone(dt.timedelta(hours=7))
    )
    statement = (
        "date,amount,account_number,content,reference\n"
        f"{when:%d/%m/%Y %H:%M},75.000,{inside.account_number},tra tien rau,FT777\n"
    ).encode()
    report = importer.import_statement(statement, actor=board)
    assert report.created == 1
    notified = tx_services.insert_transactions(
        [
            {
                "vendor_id": inside.vendor_id,
                "market_id": inside.market_id,
                "amount_vnd": 41_000,
                "occurred_at": when,
                "method": "vietqr",
                "source": Source.WEBHOOK,
                "external_ref": "sepay:888",
                "bank_ref": f"{inside.account_number}:FT888",
            }
        ]
    )
    assert notified.inserted == 1
    tx_services.record_transaction(
        {
            "vendor_id": inside.vendor_id,
            "amount": 33_000,
            "occurred_at": when.isoformat(),
            "method": "cash",
            "external_ref": "note-1",
            "note": f"goi {inside.vendor_phone} khi giao",
        },
        actor=board,
    )
    _db.session.add(
        InboundPayment(
            source=Source.WEBHOOK,
            external_ref="evt-held-v",
            amount_vnd=12_000,
            occurred_at=when,
            account_number=inside.account_number,
            content=f"{inside.vendor_name} nhan tien",
            raw={"accountNumber": inside.account_number, "name": inside.vendor_name},
            reason="ambiguous",
            market_id=inside.market_id,
        )
    )
    vendor = _db.session.get(Vendor, inside.vendor_id)
    assert vendor is not None
    helper = _db.session.get(User, world.users["helper"])
    vendor_services.update_vendor(vendor, {"id_number_masked": "********4321"}, actor=helper)
    vendor_services.add_account(
        vendor,
        {"bank_bin": "970436", "account_number": "6666000001", "account_name": "NGUYEN T T"},
        actor=helper,
    )
    _db.session.commit()
    return {"when": when}


def test_erasure_keeps_every_total_and_leaves_no_personal_value(
    client: FlaskClient, world: World
) -> None:
    inside, sibling = world.scopes["in"], world.scopes["sib"]
    _more_personal_rows(world)
    # the vendor logs in for real from their phone: an address in the audit trail
    address = {"REMOTE_ADDR": "203.0.113.77", "HTTP_USER_AGENT": "Zalo-Phone/1.0"}
    login = client.post(
        "/login", data={"username": "sec.vendor", "password": PASSWORD}, environ_base=address
    )
    assert login.status_code == 302
    client.post("/logout")
    personal = [
        inside.vendor_name,
        inside.vendor_phone,
        inside.vendor_name.upper(),  # the account holder
        inside.account_number,
        inside.pending_account_number,
        inside.payload,
        "********4321",
        "6666000001",
        "NGUYEN T T",
        "sec.vendor",
        "203.0.113.77",
        "Zalo-Phone/1.0",
    ]
    assert find_everywhere(personal)  # they are there before
    markets = [inside.market_id, world.scopes["out"].market_id]
    before, report_before = _totals(markets), _report_money(client, world)
    neighbour = find_everywhere(sibling.secrets())

    resp = client.post(
        f"{API}/vendors/{inside.vendor_id}/erase",
        json={"confirm": _vendor_reference(inside.vendor_id).lower()},
        headers=_bearer(world, "board"),
    )
    assert resp.status_code == 200, resp.get_json()
    result = resp.get_json()
    assert result["accounts"] == 3 and result["qr_codes_revoked"] == 1
    assert result["transactions"] == 4 and result["inbound_payments"] == 1
    assert result["logins"] == 1 and result["audit_events"] >= 3

    _db.session.expire_all()
    assert _totals(markets) == before
    assert _report_money(client, world) == report_before
    assert find_everywhere(personal) == []
    assert find_everywhere(sibling.secrets()) == neighbour  # nobody else touched
    vendor = _db.session.get(Vendor, inside.vendor_id)
    assert vendor is not None and vendor.status == "left" and vendor.left_at is not None
    assert vendor.full_name == ERASED and vendor.phone is None and vendor.stall
    accounts = _db.session.scalars(
        select(PaymentAccount).where(PaymentAccount.vendor_id == vendor.id)
    ).all()
    assert {a.bank_bin for a in accounts} == {"970436"}
    assert all(
        c.revoked_at is not None
        for c in _db.session.scalars(select(QrCode).where(QrCode.vendor_id == vendor.id))
    )
    verify = client.get(f"/verify/{inside.verify_code}")
    assert verify.status_code == 200 and inside.vendor_name not in verify.get_data(as_text=True)
    # the vendor's login and token are dead
    assert client.get(f"{API}/me", headers=_bearer(world, "vendor")).status_code == 401
    assert (
        client.post("/login", data={"username": "sec.vendor", "password": PASSWORD}).status_code
        == 401
    )
    user = _db.session.get(User, world.users["vendor"])
    assert user is not None and not user.is_active
    assert (
        _db.session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
        == 0
    )
    # audited, once, with counts only; a second erasure is refused
    event = _db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "vendor.erase", AuditEvent.entity_id == str(inside.vendor_id)
        )
    ).one()
    assert event.actor_id == world.users["board"]
    assert event.new_values is not None and event.new_values["accounts"] == 3
    again = client.post(
        f"{API}/vendors/{inside.vendor_id}/erase",
        json={"confirm": vendor.reference},
        headers=_bearer(world, "admin"),
    )
    assert again.status_code == 409


def _vendor_reference(vendor_id: int) -> str:
    vendor = _db.session.get(Vendor, vendor_id)
    assert vendor is not None
    return vendor.reference


def test_erasure_needs_the_typed_code_and_the_right_role(client: FlaskClient, world: World) -> None:
    inside = world.scopes["in"]
    reference = _vendor_reference(inside.vendor_id)
    url = f"{API}/vendors/{inside.vendor_id}/erase"
    wrong = client.post(url, json={"confirm": "CPT999999"}, headers=_bearer(world, "admin"))
    assert wrong.status_code == 422 and "confirm" in wrong.get_json()["error"]["details"]
    for role in ("officer", "helper", "vendor"):
        denied = client.post(url, json={"confirm": reference}, headers=_bearer(world, role))
        assert denied.status_code == 403, role
    _db.session.expire_all()
    vendor = _db.session.get(Vendor, inside.vendor_id)
    assert vendor is not None and vendor.full_name == inside.vendor_name
    assert not _db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "vendor.erase"))


def test_vendor_page_offers_export_and_erasure_to_the_right_people(
    client: FlaskClient, world: World
) -> None:
    inside = world.scopes["in"]
    page = f"/vendors/{inside.vendor_id}"
    export, erase = f"{page}/export.json", f"{page}/erase"
    offered = {}
    for role in ("admin", "board", "helper", "officer", "vendor"):
        _login(client, world, role)
        html = client.get(page).get_data(as_text=True)
        offered[role] = (export in html, erase in html)
    assert offered == {
        "admin": (True, True),
        "board": (True, True),
        "helper": (False, False),
        "officer": (False, False),
        "vendor": (True, False),
    }

    _login(client, world, "board")
    form = client.get(erase)
    assert form.status_code == 200 and "Xóa vĩnh viễn" in form.get_data(as_text=True)
    refused = client.post(erase, data={"confirm": "sai"})
    assert refused.status_code == 422
    done = client.post(erase, data={"confirm": _vendor_reference(inside.vendor_id)})
    assert done.status_code == 302 and done.headers["Location"] == page
    html = client.get(page).get_data(as_text=True)
    assert ERASED in html and inside.vendor_name not in html and erase not in html
    assert "Đã xóa dữ liệu cá nhân của tiểu thương" in html  # the confirmation message


def test_the_export_lists_the_bank_transfer_behind_each_payment(
    client: FlaskClient, world: World
) -> None:
    inside = world.scopes["in"]
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    tx_services.insert_transactions(
        [
            {
                "vendor_id": inside.vendor_id,
                "market_id": inside.market_id,
                "amount_vnd": 41_000,
                "occurred_at": when,
                "method": "vietqr",
                "source": Source.WEBHOOK,
                "external_ref": "sepay:889",
                "bank_ref": f"{inside.account_number}:FT889",
            }
        ]
    )
    resp = client.get(f"{API}/vendors/{inside.vendor_id}/export", headers=_bearer(world, "board"))
    refs = {t["external_ref"]: t["bank_ref"] for t in resp.get_json()["transactions"]}
    assert refs["sepay:889"] == f"{inside.account_number}:FT889"
