"""The app answers plainly when the database is down and limits login attempts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask

from chopay import create_app
from tests.factories import PASSWORD


def _app_without_database(tmp_path: Path) -> Flask:
    # Nothing listens on port 1: every connection attempt fails at once.
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        }
    )
    app.instance_path = str(tmp_path)
    return app


def test_database_down_gives_503_page_with_retry_hint(tmp_path: Path) -> None:
    client = _app_without_database(tmp_path).test_client()
    resp = client.get("/healthz", headers={"Accept": "text/html"})
    assert resp.status_code == 503
    assert resp.headers["Retry-After"].isdigit()
    body = resp.get_data(as_text=True)
    assert "cơ sở dữ liệu" in body
    assert "Traceback" not in body and "psycopg" not in body


def test_database_down_gives_503_json_on_the_api(tmp_path: Path) -> None:
    client = _app_without_database(tmp_path).test_client()
    resp = client.get("/api/v1/me", headers={"Authorization": "Bearer cp_whatever"})
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "unavailable"
    assert int(resp.headers["Retry-After"]) > 0


def test_login_attempts_are_rate_limited(fresh_app: Callable[..., Flask]) -> None:
    app = fresh_app(load_units=False, RATELIMIT_ENABLED=True)
    from chopay.auth.services import create_user
    from chopay.extensions import db

    with app.app_context():
        create_user(username="limited", role="admin", password=PASSWORD)
        db.session.commit()
    client = app.test_client()
    statuses = [
        client.post("/login", data={"username": "limited", "password": "wrong"}).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    last = client.post("/login", data={"username": "limited", "password": PASSWORD})
    assert last.status_code == 429
    assert "Retry-After" in last.headers
    assert "Quá nhiều yêu cầu" in last.get_data(as_text=True)
