"""``/api/v1`` QR codes and stands: every rule, bad input and permission, and every QR that
comes out of an endpoint decodes (zxing-cpp, poppler, librsvg) to exactly the stored payload."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from chopay.extensions import db
from chopay.vendors.models import AccountStatus, QrCode, VendorStatus
from chopay.vietqr import parse_payload
from tests.factories import MarketFactory
from tests.printing.conftest import Stands, add_vendor, revoke, stand_code
from tests.printing.test_layout import pdf_text, rasterise_pdf
from tests.printing.test_qr import decode_all, decode_one, rasterise_svg
from tests.printing.test_services import count_queries


def qr_url(vendor: Any, **query: Any) -> str:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/vendors/{vendor.id}/qr" + (f"?{qs}" if qs else "")


# --- GET /vendors/<id>/qr ----------------------------------------------------------------


def test_static_qr_of_the_primary_approved_account(app: Any, api: Any, stands: Stands) -> None:
    resp = api.get(stands.board, qr_url(stands.vendor))
    assert resp.status_code == 200, resp.json
    body = resp.json
    code = stand_code(stands.vendor)
    assert body["payload"] == code.payload
    assert body["verify_code"] == "ABC-DEF"
    assert body["verify_url"] == app.config["PUBLIC_BASE_URL"] + "/verify/ABCDEF"
    assert body["bank"] == {"bin": "970436", "short_name": "Vietcombank"}
    assert body["account_name"] == "NGUYEN THI HUONG"
    assert body["account_number_masked"] == "•••• 3456"
    assert body["is_dynamic"] is False
    assert body["amount"] is None
    assert body["note"] == stands.vendor.reference
    assert body["vendor_id"] == stands.vendor.id
    assert body["issued_at"]
    vid = stands.vendor.id
    assert body["links"] == {
        "stand_png": f"/api/v1/vendors/{vid}/stand.png",
        "stand_svg": f"/api/v1/vendors/{vid}/stand.svg",
        "stand_pdf": f"/api/v1/vendors/{vid}/stand.pdf",
        "verify": "/verify/ABCDEF",
    }
    assert "0011004123456" not in resp.get_data(as_text=True).replace(body["payload"], "")
    parsed = parse_payload(body["payload"])
    assert parsed.purpose == stands.vendor.reference
    assert parsed.amount is None


def test_dynamic_qr_for_one_sale(api: Any, stands: Stands) -> None:
    resp = api.get(
        stands.vendor_user, qr_url(stands.vendor, amount=125000, purpose="Rau%20c%E1%BA%A3i")
    )
    assert resp.status_code == 200, resp.json
    body = resp.json
    parsed = parse_payload(body["payload"])
    assert parsed.amount == 125_000
    assert parsed.is_dynamic
    assert parsed.purpose == f"{stands.vendor.reference} Rau cai"
    assert body["is_dynamic"] is True
    assert body["amount"] == 125_000
    assert body["note"] == parsed.purpose
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}", body["verify_code"])
    assert body["verify_code"] != "ABC-DEF"
    assert body["links"]["stand_png"].endswith("stand.png?amount=125000&purpose=Rau+cai")
    row = db.session.scalars(select(QrCode).where(QrCode.payload == body["payload"])).one()
    assert row.is_dynamic and row.amount_vnd == 125_000
    again = api.get(stands.vendor_user, qr_url(stands.vendor, amount=125000, purpose="Rau%20cai"))
    assert again.json["payload"] == body["payload"]  # same sale asked twice: same code


def test_dynamic_qr_accepts_grouped_amount(api: Any, stands: Stands) -> None:
    resp = api.get(stands.board, qr_url(stands.vendor, amount="50.000"))
    assert resp.status_code == 200
    assert parse_payload(resp.json["payload"]).amount == 50_000


@pytest.mark.parametrize(
    "amount", ["0", "-5", "1.5", "1,5", "abc", "500000000", "500.000.000", "1e3", "0x10", "٣"]
)
def test_bad_amounts_are_422_on_amount(api: Any, stands: Stands, amount: str) -> None:
    resp = api.get(stands.board, qr_url(stands.vendor, amount=amount))
    assert resp.status_code == 422, (amount, resp.json)
    assert list(resp.json["error"]["details"]) == ["amount"]
    assert resp.json["error"]["code"] == "invalid_input"
    assert not db.session.scalars(select(QrCode).where(QrCode.is_dynamic.is_(True))).all()


def test_purpose_rules(api: Any, stands: Stands) -> None:
    alone = api.get(stands.board, qr_url(stands.vendor, purpose="rau"))
    assert alone.status_code == 422
    assert "purpose" in alone.json["error"]["details"]
    long = api.get(stands.board, qr_url(stands.vendor, amount=1000, purpose="x" * 20))
    assert long.status_code == 422
    assert "purpose" in long.json["error"]["details"]
    too_long_raw = api.get(stands.board, qr_url(stands.vendor, amount=1000, purpose="x" * 41))
    assert too_long_raw.status_code == 422


@pytest.mark.parametrize("who", ["board", "helper", "officer", "admin", "vendor_user"])
def test_qr_allowed_for_people_who_may_print(api: Any, stands: Stands, who: str) -> None:
    assert api.get(getattr(stands, who), qr_url(stands.vendor)).status_code == 200


@pytest.mark.parametrize("who", ["other_board", "other_officer"])
def test_qr_of_another_market_is_not_found(api: Any, stands: Stands, who: str) -> None:
    resp = api.get(getattr(stands, who), qr_url(stands.vendor))
    assert resp.status_code == 404
    resp = api.get(getattr(stands, who), qr_url(stands.vendor, amount=1000))
    assert resp.status_code == 404
    assert not db.session.scalars(select(QrCode).where(QrCode.is_dynamic.is_(True))).all()


def test_vendor_user_cannot_get_a_neighbours_qr(api: Any, stands: Stands) -> None:
    assert api.get(stands.vendor_user, qr_url(stands.neighbour)).status_code == 404
    url = f"/api/v1/vendors/{stands.neighbour.id}/stand.png"
    assert api.get(stands.vendor_user, url).status_code == 404


def test_qr_needs_login(api: Any, stands: Stands) -> None:
    resp = api.get(None, qr_url(stands.vendor))
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"


def test_qr_of_a_vendor_without_approved_account_is_404(api: Any, stands: Stands) -> None:
    pending = add_vendor(stands.market, "C-1", account_status=AccountStatus.PENDING)
    for url in (
        qr_url(pending),
        qr_url(pending, amount=1000),
        f"/api/v1/vendors/{pending.id}/stand.pdf",
    ):
        resp = api.get(stands.board, url)
        assert resp.status_code == 404
        assert "chưa có tài khoản thanh toán được duyệt" in resp.json["error"]["message"]
    assert api.get(stands.board, "/api/v1/vendors/999999/qr").status_code == 404


def test_qr_after_revocation_is_404(api: Any, stands: Stands) -> None:
    revoke(stand_code(stands.vendor))
    resp = api.get(stands.board, qr_url(stands.vendor))
    assert resp.status_code == 404
    assert "thu hồi" in resp.json["error"]["message"]


def test_dynamic_qr_of_a_suspended_vendor_is_409(api: Any, stands: Stands) -> None:
    stands.vendor.status = VendorStatus.SUSPENDED
    db.session.flush()
    assert api.get(stands.board, qr_url(stands.vendor, amount=1000)).status_code == 409


# --- stands ------------------------------------------------------------------------------


def _download(api: Any, user: Any, url: str, mimetype: str, ext: str) -> bytes:
    resp = api.get(user, url)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == mimetype
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert re.search(rf"filename=bang-qr-Quay-A-12-CP\w+\.{ext}$", disposition), disposition
    assert "no-store" in resp.headers["Cache-Control"]
    return resp.get_data()


def test_stand_png_decodes_to_the_stored_payload(api: Any, stands: Stands) -> None:
    url = f"/api/v1/vendors/{stands.vendor.id}/stand.png"
    data = _download(api, stands.vendor_user, url, "image/png", "png")
    img = Image.open(io.BytesIO(data))
    assert img.size == (1240, 1748)
    assert decode_one(img) == stand_code(stands.vendor).payload


def test_stand_svg_decodes_to_the_stored_payload(api: Any, stands: Stands, tmp_path: Path) -> None:
    url = f"/api/v1/vendors/{stands.vendor.id}/stand.svg"
    data = _download(api, stands.board, url, "image/svg+xml", "svg")
    assert "Nguyễn Thị Hường".encode() in data
    assert decode_one(rasterise_svg(data, tmp_path, 1240)) == stand_code(stands.vendor).payload


def test_stand_pdf_decodes_and_has_real_text(api: Any, stands: Stands, tmp_path: Path) -> None:
    url = f"/api/v1/vendors/{stands.vendor.id}/stand.pdf"
    data = _download(api, stands.helper, url, "application/pdf", "pdf")
    [page] = rasterise_pdf(data, tmp_path)
    assert decode_one(page) == stand_code(stands.vendor).payload
    text = pdf_text(PdfReader(io.BytesIO(data)))
    for part in ("Nguyễn Thị Hường", "Quầy A-12", "Vietcombank", "3456", "ABC-DEF"):
        assert part in text
    assert "0011004123456" not in text


def test_stand_filename_names_the_stall(api: Any, stands: Stands) -> None:
    resp = api.get(stands.board, f"/api/v1/vendors/{stands.vendor.id}/stand.pdf")
    ref = stands.vendor.reference
    assert f"filename=bang-qr-Quay-A-12-{ref}.pdf" in resp.headers["Content-Disposition"]


def test_stand_for_one_sale_decodes_to_the_dynamic_payload(
    api: Any, stands: Stands, tmp_path: Path
) -> None:
    body = api.get(stands.board, qr_url(stands.vendor, amount=45000, purpose="thit")).json
    resp = api.get(stands.board, body["links"]["stand_pdf"])
    assert resp.status_code == 200
    assert "-45000d.pdf" in resp.headers["Content-Disposition"]
    [page] = rasterise_pdf(resp.get_data(), tmp_path)
    assert decode_one(page) == body["payload"]
    assert "45.000" in pdf_text(PdfReader(io.BytesIO(resp.get_data())))
    png = api.get(stands.board, body["links"]["stand_png"]).get_data()
    assert decode_one(Image.open(io.BytesIO(png))) == body["payload"]


def test_stand_bad_amount_is_422(api: Any, stands: Stands) -> None:
    resp = api.get(stands.board, f"/api/v1/vendors/{stands.vendor.id}/stand.png?amount=0")
    assert resp.status_code == 422
    assert "amount" in resp.json["error"]["details"]


def test_stand_of_another_market_is_404(api: Any, stands: Stands) -> None:
    for fmt in ("png", "svg", "pdf"):
        url = f"/api/v1/vendors/{stands.vendor.id}/stand.{fmt}"
        assert api.get(stands.other_board, url).status_code == 404
        assert api.get(None, url).status_code == 401


# --- whole market ------------------------------------------------------------------------


def _market_with_stalls(stands: Stands) -> list[str]:
    for stall in ("A-10", "A-2", "A-1", "B-1"):
        add_vendor(stands.market, stall)
    add_vendor(stands.market, "A-3", status=VendorStatus.SUSPENDED)
    revoke(stand_code(add_vendor(stands.market, "A-4")))
    return ["A-1", "A-2", "A-10", "A-12", "A-13", "B-1"]


@pytest.mark.parametrize(("layout", "per_page"), [("a6", 1), ("a4x4", 4)])
def test_market_stands_pdf_every_qr_decodes_in_stall_order(
    api: Any, stands: Stands, tmp_path: Path, layout: str, per_page: int
) -> None:
    order = _market_with_stalls(stands)
    resp = api.get(stands.board, f"/api/v1/markets/{stands.market.id}/stands.pdf?layout={layout}")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert resp.headers["X-Stand-Count"] == str(len(order))
    assert f"-{layout}.pdf" in resp.headers["Content-Disposition"]
    pages = rasterise_pdf(resp.get_data(), tmp_path, dpi=150 if per_page == 1 else 110)
    assert len(pages) == -(-len(order) // per_page)
    decoded = [b.text for page in pages for b in decode_all(page)]
    payloads = _payloads_by_stall(stands)
    assert decoded == [payloads[s] for s in order]


def _payloads_by_stall(stands: Stands) -> dict[str, str]:
    from chopay.vendors.models import Vendor

    vendors = db.session.scalars(select(Vendor).where(Vendor.market_id == stands.market.id)).all()
    out = {}
    for vendor in vendors:
        code = db.session.scalars(
            select(QrCode).where(
                QrCode.vendor_id == vendor.id,
                QrCode.is_dynamic.is_(False),
                QrCode.revoked_at.is_(None),
            )
        ).first()
        if code is not None:
            out[vendor.stall] = code.payload
    return out


def test_market_stands_pdf_defaults_to_a6(api: Any, stands: Stands) -> None:
    resp = api.get(stands.officer, f"/api/v1/markets/{stands.market.id}/stands.pdf")
    assert resp.status_code == 200
    assert len(PdfReader(io.BytesIO(resp.get_data())).pages) == 2


def test_market_stands_pdf_bad_layout_is_422(api: Any, stands: Stands) -> None:
    resp = api.get(stands.board, f"/api/v1/markets/{stands.market.id}/stands.pdf?layout=a5")
    assert resp.status_code == 422
    assert list(resp.json["error"]["details"]) == ["layout"]


def test_market_stands_pdf_permissions(api: Any, stands: Stands) -> None:
    url = f"/api/v1/markets/{stands.market.id}/stands.pdf"
    assert api.get(stands.vendor_user, url).status_code == 403
    assert api.get(stands.other_board, url).status_code == 404
    assert api.get(stands.other_officer, url).status_code == 404
    assert api.get(stands.helper, url).status_code == 200
    assert api.get(None, url).status_code == 401
    assert api.get(stands.board, "/api/v1/markets/999999/stands.pdf").status_code == 404


def test_market_stands_pdf_of_an_empty_market(api: Any, stands: Stands) -> None:
    empty = MarketFactory()
    resp = api.get(stands.world.admin, f"/api/v1/markets/{empty.id}/stands.pdf")
    assert resp.status_code == 200
    assert resp.headers["X-Stand-Count"] == "0"
    assert len(PdfReader(io.BytesIO(resp.get_data())).pages) == 1


def test_market_stands_pdf_queries_do_not_grow_with_vendors(api: Any, stands: Stands) -> None:
    small, big = MarketFactory(), MarketFactory()
    for i in range(2):
        add_vendor(small, f"S-{i}")
    for i in range(25):
        add_vendor(big, f"B-{i}")
    admin = stands.world.admin
    api.get(admin, f"/api/v1/markets/{small.id}/stands.pdf?layout=a4x4")  # token warm-up
    with count_queries() as few:
        assert (
            api.get(admin, f"/api/v1/markets/{small.id}/stands.pdf?layout=a4x4").status_code == 200
        )
    with count_queries() as many:
        assert api.get(admin, f"/api/v1/markets/{big.id}/stands.pdf?layout=a4x4").status_code == 200
    # The request's own lookups (token, user, market) vary with what the session already
    # holds; the stands themselves are one query however many vendors there are.
    assert len(many) <= len(few) + 2 <= 10, (few, many)


def test_openapi_documents_the_endpoints(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert "/api/v1/vendors/{vendor_id}/qr" in paths
    assert (
        "image/png"
        in paths["/api/v1/vendors/{vendor_id}/stand.png"]["get"]["responses"]["200"]["content"]
    )
    assert paths["/api/v1/verify"]["post"]["security"] == []
    assert "/api/v1/markets/{market_id}/rescan" in paths
