"""A board puts a 500-row Excel list on chopay in the browser; a helper approves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from chopay.admin_units.models import AdminUnit, Scheme
from chopay.auth.services import create_user
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus
from tests.vendors.sheets import board_file

pytestmark = pytest.mark.browser

PASSWORD = "mat-khau-an-toan"
ROWS = 500


def _setup(app: Flask) -> int:
    with app.app_context():
        commune = db.session.scalar(
            select(AdminUnit).where(AdminUnit.scheme == Scheme.LEGACY, AdminUnit.code == "05761")
        )
        market = Market(
            code="TN-DT-01", name="Chợ Trung tâm Đại Từ", stall_count=600, legacy_commune=commune
        )
        db.session.add(market)
        db.session.flush()
        create_user(
            username="bql.daitu",
            role="board",
            password=PASSWORD,
            market_ids=[market.id],
            full_name="Trần Văn Bình",
        )
        create_user(
            username="hotro.agribank",
            role="helper",
            password=PASSWORD,
            market_ids=[market.id],
            full_name="Lê Thị Hoa",
            organisation="Agribank Đại Từ",
        )
        db.session.commit()
        return market.id


def _count(app: Flask, stmt: Any) -> int:
    with app.app_context():
        value = db.session.scalar(stmt)
        db.session.remove()
        return int(value or 0)


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard")


def test_board_imports_500_rows_and_a_helper_approves(
    live_app: Flask, live_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    market_id = _setup(live_app)
    sheet = tmp_path / "danh-sach-tieu-thuong.xlsx"
    sheet.write_bytes(board_file(ROWS))
    vendors = select(func.count(Vendor.id)).where(Vendor.market_id == market_id)
    page = browser_page
    base = live_server.url

    # The board member finds the import page from the market page.
    _log_in(page, base, "bql.daitu")
    page.click("nav.mainnav >> text=Chợ")
    page.click("text=Chợ Trung tâm Đại Từ")
    page.click("text=Nhập danh sách từ Excel")
    page.wait_for_url(f"**/markets/{market_id}/vendors/import")
    assert page.locator("#import-button").is_hidden()

    # Preview: every row checked, nothing written.
    page.set_input_files("#f-file", str(sheet))
    page.click("#preview-button")
    report = page.locator("#import-report[data-dry-run='1']")
    report.wait_for(timeout=60_000)
    assert report.get_attribute("data-created") == str(ROWS)
    assert report.get_attribute("data-error") == "0"
    assert "Kết quả kiểm tra" in report.inner_text()
    assert _count(live_app, vendors) == 0

    # Import the good rows.
    button = page.locator("#import-button")
    assert button.is_visible()
    assert str(ROWS) in button.inner_text()
    button.click()
    done = page.locator("#import-report[data-dry-run='0']")
    done.wait_for(timeout=60_000)
    assert "Đã nhập xong" in done.inner_text()
    assert f"{ROWS} tài khoản nhận tiền đang chờ duyệt" in done.inner_text()
    assert _count(live_app, vendors) == ROWS
    pending = (
        select(func.count(PaymentAccount.id))
        .join(Vendor)
        .where(Vendor.market_id == market_id, PaymentAccount.status == AccountStatus.PENDING)
    )
    assert _count(live_app, pending) == ROWS

    # The maker cannot approve their own entries: every box is disabled.
    page.goto(base + "/vendors/pending")
    assert page.locator("input[name=account_ids]:not([disabled])").count() == 0
    assert page.locator("tr.own-entry").count() == ROWS
    page.click(".who button[type=submit]")  # log out
    page.wait_for_url("**/login")

    # A second person (the bank's helper) approves them all.
    _log_in(page, base, "hotro.agribank")
    page.click("nav.mainnav >> text=Chờ duyệt")
    page.wait_for_url("**/vendors/pending")
    assert page.locator("input[name=account_ids]:not([disabled])").count() == ROWS
    page.check("#select-all")
    assert page.locator("input[name=account_ids]:checked").count() == ROWS
    page.click("#approve-selected")
    page.wait_for_url("**/vendors/pending**")
    assert f"Đã duyệt {ROWS} tài khoản" in page.locator(".flash").inner_text()
    assert "Không có tài khoản nào đang chờ duyệt" in page.locator("main").inner_text()

    live_codes = (
        select(func.count(func.distinct(QrCode.vendor_id)))
        .join(Vendor, Vendor.id == QrCode.vendor_id)
        .where(Vendor.market_id == market_id, QrCode.revoked_at.is_(None))
    )
    assert _count(live_app, live_codes) == ROWS
    active = select(func.count(Vendor.id)).where(
        Vendor.market_id == market_id, Vendor.status == VendorStatus.ACTIVE
    )
    assert _count(live_app, active) == ROWS

    # Any vendor's page shows the verification code printed on their stand.
    with live_app.app_context():
        some = db.session.scalar(select(Vendor).where(Vendor.market_id == market_id).limit(1))
        code = db.session.scalar(select(QrCode).where(QrCode.vendor_id == some.id))
        vendor_id, verify = some.id, f"{code.verify_code[:3]}-{code.verify_code[3:]}"
        db.session.remove()
    page.goto(f"{base}/vendors/{vendor_id}")
    assert page.locator(".verify-code").inner_text() == verify
