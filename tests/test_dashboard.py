"""The dashboard: a vendor sees their own sales; boards and officers their scope's."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.factories import MarketFactory, UserFactory, VendorFactory, commune
from tests.transactions.conftest import VN, approved_account

SECTION = re.compile(r'<section[^>]*data-figures="sales"[^>]*>(.*?)</section>', re.S)
NUMBERS = re.compile(r'<span class="num">([^<]*)</span><span class="label">([^<]*)')


def _sales(html: str) -> dict[str, str]:
    """label text -> figure, of the sales section (absent: {})."""
    found = SECTION.search(html)
    if found is None:
        return {}
    return {label.strip(): num.strip() for num, label in NUMBERS.findall(found.group(1))}


@pytest.fixture
def scene(client: FlaskClient, db: Any, auth: Any) -> dict[str, Any]:
    """Two markets in one commune; vendor A paid today, ten days ago and forty days ago
    (one more payment today voided); vendor B, at the other market, paid today."""
    from chopay.transactions.services import void_transaction

    market, other = MarketFactory(), MarketFactory()
    vendor, outsider = VendorFactory(market=market), VendorFactory(market=other)
    admin = UserFactory()
    people = {
        "vendor": UserFactory.vendor(vendor),
        "board": UserFactory.board(market),
        "officer": UserFactory.officer(commune()),
        "helper": UserFactory.helper(market),
        "vendor_id": vendor.id,
    }
    db.session.commit()
    now = dt.datetime.now(VN).replace(microsecond=0)
    today_noon = now.replace(hour=12, minute=0, second=0)
    # Today's payments at noon or an hour ago, whichever is earlier (never in the future).
    today = min(today_noon, now - dt.timedelta(hours=1))
    if today.date() != now.date():  # just after midnight: a minute ago is still today
        today = now - dt.timedelta(minutes=1)
    payments = [
        (vendor, 50_000, today, "cash", "d-1"),
        (vendor, 150_000, today, "vietqr", "d-2"),
        (vendor, 70_000, today, "vietqr", "d-void"),
        (vendor, 20_000, today - dt.timedelta(days=10), "ewallet", "d-3"),
        (vendor, 900_000, today - dt.timedelta(days=40), "vietqr", "d-old"),
        (outsider, 999_000, today, "card", "d-4"),
    ]
    body = [
        {
            "vendor_id": v.id,
            "amount": amount,
            "occurred_at": when.isoformat(),
            "method": method,
            "external_ref": ref,
        }
        for v, amount, when, method, ref in payments
    ]
    resp = client.post("/api/v1/transactions", json=body, headers=auth.token_headers(admin))
    assert resp.status_code == 200 and resp.get_json()["created"] == len(payments)
    voided = next(r["id"] for r in resp.get_json()["results"] if r["external_ref"] == "d-void")
    void_transaction(voided, actor=admin, reason="Nhập nhầm")
    db.session.commit()
    return people


def _dashboard(client: FlaskClient, auth: Any, user: Any) -> str:
    auth.login(user)
    resp = client.get("/dashboard")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_a_vendor_sees_their_own_sales(client: FlaskClient, auth: Any, scene: Any) -> None:
    html = _dashboard(client, auth, scene["vendor"])
    assert _sales(html) == {
        "Hôm nay · 2 giao dịch": "200.000 ₫",
        "7 ngày qua · 2 giao dịch": "200.000 ₫",
        "30 ngày qua · 3 giao dịch": "220.000 ₫",
        # cashless: 150,000 + 20,000 of 220,000
        "Không dùng tiền mặt (30 ngày)": "77,3%",
    }
    # Reporting a sale is one tap away.
    assert 'href="/transactions/new"' in html
    # The market's figures mean nothing to a vendor: not shown.
    assert "Quầy/hộ kinh doanh" not in html
    assert "Bạn chưa có mã QR" in html


def test_a_vendor_with_a_code_is_sent_to_it(
    client: FlaskClient, db: Any, auth: Any, scene: Any
) -> None:
    from chopay.vendors.codes import issue_static_code
    from chopay.vendors.models import Vendor

    vendor = db.session.get(Vendor, scene["vendor_id"])
    admin = UserFactory()
    account = approved_account(vendor, admin, UserFactory())
    issue_static_code(account, actor=admin)
    db.session.commit()
    html = _dashboard(client, auth, scene["vendor"])
    assert "Mã QR của bạn đang dùng được." in html
    assert f'href="/vendors/{vendor.id}/qr"' in html
    auth.login(scene["vendor"])
    assert client.get(f"/vendors/{vendor.id}/qr").status_code == 200


def test_a_board_sees_its_market_and_an_officer_the_whole_commune(
    client: FlaskClient, auth: Any, scene: Any
) -> None:
    board = _sales(_dashboard(client, auth, scene["board"]))
    assert board == {
        "Hôm nay · 2 giao dịch": "200.000 ₫",
        "30 ngày qua · 3 giao dịch": "220.000 ₫",
        "Không dùng tiền mặt (30 ngày)": "77,3%",
        "Tiểu thương nhận thanh toán không tiền mặt (30 ngày)": "1",
    }
    auth.logout()
    officer = _sales(_dashboard(client, auth, scene["officer"]))
    assert officer == {
        "Hôm nay · 3 giao dịch": "1.199.000 ₫",
        "30 ngày qua · 4 giao dịch": "1.219.000 ₫",
        # cashless: 150,000 + 20,000 + 999,000 of 1,219,000
        "Không dùng tiền mặt (30 ngày)": "95,9%",
        "Tiểu thương nhận thanh toán không tiền mặt (30 ngày)": "2",
    }


def test_a_helper_sees_no_payment_totals(client: FlaskClient, auth: Any, scene: Any) -> None:
    html = _dashboard(client, auth, scene["helper"])
    assert _sales(html) == {}
    assert "Quầy/hộ kinh doanh" in html


def test_the_vendor_dashboard_in_english(client: FlaskClient, auth: Any, scene: Any) -> None:
    auth.login(scene["vendor"])
    html = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert _sales(html) == {
        "Today · 2 payments": "200.000 ₫",
        "Last 7 days · 2 payments": "200.000 ₫",
        "Last 30 days · 3 payments": "220.000 ₫",
        "Cashless (30 days)": "77,3%",
    }
    assert "Record a sale" in html and "You have no QR code yet." in html
