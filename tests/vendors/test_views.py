"""Vendor pages: the same rules as the API, with field errors shown on the form."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from chopay.extensions import db
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus
from tests.factories import PaymentAccountFactory, VendorFactory
from tests.vendors.helpers import World, counts

FORM = {
    "full_name": "Nguyễn Thị Hường",
    "stall": "A-12",
    "phone": "0912 345 678",
    "goods_category": "Rau củ",
    "has_smartphone": "on",
    "bank_bin": "970405",
    "account_number": "3300205012345",
    "account_name": "NGUYEN THI HUONG",
}


def html(resp: Any) -> str:
    return resp.get_data(as_text=True)


def register(client: Any, world: World, **changes: Any) -> Any:
    return client.post(f"/markets/{world.market.id}/vendors/new", data={**FORM, **changes})


def test_register_vendor_through_the_form(client: Any, auth: Any, world: World) -> None:
    auth.login(world.helper)
    page = client.get(f"/markets/{world.market.id}/vendors/new")
    assert page.status_code == 200
    assert 'name="full_name"' in html(page) and "Agribank" in html(page)
    resp = register(client, world)
    assert resp.status_code == 302
    vendor = db.session.scalar(select(Vendor).where(Vendor.market_id == world.market.id))
    assert resp.headers["Location"].endswith(f"/vendors/{vendor.id}")
    assert vendor.phone == "0912345678"
    assert vendor.has_smartphone is True and vendor.has_payment_speaker is False
    assert vendor.onboarded_by_id == world.helper.id
    [account] = vendor.accounts
    assert (account.bank_bin, account.status) == ("970405", AccountStatus.PENDING)
    page = html(client.get(resp.headers["Location"]))
    assert "Nguyễn Thị Hường" in page
    assert vendor.reference in page
    assert "Bạn đã nhập tài khoản này" in page  # the maker sees no approve button
    assert "Duyệt tài khoản" not in page


def test_register_without_account(client: Any, auth: Any, world: World) -> None:
    auth.login(world.board)
    resp = register(client, world, bank_bin="", account_number="", account_name="")
    assert resp.status_code == 302
    vendor = db.session.scalar(select(Vendor).where(Vendor.market_id == world.market.id))
    assert vendor.accounts == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "09123abc78"}, "Số điện thoại chỉ được gồm chữ số"),
        ({"full_name": ""}, "Chưa nhập họ và tên."),
        ({"stall": " "}, "Chưa nhập số quầy."),
        ({"bank_bin": "970999"}, "Không có ngân hàng mã BIN 970999 trong danh mục VietQR."),
        ({"account_number": "1" * 20}, "Số tài khoản dài 20 ký tự"),
        ({"account_name": ""}, "Chưa nhập tên chủ tài khoản."),
        ({"id_number": "12345678"}, "Số CMND/CCCD phải gồm 9 hoặc 12 chữ số."),
    ],
)
def test_bad_form_input_is_shown_on_the_form_and_nothing_saved(
    client: Any, auth: Any, world: World, changes: dict[str, str], message: str
) -> None:
    auth.login(world.helper)
    before = counts()
    resp = register(client, world, **changes)
    assert resp.status_code == 422
    page = html(resp)
    assert message in page
    assert 'aria-invalid="true"' in page or "has-error" in page
    assert 'value="Nguyễn Thị Hường"' in page or not changes.get("full_name", True)
    assert counts() == before


def test_duplicate_is_reported_with_a_link_to_the_existing_vendor(
    client: Any, auth: Any, world: World
) -> None:
    existing = VendorFactory(market=world.market, phone="0912345678", full_name="Lê Thị Lan")
    auth.login(world.helper)
    before = counts()
    resp = register(client, world)
    assert resp.status_code == 409
    page = html(resp)
    assert "đã được đăng ký ở chợ" in page
    assert f"/vendors/{existing.id}" in page
    assert counts() == before


def test_board_cannot_open_another_markets_pages(client: Any, auth: Any, world: World) -> None:
    theirs = VendorFactory(market=world.other_market)
    auth.login(world.board)
    before = counts()
    assert client.get(f"/markets/{world.other_market.id}/vendors/new").status_code == 404
    assert (
        register(
            client, world.__class__(**{**world.__dict__, "market": world.other_market})
        ).status_code
        == 404
    )
    assert client.get(f"/vendors/{theirs.id}").status_code == 404
    assert client.post(f"/vendors/{theirs.id}/edit", data={"status": "left"}).status_code == 404
    assert client.get(f"/markets/{world.other_market.id}/vendors/import").status_code == 404
    assert counts() == before
    assert db.session.get(Vendor, theirs.id).status == VendorStatus.ACTIVE


def test_officer_sees_vendor_but_has_no_onboarding_pages(
    client: Any, auth: Any, world: World
) -> None:
    vendor = VendorFactory(market=world.market)
    auth.login(world.officer)
    assert client.get(f"/vendors/{vendor.id}").status_code == 200
    assert client.get(f"/markets/{world.market.id}/vendors/new").status_code == 403
    assert client.get(f"/vendors/{vendor.id}/edit").status_code == 403


def test_edit_vendor_and_mark_as_left(client: Any, auth: Any, world: World) -> None:
    vendor = VendorFactory(market=world.market, status=VendorStatus.ACTIVE, phone="0911111111")
    auth.login(world.board)
    page = client.get(f"/vendors/{vendor.id}/edit")
    assert page.status_code == 200
    assert 'value="left"' in html(page) and 'value="pending"' not in html(page)
    resp = client.post(
        f"/vendors/{vendor.id}/edit",
        data={
            "full_name": vendor.full_name,
            "stall": "B-7",
            "phone": "0911111111",
            "status": "left",
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert (vendor.stall, vendor.status) == ("B-7", VendorStatus.LEFT)
    assert vendor.left_at is not None


def test_edit_with_bad_phone_keeps_the_record(client: Any, auth: Any, world: World) -> None:
    vendor = VendorFactory(market=world.market, phone="0911111111")
    auth.login(world.board)
    before = counts()
    resp = client.post(
        f"/vendors/{vendor.id}/edit",
        data={
            "full_name": vendor.full_name,
            "stall": vendor.stall,
            "phone": "abc",
            "status": "active",
        },
    )
    assert resp.status_code == 422
    assert "Số điện thoại chỉ được gồm chữ số" in html(resp)
    assert counts() == before
    db.session.expire_all()
    assert vendor.phone == "0911111111"


def test_add_account_page_and_second_person_approval(client: Any, auth: Any, world: World) -> None:
    vendor = VendorFactory(market=world.market, status=VendorStatus.PENDING)
    auth.login(world.board)
    resp = client.post(
        f"/vendors/{vendor.id}/accounts/new",
        data={
            "kind": "bank",
            "bank_bin": "970436",
            "account_number": "0071000123456",
            "account_name": "nguyen thi huong",
        },
    )
    assert resp.status_code == 302
    account = db.session.scalar(select(PaymentAccount).where(PaymentAccount.vendor_id == vendor.id))
    assert account.account_name == "NGUYEN THI HUONG"
    assert account.account_number == "0071000123456"  # leading zeros kept

    before = counts()
    resp = client.post(f"/accounts/{account.id}/approve")
    assert resp.status_code == 403
    assert "không thể tự duyệt" in html(resp)
    assert counts() == before

    auth.logout()
    auth.login(world.helper)
    page = html(client.get(f"/vendors/{vendor.id}"))
    assert f"/accounts/{account.id}/approve" in page
    resp = client.post(f"/accounts/{account.id}/approve")
    assert resp.status_code == 302
    page = html(client.get(f"/vendors/{vendor.id}"))
    code = db.session.scalar(select(QrCode).where(QrCode.vendor_id == vendor.id))
    assert f"{code.verify_code[:3]}-{code.verify_code[3:]}" in page
    assert "Đang bán" in page


def test_add_account_with_unknown_bank_is_refused(client: Any, auth: Any, world: World) -> None:
    vendor = VendorFactory(market=world.market)
    auth.login(world.board)
    before = counts()
    resp = client.post(
        f"/vendors/{vendor.id}/accounts/new",
        data={"bank_bin": "123456", "account_number": "1", "account_name": "A"},
    )
    assert resp.status_code == 422
    assert "Không có ngân hàng mã BIN 123456" in html(resp)
    assert counts() == before


def test_reject_from_vendor_page_needs_reason(client: Any, auth: Any, world: World) -> None:
    account = PaymentAccountFactory(
        vendor=VendorFactory(market=world.market), created_by_id=world.board.id
    )
    auth.login(world.helper)
    before = counts()
    resp = client.post(f"/accounts/{account.id}/reject", data={"reason": ""})
    assert resp.status_code == 422
    assert counts() == before
    resp = client.post(f"/accounts/{account.id}/reject", data={"reason": "Sai số tài khoản"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert account.status == AccountStatus.REJECTED
    assert account.decision_reason == "Sai số tài khoản"


# --- the approval queue ----------------------------------------------------------------


def queue(world: World) -> tuple[PaymentAccount, PaymentAccount, PaymentAccount]:
    by_board = [
        PaymentAccountFactory(
            vendor=VendorFactory(market=world.market, status=VendorStatus.PENDING),
            created_by_id=world.board.id,
        )
        for _ in range(2)
    ]
    by_helper = PaymentAccountFactory(
        vendor=VendorFactory(market=world.market), created_by_id=world.helper.id
    )
    return by_board[0], by_board[1], by_helper


def test_queue_disables_and_marks_own_entries(client: Any, auth: Any, world: World) -> None:
    mine1, mine2, theirs = queue(world)
    auth.login(world.board)
    page = html(client.get("/vendors/pending"))
    assert "Bạn nhập – cần người khác duyệt" in page
    for account in (mine1, mine2):
        box = re.search(rf'<input[^>]*value="{account.id}"[^>]*>', page).group(0)
        assert "disabled" in box
    box = re.search(rf'<input[^>]*value="{theirs.id}"[^>]*>', page).group(0)
    assert "disabled" not in box


def test_queue_bulk_approve_selected(client: Any, auth: Any, world: World) -> None:
    mine1, mine2, _ = queue(world)
    auth.login(world.helper)
    resp = client.post(
        "/vendors/pending", data={"account_ids": [mine1.id, mine2.id], "decision": "approve"}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert {mine1.status, mine2.status} == {AccountStatus.APPROVED}
    codes = db.session.scalars(
        select(QrCode).where(QrCode.account_id.in_([mine1.id, mine2.id]))
    ).all()
    assert len(codes) == 2 and codes[0].verify_code != codes[1].verify_code
    assert {mine1.vendor.status, mine2.vendor.status} == {VendorStatus.ACTIVE}


def test_queue_refuses_a_batch_with_own_entry_and_changes_nothing(
    client: Any, auth: Any, world: World
) -> None:
    mine1, _, theirs = queue(world)
    auth.login(world.board)
    before = counts()
    resp = client.post(
        "/vendors/pending", data={"account_ids": [mine1.id, theirs.id], "decision": "approve"}
    )
    assert resp.status_code == 422
    assert "chưa thay đổi gì" in html(resp)
    assert counts() == before
    db.session.expire_all()
    assert theirs.status == AccountStatus.PENDING


def test_queue_approve_one_and_reject_selected(client: Any, auth: Any, world: World) -> None:
    mine1, mine2, _ = queue(world)
    auth.login(world.helper)
    assert client.post("/vendors/pending", data={"only": mine1.id}).status_code == 302
    resp = client.post("/vendors/pending", data={"account_ids": [mine2.id], "decision": "reject"})
    assert resp.status_code == 422
    assert "Chưa nhập lý do từ chối" in html(resp)
    resp = client.post(
        "/vendors/pending",
        data={"account_ids": [mine2.id], "decision": "reject", "reason": "Sai tên"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert (mine1.status, mine2.status) == (AccountStatus.APPROVED, AccountStatus.REJECTED)


def test_queue_is_scoped_to_the_users_markets(client: Any, auth: Any, world: World) -> None:
    elsewhere = PaymentAccountFactory(vendor=VendorFactory(market=world.other_market))
    auth.login(world.helper)
    page = html(client.get("/vendors/pending"))
    assert f'value="{elsewhere.id}"' not in page
    before = counts()
    resp = client.post("/vendors/pending", data={"only": elsewhere.id})
    assert resp.status_code == 404
    assert counts() == before


# --- list, search, template ------------------------------------------------------------


def test_list_and_search(client: Any, auth: Any, world: World) -> None:
    VendorFactory(market=world.market, full_name="Đặng Văn Đức", stall="D-1")
    VendorFactory(market=world.market, full_name="Trần Thị Mai", stall="M-2")
    VendorFactory(market=world.other_market, full_name="Đặng Văn Đức", stall="X-9")
    auth.login(world.board)
    page = html(client.get("/vendors?q=dang van duc"))
    assert "Đặng Văn Đức" in page and "Trần Thị Mai" not in page and "X-9" not in page
    page = html(client.get(f"/vendors?market={world.market.id}"))
    assert "Trần Thị Mai" in page
    assert client.get(f"/vendors?market={world.other_market.id}").status_code == 404


def test_template_download_is_a_real_xlsx(client: Any, auth: Any, world: World) -> None:
    auth.login(world.board)
    resp = client.get("/vendors/import-template.xlsx")
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(resp.data))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[3]]
    assert headers[:4] == ["STT", "Họ và tên", "Số quầy", "Khu/dãy"]
    assert "Số tài khoản" in headers and "Chủ tài khoản" in headers
    phone_col = headers.index("Số điện thoại") + 1
    assert sheet.cell(row=4, column=phone_col).number_format == "@"
