"""Market pages: list, create (commune by name or code), edit, scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from chopay.extensions import db
from chopay.markets.models import Market
from tests.factories import VendorFactory
from tests.vendors.helpers import DAI_PHUC_2025, HUNG_SON, World, counts

FORM = {
    "name": "Chợ Hùng Sơn",
    "stall_count": "180",
    "scheme": "legacy",
    "commune_code": "Hùng Sơn",
}


def html(resp: Any) -> str:
    return resp.get_data(as_text=True)


def test_officer_creates_market_by_commune_name(client: Any, auth: Any, world: World) -> None:
    auth.login(world.officer)
    assert client.get("/markets/new").status_code == 200
    resp = client.post("/markets/new", data=FORM)
    assert resp.status_code == 302, html(resp)
    market = db.session.scalar(select(Market).where(Market.name == "Chợ Hùng Sơn"))
    assert market.legacy_commune.code == HUNG_SON
    assert market.new_commune.code == DAI_PHUC_2025
    assert market.stall_count == 180
    page = html(client.get(resp.headers["Location"]))
    assert "Chợ Hùng Sơn" in page and "Xã Đại Phúc" in page


def test_commune_by_code_from_the_suggestion_list(client: Any, auth: Any, world: World) -> None:
    auth.login(world.officer)
    resp = client.post(
        "/markets/new", data={**FORM, "commune_code": f"{HUNG_SON} Thị trấn Hùng Sơn"}
    )
    assert resp.status_code == 302


def test_bad_market_form_shows_reasons_and_saves_nothing(
    client: Any, auth: Any, world: World
) -> None:
    auth.login(world.officer)
    before = counts()
    resp = client.post("/markets/new", data={**FORM, "name": "", "stall_count": "-1"})
    assert resp.status_code == 422
    page = html(resp)
    assert "Chưa nhập tên chợ." in page
    assert "Số quầy phải từ 1 đến 20.000." in page
    resp = client.post("/markets/new", data={**FORM, "commune_code": "Không Có Xã Này"})
    assert resp.status_code == 422
    assert "Không tìm thấy xã/phường" in html(resp)
    assert counts() == before


def test_officer_cannot_place_market_outside_unit(client: Any, auth: Any, world: World) -> None:
    auth.login(world.other_officer)
    before = counts()
    resp = client.post("/markets/new", data={**FORM, "commune_code": HUNG_SON})
    assert resp.status_code == 403
    assert "Xã/phường nằm ngoài địa bàn bạn phụ trách." in html(resp)
    assert 'value="Chợ Hùng Sơn"' in html(resp)  # the form is kept
    assert counts() == before


def test_board_has_no_create_page(client: Any, auth: Any, world: World) -> None:
    auth.login(world.board)
    assert client.get("/markets/new").status_code == 403
    assert client.post("/markets/new", data=FORM).status_code == 403


def test_list_is_scoped_and_shows_progress(client: Any, auth: Any, world: World) -> None:
    VendorFactory(market=world.market)
    auth.login(world.board)
    page = html(client.get("/markets"))
    assert "Chợ Trung tâm Đại Từ" in page and "Chợ Bắc Kạn" not in page
    assert "Thêm chợ" not in page
    auth.logout()
    auth.login(world.other_officer)
    page = html(client.get("/markets"))
    assert "Chợ Bắc Kạn" in page and "Chợ Trung tâm Đại Từ" not in page


def test_board_edits_own_market_not_others(client: Any, auth: Any, world: World) -> None:
    auth.login(world.board)
    page = client.get(f"/markets/{world.market.id}/edit")
    assert page.status_code == 200
    resp = client.post(
        f"/markets/{world.market.id}/edit",
        data={
            "name": "Chợ Đại Từ",
            "stall_count": "410",
            "scheme": "legacy",
            "commune_code": HUNG_SON,
            "code": world.market.code,
        },
    )
    assert resp.status_code == 302, html(resp)
    db.session.expire_all()
    assert (world.market.name, world.market.stall_count) == ("Chợ Đại Từ", 410)

    before = counts()
    assert client.get(f"/markets/{world.other_market.id}").status_code == 404
    resp = client.post(f"/markets/{world.other_market.id}/edit", data={"stall_count": "1"})
    assert resp.status_code == 404
    assert counts() == before


def test_edit_with_bad_stall_count_keeps_market(client: Any, auth: Any, world: World) -> None:
    auth.login(world.board)
    before = counts()
    resp = client.post(
        f"/markets/{world.market.id}/edit",
        data={"name": "X", "stall_count": "lots", "scheme": "legacy", "commune_code": HUNG_SON},
    )
    assert resp.status_code == 422
    assert "Số quầy phải là số nguyên." in html(resp)
    assert counts() == before
    db.session.expire_all()
    assert world.market.name == "Chợ Trung tâm Đại Từ"
