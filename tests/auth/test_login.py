"""Login pages, lockout, tokens and the authentication gate."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from chopay.audit.models import AuditEvent
from chopay.auth.models import ApiToken, User
from tests.factories import PASSWORD, MarketFactory, UserFactory


def test_login_page_is_vietnamese_by_default(client: Any) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Tên đăng nhập" in html and "Mật khẩu" in html


def test_english_can_be_chosen(client: Any) -> None:
    page = client.get("/login?lang=en")
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert "Log in" in page.get_data(as_text=True)
    # the choice sticks for the session
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_pages_need_login_and_redirect_back_after(client: Any, db: Any) -> None:
    user = UserFactory()
    resp = client.get("/dashboard")
    assert resp.status_code == 302
    assert "/login?next=/dashboard" in resp.headers["Location"]
    resp = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "next": "/dashboard"}
    )
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert user.full_name in page.get_data(as_text=True)


def test_login_refuses_offsite_next(client: Any, db: Any) -> None:
    user = UserFactory()
    resp = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert resp.headers["Location"].endswith("/dashboard")


def test_wrong_password_says_so_and_is_audited(client: Any, db: Any) -> None:
    user = UserFactory()
    resp = client.post("/login", data={"username": user.username, "password": "wrong-one"})
    assert resp.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in resp.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    failed = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "login.failed", AuditEvent.entity_id == str(user.id))
    )
    assert failed == 1


def test_five_failures_lock_the_account_even_for_the_right_password(client: Any, db: Any) -> None:
    user = UserFactory()
    for _ in range(5):
        client.post("/login", data={"username": user.username, "password": "nope-nope"})
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 401
    assert "tạm khóa" in resp.get_data(as_text=True)


def test_logout_ends_the_session(client: Any, auth: Any, db: Any) -> None:
    user = UserFactory()
    auth.login(user)
    assert client.get("/dashboard").status_code == 200
    auth.logout()
    assert client.get("/dashboard").status_code == 302


def test_logout_needs_post(client: Any, auth: Any, db: Any) -> None:
    auth.login(UserFactory())
    assert client.get("/logout").status_code == 405
    assert client.get("/dashboard").status_code == 200


def test_api_requires_token_with_json_error(client: Any, db: Any) -> None:
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    body = resp.get_json()
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["message"]


def test_api_accepts_a_bearer_token_and_rejects_a_revoked_one(
    client: Any, auth: Any, db: Any
) -> None:
    market = MarketFactory()
    user = UserFactory.board(market)
    headers = auth.token_headers(user)
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.get_json()["role"] == "board"
    assert me.get_json()["market_id"] == market.id
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    assert client.post(f"/api/v1/tokens/{token_id}/revoke", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_tokens_are_stored_hashed(db: Any) -> None:
    from chopay.auth.services import create_token

    user = UserFactory()
    row, token = create_token(user)
    assert token not in (row.token_hash, row.prefix)
    assert len(row.token_hash) == 64


def test_inactive_user_cannot_use_token(client: Any, auth: Any, db: Any) -> None:
    user = UserFactory()
    headers = auth.token_headers(user)
    user.is_active = False
    db.session.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_password_is_hashed(db: Any) -> None:
    user = db.session.scalar(select(User).where(User.id == UserFactory().id))
    assert PASSWORD not in user.password_hash


def test_security_headers_present(client: Any) -> None:
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_unknown_page_is_a_plain_vietnamese_404(client: Any, auth: Any, db: Any) -> None:
    auth.login(UserFactory())
    resp = client.get("/khong-co-trang-nay")
    assert resp.status_code == 404
    assert "Không tìm thấy" in resp.get_data(as_text=True)


def test_unknown_api_path_is_json_404(client: Any, auth: Any, db: Any) -> None:
    resp = client.get("/api/v1/nothing-here", headers=auth.token_headers(UserFactory()))
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_openapi_document_is_served(client: Any) -> None:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/me" in doc["paths"]


# --- failed logins tell nothing about the account -----------------------------------------


def _failed_page(resp: Any, username: str) -> str:
    assert resp.status_code == 401
    page = resp.get_data(as_text=True).replace(username, "<username>")
    # The form's CSRF token is signed with a timestamp (one-second resolution): pages
    # rendered in different seconds differ there and nowhere else that matters.
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', page)


def _try(client: Any, username: str, password: str, address: str = "203.0.113.9") -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_locked_account_answers_exactly_like_an_unknown_username(client: Any, db: Any) -> None:
    """Unknown names are never locked: a lock-out message of its own would tell anyone who
    tries a name six times that the account exists."""
    locked = UserFactory(username="khoa.thu")
    other = UserFactory(username="sai.mk")
    for _ in range(5):
        _try(client, "khoa.thu", "nope-nope")
        _try(client, "khong.co", "nope-nope")
    pages = {
        "locked, right password": _failed_page(_try(client, "khoa.thu", PASSWORD), "khoa.thu"),
        "locked, wrong password": _failed_page(_try(client, "khoa.thu", "nope-nope"), "khoa.thu"),
        "unknown username": _failed_page(_try(client, "khong.co", PASSWORD), "khong.co"),
        "wrong password": _failed_page(_try(client, other.username, "nope-nope"), "sai.mk"),
    }
    lock_refusals = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "login.locked", AuditEvent.entity_id == str(locked.id))
    )
    assert lock_refusals == 2  # the account really was locked for the first two
    assert len(set(pages.values())) == 1, pages.keys()
    page = pages["unknown username"]
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in page and "tạm khóa 15 phút" in page


def test_the_failed_login_message_is_translated(client: Any, db: Any) -> None:
    client.get("/login?lang=en")
    page = _failed_page(_try(client, "khong.co", "nope-nope"), "khong.co")
    assert "Wrong username or password" in page and "Tên đăng nhập" not in page


@pytest.mark.parametrize(
    "case",
    [
        "unknown username",
        "wrong password",
        "locked account",
    ],
)
def test_every_failed_login_costs_one_password_hash(
    client: Any, db: Any, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """The time a failed login takes must not say which kind of failure it was."""
    from chopay.auth import services

    user = UserFactory(username="dem.hash")
    if case == "locked account":
        for _ in range(5):
            _try(client, "dem.hash", "nope-nope")
    calls: list[str] = []
    real = services.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    username = "khong.co" if case == "unknown username" else user.username
    _failed_page(_try(client, username, "nope-nope"), username)
    assert len(calls) == 1


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(
    client: Any, db: Any
) -> None:
    UserFactory(username="nan.nhan")
    for _ in range(6):
        _failed_page(_try(client, "nan.nhan", "nope-nope", "198.51.100.66"), "nan.nhan")
    assert _try(client, "nan.nhan", PASSWORD, "203.0.113.9").status_code == 302
