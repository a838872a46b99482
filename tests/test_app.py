"""App factory, configuration and the database defaults."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chopay import create_app
from chopay.config import ConfigError
from chopay.extensions import db


def test_default_config_uses_sqlite_in_instance_folder_with_wal_and_foreign_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHOPAY_DATABASE_URL", raising=False)
    monkeypatch.delenv("CHOPAY_SECRET_KEY", raising=False)
    monkeypatch.delenv("CHOPAY_ENV", raising=False)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'chopay.db'}"
    with app.app_context():
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.execute(text("CREATE TABLE t (x INTEGER)"))
        db.session.commit()
        db.engine.dispose()
    con = sqlite3.connect(tmp_path / "chopay.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_secret_key_is_generated_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHOPAY_SECRET_KEY", raising=False)
    monkeypatch.delenv("CHOPAY_ENV", raising=False)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert len(first) >= 32
    assert first == second
    assert (tmp_path / "secret_key").read_text().strip() == first


def test_production_without_secret_key_is_a_clear_startup_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHOPAY_SECRET_KEY", raising=False)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    with pytest.raises(ConfigError, match="CHOPAY_SECRET_KEY"):
        create_app("production")


def test_production_with_secret_key_sets_secure_cookies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHOPAY_SECRET_KEY", "x" * 40)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_environment_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHOPAY_ENV", "staging")
    with pytest.raises(ConfigError, match="staging"):
        create_app()


def test_postgres_urls_use_psycopg3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHOPAY_DATABASE_URL", "postgresql://u@127.0.0.1/x")
    monkeypatch.delenv("CHOPAY_ENV", raising=False)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_requests_without_a_session_cookie_skip_the_cookie_signer(
    app: Any, client: Any, auth: Any, db: Any, monkeypatch: Any
) -> None:
    """API calls carry no cookie: no signing serializer is built for them; a browser
    session still opens, is signed and is read back."""
    from chopay.wiring import CookieSessions
    from tests.factories import MarketFactory, UserFactory

    built: list[int] = []
    real = CookieSessions.get_signing_serializer

    def counting(self: Any, application: Any) -> Any:
        built.append(1)
        return real(self, application)

    monkeypatch.setattr(CookieSessions, "get_signing_serializer", counting)
    user = UserFactory.board(MarketFactory())
    assert client.get("/api/v1/me", headers=auth.token_headers(user)).status_code == 200
    assert built == []
    assert auth.login(user).status_code == 302
    assert client.get("/api/v1/me").get_json()["id"] == user.id  # read back from the cookie
    assert built
