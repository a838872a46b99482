"""Which endpoints the rate limiter looks at."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("method", "path", "skipped"),
    [
        ("POST", "/api/v1/transactions", True),
        ("POST", "/api/v1/webhooks/sepay", True),
        ("POST", "/login", False),
        ("POST", "/api/v1/verify", False),
        ("GET", "/api/v1/me", False),
    ],
)
def test_only_the_ledger_write_endpoints_skip_the_rate_limiter(
    app: Any, method: str, path: str, skipped: bool
) -> None:
    from chopay.auth import access

    with app.test_request_context(path, method=method):
        assert access._skip_limiter_when_unmetered() is skipped
