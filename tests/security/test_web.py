"""Web security: CSRF on every form and on browser API writes, cookie flags, a CSP with no
inline script or style on every page, the usual headers, login lock-out with its audit
trail, password rules and revocable tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from chopay import create_app
from chopay.audit.models import AuditEvent
from chopay.auth.models import ApiToken, User
from chopay.auth.services import create_token, validate_password
from chopay.errors import InvalidInputError
from chopay.extensions import db as _db
from tests.conftest import build_app, load_test_units, new_database_url
from tests.factories import PASSWORD, UserFactory
from tests.security.test_access_matrix import (
    CSRF_RAW,
    TABLE,
    Case,
    _writes,
    csrf_header,
)
from tests.security.test_pages import check_headers
from tests.security.world import World, build_world

# --- CSRF ---------------------------------------------------------------------------------


class CsrfSite:
    """An app with CSRF protection on (as in production) and the security world in it."""

    def __init__(self, app: Flask, world: World) -> None:
        self.app, self.world = app, world

    def client(self, role: str | None = "admin") -> FlaskClient:
        client = self.app.test_client()
        with client.session_transaction() as session:
            session["csrf_token"] = CSRF_RAW
            if role is not None:
                session["_user_id"] = str(self.world.users[role])
                session["_fresh"] = True
        return client

    def token(self) -> str:
        return csrf_header(self.app)["X-CSRFToken"]


@pytest.fixture(scope="module")
def csrf_site(_session_dir: Path) -> Iterator[CsrfSite]:
    url, drop = new_database_url(_session_dir)
    app = build_app(url, str(_session_dir / "instance"), WTF_CSRF_ENABLED=True)
    load_test_units(app)
    with app.app_context():
        world = build_world()
        _db.session.commit()
        _db.session.remove()
    yield CsrfSite(app, world)
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    drop()


def _post_rules(app: Flask, *, api: bool) -> list[tuple[str, Case]]:
    """(endpoint, case) for every write route of the url map (pages or API), from TABLE."""
    writes = []
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) - {"GET", "HEAD", "OPTIONS"}
        if not methods or rule.rule.startswith("/api/") != api:
            continue
        for case in TABLE[rule.endpoint]:
            if case.method in methods:
                writes.append((rule.endpoint, case))
    return writes


def _in_app(site: CsrfSite, fn: Any) -> Any:
    with site.app.app_context():
        try:
            return fn()
        finally:
            _db.session.remove()


def test_every_form_post_refuses_a_missing_csrf_token(csrf_site: CsrfSite) -> None:
    """Every non-API POST route: without the token 400 and nothing written; with it, the
    request goes through to the view (whatever the view then answers)."""
    world = csrf_site.world
    writes = _post_rules(csrf_site.app, api=False)
    assert len(writes) >= 20
    checked = []
    for endpoint, case in writes:
        scope = world.scopes["in"]
        url = case.url(scope, world, "admin")
        body = case.body(scope, world) if case.body else {"data": {}}
        role = None if case.keyed == "public" else "admin"
        before = _in_app(csrf_site, _writes)
        resp = csrf_site.client(role).open(url, method=case.method, **body)
        assert resp.status_code == 400, f"{endpoint}: {resp.status_code} without a CSRF token"
        assert _in_app(csrf_site, _writes) == before, f"{endpoint} wrote without a token"
        body = case.body(scope, world) if case.body else {"data": {}}
        body["data"] = {**body["data"], "csrf_token": csrf_site.token()}
        resp = csrf_site.client(role).open(url, method=case.method, **body)
        assert resp.status_code != 400, f"{endpoint}: refused although the token was sent"
        checked.append(endpoint)
    print(f"\nCSRF: {len(checked)} form POST routes checked")  # the figure for the issue note


def test_browser_api_writes_need_the_csrf_header_and_tokens_do_not(csrf_site: CsrfSite) -> None:
    world = csrf_site.world
    checked = 0
    for endpoint, case in _post_rules(csrf_site.app, api=True):
        if case.keyed == "public":
            continue  # verify and webhooks act for nobody's session
        scope = world.scopes["out" if case.keyed == "self" else "in"]
        url = case.url(scope, world, "admin")

        def call(headers: dict[str, str], role: str | None = "admin") -> Any:
            body = case.body(scope, world) if case.body else {}  # noqa: B023
            extra = {**body.pop("headers", {}), **headers}
            return csrf_site.client(role).open(url, method=case.method, headers=extra, **body)  # noqa: B023

        before = _in_app(csrf_site, _writes)
        refused = call({})
        assert refused.status_code == 400, f"{endpoint}: session write without X-CSRFToken"
        assert refused.get_json()["error"]["code"] == "bad_request"
        assert _in_app(csrf_site, _writes) == before, f"{endpoint} wrote without a token"
        with_header = call({"X-CSRFToken": csrf_site.token()})
        assert with_header.status_code not in (400, 401, 403), endpoint
        bearer = call({"Authorization": f"Bearer {world.tokens['admin']}"}, role=None)
        assert bearer.status_code not in (400, 401, 403), endpoint
        checked += 1
    assert checked >= 15


def _session_cookie(resp: Any) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_real_login_sets_an_httponly_samesite_lax_cookie(csrf_site: CsrfSite) -> None:
    """The whole browser flow: the form's token, the password, the cookie flags."""
    with csrf_site.app.app_context():
        UserFactory(username="cookie.admin")
        _db.session.commit()
        _db.session.remove()
    client = csrf_site.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    resp = client.post(
        "/login",
        data={"username": "cookie.admin", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert resp.status_code == 302
    cookie = _session_cookie(resp)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development and tests
    assert client.get("/dashboard").status_code == 200


def test_production_cookies_are_secure_and_https_is_enforced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHOPAY_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CHOPAY_DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    app = create_app("production")
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert app.config.get("RATELIMIT_ENABLED", True) is True
    resp = app.test_client().get("/login", base_url="https://chopay.example")
    cookie = _session_cookie(resp)  # the login form's CSRF secret lives in the session
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    with app.app_context():
        _db.engine.dispose()


# --- headers ----------------------------------------------------------------------------


def test_error_and_api_answers_carry_the_headers_too(client: FlaskClient) -> None:
    for path in ("/no-such-page", "/api/v1/no-such-thing", "/api/v1/me", "/healthz"):
        resp = client.get(path)
        assert not check_headers(resp, path), path
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"


# --- login: rate limit, lock-out, audit -------------------------------------------------------


def _events(db: Any, user_id: int | None = None) -> list[tuple[str, str | None]]:
    stmt = select(AuditEvent.action, AuditEvent.ip_address).where(AuditEvent.action.like("login%"))
    if user_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == str(user_id))
    return [tuple(r) for r in db.session.execute(stmt.order_by(AuditEvent.id))]


def test_logins_failures_and_lock_out_are_audited_with_the_address(
    client: FlaskClient, db: Any
) -> None:
    user = UserFactory(username="lock.me")
    db.session.commit()
    ip = {"REMOTE_ADDR": "203.0.113.9"}
    assert (
        client.post(
            "/login", data={"username": "lock.me", "password": PASSWORD}, environ_base=ip
        ).status_code
        == 302
    )
    client.post("/logout")
    for _ in range(5):
        resp = client.post(
            "/login", data={"username": "lock.me", "password": "wrong"}, environ_base=ip
        )
        assert resp.status_code == 401
    locked = client.post(
        "/login", data={"username": "lock.me", "password": PASSWORD}, environ_base=ip
    )
    assert locked.status_code == 401 and "tạm khóa" in locked.get_data(as_text=True)
    actions = _events(db, user.id)
    assert [a for a, _ in actions] == ["login", *["login.failed"] * 5, "login.locked"]
    assert {address for _, address in actions} == {"203.0.113.9"}
    # the lock holds for that address only: the owner, elsewhere, still gets in
    assert (
        client.post("/login", data={"username": "lock.me", "password": PASSWORD}).status_code == 302
    )
    unknown = client.post("/login", data={"username": "no.such.user", "password": "x" * 9})
    assert unknown.status_code == 401
    assert db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "login.failed", AuditEvent.entity_id.is_(None))
    )


def test_login_is_rate_limited_per_address_with_a_retry_hint(fresh_app: Any) -> None:
    app = fresh_app(load_units=False, RATELIMIT_ENABLED=True)
    client = app.test_client()
    answers = [
        client.post("/login", data={"username": "x", "password": "y"}).status_code
        for _ in range(21)
    ]
    assert answers[-1] == 429 and set(answers[:20]) == {401}
    other = client.post(
        "/login",
        data={"username": "x", "password": "y"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert other.status_code == 401  # the limit is per address, not global


def test_rate_limits_are_kept_in_redis_when_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several gunicorn workers must share one count: Redis when CHOPAY_REDIS_URL is set."""
    from chopay.config import Config

    monkeypatch.setenv("CHOPAY_REDIS_URL", "redis://127.0.0.1:6379/3")
    assert Config.from_env(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    monkeypatch.delenv("CHOPAY_REDIS_URL")
    assert Config.from_env(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"


# --- passwords and tokens --------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "short1",  # under 8 characters
        "nguyenvana",  # the username
        "11111111",
        "12121212",
        "12345678",
        "87654321",
        "password",
        "Password1",
        "matkhau123",
        "abcdefgh",
        "qwertyui",
    ],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        validate_password(password, username="nguyenvana")
    assert exc.value.details and exc.value.details["password"]


@pytest.mark.parametrize("password", ["correct horse battery", "Chợ Đại Từ 2025!", "k9#mQ2vL"])
def test_reasonable_passwords_are_accepted(password: str) -> None:
    validate_password(password, username="nguyenvana")


def test_revoked_and_deactivated_tokens_stop_working_at_once(client: FlaskClient, db: Any) -> None:
    owner = UserFactory()
    row, token = create_token(owner)
    _, other = create_token(owner)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    resp = client.post(f"/api/v1/tokens/{row.id}/revoke", headers=headers)
    assert resp.status_code == 200 and resp.get_json()["revoked_at"]
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    other_headers = {"Authorization": f"Bearer {other}"}
    assert client.get("/api/v1/me", headers=other_headers).status_code == 200
    owner.is_active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=other_headers).status_code == 401
    revoked = db.session.scalar(select(ApiToken).where(ApiToken.id == row.id))
    assert revoked is not None and revoked.revoked_at is not None
    assert db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "token.revoke", AuditEvent.entity_id == str(row.id))
    )
    assert isinstance(owner, User)
