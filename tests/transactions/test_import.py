"""Bank-statement CSV import: parsing, matching, held lines, idempotency."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select

from chopay.errors import InvalidInputError
from chopay.transactions import importer
from chopay.transactions.models import InboundPayment, Transaction
from chopay.vendors.models import VendorStatus
from tests.factories import VendorFactory
from tests.transactions.conftest import World, approved_account, counts, rollup

URL = "/api/v1/transactions/import"


def _statement(world: World) -> str:
    a, b, o = world.account.account_number, world.account2.account_number, "99999999"
    ref2 = world.vendor2.reference
    return "\n".join(
        [
            "date,amount,account_number,content,reference",
            f'21/11/2025 09:15,"1.250.000",{a},{world.vendor.reference} mua vai,FT001',
            f'21/11/2025 09:16,"1,250,000",{a},chuyen tien,FT002',
            f"21/11/2025 09:17,45000,{b},MBVCB.123.{ref2}.rau,FT003",
            f"21/11/2025 09:18,30000,{o},khong ro ai,FT004",
            f"21/11/2025 09:19,-500000,{a},rut tien,FT005",
            f"21/11/2025 09:20,12.5.00,{a},so tien sai,FT006",
            f"32/11/2025 09:21,1000,{a},ngay sai,FT007",
            f"21/11/2025 09:22,20000,{o},{ref2} tra tien qua TK cho,FT008",
            "",
        ]
    )


def test_statement_lines_are_matched_recorded_held_and_rejected(db: Any, world: World) -> None:
    report = importer.import_statement(
        _statement(world).encode(), actor=world.board, market=world.market
    )
    assert report.lines == 8
    assert (report.created, report.duplicates, report.ignored) == (4, 0, 1)
    assert report.unmatched_total == 1 and report.rejected_total == 2
    assert sorted(r["line"] for r in report.rejected) == [7, 8]
    assert "amount" in report.rejected[0]["details"]
    assert "date" in report.rejected[1]["details"]
    held = report.unmatched[0]
    assert held["line"] == 5 and held["reason"] == "unknown_account" and held["amount"] == 30_000
    inbound = db.session.get(InboundPayment, held["inbound_id"])
    assert inbound.market_id == world.market.id and inbound.status == "unmatched"
    assert inbound.account_number == "99999999" and inbound.content == "khong ro ai"
    # 1,250,000 twice for vendor 1 (by account), 45,000 + 20,000 (reference via the
    # market's collection account) for vendor 2
    assert rollup(db, world.vendor.id) == [(dt.date(2025, 11, 21), "vietqr", 2, 2_500_000)]
    assert rollup(db, world.vendor2.id) == [(dt.date(2025, 11, 21), "vietqr", 2, 65_000)]
    rows = db.session.scalars(select(Transaction).order_by(Transaction.external_ref)).all()
    assert {r.source for r in rows} == {"import"}
    assert rows[0].external_ref == f"{world.account.account_number}:FT001"
    assert rows[0].occurred_at == dt.datetime(2025, 11, 21, 2, 15, tzinfo=dt.UTC)
    assert rows[0].reporter_id == world.board.id


def test_importing_the_same_statement_again_records_nothing_twice(db: Any, world: World) -> None:
    data = _statement(world).encode()
    importer.import_statement(data, actor=world.board, market=world.market)
    before = counts(db)
    again = importer.import_statement(data, actor=world.board, market=world.market)
    assert (again.created, again.duplicates, again.unmatched_total) == (0, 4, 1)
    assert counts(db) == before


def test_lines_without_a_reference_column_are_still_idempotent(db: Any, world: World) -> None:
    a = world.account.account_number
    text = "\n".join(
        [
            "date,amount,account_number,content",
            f"21/11/2025 09:15,50000,{a},rau",
            f"21/11/2025 09:15,50000,{a},rau",  # the same sale twice: two real payments
            f"21/11/2025 09:16,50000,{a},rau",
        ]
    )
    first = importer.import_statement(text.encode(), actor=world.board)
    second = importer.import_statement(text.encode(), actor=world.board)
    assert (first.created, second.created, second.duplicates) == (3, 0, 3)


def test_vietnamese_headers_semicolons_bom_and_credit_debit_columns(db: Any, world: World) -> None:
    text = "\ufeff" + "\n".join(
        [
            "Ngày giao dịch;Ghi nợ;Ghi có;Nội dung;Số bút toán",
            f"21/11/2025 10:00;;1.000.000;{world.vendor.reference} hang;A1",
            "21/11/2025 10:05;200.000;;tra NCC;A2",
            f"21/11/2025 10:06:30;;75.000 đ;{world.vendor.reference};A3",
        ]
    )
    report = importer.import_statement(
        text.encode(), actor=world.board, account_number=world.account.account_number
    )
    assert (report.created, report.ignored, report.rejected_total) == (2, 1, 0)
    assert rollup(db, world.vendor.id)[0][2:] == (2, 1_075_000)


def test_type_column_marks_outgoing_lines(db: Any, world: World) -> None:
    a = world.account.account_number
    text = (
        "date,amount,account_number,type\n"
        f"21/11/2025 10:00,5000,{a},D\n21/11/2025 10:00,6000,{a},C\n"
    )
    report = importer.import_statement(text.encode(), actor=world.board)
    assert (report.created, report.ignored) == (1, 1)


def test_shared_account_is_resolved_by_the_note_reference(db: Any, world: World) -> None:
    shared = approved_account(
        world.vendor2, world.admin, world.board, account_number="555000111", is_primary=False
    )
    approved_account(
        world.vendor, world.admin, world.board, account_number="555000111", is_primary=False
    )
    text = "\n".join(
        [
            "date,amount,account_number,content",
            f"21/11/2025 10:00,5000,{shared.account_number},{world.vendor2.reference}",
            f"21/11/2025 10:01,6000,{shared.account_number},khong ma",
        ]
    )
    report = importer.import_statement(text.encode(), actor=world.admin)
    assert report.created == 1
    assert [u["reason"] for u in report.unmatched] == ["ambiguous"]
    assert rollup(db, world.vendor2.id)[0][2:] == (1, 5000)


def test_reference_of_another_vendor_on_an_account_is_held(db: Any, world: World) -> None:
    text = (
        "date,amount,account_number,content\n"
        f"21/11/2025 10:00,5000,{world.account.account_number},{world.vendor2.reference} x\n"
    )
    report = importer.import_statement(text.encode(), actor=world.board)
    assert report.created == 0
    assert report.unmatched[0]["reason"] == "reference_mismatch"


def test_left_vendor_and_other_markets_vendor(db: Any, world: World) -> None:
    gone = VendorFactory(market=world.market, status=VendorStatus.LEFT)
    gone_account = approved_account(gone, world.admin, world.board)
    text = "\n".join(
        [
            "date,amount,account_number,content",
            f"21/11/2025 10:00,5000,{gone_account.account_number},x",
            f"21/11/2025 10:00,5000,{world.outsider_account.account_number},x",
        ]
    )
    report = importer.import_statement(text.encode(), actor=world.board, market=world.market)
    assert report.created == 0
    assert [u["reason"] for u in report.unmatched] == ["vendor_left"]
    assert report.rejected[0]["line"] == 3
    assert report.rejected[0]["details"] == {"account_number": ["out_of_scope"]}
    assert counts(db) == (0, 0, 1)


def test_future_lines_are_rejected(db: Any, world: World) -> None:
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%d/%m/%Y %H:%M")
    text = f"date,amount,account_number\n{later},5000,{world.account.account_number}\n"
    report = importer.import_statement(text.encode(), actor=world.board)
    assert report.rejected_total == 1 and "date" in report.rejected[0]["details"]


def test_held_line_is_credited_when_a_later_import_matches_it(db: Any, world: World) -> None:
    newcomer = VendorFactory(market=world.market)
    text = "date,amount,account_number,reference\n21/11/2025 10:00,5000,77770000,R1\n"
    first = importer.import_statement(text.encode(), actor=world.board, market=world.market)
    assert first.unmatched_total == 1
    approved_account(newcomer, world.admin, world.board, account_number="77770000")
    second = importer.import_statement(text.encode(), actor=world.board, market=world.market)
    assert second.created == 1
    inbound = db.session.get(InboundPayment, first.unmatched[0]["inbound_id"])
    assert inbound.status == "assigned" and inbound.transaction_id is not None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"amount,content\n1000,x\n", "file"),
        (b"date,content\n21/11/2025 10:00,x\n", "file"),
        (b"", "file"),
        ("date,amount\n21/11/2025 10:00,1000\n".encode("utf-16"), "file"),
    ],
)
def test_unreadable_files_are_refused(db: Any, world: World, data: bytes, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        importer.import_statement(data, actor=world.board)
    assert field in err.value.details
    assert counts(db) == (0, 0, 0)


def test_missing_account_is_a_rejected_line(db: Any, world: World) -> None:
    report = importer.import_statement(b"date,amount\n21/11/2025 10:00,1000\n", actor=world.board)
    assert report.rejected[0]["details"] == {"account_number": ["Thiếu số tài khoản nhận."]}


def test_import_api_accepts_multipart_and_raw_csv(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    headers = auth.token_headers(world.board)
    data = {"file": (io.BytesIO(_statement(world).encode()), "saoke.csv")}
    resp = client.post(URL, data=data, headers=headers, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["created"], body["unmatched_total"], body["rejected_total"]) == (4, 1, 2)
    assert body["unmatched"][0]["inbound_id"]
    raw = client.post(
        f"{URL}?account_number={world.account.account_number}",
        data=b"date,amount\n22/11/2025 08:00,9000\n",
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert raw.status_code == 200 and raw.get_json()["created"] == 1


def test_import_api_refuses_officers_and_bad_markets(
    client: Any, auth: Any, db: Any, world: World
) -> None:
    body = _statement(world).encode()
    resp = client.post(URL, data=body, headers=auth.token_headers(world.officer))
    assert resp.status_code == 403
    assert client.post(URL, data=body, headers=auth.token_headers(world.helper)).status_code == 403
    other = client.post(
        f"{URL}?market={world.other_market.id}", data=body, headers=auth.token_headers(world.board)
    )
    assert other.status_code == 403
    empty = client.post(URL, data=b"", headers=auth.token_headers(world.board))
    assert empty.status_code == 422 and empty.get_json()["error"]["details"]["file"]
    assert counts(db) == (0, 0, 0)
