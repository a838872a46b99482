"""A vendor sells with an amount on a phone: types it, shows the QR, the buyer scans it.

The on-screen QR is photographed (element screenshot) and decoded with zxing-cpp, so what
is checked is what a buyer's banking app would read.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from flask import Flask
from PIL import Image

from chopay.auth.services import create_user
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.vendors.models import AccountStatus, PaymentAccount, Vendor, VendorStatus
from chopay.vietqr import decode_tlv, parse_payload

pytestmark = pytest.mark.browser

PASSWORD = "mat-khau-an-toan"


def seed_vendor(app: Flask) -> str:
    """A market, a vendor with an approved primary account, and the vendor's login."""
    with app.app_context():
        market = Market(code="TN-DT-01", name="Chợ Trung tâm Đại Từ", stall_count=400)
        db.session.add(market)
        db.session.flush()
        checker = create_user(
            username="bql.daitu", role="board", password=PASSWORD, market_ids=[market.id]
        )
        vendor = Vendor(
            market_id=market.id,
            full_name="Nguyễn Thị Hường",
            stall="A-12",
            phone="0912345678",
            status=VendorStatus.ACTIVE,
            reference="CP7KM2QX",
        )
        db.session.add(vendor)
        db.session.flush()
        db.session.add(
            PaymentAccount(
                vendor_id=vendor.id,
                bank_bin="970436",
                account_number="0011004123456",
                account_name="NGUYEN THI HUONG",
                status=AccountStatus.APPROVED,
                is_primary=True,
                decided_by_id=checker.id,
            )
        )
        create_user(
            username="tt.huong",
            role="vendor",
            password=PASSWORD,
            vendor_id=vendor.id,
            full_name="Nguyễn Thị Hường",
        )
        db.session.commit()
        return vendor.reference


def log_in_at_sell(page: Any, base: str) -> None:
    page.goto(base + "/sell")
    assert "/login" in page.url
    page.fill("input[name=username]", "tt.huong")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/sell")


def scan_screen(page: Any) -> str:
    """Photograph the on-screen QR and decode it like a buyer's phone would."""
    shot = page.locator("#sale-qr").screenshot()
    found = [
        b
        for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)).convert("L"))
        if b.format == zxingcpp.BarcodeFormat.QRCode
    ]
    assert len(found) == 1, "one QR code on screen"
    return str(found[0].text)


def test_vendor_types_an_amount_and_the_buyer_scans_it(
    live_app: Flask, live_server: Any, browser_page: Any
) -> None:
    reference = seed_vendor(live_app)
    page = browser_page
    log_in_at_sell(page, live_server.url)

    amount = page.locator("#f-amount")
    amount.press_sequentially("45000")
    assert amount.input_value() == "45.000"  # grouped as typed
    assert page.locator("#amount-preview").inner_text() == "45.000 ₫"
    page.fill("#f-purpose", "Rau cải")
    page.click("#sell-submit")
    page.wait_for_url("**/sell?code=*")

    assert page.locator("#sale-amount").inner_text() == "45.000 ₫"
    assert "NGUYEN THI HUONG" in page.locator("#sale").inner_text()
    payload = scan_screen(page)
    root = decode_tlv(payload)
    assert root["54"] == "45000"  # EMVCo tag 54: transaction amount
    parsed = parse_payload(payload)
    assert parsed.amount == 45_000
    assert parsed.purpose is not None and parsed.purpose.startswith(reference)
    assert parsed.purpose == f"{reference} Rau cai"
    assert parsed.bank_bin == "970436" and parsed.account_number == "0011004123456"

    # Next sale with a quick-amount button.
    page.click("#sell-again")
    page.wait_for_url("**/sell")
    page.click("button[name=quick][value='100000']")
    page.wait_for_url("**/sell?code=*")
    assert page.locator("#sale-amount").inner_text() == "100.000 ₫"
    quick = parse_payload(scan_screen(page))
    assert quick.amount == 100_000
    assert quick.purpose == reference


def test_wrong_amount_is_explained_on_the_page(
    live_app: Flask, live_server: Any, browser_page: Any
) -> None:
    seed_vendor(live_app)
    page = browser_page
    log_in_at_sell(page, live_server.url)
    page.locator("#f-amount").press_sequentially("500000000")
    page.click("#sell-submit")
    page.wait_for_load_state()
    assert "499.999.999" in page.locator("#e-amount").inner_text()
    assert page.locator("#sale-qr").count() == 0
