"""Whole-number query arguments of the HTML pages: garbage never reaches the database.

Every page that reads an id or a page number from its query string is hit with values a
fuzzer or a hand-edited link sends: words, signs, decimals, Unicode digits, numbers past
PostgreSQL's INTEGER and BIGINT. The answer is a 4xx page, or the page with a warning that
names the argument it ignored; never a 5xx, and never silently something else.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from chopay.transactions.models import InboundPayment
from chopay.transactions.services import hold_inbound
from tests.factories import (
    MarketFactory,
    PaymentAccountFactory,
    TransactionFactory,
    UserFactory,
    VendorFactory,
)

# not a whole number from 1 up: werkzeug's type=int quietly dropped these
GARBAGE = ["abc", "-1", "0", "1.5", "1e3", "0x10", "²", "-99999999999999999999"]
# int() reads these as 10 and 12: a page may take them as that id, or ignore them
LENIENT = ["1_0", "١٢"]
# numbers no INTEGER (2**31 - 1) or BIGINT (2**63 - 1) column holds
HUGE = [str(2**31), str(2**63), str(2**64), str(10**30), "9" * 5000]

# (path, argument, whether a huge value means "past the last page")
# How the error page names each argument.
LABELS = {"page": "Trang", "market": "Chợ", "vendor": "Tiểu thương"}
PAGES = [
    ("/vendors", "page", True),
    ("/vendors", "market", False),
    ("/vendors/pending", "market", False),
    ("/transactions", "page", True),
    ("/transactions", "vendor", False),
    ("/transactions", "market", False),
    ("/transactions/new", "vendor", False),
    ("/transactions/inbound", "page", True),
    ("/transactions/export.csv", "vendor", False),
    ("/transactions/export.csv", "market", False),
]
FLASH = re.compile(r'<p class="flash flash-warning" role="status">(.*?)</p>', re.DOTALL)


@pytest.fixture
def board(client: Any, auth: Any, db: Any) -> Any:
    """A board user, logged in, at a market with vendors, a payment and a held line."""
    market = MarketFactory()
    vendor = VendorFactory(market=market)
    VendorFactory(market=market)
    user = UserFactory.board(market)
    account = PaymentAccountFactory(vendor=vendor, created_by_id=user.id)
    TransactionFactory(vendor_obj=vendor)
    hold_inbound(
        [
            {
                "source": "import",
                "external_ref": "held-1",
                "market_id": market.id,
                "account_number": account.account_number,
                "amount_vnd": 40_000,
                "occurred_at": dt.datetime(2025, 11, 21, 3, 0, tzinfo=dt.UTC),
                "reason": "unknown_account",
            }
        ]
    )
    db.session.commit()
    assert auth.login(user).status_code == 302
    return user


def _warnings(resp: Any) -> list[str]:
    return FLASH.findall(resp.get_data(as_text=True))


@pytest.mark.parametrize(("path", "name", "is_page"), PAGES)
def test_a_bad_number_is_refused_or_ignored_with_a_warning(
    client: Any, board: Any, path: str, name: str, is_page: bool
) -> None:
    for value in [*GARBAGE, *HUGE, *LENIENT]:
        resp = client.get(path, query_string={name: value})
        body = resp.get_data(as_text=True)
        resp.close()
        shown = value if len(value) < 30 else f"{value[:10]}…"
        assert resp.status_code < 500, (shown, body[:2000])
        if value in LENIENT:
            continue  # whether id 10 or 12 is in scope depends on the database's sequences
        if is_page and value in HUGE:
            # past the last page: an empty page, not an error nor a warning
            assert resp.status_code == 200 and not _warnings(resp), shown
        elif resp.status_code == 200:
            assert any(f"“{name}”" in w for w in _warnings(resp)), (shown, _warnings(resp))
        else:
            assert 400 <= resp.status_code < 500, shown
            # the error page names the argument, in words
            assert f"<li>{LABELS[name]}: " in body, shown


@pytest.mark.parametrize(("path", "name", "is_page"), PAGES)
def test_a_blank_number_is_quietly_the_default(
    client: Any, board: Any, path: str, name: str, is_page: bool
) -> None:
    resp = client.get(path, query_string={name: ""})
    resp.close()
    assert resp.status_code == 200 and not _warnings(resp)


def test_one_bad_filter_leaves_the_others_applied(client: Any, board: Any) -> None:
    """Before, any invalid or unknown argument (even ``lang``) reset every filter."""
    for query in ({"method": "cash", "vendor": "abc"}, {"method": "cash", "lang": "vi"}):
        html = client.get("/transactions", query_string=query).get_data(as_text=True)
        assert '<option value="cash" selected>' in html, query
    # what the filter form sends with "all vendors" and "all methods" chosen
    query = {"vendor": "", "from": "2025-11-01", "to": "", "method": ""}
    resp = client.get("/transactions", query_string=query)
    assert 'value="2025-11-01"' in resp.get_data(as_text=True) and not _warnings(resp)


def test_the_approval_queue_ignores_forged_account_ids(client: Any, board: Any) -> None:
    resp = client.post(
        "/vendors/pending", data={"account_ids": ["²", "١٢", str(2**70), "9" * 5000]}
    )
    assert resp.status_code == 422
    assert "Chưa chọn tài khoản nào." in resp.get_data(as_text=True)
    resp = client.post("/vendors/pending", data={"only": str(2**40)})
    assert resp.status_code == 422 and any("“only”" in w for w in _warnings(resp))


@pytest.mark.parametrize("value", ["²", "9" * 5000, str(2**31), str(2**70), "-5"])
def test_forged_ids_in_payment_forms_are_invalid_input(
    client: Any, board: Any, db: Any, value: str
) -> None:
    """Ids int() refuses ("²", 5000 nines) or no INTEGER holds: 422, never a 500."""
    held = db.session.scalar(select(InboundPayment.id))
    resp = client.post(f"/transactions/inbound/{held}/assign", data={"vendor_id": value})
    assert resp.status_code == 422 and "<li>Tiểu thương: " in resp.get_data(as_text=True)
    resp = client.post(
        "/transactions/new",
        data={"vendor_id": value, "amount": "10000", "method": "cash", "token": "a" * 32},
    )
    assert resp.status_code == 422
