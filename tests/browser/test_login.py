"""A person logs in with a real browser and sees their dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from chopay.auth.services import create_user
from chopay.extensions import db

pytestmark = pytest.mark.browser


def test_board_logs_in_and_sees_the_dashboard(
    live_app: Flask, live_server: Any, browser_page: Any
) -> None:
    from chopay.markets.models import Market

    with live_app.app_context():
        market = Market(code="TN-DT-01", name="Chợ Trung tâm Đại Từ", stall_count=400)
        db.session.add(market)
        db.session.flush()
        create_user(
            username="bql.daitu",
            role="board",
            password="mat-khau-an-toan",
            market_ids=[market.id],
            full_name="Trần Văn Bình",
        )
        db.session.commit()

    page = browser_page
    page.goto(live_server.url + "/dashboard")
    assert "/login" in page.url
    page.fill("input[name=username]", "bql.daitu")
    page.fill("input[name=password]", "sai-mat-khau")
    page.click("#login-form button[type=submit]")
    assert page.locator(".alert").inner_text().startswith("Tên đăng nhập hoặc mật khẩu")

    page.fill("input[name=password]", "mat-khau-an-toan")
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard")
    assert "Xin chào, Trần Văn Bình" in page.locator("h1").inner_text()
    assert "Chợ Trung tâm Đại Từ" in page.locator("main").inner_text()

    # switching to English keeps the person on the same page
    page.click("text=English")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "/dashboard" in page.url
