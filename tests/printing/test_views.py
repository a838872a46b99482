"""Pages: a vendor's QR with stand downloads, a market's stands, and selling with an amount."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chopay.extensions import db
from chopay.vendors.models import AccountStatus, QrCode, VendorStatus
from chopay.vietqr import parse_payload
from tests.printing.conftest import Stands, add_vendor, revoke, stand_code
from tests.printing.test_qr import decode_one, rasterise_svg


def inline_qr(html: str, box_id: str) -> bytes:
    """The inline <svg> inside the element with this id, as a standalone SVG document."""
    match = re.search(rf'id="{box_id}"[^>]*>\s*(<svg.*?</svg>)', html, re.S)
    assert match, f"no inline QR in #{box_id}"
    return match.group(1).encode()


def assert_csp_clean(html: str) -> None:
    """No inline scripts or style attributes (the CSP would block them)."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "<style" not in html
    assert " on" + "click=" not in html


# --- a vendor's QR page ------------------------------------------------------------------


def test_vendor_qr_page_shows_the_stand_and_downloads(
    client: Any, auth: Any, stands: Stands, tmp_path: Path
) -> None:
    auth.login(stands.board)
    resp = client.get(f"/vendors/{stands.vendor.id}/qr")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Tải bảng QR" in html
    vid = stands.vendor.id
    for fmt in ("png", "svg", "pdf"):
        assert f'href="/api/v1/vendors/{vid}/stand.{fmt}"' in html
    assert "ABC-DEF" in html and "•••• 3456" in html and "Vietcombank" in html
    assert "0011004123456" not in html
    assert f'href="/vendors/{vid}/sell"' in html
    svg = inline_qr(html, "stand-qr")
    assert decode_one(rasterise_svg(svg, tmp_path, 600)) == stand_code(stands.vendor).payload
    assert_csp_clean(html)


def test_vendor_qr_page_without_approved_account(client: Any, auth: Any, stands: Stands) -> None:
    pending = add_vendor(stands.market, "C-1", account_status=AccountStatus.PENDING)
    auth.login(stands.helper)
    resp = client.get(f"/vendors/{pending.id}/qr")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "chưa có tài khoản thanh toán được duyệt" in html
    assert "Tải bảng QR" not in html


def test_vendor_qr_page_after_revocation(client: Any, auth: Any, stands: Stands) -> None:
    revoke(stand_code(stands.vendor))
    auth.login(stands.board)
    resp = client.get(f"/vendors/{stands.vendor.id}/qr")
    assert resp.status_code == 404
    assert "thu hồi" in resp.get_data(as_text=True)


@pytest.mark.parametrize(("who", "status"), [("other_board", 404), ("other_officer", 404)])
def test_vendor_qr_page_of_another_market(
    client: Any, auth: Any, stands: Stands, who: str, status: int
) -> None:
    auth.login(getattr(stands, who))
    assert client.get(f"/vendors/{stands.vendor.id}/qr").status_code == status


def test_vendor_qr_page_needs_login(client: Any, stands: Stands) -> None:
    resp = client.get(f"/vendors/{stands.vendor.id}/qr")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_vendor_sees_own_qr_page_only(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.vendor_user)
    assert client.get(f"/vendors/{stands.vendor.id}/qr").status_code == 200
    assert client.get(f"/vendors/{stands.neighbour.id}/qr").status_code == 404


# --- a market's stands page --------------------------------------------------------------


def test_market_stands_page(client: Any, auth: Any, stands: Stands) -> None:
    add_vendor(stands.market, "A-2")
    add_vendor(stands.market, "C-9", with_code=False, name="Trần Văn Chưa")
    add_vendor(stands.market, "C-10", status=VendorStatus.SUSPENDED)
    auth.login(stands.board)
    resp = client.get(f"/markets/{stands.market.id}/stands")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'action="/api/v1/markets/{stands.market.id}/stands.pdf"' in html
    assert 'value="a6" checked' in html and 'value="a4x4"' in html
    assert re.search(r'id="stand-count">3<', html)
    assert "Trần Văn Chưa" in html
    assert f'href="/markets/{stands.market.id}/rescan"' in html
    assert_csp_clean(html)


def test_market_stands_page_permissions(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.vendor_user)
    assert client.get(f"/markets/{stands.market.id}/stands").status_code == 403
    auth.logout()
    auth.login(stands.other_board)
    assert client.get(f"/markets/{stands.market.id}/stands").status_code == 404
    auth.logout()
    auth.login(stands.helper)
    html = client.get(f"/markets/{stands.market.id}/stands").get_data(as_text=True)
    assert "rescan" not in html  # helpers print but do not audit


# --- sell with an amount -----------------------------------------------------------------


def test_sell_page_for_the_logged_in_vendor(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.vendor_user)
    resp = client.get("/sell")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'name="amount"' in html and 'inputmode="numeric"' in html
    for value, label in (
        (10000, "10.000"),
        (20000, "20.000"),
        (50000, "50.000"),
        (100000, "100.000"),
    ):
        assert f'name="quick" value="{value}">{label}<' in html
    assert 'src="/static/js/printing-sell.js"' in html
    assert_csp_clean(html)


def _sell(client: Any, url: str, **form: str) -> Any:
    resp = client.post(url, data=form)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    return client.get(resp.headers["Location"])


@pytest.mark.parametrize("typed", ["50000", "50.000", "50 000", " 50000 "])
def test_sell_shows_a_dynamic_qr_for_the_amount(
    client: Any, auth: Any, stands: Stands, tmp_path: Path, typed: str
) -> None:
    auth.login(stands.vendor_user)
    page = _sell(client, "/sell", amount=typed, purpose="Rau cải")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="sale-amount">50.000 ₫<' in html
    assert "NGUYEN THI HUONG" in html and "Vietcombank · •••• 3456" in html
    payload = decode_one(rasterise_svg(inline_qr(html, "sale-qr"), tmp_path, 600))
    parsed = parse_payload(payload)
    assert parsed.amount == 50_000
    assert parsed.purpose == f"{stands.vendor.reference} Rau cai"
    row = db.session.scalars(select(QrCode).where(QrCode.payload == payload)).one()
    assert row.is_dynamic and row.vendor_id == stands.vendor.id
    assert_csp_clean(html)


def test_sell_quick_amount_button_works_without_js(
    client: Any, auth: Any, stands: Stands, tmp_path: Path
) -> None:
    auth.login(stands.vendor_user)
    page = _sell(client, "/sell", amount="", quick="20000")
    html = page.get_data(as_text=True)
    assert "20.000 ₫" in html
    assert (
        parse_payload(decode_one(rasterise_svg(inline_qr(html, "sale-qr"), tmp_path, 600))).amount
        == 20_000
    )


@pytest.mark.parametrize("amount", ["0", "-5", "1.5", "abc", "500000000", "", "1,5"])
def test_sell_refuses_bad_amounts_plainly(
    client: Any, auth: Any, stands: Stands, amount: str
) -> None:
    auth.login(stands.vendor_user)
    resp = client.post("/sell", data={"amount": amount})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="e-amount"' in html
    assert "Số tiền" in html
    assert 'aria-invalid="true"' in html
    assert not db.session.scalars(select(QrCode).where(QrCode.is_dynamic.is_(True))).all()


def test_sell_refuses_a_long_note(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.vendor_user)
    resp = client.post("/sell", data={"amount": "1000", "purpose": "x" * 30})
    assert resp.status_code == 422
    assert 'id="e-purpose"' in resp.get_data(as_text=True)


def test_sell_page_is_for_vendors_only(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.board)
    resp = client.get("/sell")
    assert resp.status_code == 403
    assert "dành cho tiểu thương" in resp.get_data(as_text=True)


def test_board_sells_for_a_vendor(client: Any, auth: Any, stands: Stands, tmp_path: Path) -> None:
    auth.login(stands.board)
    url = f"/vendors/{stands.vendor.id}/sell"
    assert client.get(url).status_code == 200
    page = _sell(client, url, amount="35000")
    assert page.request.path == url
    html = page.get_data(as_text=True)
    assert "35.000 ₫" in html
    assert (
        parse_payload(decode_one(rasterise_svg(inline_qr(html, "sale-qr"), tmp_path, 600))).amount
        == 35_000
    )


@pytest.mark.parametrize("who", ["other_board", "other_officer"])
def test_sell_for_a_vendor_of_another_market_is_404(
    client: Any, auth: Any, stands: Stands, who: str
) -> None:
    auth.login(getattr(stands, who))
    url = f"/vendors/{stands.vendor.id}/sell"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"amount": "1000"}).status_code == 404
    assert not db.session.scalars(select(QrCode).where(QrCode.is_dynamic.is_(True))).all()


def test_vendor_cannot_sell_for_a_neighbour(client: Any, auth: Any, stands: Stands) -> None:
    auth.login(stands.vendor_user)
    assert (
        client.post(f"/vendors/{stands.neighbour.id}/sell", data={"amount": "1"}).status_code == 404
    )


def test_sell_without_approved_account(client: Any, auth: Any, stands: Stands) -> None:
    pending = add_vendor(stands.market, "C-1", account_status=AccountStatus.PENDING)
    auth.login(stands.board)
    resp = client.get(f"/vendors/{pending.id}/sell")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "chưa có tài khoản thanh toán được duyệt" in html
    assert 'id="sell-form"' not in html
    assert client.post(f"/vendors/{pending.id}/sell", data={"amount": "1000"}).status_code == 404


def test_sell_with_unknown_or_foreign_code_asks_again(
    client: Any, auth: Any, stands: Stands
) -> None:
    auth.login(stands.vendor_user)
    resp = client.get("/sell?code=XYZXYZ")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "không còn hiệu lực" in html and 'id="sell-form"' in html
    assert client.get("/sell?code=ABCDEF").status_code == 404  # the stand's static code


def test_sell_csrf_is_required(app: Any, stands: Stands, auth: Any, client: Any) -> None:
    auth.login(stands.vendor_user)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        resp = client.post("/sell", data={"amount": "1000"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert resp.status_code == 400
