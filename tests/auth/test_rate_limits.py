"""Which endpoints the rate limiter meters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask_limiter import Limiter


def test_only_the_ledger_write_endpoints_skip_the_rate_limiter(
    fresh_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fresh_app(load_units=False, RATELIMIT_ENABLED=True)
    evaluated: list[str] = []
    real = Limiter._Limiter__evaluate_limits  # type: ignore[attr-defined]

    def spy(self: Any, endpoint: str, limits: Any) -> None:
        evaluated.append(endpoint)
        real(self, endpoint, limits)

    monkeypatch.setattr(Limiter, "_Limiter__evaluate_limits", spy)
    client = app.test_client()

    def consulted(method: str, path: str) -> int:
        evaluated.clear()
        client.open(path, method=method, json={})
        return len(evaluated)

    assert consulted("POST", "/api/v1/transactions") == 0
    assert consulted("POST", "/api/v1/webhooks/sepay") == 0
    assert consulted("GET", "/api/v1/me") >= 1
    assert consulted("POST", "/api/v1/verify") >= 1
    assert consulted("POST", "/login") >= 1


def test_the_limiter_hook_is_replaced_not_added(fresh_app: Callable[..., Flask]) -> None:
    from chopay.extensions import limiter

    app = fresh_app(load_units=False, RATELIMIT_ENABLED=True)
    hooks = app.before_request_funcs[None]
    assert limiter._check_request_limit not in hooks
    assert sum(getattr(h, "__name__", "") == "check_unless_unmetered" for h in hooks) == 1
