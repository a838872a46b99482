"""Bulk import from real generated XLSX and CSV files, through the API and the page."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from typing import Any

import pytest
from sqlalchemy import func, select

from chopay.audit.models import AuditEvent
from chopay.extensions import db
from chopay.vendors.models import AccountStatus, PaymentAccount, Vendor, VendorStatus
from tests.factories import VendorFactory
from tests.vendors.helpers import World, counts
from tests.vendors.sheets import (
    HEADER,
    HEADER_PLAIN,
    TITLE_ROWS,
    board_file,
    csv_bytes,
    xlsx,
)


def upload(
    api: Any, user: Any, market: Any, data: bytes, *, dry_run: bool, name: str = "ds.xlsx"
) -> Any:
    url = f"/api/v1/markets/{market.id}/vendors/import"
    if dry_run:
        url += "?dry_run=1"
    return api.post(
        user, url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def rows_by_number(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {r["row"]: r for r in report["rows"]}


MESSY = [
    *TITLE_ROWS,
    HEADER,
    [
        1,
        "Nguyễn Thị Hường",
        "A-01",
        "Rau củ",
        912345678.0,
        "Vietcombank",
        1012345678.0,
        "NGUYEN THI HUONG",
    ],
    [],
    [2, "Trần Văn Bình", "A-02", "Thịt", "0987 654 321", "970405", "3300205012345", None],
    [3, "Lê Thị Lan", "A-03", "Cá", "+84 978 111 222", "mb", "0071000123456", "LE THI LAN"],
    [4, "", "A-04", "Gạo", "0911000004", "BIDV", "123", "X"],
    [5, "Phạm Văn Tám", "A-05", None, "09112abc05", "BIDV", "123", "PHAM VAN TAM"],
    [6, "Hoàng Thị Mai", "A-06", None, "0911000006", "Ngân hàng Mặt Trăng", "123", "HOANG THI MAI"],
    [7, "Vũ Thị Yến", "A-07", None, "0911000007", "970436", "1" * 20, "VU THI YEN"],
    [8, "Đặng Văn Đức", "A-08", None, "0912345678", "VCB", "55555", "DANG VAN DUC"],
    [9, "Trần văn bình", "a 02", None, None, None, None, None],
    [10, "Bùi Thị Hà", "A-10", None, None, None, None, None],
    [11, "Ngô Văn Sơn", dt.datetime(2025, 12, 1), None, None, None, None, None],
    [12, "Dương Thị Thảo", "A-12", None, "0911000012", "Agribank", None, "DUONG THI THAO"],
]


def test_dry_run_reports_every_row_and_writes_nothing(api: Any, world: World) -> None:
    api.login(world.board)
    before = counts()
    resp = upload(api, world.board, world.market, xlsx(MESSY), dry_run=True)
    assert resp.status_code == 200, resp.json
    report = resp.json
    assert counts() == before
    assert report["dry_run"] is True
    assert report["header_row"] == 4
    assert report["total"] == 12  # the blank line is skipped
    rows = rows_by_number(report)
    # spreadsheet row numbers, as Excel shows them
    assert rows[5]["full_name"] == "Nguyễn Thị Hường"
    assert rows[5]["status"] == "created"
    assert rows[5]["phone"] == "0912345678"  # 912345678.0 got its 0 back
    assert rows[5]["bank_bin"] == "970436"
    assert rows[5]["account_number"] == "1012345678"
    assert any("số 0" in w for w in rows[5]["warnings"])  # account came as a number
    assert rows[7]["status"] == "created"
    assert any("tạm dùng họ tên" in w for w in rows[7]["warnings"])  # no holder name
    assert (rows[8]["phone"], rows[8]["bank_bin"], rows[8]["account_number"]) == (
        "0978111222",
        "970422",
        "0071000123456",
    )
    assert rows[9]["errors"] == {"full_name": ["Chưa nhập họ và tên."]}
    assert "chỉ được gồm chữ số" in rows[10]["errors"]["phone"][0]
    assert "Không nhận ra ngân hàng" in rows[11]["errors"]["bank"][0]
    assert "dài 20 ký tự" in rows[12]["errors"]["account_number"][0]
    # same phone as row 5 (within the file)
    assert (rows[13]["status"], rows[13]["duplicate_of_row"]) == ("duplicate", 5)
    # same stall and name as row 7, written differently
    assert (rows[14]["status"], rows[14]["duplicate_of_row"]) == ("duplicate", 7)
    assert rows[15]["status"] == "created"  # no account is fine
    assert "ngày/giờ" in rows[16]["errors"]["stall"][0]
    assert "chưa ghi số tài khoản" in rows[17]["errors"]["account_number"][0]
    assert (report["created"], report["duplicate"], report["error"]) == (4, 2, 6)
    assert report["accounts_pending"] == 3


def test_real_run_writes_good_rows_in_one_go_and_reimport_creates_nothing(
    api: Any, world: World
) -> None:
    api.login(world.board)
    before = counts()
    resp = upload(api, world.board, world.market, xlsx(MESSY), dry_run=False)
    assert resp.status_code == 200, resp.json
    report = resp.json
    assert report["dry_run"] is False
    after = counts()
    assert after["Vendor"] == before["Vendor"] + 4
    assert after["PaymentAccount"] == before["PaymentAccount"] + 3
    assert after["QrCode"] == before["QrCode"]  # nothing approved yet
    # one audit event per vendor and per account, plus the import itself
    assert after["AuditEvent"] == before["AuditEvent"] + 4 + 3 + 1

    created = {r["row"]: r["vendor_id"] for r in report["rows"] if r["status"] == "created"}
    vendor = db.session.get(Vendor, created[5])
    assert (vendor.full_name, vendor.phone, vendor.stall) == (
        "Nguyễn Thị Hường",
        "0912345678",
        "A-01",
    )
    assert vendor.status == VendorStatus.PENDING
    assert vendor.onboarded_by_id == world.board.id
    assert vendor.reference.startswith("CP") and len(vendor.reference) == 8
    [account] = vendor.accounts
    assert account.status == AccountStatus.PENDING
    assert account.created_by_id == world.board.id
    assert account.account_name == "NGUYEN THI HUONG"
    bình = db.session.get(Vendor, created[7])
    assert bình.accounts[0].account_name == "TRAN VAN BINH"
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "vendor", AuditEvent.entity_id == str(vendor.id)
        )
    )
    assert event.action == "vendor.create" and event.new_values["import_row"] == 5
    summary = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "vendor.import"))
    assert summary.new_values["created"] == 4 and summary.actor_id == world.board.id

    again = upload(api, world.board, world.market, xlsx(MESSY), dry_run=False).json
    assert again["created"] == 0
    assert {r["vendor_id"] for r in again["rows"] if r["status"] == "duplicate"} >= set(
        created.values()
    )
    assert counts()["Vendor"] == after["Vendor"]
    assert counts()["PaymentAccount"] == after["PaymentAccount"]


def test_existing_vendors_are_duplicates(api: Any, world: World) -> None:
    existing = VendorFactory(market=world.market, phone="0912345678")
    VendorFactory(market=world.market, full_name="Bùi Thị Hà", stall="A-10", phone=None)
    report = upload(api, world.board, world.market, xlsx(MESSY), dry_run=True).json
    rows = rows_by_number(report)
    assert (rows[5]["status"], rows[5]["vendor_id"]) == ("duplicate", existing.id)
    assert rows[15]["status"] == "duplicate"


def test_unaccented_headers_semicolons_and_scientific_numbers_in_csv(
    api: Any, world: World
) -> None:
    data = csv_bytes(
        [
            ["Danh sach tieu thuong"],
            HEADER_PLAIN,
            [1, "Nguyen Thi Lan", "B1", "Rau", "9.12345678E+08", "VCB", "1.012345678E+09", ""],
            [2, "Tran Van Tam", "B2", "Ca", "0911000002", "VCB", "1.01235E+12", "TRAN VAN TAM"],
            [3, "Le Van Son", "B3", "Ca", "912000003.0", "970436", "55 66 77", "LE VAN SON"],
        ],
        delimiter=";",
    )
    resp = upload(api, world.board, world.market, data, dry_run=True, name="ds.csv")
    assert resp.status_code == 200, resp.json
    report = resp.json
    assert set(report["columns"]) >= {"full_name", "stall", "phone", "bank", "account_number"}
    rows = rows_by_number(report)
    assert (rows[3]["phone"], rows[3]["account_number"]) == ("0912345678", "1012345678")
    # 1.01235E+12: Excel kept 6 digits of a 13-digit number, the rest are gone
    assert "mất chữ số" in rows[4]["errors"]["account_number"][0]
    assert (rows[5]["phone"], rows[5]["account_number"]) == ("0912000003", "556677")


def test_windows_vietnamese_csv_is_read_and_names_stored_nfc(api: Any, world: World) -> None:
    name = "Nguyễn Thị Hường"
    data = csv_bytes([HEADER, [1, name, "C-1", "", "0911000001", "", "", ""]], encoding="cp1258")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert not unicodedata.is_normalized("NFC", data.decode("cp1258"))
    report = upload(api, world.board, world.market, data, dry_run=False, name="ds.csv").json
    [row] = report["rows"]
    assert row["status"] == "created"
    vendor = db.session.get(Vendor, row["vendor_id"])
    assert vendor.full_name == name
    assert unicodedata.is_normalized("NFC", vendor.full_name)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "Tệp trống"),
        (xlsx([["Danh sách"], ["a", "b", "c"], ["1", "2", "3"]]), "Không tìm thấy dòng tiêu đề"),
        (xlsx([["Họ và tên", "Số điện thoại"], ["Lan", "0911000001"]]), "thiếu cột: Số quầy"),
        (xlsx([HEADER]), "Không có dòng dữ liệu"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04garbage", "bị hỏng"),
    ],
)
def test_unusable_files_are_refused_with_the_reason(
    api: Any, world: World, data: bytes, reason: str
) -> None:
    api.login(world.board)
    before = counts()
    for dry_run in (True, False):
        resp = upload(api, world.board, world.market, data, dry_run=dry_run)
        assert resp.status_code == 422
        assert reason in resp.json["error"]["details"]["file"][0]
    assert counts() == before


def test_missing_file_field(api: Any, world: World) -> None:
    resp = api.post(
        world.board,
        f"/api/v1/markets/{world.market.id}/vendors/import",
        data={},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert resp.json["error"]["details"]["file"] == ["Chưa chọn tệp danh sách (CSV hoặc XLSX)."]


def test_import_into_another_market_or_without_rights_is_refused(api: Any, world: World) -> None:
    api.login(world.board, world.officer)
    before = counts()
    assert (
        upload(api, world.board, world.other_market, xlsx(MESSY), dry_run=False).status_code == 404
    )
    assert upload(api, world.officer, world.market, xlsx(MESSY), dry_run=False).status_code == 403
    assert counts() == before


def test_too_many_rows_is_refused(api: Any, world: World, monkeypatch: Any) -> None:
    from chopay.vendors import importer

    monkeypatch.setattr(importer, "MAX_ROWS", 10)
    resp = upload(api, world.board, world.market, board_file(11), dry_run=True)
    assert resp.status_code == 422
    assert "hơn 10 dòng" in resp.json["error"]["details"]["file"][0]


def test_board_file_of_500_rows(api: Any, world: World) -> None:
    report = upload(api, world.board, world.market, board_file(500), dry_run=False).json
    assert (report["created"], report["error"], report["duplicate"]) == (500, 0, 0)
    assert report["accounts_pending"] == 500
    pending = db.session.scalar(
        select(func.count(PaymentAccount.id))
        .join(Vendor)
        .where(Vendor.market_id == world.market.id, PaymentAccount.status == AccountStatus.PENDING)
    )
    assert pending == 500
    refs = db.session.scalars(select(Vendor.reference).where(Vendor.market_id == world.market.id))
    assert len(set(refs)) == 500


# --- the page ----------------------------------------------------------------------------


def test_import_page_preview_then_import(client: Any, auth: Any, world: World) -> None:
    auth.login(world.board)
    page = client.get(f"/markets/{world.market.id}/vendors/import")
    assert page.status_code == 200
    assert "vendors-import.js" in page.get_data(as_text=True)
    before = counts()

    def post(dry_run: str, partial: bool) -> Any:
        return client.post(
            f"/markets/{world.market.id}/vendors/import",
            data={"file": (io.BytesIO(xlsx(MESSY)), "ds.xlsx"), "dry_run": dry_run},
            content_type="multipart/form-data",
            headers={"X-Requested-With": "fetch"} if partial else {},
        )

    resp = post("1", partial=True)
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert "<html" not in text  # just the report, for the page script
    assert 'data-dry-run="1"' in text and 'data-created="4"' in text
    assert "Chưa nhập họ và tên." in text
    assert "trùng với dòng 5 của tệp" in text
    assert counts() == before

    resp = post("0", partial=False)
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert "<html" in text and "Đã nhập xong" in text
    assert "3 tài khoản nhận tiền đang chờ duyệt" in text
    assert counts()["Vendor"] == before["Vendor"] + 4


def test_import_page_without_file_or_with_bad_file(client: Any, auth: Any, world: World) -> None:
    auth.login(world.board)
    resp = client.post(f"/markets/{world.market.id}/vendors/import", data={"dry_run": "1"})
    assert resp.status_code == 422
    assert "Chưa chọn tệp" in resp.get_data(as_text=True)
    resp = client.post(
        f"/markets/{world.market.id}/vendors/import",
        data={"file": (io.BytesIO(b"just some text\nno header"), "x.csv"), "dry_run": "1"},
        content_type="multipart/form-data",
        headers={"X-Requested-With": "fetch"},
    )
    assert resp.status_code == 422
    assert "Không tìm thấy dòng tiêu đề" in resp.get_data(as_text=True)


def test_helper_imports_with_onboarding_org(client: Any, auth: Any, world: World) -> None:
    auth.login(world.helper)
    resp = client.post(
        f"/markets/{world.market.id}/vendors/import",
        data={
            "file": (io.BytesIO(board_file(3)), "ds.xlsx"),
            "dry_run": "0",
            "onboarding_org": "bank",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    vendors = db.session.scalars(select(Vendor).where(Vendor.market_id == world.market.id)).all()
    assert len(vendors) == 3
    assert {(v.onboarding_org, v.onboarding_org_name) for v in vendors} == {("bank", "Agribank")}


def test_cli_import(runner: Any, world: World, tmp_path: Any) -> None:
    path = tmp_path / "ds.xlsx"
    path.write_bytes(xlsx(MESSY))
    before = counts()
    args = ["chopay", "import-vendors", str(world.market.id), str(path), "--user", "bql.daitu"]
    result = runner.invoke(args=[*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "sẽ tạo 4, trùng 2, lỗi 6" in result.output
    assert "dòng 9: lỗi – full_name: Chưa nhập họ và tên." in result.output
    assert counts() == before
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert counts()["Vendor"] == before["Vendor"] + 4
    result = runner.invoke(args=[*args[:-1], "sct.backan"])
    assert result.exit_code != 0
