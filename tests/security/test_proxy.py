"""Behind a reverse proxy (CHOPAY_TRUSTED_PROXIES): the client's address comes from
X-Forwarded-For for the login rate limit and the audit trail, and only when the deployer
said a proxy is there; otherwise the header is a client's claim and is ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from chopay.audit.models import AuditEvent
from chopay.config import Config, ConfigError
from chopay.extensions import db as _db

PROXY = {"REMOTE_ADDR": "10.0.0.2"}  # nginx, as the app sees the connection
CLIENT = "203.0.113.7"
OTHER_CLIENT = "198.51.100.23"


def _failed_login(app: Flask, forwarded_for: str) -> int:
    client = app.test_client()
    return client.post(
        "/login",
        data={"username": "no.such.user", "password": "wrong password"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base=PROXY,
    ).status_code


def _audited_addresses(app: Flask) -> list[str | None]:
    with app.app_context():
        try:
            return list(
                _db.session.scalars(
                    select(AuditEvent.ip_address).where(AuditEvent.action == "login.failed")
                )
            )
        finally:
            _db.session.remove()


def test_the_setting_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHOPAY_TRUSTED_PROXIES", raising=False)
    assert Config.from_env(str(tmp_path))["TRUSTED_PROXIES"] == 0
    monkeypatch.setenv("CHOPAY_TRUSTED_PROXIES", " 2 ")
    assert Config.from_env(str(tmp_path))["TRUSTED_PROXIES"] == 2
    for bad in ("yes", "-1", "1.5", "99", "٢"):
        monkeypatch.setenv("CHOPAY_TRUSTED_PROXIES", bad)
        with pytest.raises(ConfigError, match="CHOPAY_TRUSTED_PROXIES"):
            Config.from_env(str(tmp_path))


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(fresh_app: Any) -> None:
    app = fresh_app(load_units=False, RATELIMIT_ENABLED=True, TRUSTED_PROXIES=1)
    assert _failed_login(app, CLIENT) == 401
    assert _audited_addresses(app) == [CLIENT]
    # one bucket per client, not one shared by everyone behind nginx
    answers = [_failed_login(app, CLIENT) for _ in range(20)]
    assert answers[-1] == 429 and set(answers[:19]) == {401}
    assert _failed_login(app, OTHER_CLIENT) == 401
    # only the hop nginx appended is trusted: what the client wrote before it is not
    assert _failed_login(app, f"{OTHER_CLIENT}, {CLIENT}") == 429


def test_without_trusted_proxies_the_header_is_ignored(fresh_app: Any) -> None:
    app = fresh_app(load_units=False, RATELIMIT_ENABLED=True)
    assert app.config["TRUSTED_PROXIES"] == 0
    assert _failed_login(app, CLIENT) == 401
    assert _audited_addresses(app) == [PROXY["REMOTE_ADDR"]]
    # a new forged address on every try does not buy a new rate-limit bucket
    answers = [_failed_login(app, f"192.0.2.{i}") for i in range(1, 21)]
    assert answers[-1] == 429 and set(answers[:19]) == {401}
