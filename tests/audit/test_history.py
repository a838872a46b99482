"""Who changed what, when and from where: the vendor and market history."""

from __future__ import annotations

from typing import Any

from tests.vendors.helpers import World, vendor_payload


def onboard_and_approve(api: Any, world: World) -> dict[str, Any]:
    vendor = api.post(
        world.board, f"/api/v1/markets/{world.market.id}/vendors", json=vendor_payload()
    ).json
    api.patch(world.board, f"/api/v1/vendors/{vendor['id']}", json={"phone": "0987654321"})
    api.post(world.helper, f"/api/v1/accounts/{vendor['accounts'][0]['id']}/approve")
    return vendor


def test_vendor_history_api_lists_every_change_newest_first(api: Any, world: World) -> None:
    vendor = onboard_and_approve(api, world)
    resp = api.get(world.board, f"/api/v1/vendors/{vendor['id']}/history")
    assert resp.status_code == 200
    events = resp.json
    actions = [e["action"] for e in events]
    assert actions[-2:] == ["account.create", "vendor.create"]  # oldest last
    assert set(actions) == {
        "vendor.create",
        "account.create",
        "vendor.update",
        "account.approve",
        "qr.issue",
        "vendor.status",
    }
    update = next(e for e in events if e["action"] == "vendor.update")
    assert update["old_values"] == {"phone": "0912345678"}
    assert update["new_values"] == {"phone": "0987654321"}
    assert update["actor_id"] == world.board.id
    assert update["ip_address"] == "127.0.0.1"
    approve = next(e for e in events if e["action"] == "account.approve")
    assert approve["actor_id"] == world.helper.id


def test_vendor_history_page(client: Any, auth: Any, api: Any, world: World) -> None:
    vendor = onboard_and_approve(api, world)
    auth.login(world.officer)
    page = client.get(f"/vendors/{vendor['id']}/history")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for label in (
        "Đăng ký tiểu thương",
        "Sửa thông tin tiểu thương",
        "Duyệt tài khoản",
        "Cấp mã QR",
    ):
        assert label in text
    assert "0912345678" in text and "0987654321" in text
    assert "Trần Văn Bình" in text  # the board member who made the change


def test_history_is_for_boards_and_officers_only(
    client: Any, auth: Any, api: Any, world: World
) -> None:
    vendor = onboard_and_approve(api, world)
    url = f"/vendors/{vendor['id']}/history"
    assert api.get(world.helper, f"/api/v1{url}").status_code == 403
    assert api.get(world.other_board, f"/api/v1{url}").status_code == 404
    assert api.get(world.other_officer, f"/api/v1{url}").status_code == 404
    auth.login(world.helper)
    assert client.get(url).status_code == 403


def test_market_history(client: Any, auth: Any, api: Any, world: World) -> None:
    url = f"/markets/{world.market.id}/history"
    api.patch(world.board, f"/api/v1/markets/{world.market.id}", json={"stall_count": 420})
    events = api.get(world.officer, f"/api/v1{url}").json
    assert [e["action"] for e in events] == ["market.update"]
    assert api.get(world.other_board, f"/api/v1{url}").status_code == 404
    auth.login(world.board)  # a session on this client wins over bearer tokens from here on
    page = client.get(url).get_data(as_text=True)
    assert "Sửa thông tin chợ" in page and "420" in page
