"""The transaction pages: two-tap report form, list, export, void, import, held lines."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from chopay.transactions import services
from chopay.transactions.models import InboundPayment, Transaction
from chopay.vendors.models import VendorStatus
from tests.transactions.conftest import World, counts, payment

NEW = "/transactions/new"


def _token(html: str) -> str:
    found = re.search(r'name="token" value="([0-9a-f]{32})"', html)
    assert found, "the form carries an idempotency token"
    return found.group(1)


def test_pages_need_login(client: Any, db: Any) -> None:
    for url in ("/transactions", NEW, "/transactions/import", "/transactions/inbound"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_vendor_reports_a_sale_in_two_taps_and_a_double_submit_stores_once(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    auth.login(world.vendor_user)
    page = client.get(NEW)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'inputmode="numeric"' in html and 'name="method" value="cash"' in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline code
    token = _token(html)
    form = {"vendor_id": world.vendor.id, "amount": "150.000", "method": "cash", "token": token}
    first = client.post(NEW, data=form)
    assert first.status_code == 302
    second = client.post(NEW, data=form)  # the double tap
    assert second.status_code == 302
    after = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "150.000 ₫" in after
    assert "đã được ghi trước đó" in after
    rows = db.session.scalars(select(Transaction)).all()
    assert len(rows) == 1
    assert (rows[0].amount_vnd, rows[0].method, rows[0].source) == (150_000, "cash", "vendor")
    assert rows[0].external_ref == f"web-{token}"
    assert _token(after) != token  # a fresh form gets a fresh key


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "Số tiền: "),
        ({"amount": "-5.000"}, "Số tiền: "),
        ({"amount": "abc"}, "Số tiền: "),
        ({"amount": "1.500,5"}, "Số tiền: "),
        ({"amount": "500.000.000"}, "Số tiền: Số tiền tối đa là 499.999.999 đồng."),
        ({"amount": ""}, "Số tiền: "),
        ({"method": "gold"}, "Phương thức: "),
        ({"method": ""}, "Phương thức: "),
        # the hidden idempotency token: no field to name, the reason says what to do
        ({"token": "reuse-me"}, "Biểu mẫu đã cũ, vui lòng tải lại trang."),
        ({"occurred_at": "2999-01-01T10:00"}, "Thời gian: "),
        ({"occurred_at": "hôm qua"}, "Thời gian: "),
    ],
)
def test_report_form_refuses_bad_input_and_says_why(
    client: Any, auth: Any, db: Any, world: World, change: dict[str, Any], field: str
) -> None:
    auth.login(world.vendor_user)
    form = {"vendor_id": world.vendor.id, "amount": "20.000", "method": "cash"}
    form["token"] = "a" * 32
    form.update(change)
    resp = client.post(NEW, data=form)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    # The field is named in words on the page, not by its form name.
    assert 'role="alert"' in html and f"<li>{field}" in html
    assert counts(db) == (0, 0, 0)


def test_board_reports_for_its_own_vendors_only(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    auth.login(world.board)
    html = client.get(NEW).get_data(as_text=True)
    assert world.vendor.full_name in html and world.vendor2.full_name in html
    assert world.outsider.full_name not in html
    form = {"amount": "50000", "method": "vietqr", "token": "b" * 32}
    resp = client.post(NEW, data={**form, "vendor_id": world.outsider.id})
    assert resp.status_code == 403
    resp = client.post(NEW, data={**form, "vendor_id": world.vendor2.id})
    assert resp.status_code == 302
    assert db.session.scalar(select(Transaction.source)) == "board"


def test_left_vendor_is_refused_on_the_page(client: Any, auth: Any, db: Any, world: World) -> None:
    auth.login(world.board)
    world.vendor2.status = VendorStatus.LEFT
    db.session.commit()
    form = {"vendor_id": world.vendor2.id, "amount": "50000", "method": "cash"}
    resp = client.post(NEW, data={**form, "token": "c" * 32})
    assert resp.status_code == 422
    assert "rời chợ" in resp.get_data(as_text=True)
    assert counts(db) == (0, 0, 0)


def test_officer_and_helper_cannot_use_the_ledger_pages(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    auth.login(world.officer)
    assert client.get("/transactions").status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.get("/transactions/import").status_code == 403
    assert client.get("/transactions/export.csv").status_code == 403
    assert 'href="/transactions"' not in client.get("/dashboard").get_data(as_text=True)
    auth.logout()
    auth.login(world.helper)
    assert client.get("/transactions").status_code == 403


def test_list_page_scopes_filters_and_offers_voids_to_boards(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    mine, _ = services.record_transaction(payment(world.vendor, "p-1"), actor=world.board)
    services.record_transaction(payment(world.vendor2, "p-2", method="cash"), actor=world.board)
    services.record_transaction(payment(world.outsider, "p-3"), actor=world.admin)
    db.session.commit()
    auth.login(world.board)
    html = client.get("/transactions").get_data(as_text=True)
    assert "p-1" in html and "p-2" in html and "p-3" not in html
    assert f"/transactions/{mine.id}/void" in html
    filtered = client.get("/transactions?method=cash").get_data(as_text=True)
    assert "p-2" in filtered and "p-1" not in filtered
    bad = client.get("/transactions?from=2025-11-12&to=2025-11-10")
    assert bad.status_code == 200 and 'class="error"' in bad.get_data(as_text=True)
    csv_text = client.get("/transactions/export.csv?method=cash").get_data(as_text=True)
    assert "p-2" in csv_text and "p-1" not in csv_text
    auth.logout()
    auth.login(world.vendor_user)
    html = client.get("/transactions").get_data(as_text=True)
    assert "p-1" in html and "p-2" not in html
    assert "/void" not in html  # vendors may not void


def test_void_page(client: Any, auth: Any, db: Any, world: World) -> None:
    row, _ = services.record_transaction(payment(world.vendor, "v-1"), actor=world.board)
    db.session.commit()
    auth.login(world.board)
    url = f"/transactions/{row.id}/void"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"reason": ""}).status_code == 422
    assert client.post(url, data={"reason": "Khách đổi ý"}).status_code == 302
    assert "Khách đổi ý" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"reason": "Khách đổi ý"}).status_code == 409
    assert db.session.get(Transaction, row.id).is_voided
    auth.logout()
    auth.login(world.other_board)
    assert client.get(url).status_code == 404


def test_import_page_documents_columns_and_shows_results(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    auth.login(world.board)
    page = client.get("/transactions/import").get_data(as_text=True)
    assert "dd/mm/yyyy hh:mm" in page and "1.250.000" in page and "so_tai_khoan" in page
    statement = (
        "Ngày,Số tiền,Số tài khoản,Nội dung\n"
        f'21/11/2025 09:15,"1.250.000",{world.account.account_number},{world.vendor.reference}\n'
        "21/11/2025 09:16,30000,424242,khong ro\n"
    )
    resp = client.post(
        "/transactions/import",
        data={"file": (io.BytesIO(statement.encode()), "saoke.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Kết quả nhập" in html and "424242" in html
    assert counts(db) == (1, 1, 1)
    broken = client.post(
        "/transactions/import",
        data={"file": (io.BytesIO(b"x,y\n1,2\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422
    assert counts(db) == (1, 1, 1)


def test_held_lines_page_assigns_and_sets_aside(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    ids = services.hold_inbound(
        [
            {
                "source": "import",
                "external_ref": f"h-{i}",
                "amount_vnd": 40_000 + i,
                "occurred_at": dt.datetime(2025, 11, 21, 3, 0, tzinfo=dt.UTC),
                "account_number": "999",
                "content": "khong ro",
                "reason": "unknown_account",
                "market_id": world.market.id,
            }
            for i in range(2)
        ]
    )
    db.session.commit()
    auth.login(world.board)
    html = client.get("/transactions/inbound").get_data(as_text=True)
    assert "40.000 ₫" in html and world.vendor2.full_name in html
    resp = client.post(
        f"/transactions/inbound/{ids['h-0']}/assign",
        data={"vendor_id": world.vendor2.id, "method": "vietqr"},
    )
    assert resp.status_code == 302
    resp = client.post(f"/transactions/inbound/{ids['h-1']}/ignore", data={"note": "hoàn tiền"})
    assert resp.status_code == 302
    statuses = dict(
        db.session.execute(select(InboundPayment.external_ref, InboundPayment.status)).all()
    )
    assert statuses == {"h-0": "assigned", "h-1": "ignored"}
    tx = db.session.scalar(select(Transaction))
    assert (tx.vendor_id, tx.amount_vnd) == (world.vendor2.id, 40_000)
    bad = client.post(f"/transactions/inbound/{ids['h-1']}/assign", data={"vendor_id": "x"})
    assert bad.status_code == 422
    auth.logout()
    auth.login(world.other_board)
    assert "40.001" not in client.get("/transactions/inbound?status=ignored").get_data(as_text=True)


def test_an_empty_list_says_so_without_blaming_a_filter(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    auth.login(world.vendor_user)
    html = client.get("/transactions").get_data(as_text=True)
    assert "Chưa có giao dịch nào." in html and "khớp điều kiện lọc" not in html
    # with a filter chosen, the filter is what found nothing
    html = client.get("/transactions", query_string={"method": "cash"}).get_data(as_text=True)
    assert "Chưa có giao dịch nào khớp điều kiện lọc." in html
