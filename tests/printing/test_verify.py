"""Stand verification (public page and API) and the board's re-scan audit (page and API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from chopay.audit.models import AuditEvent
from chopay.extensions import db, limiter
from chopay.vendors.models import AccountStatus, VendorStatus
from chopay.vietqr import build_payload
from tests.factories import PaymentAccountFactory, UserFactory
from tests.printing.conftest import Stands, add_vendor, issue_code, revoke, stand_code

VERIFY = "/api/v1/verify"


def tampered(payload: str) -> str:
    return payload[:-4] + ("0000" if payload[-4:] != "0000" else "FFFF")


def replace_account(stands: Stands) -> str:
    """The vendor's account is replaced (maker-checker done): returns the old payload."""
    old = stand_code(stands.vendor)
    old.account.status = AccountStatus.REPLACED
    old.account.is_primary = False
    revoke(old)
    account = PaymentAccountFactory(
        vendor=stands.vendor,
        status=AccountStatus.APPROVED,
        is_primary=True,
        decided_by_id=UserFactory().id,
    )
    issue_code(account)
    return old.payload


# --- POST /api/v1/verify -----------------------------------------------------------------


def test_verify_api_is_public_and_says_whose_account(client: Any, stands: Stands) -> None:
    resp = client.post(VERIFY, json={"payload": stand_code(stands.vendor).payload})
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["status"] == "ok"
    assert body["message"].startswith("Hợp lệ")
    assert body["vendor"] == {
        "id": stands.vendor.id,
        "name": "Nguyễn Thị Hường",
        "stall": "A-12",
        "market": {"id": stands.market.id, "name": "Chợ Trung tâm Đại Từ"},
    }
    assert body["bank"] == {"bin": "970436", "short_name": "Vietcombank"}
    assert body["account_number_masked"] == "•••• 3456"
    assert body["is_exact_payload"] is True
    assert body["scanned"]["amount"] is None


def test_verify_api_leaks_nothing_beyond_the_stand(client: Any, stands: Stands) -> None:
    stands.vendor.phone = "0912345678"
    stands.vendor.id_number_masked = "********2345"
    db.session.flush()
    text = client.post(VERIFY, json={"payload": stand_code(stands.vendor).payload}).get_data(
        as_text=True
    )
    for secret in ("0011004123456", "0912345678", "********", stands.vendor.reference, "ABCDEF"):
        assert secret not in text


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"stall": "A-12"}, "ok"),
        ({"stall": "a 12"}, "ok"),
        ({"stall": "A-13"}, "mismatch"),
        ({"market_id": "other"}, "mismatch"),
        ({"market_id": "own"}, "ok"),
        ({"vendor_id": "neighbour"}, "mismatch"),
        ({"vendor_id": "own", "stall": "A-12"}, "ok"),
    ],
)
def test_verify_api_compares_with_where_the_stand_was_found(
    client: Any, stands: Stands, extra: dict[str, Any], status: str
) -> None:
    ids = {
        "other": stands.other_market.id,
        "own": stands.vendor.id if "vendor_id" in extra else stands.market.id,
        "neighbour": stands.neighbour.id,
    }
    body = {k: ids.get(v, v) for k, v in extra.items()}
    resp = client.post(VERIFY, json={"payload": stand_code(stands.vendor).payload, **body})
    assert resp.status_code == 200
    assert resp.json["status"] == status
    if status == "mismatch":
        assert resp.json["vendor"]["stall"] == "A-12"  # where the account is registered
        assert "quầy khác" in resp.json["message"]


def test_verify_api_unknown_account(client: Any, stands: Stands) -> None:
    resp = client.post(VERIFY, json={"payload": build_payload("970422", "777766665555")})
    assert resp.status_code == 200
    body = resp.json
    assert body["status"] == "unknown_account"
    assert "vendor" not in body and "account_name" not in body
    assert body["scanned"]["bank"]["short_name"] == "MB Bank"
    assert body["scanned"]["account_number_masked"] == "•••• 5555"


def test_verify_api_revoked_after_account_replaced(client: Any, stands: Stands) -> None:
    old = replace_account(stands)
    body = client.post(VERIFY, json={"payload": old}).json
    assert body["status"] == "revoked"
    assert body["message"] == "Mã này đã bị thu hồi — không thanh toán."
    assert "vendor" not in body
    new = client.post(VERIFY, json={"payload": stand_code(stands.vendor).payload}).json
    assert new["status"] == "ok"


def test_verify_api_suspended_vendor(client: Any, stands: Stands) -> None:
    stands.vendor.status = VendorStatus.SUSPENDED
    db.session.flush()
    body = client.post(VERIFY, json={"payload": stand_code(stands.vendor).payload}).json
    assert body["status"] == "suspended"


def test_verify_api_dynamic_payload(client: Any, stands: Stands, api: Any) -> None:
    sale = api.get(stands.vendor_user, f"/api/v1/vendors/{stands.vendor.id}/qr?amount=30000").json
    body = client.post(VERIFY, json={"payload": sale["payload"]}).json
    assert body["status"] == "ok"
    assert body["scanned"] == {
        "bank": {"bin": "970436", "short_name": "Vietcombank"},
        "account_number_masked": "•••• 3456",
        "amount": 30_000,
        "is_dynamic": True,
    }


def test_verify_api_tampered_crc_is_422_on_payload(client: Any, stands: Stands) -> None:
    resp = client.post(VERIFY, json={"payload": tampered(stand_code(stands.vendor).payload)})
    assert resp.status_code == 422
    error = resp.json["error"]
    assert error["code"] == "invalid_input"
    assert list(error["details"]) == ["payload"]
    assert "63 (CRC)" in error["details"]["payload"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payload": "hello"}, "payload"),
        ({"payload": "00020101021138"}, "payload"),
        ({"payload": ""}, "payload"),
        ({"payload": 12345}, "payload"),
        ({"payload": None}, "payload"),
        ({}, "payload"),
        ({"payload": "x" * 1001}, "payload"),
        ({"payload": "000201", "vendor_id": "abc"}, "vendor_id"),
        ({"payload": "000201", "market_id": 1.5}, "market_id"),
        ({"payload": "000201", "surprise": 1}, "surprise"),
    ],
)
def test_verify_api_bad_input_is_422(
    client: Any, stands: Stands, body: dict[str, Any], field: str
) -> None:
    resp = client.post(VERIFY, json=body)
    assert resp.status_code == 422, resp.json
    assert field in resp.json["error"]["details"]


def test_verify_api_non_json_body_is_not_a_500(client: Any, stands: Stands) -> None:
    resp = client.post(VERIFY, data="payload=abc", content_type="text/plain")
    assert resp.status_code in (415, 422)


def test_verify_api_is_rate_limited(fresh_app: Callable[..., Flask]) -> None:
    # The Limiter object is shared by every app in the process and init_app() flips its
    # ``enabled`` flag for all of them: put it back, or later tests would be rate-limited.
    was_enabled = limiter.enabled
    app = fresh_app(load_units=False, RATELIMIT_ENABLED=True)
    try:
        client = app.test_client()
        payload = build_payload("970436", "123456")
        codes = [client.post(VERIFY, json={"payload": payload}).status_code for _ in range(31)]
        assert codes[:30] == [200] * 30
        assert codes[30] == 429
        last = client.post(VERIFY, json={"payload": payload})
        assert last.json["error"]["code"] == "too_many_requests"
        assert "Retry-After" in last.headers
        pages = [client.get("/verify/ABCDEF").status_code for _ in range(31)]
        assert pages[:30] == [404] * 30
        assert pages[30] == 429
    finally:
        with app.app_context():
            limiter.reset()
        limiter.enabled = was_enabled


# --- public pages ------------------------------------------------------------------------


def test_verify_form_page_is_public(client: Any, stands: Stands) -> None:
    resp = client.get("/verify")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Kiểm tra bảng QR" in html
    assert 'name="code"' in html and 'name="payload"' in html


@pytest.mark.parametrize("typed", ["ABCDEF", "abc-def", "ABC-DEF", "abc%20def"])
def test_verify_page_ok_in_big_plain_words(client: Any, stands: Stands, typed: str) -> None:
    resp = client.get(f"/verify/{typed}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-status="ok"' in html
    assert "✓" in html and "Bảng QR hợp lệ" in html
    for part in ("Nguyễn Thị Hường", "A-12", "Chợ Trung tâm Đại Từ", "Vietcombank", "•••• 3456"):
        assert part in html
    assert "0011004123456" not in html
    assert stands.vendor.reference not in html


def test_verify_form_redirects_a_typed_code(client: Any, stands: Stands) -> None:
    resp = client.get("/verify?code=abc-def")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/verify/ABCDEF")


def test_verify_form_with_malformed_code(client: Any, stands: Stands) -> None:
    resp = client.get("/verify?code=hello")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "CẢNH BÁO" in html and "6 chữ và số" in html


def test_verify_page_unknown_code_warns(client: Any, stands: Stands) -> None:
    resp = client.get("/verify/XYZ-XYZ")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "CẢNH BÁO" in html and "Không thanh toán" in html
    assert 'data-status="unknown_code"' in html


def test_verify_page_revoked_code_warns(client: Any, stands: Stands) -> None:
    revoke(stand_code(stands.vendor))
    resp = client.get("/verify/ABC-DEF")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Mã này đã bị thu hồi — không thanh toán" in html
    assert "Nguyễn Thị Hường" not in html


def test_verify_page_suspended_vendor_warns(client: Any, stands: Stands) -> None:
    stands.vendor.status = VendorStatus.SUSPENDED
    db.session.flush()
    html = client.get("/verify/ABCDEF").get_data(as_text=True)
    assert 'data-status="suspended"' in html and "tạm ngừng" in html


def test_verify_page_with_pasted_payload(client: Any, stands: Stands) -> None:
    payload = stand_code(stands.vendor).payload
    ok = client.post("/verify", data={"payload": payload, "stall": "A-12"})
    assert ok.status_code == 200
    assert 'data-status="ok"' in ok.get_data(as_text=True)
    wrong = client.post("/verify", data={"payload": payload, "stall": "B-7"})
    html = wrong.get_data(as_text=True)
    assert 'data-status="mismatch"' in html and "Tài khoản này đăng ký cho" in html
    unknown = client.post("/verify", data={"payload": build_payload("970436", "4455")})
    assert 'data-status="unknown_account"' in unknown.get_data(as_text=True)
    bad = client.post("/verify", data={"payload": tampered(payload)})
    assert bad.status_code == 422
    assert "không phải mã VietQR hợp lệ" in bad.get_data(as_text=True)


def test_public_pages_need_no_login_but_stay_plain(client: Any, stands: Stands) -> None:
    html = client.get("/verify/ABCDEF").get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html
    assert 'class="mainnav"' not in html  # anonymous: no menu


# --- re-scan audit -----------------------------------------------------------------------


def rescan_url(stands: Stands, api: bool = False) -> str:
    return ("/api/v1" if api else "") + f"/markets/{stands.market.id}/rescan"


def test_rescan_api_lists_and_logs(api: Any, stands: Stands) -> None:
    items = [
        {"stall": "A-12", "payload": stand_code(stands.vendor).payload},
        {"stall": "A-12", "payload": stand_code(stands.neighbour).payload},
        {"payload": build_payload("970436", "8888")},
        {"stall": "A-14", "payload": "garbage"},
    ]
    resp = api.post(stands.board, rescan_url(stands, api=True), json={"items": items})
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert [i["status"] for i in body["items"]] == ["ok", "mismatch", "unknown_account", "invalid"]
    assert body["counts"]["mismatch"] == 1 and body["counts"]["ok"] == 1
    assert body["items"][1]["registered"]["stall"] == "A-13"
    assert body["items"][3]["reason"]
    assert [v["stall"] for v in body["not_scanned"]] == ["A-13"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stand.rescan")).one()
    assert event.actor_id == stands.board.id
    assert event.new_values["counts"] == body["counts"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "items"),
        ({"items": []}, "items"),
        ({"items": [{"stall": "A-1"}]}, "items"),
        ({"items": "abc"}, "items"),
    ],
)
def test_rescan_api_bad_input(api: Any, stands: Stands, body: Any, field: str) -> None:
    resp = api.post(stands.board, rescan_url(stands, api=True), json=body)
    assert resp.status_code == 422
    assert field in resp.json["error"]["details"]
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "stand.rescan")
    ).all()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("board", 200),
        ("officer", 200),
        ("admin", 200),
        ("helper", 403),
        ("vendor_user", 403),
        ("other_board", 404),
        ("other_officer", 404),
    ],
)
def test_rescan_permissions(api: Any, stands: Stands, who: str, status: int) -> None:
    items = [{"payload": stand_code(stands.vendor).payload}]
    resp = api.post(getattr(stands, who), rescan_url(stands, api=True), json={"items": items})
    assert resp.status_code == status


def test_rescan_api_needs_login(api: Any, stands: Stands) -> None:
    resp = api.post(None, rescan_url(stands, api=True), json={"items": [{"payload": "x"}]})
    assert resp.status_code == 401


def test_rescan_page_batch(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.board)
    page = client.get(rescan_url(stands))
    assert page.status_code == 200
    assert 'name="lines"' in page.get_data(as_text=True)
    a12 = stand_code(stands.vendor).payload
    a13 = stand_code(stands.neighbour).payload
    lines = f"A-12\t{a12}\nA-12 {a13}\n\nA-13;{a13}\n{tampered(a12)}\n"
    resp = client.post(rescan_url(stands), data={"lines": lines})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.count('data-status="ok"') == 2
    assert html.count('data-status="mismatch"') == 1
    assert html.count('data-status="invalid"') == 1
    assert "Sai quầy" in html and "Không đọc được" in html
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stand.rescan")).one()
    assert [p["line"] for p in event.new_values["problems"]] == [2, 5]


def test_rescan_page_one_stall_at_a_time(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.officer)
    payload = stand_code(stands.neighbour).payload
    resp = client.post(rescan_url(stands), data={"stall": "A-12", "payload": payload})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-status="mismatch"' in html and "Quầy A-13" in html


def test_rescan_page_empty_is_422(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.board)
    resp = client.post(rescan_url(stands), data={"lines": "  \n"})
    assert resp.status_code == 422
    assert "Chưa có mã nào được quét" in resp.get_data(as_text=True)


def test_rescan_page_refused_to_helpers(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.helper)
    assert client.get(rescan_url(stands)).status_code == 403
    assert client.post(rescan_url(stands), data={"lines": "x"}).status_code == 403


def test_rescan_of_a_market_with_a_left_vendor(api: Any, stands: Stands) -> None:
    gone = add_vendor(stands.market, "A-30")
    code = stand_code(gone)
    gone.status = VendorStatus.LEFT
    revoke(code)
    items = [{"stall": "A-30", "payload": code.payload}]
    body = api.post(stands.board, rescan_url(stands, api=True), json={"items": items}).json
    assert body["items"][0]["status"] == "revoked"
