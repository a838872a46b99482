"""``/api/v1`` vendors and payment accounts: every rule, and every refusal leaves no trace."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from chopay.audit.models import AuditEvent
from chopay.extensions import db
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus
from chopay.vietqr import parse_payload
from tests.factories import PaymentAccountFactory, VendorFactory
from tests.vendors.helpers import World, counts, vendor_payload

REFERENCE = re.compile(r"^CP[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$")
VERIFY = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{3}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{3}$")


def vendors_url(world: World, market: Any = None) -> str:
    return f"/api/v1/markets/{(market or world.market).id}/vendors"


def register(api: Any, world: World, user: Any = None, **overrides: Any) -> Any:
    resp = api.post(user or world.helper, vendors_url(world), json=vendor_payload(**overrides))
    assert resp.status_code == 201, resp.json
    return resp.json


# --- registering -----------------------------------------------------------------------


def test_register_vendor_with_account(api: Any, world: World) -> None:
    body = register(
        api,
        world,
        full_name="Nguye\u0302\u0303n Thi\u0323 Hu\u031bo\u031b\u0300ng",  # NFD
        phone="+84 912 345 678",
        zone="Khu A",
        goods_category="Rau củ",
        id_number="001185012345",
        has_smartphone=True,
        onboarding_org="bank",
        onboarding_org_name="Agribank Đại Từ",
    )
    assert body["full_name"] == "Nguyễn Thị Hường"
    assert len(body["full_name"]) == len("Nguyễn Thị Hường")
    assert body["phone"] == "0912345678"
    assert body["status"] == "pending"
    assert REFERENCE.match(body["reference"])
    assert body["id_number_masked"] == "********2345"
    assert "id_number" not in body
    assert body["has_smartphone"] is True and body["has_payment_speaker"] is False
    assert body["onboarding_org"] == "bank"
    assert body["onboarded_by_id"] == world.helper.id
    [account] = body["accounts"]
    assert account["status"] == "pending"
    assert account["bank_bin"] == "970436" and account["bank_name"] == "Vietcombank"
    assert account["created_by_id"] == world.helper.id
    assert body["qr"] is None

    fetched = api.get(world.board, f"/api/v1/vendors/{body['id']}").json
    assert [(a["id"], a["status"]) for a in fetched["accounts"]] == [(account["id"], "pending")]

    # The full ID number is kept nowhere: not in the row, not in the audit trail.
    vendor = db.session.get(Vendor, body["id"])
    assert vendor.id_number_masked == "********2345"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.market_id == world.market.id))
    dumped = json.dumps([e.new_values for e in events], ensure_ascii=False)
    assert "001185012345" not in dumped
    assert "vendor.create" in {e.action for e in db.session.scalars(select(AuditEvent))}


def test_register_vendor_without_account_or_phone(api: Any, world: World) -> None:
    body = register(api, world, phone=None, account=None)
    assert body["phone"] is None
    assert body["accounts"] == []


@pytest.mark.parametrize("phone", ["0912345678", "+84912345678", "84912345678", "0912.345.678"])
def test_phone_forms_are_normalised(api: Any, world: World, phone: str) -> None:
    assert register(api, world, phone=phone)["phone"] == "0912345678"


def test_references_are_unique(api: Any, world: World) -> None:
    refs = {
        register(api, world, full_name=f"Người {i}", stall=f"B-{i}", phone=f"09870000{i:02d}")[
            "reference"
        ]
        for i in range(20)
    }
    assert len(refs) == 20


BAD_VENDOR_INPUT = [
    ({"phone": "09123abc78"}, ("phone",), "chỉ được gồm chữ số"),
    ({"phone": "091234567"}, ("phone",), "10 chữ số"),
    ({"phone": "1912345678"}, ("phone",), "bắt đầu bằng 0"),
    ({"phone": "+1 202 555 0100"}, ("phone",), "+84"),
    ({"full_name": ""}, ("full_name",), "Chưa nhập họ và tên"),
    ({"full_name": "   "}, ("full_name",), "Chưa nhập họ và tên"),
    ({"full_name": "A" * 121}, ("full_name",), "dài quá 120"),
    ({"full_name": "Lan\x00"}, ("full_name",), "ký tự điều khiển"),
    ({"stall": None}, ("stall",), "Chưa nhập số quầy"),
    ({"id_number": "12345"}, ("id_number",), "9 hoặc 12 chữ số"),
    ({"onboarding_org": "bankk"}, ("onboarding_org",), "một trong"),
    ({"status": "active"}, ("status",), "không được hỗ trợ"),
    (
        {"account": {"bank_bin": "970999", "account_number": "1", "account_name": "A"}},
        ("account", "bank_bin"),
        "Không có ngân hàng mã BIN 970999",
    ),
    (
        {"account": {"bank_bin": "97043", "account_number": "1", "account_name": "A"}},
        ("account", "bank_bin"),
        "6 chữ số",
    ),
    (
        {"account": {"bank_bin": "970436", "account_number": "1" * 20, "account_name": "A"}},
        ("account", "account_number"),
        "dài 20 ký tự",
    ),
    (
        {"account": {"bank_bin": "970436", "account_number": "12#45", "account_name": "A"}},
        ("account", "account_number"),
        "chỉ được gồm chữ số và chữ cái",
    ),
    (
        {"account": {"bank_bin": "970436", "account_number": "123"}},
        ("account", "account_name"),
        "Chưa nhập tên chủ tài khoản",
    ),
]


@pytest.mark.parametrize(("change", "path", "reason"), BAD_VENDOR_INPUT)
def test_bad_vendor_input_is_refused(
    api: Any, world: World, change: dict[str, Any], path: tuple[str, ...], reason: str
) -> None:
    api.login(world.helper)
    before = counts()
    resp = api.post(world.helper, vendors_url(world), json=vendor_payload(**change))
    assert resp.status_code == 422, resp.json
    details: Any = resp.json["error"]["details"]
    for key in path:
        details = details[key]
    assert reason in " ".join(details)
    assert counts() == before


def test_missing_name_key_is_refused(api: Any, world: World) -> None:
    api.login(world.helper)
    before = counts()
    body = vendor_payload()
    del body["full_name"]
    resp = api.post(world.helper, vendors_url(world), json=body)
    assert resp.status_code == 422
    assert resp.json["error"]["details"] == {"full_name": ["Chưa nhập họ và tên."]}
    assert counts() == before


def test_body_must_be_json_object(api: Any, world: World) -> None:
    resp = api.post(world.helper, vendors_url(world), json=["Nguyễn Thị Hường"])
    assert resp.status_code == 422


# --- duplicates ------------------------------------------------------------------------


def test_same_phone_at_the_market_is_a_duplicate(api: Any, world: World) -> None:
    first = register(api, world)
    before = counts()
    resp = api.post(
        world.helper,
        vendors_url(world),
        json=vendor_payload(full_name="Lê Văn Tám", stall="C-3", phone="+84912345678"),
    )
    assert resp.status_code == 409
    error = resp.json["error"]
    assert error["code"] == "duplicate"
    assert error["details"]["duplicate_of"] == first["id"]
    assert "Số điện thoại này đã đăng ký" in error["details"]["phone"][0]
    assert counts() == before


def test_same_stall_and_name_is_a_duplicate_whatever_the_case_and_accents(
    api: Any, world: World
) -> None:
    first = register(api, world)
    before = counts()
    resp = api.post(
        world.helper,
        vendors_url(world),
        json=vendor_payload(full_name="nguyen thi huong", stall="a-12", phone="0987654321"),
    )
    assert resp.status_code == 409
    assert resp.json["error"]["details"]["duplicate_of"] == first["id"]
    assert "stall" in resp.json["error"]["details"]
    assert counts() == before


def test_same_person_at_another_market_is_not_a_duplicate(api: Any, world: World) -> None:
    register(api, world)
    resp = api.post(world.admin, vendors_url(world, world.other_market), json=vendor_payload())
    assert resp.status_code == 201


def test_a_vendor_who_left_frees_the_stall(api: Any, world: World) -> None:
    first = register(api, world)
    assert (
        api.patch(
            world.board, f"/api/v1/vendors/{first['id']}", json={"status": "left"}
        ).status_code
        == 200
    )
    again = register(api, world, phone="0987654321")
    assert again["id"] != first["id"]


# --- reading, editing, status ----------------------------------------------------------


def test_patch_fields_is_audited_with_old_and_new(api: Any, world: World) -> None:
    vendor = register(api, world)
    resp = api.patch(
        world.helper,
        f"/api/v1/vendors/{vendor['id']}",
        json={"stall": "A-14", "has_payment_speaker": True},
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["stall"] == "A-14"
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "vendor.update", AuditEvent.entity_id == str(vendor["id"])
        )
    )
    assert event.old_values == {"stall": "A-12", "has_payment_speaker": False}
    assert event.new_values == {"stall": "A-14", "has_payment_speaker": True}
    assert event.actor_id == world.helper.id


def test_status_moves_follow_the_table(api: Any, world: World) -> None:
    vendor = register(api, world)
    url = f"/api/v1/vendors/{vendor['id']}"
    assert api.patch(world.board, url, json={"status": "active"}).json["status"] == "active"
    assert api.patch(world.board, url, json={"status": "suspended"}).json["status"] == "suspended"
    assert api.patch(world.board, url, json={"status": "active"}).json["status"] == "active"
    left = api.patch(world.board, url, json={"status": "left"}).json
    assert left["status"] == "left" and left["left_at"] is not None
    before = counts()
    resp = api.patch(world.board, url, json={"status": "active"})
    assert resp.status_code == 422
    assert "Đã nghỉ" in resp.json["error"]["details"]["status"][0]
    assert counts() == before


def test_unknown_status_is_refused(api: Any, world: World) -> None:
    vendor = register(api, world)
    resp = api.patch(world.board, f"/api/v1/vendors/{vendor['id']}", json={"status": "deleted"})
    assert resp.status_code == 422
    assert "status" in resp.json["error"]["details"]


def test_patch_to_another_vendors_phone_is_a_duplicate(api: Any, world: World) -> None:
    register(api, world)
    other = register(api, world, full_name="Lê Văn Tám", stall="C-3", phone="0987654321")
    before = counts()
    resp = api.patch(world.board, f"/api/v1/vendors/{other['id']}", json={"phone": "0912345678"})
    assert resp.status_code == 409
    assert counts() == before


def test_patch_name_to_null_is_refused(api: Any, world: World) -> None:
    vendor = register(api, world)
    resp = api.patch(world.board, f"/api/v1/vendors/{vendor['id']}", json={"full_name": None})
    assert resp.status_code == 422
    assert resp.json["error"]["details"]["full_name"] == ["Chưa nhập họ và tên."]


def test_board_cannot_touch_another_markets_vendors(api: Any, world: World) -> None:
    theirs = VendorFactory(market=world.other_market)
    api.login(world.board)
    before = counts()
    assert api.get(world.board, f"/api/v1/vendors/{theirs.id}").status_code == 404
    assert (
        api.patch(world.board, f"/api/v1/vendors/{theirs.id}", json={"status": "left"}).status_code
        == 404
    )
    resp = api.post(world.board, vendors_url(world, world.other_market), json=vendor_payload())
    assert resp.status_code == 404
    assert api.get(world.board, vendors_url(world, world.other_market)).status_code == 404
    resp = api.post(
        world.board,
        f"/api/v1/vendors/{theirs.id}/accounts",
        json=vendor_payload()["account"],
    )
    assert resp.status_code == 404
    assert counts() == before
    assert db.session.get(Vendor, theirs.id).status == VendorStatus.ACTIVE


def test_officer_reads_vendors_but_does_not_onboard(api: Any, world: World) -> None:
    vendor = register(api, world)
    api.login(world.officer)
    assert api.get(world.officer, f"/api/v1/vendors/{vendor['id']}").status_code == 200
    before = counts()
    resp = api.post(world.officer, vendors_url(world), json=vendor_payload(phone="0987654321"))
    assert resp.status_code == 403
    resp = api.patch(world.officer, f"/api/v1/vendors/{vendor['id']}", json={"stall": "Z"})
    assert resp.status_code == 403
    assert counts() == before


def test_search_by_unaccented_name_phone_stall_and_reference(api: Any, world: World) -> None:
    a = register(api, world)
    register(api, world, full_name="Lê Văn Tám", stall="C-3", phone="0987654321", account=None)
    VendorFactory(market=world.other_market, full_name="Nguyễn Thị Hường")

    def found(query: str, user: Any = None) -> list[str]:
        resp = api.get(user or world.board, "/api/v1/vendors", query_string={"q": query})
        assert resp.status_code == 200
        return sorted(v["full_name"] for v in resp.json)

    assert found("huong") == ["Nguyễn Thị Hường"]  # the other market's is out of scope
    assert found("HƯỜNG") == ["Nguyễn Thị Hường"]
    assert found("0987 654") == ["Lê Văn Tám"]
    assert found("c-3") == ["Lê Văn Tám"]
    assert found(a["reference"].lower()) == ["Nguyễn Thị Hường"]
    assert found("van") == ["Lê Văn Tám"]
    assert len(found("huong", world.admin)) == 2


def test_market_vendor_list_is_paginated(api: Any, world: World) -> None:
    for i in range(5):
        VendorFactory(market=world.market, stall=f"P-{i}")
    resp = api.get(world.board, vendors_url(world), query_string={"page_size": 2, "page": 2})
    assert resp.status_code == 200
    assert len(resp.json) == 2
    assert json.loads(resp.headers["X-Pagination"])["total"] == 5


# --- payment accounts, maker-checker ---------------------------------------------------


def pending_account(api: Any, world: World, maker: Any = None) -> tuple[dict[str, Any], int]:
    vendor = register(api, world, user=maker or world.board)
    return vendor, vendor["accounts"][0]["id"]


def test_maker_cannot_approve_own_entry(api: Any, world: World) -> None:
    _, account_id = pending_account(api, world, maker=world.board)
    before = counts()
    resp = api.post(world.board, f"/api/v1/accounts/{account_id}/approve")
    assert resp.status_code == 403
    assert "Người nhập không được tự duyệt" in resp.json["error"]["details"]["account"][0]
    resp = api.post(world.board, f"/api/v1/accounts/{account_id}/reject", json={"reason": "sai"})
    assert resp.status_code == 403
    assert counts() == before
    assert db.session.get(PaymentAccount, account_id).status == AccountStatus.PENDING


def test_database_refuses_maker_as_checker_too(api: Any, world: World) -> None:
    _, account_id = pending_account(api, world, maker=world.board)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            update(PaymentAccount)
            .where(PaymentAccount.id == account_id)
            .values(status="approved", decided_by_id=world.board.id)
        )


def test_second_person_approves_and_qr_is_issued(api: Any, world: World) -> None:
    vendor, account_id = pending_account(api, world, maker=world.board)
    resp = api.post(world.helper, f"/api/v1/accounts/{account_id}/approve")
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "approved"
    assert resp.json["is_primary"] is True
    assert resp.json["decided_by_id"] == world.helper.id

    detail = api.get(world.board, f"/api/v1/vendors/{vendor['id']}").json
    assert detail["status"] == "active"  # a pending vendor becomes active
    qr = detail["qr"]
    assert VERIFY.match(qr["verify_code"])
    assert qr["account_id"] == account_id
    parsed = parse_payload(qr["payload"])
    assert (parsed.bank_bin, parsed.account_number) == ("970436", "1012345678")
    assert parsed.is_static
    assert parsed.purpose == vendor["reference"]
    # the transfer note, EMVCo 62.08, carries the reference
    assert f"08{len(vendor['reference']):02d}{vendor['reference']}" in qr["payload"]
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"account.approve", "qr.issue", "vendor.status"} <= actions


def test_officer_cannot_approve(api: Any, world: World) -> None:
    _, account_id = pending_account(api, world)
    before = counts()
    assert api.post(world.officer, f"/api/v1/accounts/{account_id}/approve").status_code == 403
    assert counts() == before


def test_board_cannot_approve_another_markets_account(api: Any, world: World) -> None:
    account = PaymentAccountFactory(vendor=VendorFactory(market=world.other_market))
    api.login(world.board)
    before = counts()
    assert api.post(world.board, f"/api/v1/accounts/{account.id}/approve").status_code == 404
    assert counts() == before


def test_new_account_replaces_the_old_one_and_revokes_its_code(api: Any, world: World) -> None:
    vendor, first_id = pending_account(api, world, maker=world.board)
    api.post(world.helper, f"/api/v1/accounts/{first_id}/approve")
    first_code = db.session.scalar(select(QrCode).where(QrCode.account_id == first_id))

    resp = api.post(
        world.board,
        f"/api/v1/vendors/{vendor['id']}/accounts",
        json={
            "bank_bin": "970405",
            "account_number": "3300 2050 12345",
            "account_name": "Nguyễn Thị Hường",
        },
    )
    assert resp.status_code == 201, resp.json
    second = resp.json
    assert second["status"] == "pending"
    assert second["account_number"] == "3300205012345"
    assert second["account_name"] == "NGUYỄN THỊ HƯỜNG"
    assert second["replaces_id"] == first_id
    # still paid into the old account until the new one is approved
    assert (
        api.get(world.board, f"/api/v1/vendors/{vendor['id']}").json["qr"]["account_id"] == first_id
    )

    assert api.post(world.helper, f"/api/v1/accounts/{second['id']}/approve").status_code == 200
    db.session.expire_all()
    first = db.session.get(PaymentAccount, first_id)
    assert first.status == AccountStatus.REPLACED and first.is_primary is False
    assert db.session.get(QrCode, first_code.id).revoked_at is not None
    detail = api.get(world.board, f"/api/v1/vendors/{vendor['id']}").json
    assert detail["qr"]["account_id"] == second["id"]
    assert parse_payload(detail["qr"]["payload"]).bank_bin == "970405"
    statuses = {a["id"]: a["status"] for a in detail["accounts"]}
    assert statuses == {first_id: "replaced", second["id"]: "approved"}
    live = db.session.scalars(
        select(QrCode).where(QrCode.vendor_id == vendor["id"], QrCode.revoked_at.is_(None))
    ).all()
    assert len(live) == 1


def test_same_account_twice_is_a_conflict(api: Any, world: World) -> None:
    vendor, _ = pending_account(api, world)
    before = counts()
    resp = api.post(
        world.board, f"/api/v1/vendors/{vendor['id']}/accounts", json=vendor_payload()["account"]
    )
    assert resp.status_code == 409
    assert counts() == before


def test_reject_needs_a_reason(api: Any, world: World) -> None:
    _, account_id = pending_account(api, world, maker=world.board)
    before = counts()
    resp = api.post(world.helper, f"/api/v1/accounts/{account_id}/reject", json={})
    assert resp.status_code == 422
    assert resp.json["error"]["details"]["reason"] == ["Chưa nhập lý do từ chối."]
    assert counts() == before
    resp = api.post(
        world.helper, f"/api/v1/accounts/{account_id}/reject", json={"reason": "Sai tên chủ TK"}
    )
    assert resp.status_code == 200
    assert resp.json["status"] == "rejected"
    assert resp.json["decision_reason"] == "Sai tên chủ TK"
    assert db.session.scalars(select(QrCode)).all() == []


def test_decided_account_cannot_be_decided_again(api: Any, world: World) -> None:
    _, account_id = pending_account(api, world, maker=world.board)
    assert api.post(world.helper, f"/api/v1/accounts/{account_id}/approve").status_code == 200
    api.login(world.admin)
    before = counts()
    assert api.post(world.admin, f"/api/v1/accounts/{account_id}/approve").status_code == 409
    resp = api.post(world.admin, f"/api/v1/accounts/{account_id}/reject", json={"reason": "x"})
    assert resp.status_code == 409
    assert counts() == before


def test_vendor_leaving_revokes_codes(api: Any, world: World) -> None:
    vendor, account_id = pending_account(api, world, maker=world.board)
    api.post(world.helper, f"/api/v1/accounts/{account_id}/approve")
    resp = api.patch(world.board, f"/api/v1/vendors/{vendor['id']}", json={"status": "left"})
    assert resp.status_code == 200
    assert resp.json["qr"] is None
    codes = db.session.scalars(select(QrCode).where(QrCode.vendor_id == vendor["id"])).all()
    assert codes and all(c.revoked_at is not None for c in codes)
    # nothing deleted: the vendor and the account are still there
    assert db.session.get(Vendor, vendor["id"]) is not None
    assert db.session.get(PaymentAccount, account_id).status == AccountStatus.APPROVED
    before = counts()
    resp = api.post(
        world.board,
        f"/api/v1/vendors/{vendor['id']}/accounts",
        json={"bank_bin": "970405", "account_number": "1", "account_name": "X"},
    )
    assert resp.status_code == 409
    assert counts() == before


def test_unknown_ids_are_404(api: Any, world: World) -> None:
    assert api.get(world.admin, "/api/v1/vendors/999999").status_code == 404
    assert api.post(world.admin, "/api/v1/accounts/999999/approve").status_code == 404
    assert api.get(world.admin, "/api/v1/markets/999999/vendors").status_code == 404
