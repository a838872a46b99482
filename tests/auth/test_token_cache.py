"""API tokens: what a worker process keeps of a token between requests, and for how long."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select, text

from chopay.auth import services as auth_services
from chopay.auth.models import ApiToken
from tests.factories import MarketFactory, UserFactory

ME = "/api/v1/me"


class Clock:
    """Stands in for time.monotonic in chopay.auth.services."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(auth_services.time, "monotonic", fake)
    return fake


def _revoke_behind_our_back(db: Any, user: Any) -> None:
    """What another worker process does: a write this process's ORM never sees."""
    db.session.execute(
        text("UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP WHERE user_id = :u"),
        {"u": user.id},
    )


def test_another_workers_revocation_applies_within_the_cache_time(
    app: Any, client: Any, auth: Any, db: Any, clock: Clock
) -> None:
    app.config["CREDENTIALS_CACHE_SECONDS"] = 5
    user = UserFactory.board(MarketFactory())
    headers = auth.token_headers(user)
    assert client.get(ME, headers=headers).status_code == 200
    _revoke_behind_our_back(db, user)
    clock.now += 4.9
    assert client.get(ME, headers=headers).status_code == 200  # still trusted
    clock.now += 0.2
    assert client.get(ME, headers=headers).status_code == 401


def test_without_a_cache_a_revocation_applies_at_once(
    app: Any, client: Any, auth: Any, db: Any, clock: Clock
) -> None:
    app.config["CREDENTIALS_CACHE_SECONDS"] = 0
    user = UserFactory.board(MarketFactory())
    headers = auth.token_headers(user)
    assert client.get(ME, headers=headers).status_code == 200
    _revoke_behind_our_back(db, user)
    assert client.get(ME, headers=headers).status_code == 401


@pytest.mark.parametrize("change", ["deactivate", "new role", "revoke"])
def test_changes_made_through_this_process_apply_at_once(
    app: Any, client: Any, auth: Any, db: Any, clock: Clock, change: str
) -> None:
    app.config["CREDENTIALS_CACHE_SECONDS"] = 300
    market = MarketFactory()
    user = UserFactory.board(market)
    headers = auth.token_headers(user)
    assert client.get(ME, headers=headers).get_json()["role"] == "board"
    if change == "deactivate":
        user.is_active = False
    elif change == "new role":
        user.role = "helper"
        user.market_id = None
    else:
        (token,) = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))
        token.revoked_at = auth_services.utcnow()
    db.session.flush()
    answer = client.get(ME, headers=headers)
    if change == "new role":
        assert answer.get_json()["role"] == "helper"
    else:
        assert answer.status_code == 401


def test_a_cached_token_costs_no_query_and_the_user_still_loads_relations(
    app: Any, client: Any, auth: Any, db: Any, clock: Clock
) -> None:
    app.config["CREDENTIALS_CACHE_SECONDS"] = 5
    markets = [MarketFactory(), MarketFactory()]
    helper = UserFactory(role="helper")
    helper.helper_markets.extend(markets)
    db.session.flush()
    headers = auth.token_headers(helper)
    first = client.get(ME, headers=headers).get_json()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        again = client.get(ME, headers=headers).get_json()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "api_tokens" in s]
    # the relations the policy and /me need are loaded on demand from the cached columns
    assert sorted(again["helper_market_ids"]) == sorted(m.id for m in markets)
    assert again == first
