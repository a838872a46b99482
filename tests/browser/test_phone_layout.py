"""Every page fits a cheap phone's screen: nothing wider than the viewport except
inside the scrolling boxes made for it (wide tables)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from chopay.demo import DEMO_PASSWORD, build_demo
from chopay.extensions import db

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360
# Elements whose right edge passes the viewport, outside any box that scrolls or clips.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.getBoundingClientRect().right <= width + 1) continue;
    let box = el.parentElement, contained = false;
    while (box) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(box).overflowX)) {
        contained = true;
        break;
      }
      box = box.parentElement;
    }
    if (!contained) found.push(el.tagName + ': ' + (el.textContent || '').trim().slice(0, 40));
  }
  return [document.documentElement.scrollWidth, found.slice(0, 3)];
}"""


def test_pages_fit_a_360_pixel_screen(live_app: Flask, live_server: Any, browser: Any) -> None:
    from chopay.markets.models import Market
    from chopay.transactions.models import Transaction
    from chopay.vendors.models import QrCode

    with live_app.app_context():
        build_demo(seed=7, scale=0.05)
        db.session.commit()
        market_id = db.session.scalar(select(Market.id).order_by(Market.id))
        vendor_id = db.session.scalar(select(QrCode.vendor_id).order_by(QrCode.id))
        tx_id = db.session.scalar(select(Transaction.id).order_by(Transaction.id))
        db.session.remove()
    public = ["/login", "/verify", "/open-data"]
    signed_in = [
        "/dashboard",
        "/markets",
        f"/markets/{market_id}",
        f"/markets/{market_id}/vendors/import",
        "/vendors",
        f"/vendors/{vendor_id}",
        f"/vendors/{vendor_id}/qr",
        f"/vendors/{vendor_id}/sell",
        "/vendors/pending",
        "/transactions",
        "/transactions/new",
        "/transactions/import",
        "/transactions/inbound",
        f"/transactions/{tx_id}/void",
        "/reports",
        f"/reports/markets/{market_id}",
    ]
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 740})
    page = context.new_page()
    too_wide = {}
    try:
        for lang in ("vi", "en"):
            for path in public:
                page.goto(f"{live_server.url}{path}?lang={lang}")
                width, what = page.evaluate(OVERFLOWING)
                if width > PHONE_WIDTH:
                    too_wide[f"{path} ({lang})"] = what
        page.goto(live_server.url + "/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/dashboard")
        for path in signed_in:
            page.goto(live_server.url + path)
            width, what = page.evaluate(OVERFLOWING)
            if width > PHONE_WIDTH:
                too_wide[path] = what
    finally:
        context.close()
    assert too_wide == {}
