"""``/api/v1/markets``: create, read, edit, list, each inside the caller's scope."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from chopay.audit.models import AuditEvent
from chopay.extensions import db
from chopay.markets.models import Market
from tests.vendors.helpers import DAI_PHUC_2025, HUNG_SON, World, counts

NEW_MARKET = {
    "name": "Chợ Hùng Sơn",
    "stall_count": 180,
    "scheme": "legacy",
    "commune_code": HUNG_SON,
}


def test_officer_creates_market_placed_in_both_schemes(api: Any, world: World) -> None:
    resp = api.post(world.officer, "/api/v1/markets", json=NEW_MARKET)
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["name"] == "Chợ Hùng Sơn"
    assert body["stall_count"] == 180
    assert body["legacy_commune"]["code"] == HUNG_SON
    # Thị trấn Hùng Sơn merged whole into Xã Đại Phúc in 2025: nothing to review.
    assert body["new_commune"]["code"] == DAI_PHUC_2025
    assert body["needs_location_review"] is False
    assert body["code"] == f"CHO-{HUNG_SON}-1"
    market = db.session.get(Market, body["id"])
    assert market.new_commune.code == DAI_PHUC_2025
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "market.create", AuditEvent.entity_id == str(market.id)
        )
    )
    assert event.actor_id == world.officer.id
    assert event.new_values["stall_count"] == 180


def test_market_placed_by_split_2025_commune_needs_review(api: Any, world: World) -> None:
    # Phường Đức Xuân (2025, Bắc Kạn) was made from several legacy communes.
    resp = api.post(
        world.admin,
        "/api/v1/markets",
        json={"name": "Chợ Đức Xuân", "stall_count": 90, "scheme": "2025", "commune_code": "01840"},
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["new_commune"]["code"] == "01840"
    assert resp.json["legacy_commune"] is not None
    assert resp.json["needs_location_review"] is True

    market_id = resp.json["id"]
    resp = api.patch(world.admin, f"/api/v1/markets/{market_id}", json={"location_confirmed": True})
    assert resp.status_code == 200
    assert resp.json["needs_location_review"] is False


def test_names_are_stored_nfc(api: Any, world: World) -> None:
    decomposed = "Cho\u031b\u0300 Hu\u0300ng So\u031bn"  # "Chờ Hùng Sơn" in NFD
    resp = api.post(world.officer, "/api/v1/markets", json={**NEW_MARKET, "name": decomposed})
    assert resp.status_code == 201
    assert resp.json["name"] == "Chờ Hùng Sơn"
    assert len(resp.json["name"]) == 12


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"name": "  "}, "name", "Chưa nhập tên chợ"),
        ({"stall_count": -5}, "stall_count", "từ 1 đến"),
        ({"stall_count": "nhiều"}, "stall_count", "số nguyên"),
        ({"scheme": "1990"}, "scheme", "legacy, 2025"),
        ({"commune_code": "99999"}, "commune_code", "Không có xã/phường mã 99999"),
        ({"code": "chợ 1"}, "code", "chữ không dấu"),
        ({"colour": "red"}, "colour", "không được hỗ trợ"),
    ],
)
def test_bad_market_input_is_refused_with_field_and_reason(
    api: Any, world: World, change: dict[str, Any], field: str, reason: str
) -> None:
    api.login(world.officer)
    before = counts()
    resp = api.post(world.officer, "/api/v1/markets", json={**NEW_MARKET, **change})
    assert resp.status_code == 422
    details = resp.json["error"]["details"]
    assert reason in " ".join(details[field])
    assert counts() == before


def test_missing_name_is_refused(api: Any, world: World) -> None:
    api.login(world.officer)
    before = counts()
    body = {k: v for k, v in NEW_MARKET.items() if k != "name"}
    resp = api.post(world.officer, "/api/v1/markets", json=body)
    assert resp.status_code == 422
    assert resp.json["error"]["details"]["name"] == ["Chưa nhập tên chợ."]
    assert counts() == before


def test_duplicate_market_code_is_a_conflict(api: Any, world: World) -> None:
    api.login(world.officer)
    before = counts()
    resp = api.post(
        world.officer, "/api/v1/markets", json={**NEW_MARKET, "code": world.market.code}
    )
    assert resp.status_code == 409
    assert "code" in resp.json["error"]["details"]
    assert counts() == before


def test_officer_cannot_create_market_outside_their_unit(api: Any, world: World) -> None:
    api.login(world.other_officer)
    before = counts()
    resp = api.post(world.other_officer, "/api/v1/markets", json=NEW_MARKET)
    assert resp.status_code == 403
    assert "commune_code" in resp.json["error"]["details"]
    assert counts() == before


@pytest.mark.parametrize("role", ["board", "helper"])
def test_boards_and_helpers_cannot_create_markets(api: Any, world: World, role: str) -> None:
    user = getattr(world, role)
    api.login(user)
    before = counts()
    resp = api.post(user, "/api/v1/markets", json=NEW_MARKET)
    assert resp.status_code == 403
    assert counts() == before


def test_listing_is_scoped(api: Any, world: World) -> None:
    def names(user: Any) -> set[str]:
        resp = api.get(user, "/api/v1/markets")
        assert resp.status_code == 200
        return {m["name"] for m in resp.json}

    assert names(world.board) == {"Chợ Trung tâm Đại Từ"}
    assert names(world.other_board) == {"Chợ Bắc Kạn"}
    assert names(world.officer) == {"Chợ Trung tâm Đại Từ"}
    assert names(world.other_officer) == {"Chợ Bắc Kạn"}
    assert {"Chợ Trung tâm Đại Từ", "Chợ Bắc Kạn"} <= names(world.admin)
    resp = api.get(world.admin, "/api/v1/markets?q=bắc")
    assert [m["name"] for m in resp.json] == ["Chợ Bắc Kạn"]


def test_board_reads_and_edits_own_market(api: Any, world: World) -> None:
    url = f"/api/v1/markets/{world.market.id}"
    assert api.get(world.board, url).json["stall_count"] == 400
    resp = api.patch(world.board, url, json={"stall_count": 420, "address": "Tổ 5, Hùng Sơn"})
    assert resp.status_code == 200
    assert resp.json["stall_count"] == 420
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "market.update", AuditEvent.entity_id == str(world.market.id)
        )
    )
    assert event.old_values == {
        "stall_count": 400,
        "address": "Thị trấn Hùng Sơn, Đại Từ, Thái Nguyên",
    }
    assert event.new_values == {"stall_count": 420, "address": "Tổ 5, Hùng Sơn"}
    assert event.actor_id == world.board.id


def test_board_cannot_see_or_touch_another_market(api: Any, world: World) -> None:
    url = f"/api/v1/markets/{world.other_market.id}"
    api.login(world.board)
    before = counts()
    assert api.get(world.board, url).status_code == 404
    resp = api.patch(world.board, url, json={"stall_count": 1})
    assert resp.status_code == 404
    assert counts() == before
    assert db.session.get(Market, world.other_market.id).stall_count == 100


def test_helper_may_view_but_not_edit_market(api: Any, world: World) -> None:
    url = f"/api/v1/markets/{world.market.id}"
    api.login(world.helper)
    assert api.get(world.helper, url).status_code == 200
    before = counts()
    assert api.patch(world.helper, url, json={"stall_count": 1}).status_code == 403
    assert counts() == before


def test_officer_cannot_move_market_out_of_their_unit(api: Any, world: World) -> None:
    from tests.vendors.helpers import bac_kan_commune

    url = f"/api/v1/markets/{world.market.id}"
    api.login(world.officer)
    before = counts()
    resp = api.patch(
        world.officer,
        url,
        json={"scheme": "legacy", "commune_code": bac_kan_commune().code},
    )
    assert resp.status_code == 403
    assert counts() == before
    db.session.expire_all()
    assert db.session.get(Market, world.market.id).legacy_commune.code == HUNG_SON


def test_moving_needs_scheme_and_code_together(api: Any, world: World) -> None:
    resp = api.patch(
        world.officer, f"/api/v1/markets/{world.market.id}", json={"commune_code": HUNG_SON}
    )
    assert resp.status_code == 422
    assert "scheme" in resp.json["error"]["details"]


def test_unauthenticated_api_gets_401(client: Any, world: World) -> None:
    resp = client.get("/api/v1/markets")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"
