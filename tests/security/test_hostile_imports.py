"""Hostile files against the importers: vendor lists (CSV/XLSX) and bank statements (CSV).

Wrong encodings, random bytes, formulas, 1 MB cells, 100,000 empty rows, thousands of
columns, garbage named .xlsx, zip bombs and lying XLSX dimensions. Every one gets a clear
4xx (JSON error naming the file) or a report with per-row errors; never a 500, never a
half-written import (the database holds exactly what the report says was created), and
in bounded time and memory.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import io
import time
import tracemalloc
import unicodedata
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from chopay.transactions.models import InboundPayment, Transaction
from chopay.vendors.models import PaymentAccount, Vendor
from tests.factories import MarketFactory, PaymentAccountFactory, UserFactory, VendorFactory

FORMULAS = ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "=1+1", '=HYPERLINK("x")')
MEGABYTE_CELL = "x" * 1_000_000
SECONDS = 30  # per import, generous for a slow CI machine; the real figures are 0.1-4 s
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VN = dt.timezone(dt.timedelta(hours=7))


# ---- the world and the two import endpoints -------------------------------------------


class Importer:
    """A market with an approved vendor account and an admin's token; posts files."""

    def __init__(self, client: Any, auth: Any, db: Any) -> None:
        self.client = client
        self.db = db
        self.market = MarketFactory()
        admin, checker = UserFactory(), UserFactory()
        self.vendor = VendorFactory(market=self.market, reference="CPHOSTILE1")
        self.account = PaymentAccountFactory(
            vendor=self.vendor,
            account_number="0011223344",
            status="approved",
            is_primary=True,
            created_by_id=admin.id,
            decided_by_id=checker.id,
        )
        self.headers = auth.token_headers(admin)
        db.session.commit()

    def counts(self) -> tuple[int, ...]:
        return tuple(
            self.db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Vendor, PaymentAccount, Transaction, InboundPayment)
        )

    def vendors(self, data: bytes, name: str = "list.csv", *, dry_run: bool = False) -> Any:
        return self._post(
            f"/api/v1/markets/{self.market.id}/vendors/import?dry_run={int(dry_run)}", data, name
        )

    def statement(self, data: bytes, name: str = "statement.csv") -> Any:
        return self._post(f"/api/v1/transactions/import?market={self.market.id}", data, name)

    def _post(self, url: str, data: bytes, name: str) -> Any:
        before = self.counts()
        started = time.perf_counter()
        body, content_type = multipart(data, name)
        resp = self.client.post(url, data=body, content_type=content_type, headers=self.headers)
        elapsed = time.perf_counter() - started
        assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
        assert elapsed < SECONDS, f"import took {elapsed:.1f} s"
        after = self.counts()
        added = tuple(b - a for a, b in zip(before, after, strict=True))
        body = resp.get_json()
        assert body is not None, "every answer is JSON"
        if resp.status_code >= 400:
            assert set(body) == {"error"} and body["error"]["message"]
            assert added == (0, 0, 0, 0), "a refused import wrote something"
        elif "rows" in body:  # vendor list
            made = [r for r in body["rows"] if r["status"] == "created"]
            accounts = sum(1 for r in made if r["account_number"])
            written = (0, 0) if body["dry_run"] else (len(made), accounts)
            assert added == (*written, 0, 0), "the database differs from the report"
            for row in body["rows"]:
                assert row["status"] in ("created", "duplicate", "error")
                assert row["status"] != "error" or row["errors"], "an error row says why"
        else:  # statement
            assert added[:3] == (0, 0, body["created"])
            assert added[3] <= body["unmatched_total"]
        resp.elapsed = elapsed
        return resp


def multipart(data: bytes, name: str) -> tuple[bytes, str]:
    """A multipart body with one ``file`` field (built here: the test client spools big
    bodies to a temporary file it never closes)."""
    boundary = "chopay-hostile-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def imports(client: Any, auth: Any, db: Any) -> Importer:
    return Importer(client, auth, db)


def refused(resp: Any, *words: str) -> str:
    """The refusal's message and details, for asserting it is clear."""
    assert resp.status_code in (400, 413, 415, 422), resp.status_code
    error = resp.get_json()["error"]
    text = f"{error['message']} {error['details']}"
    for word in words:
        assert word in text, text
    return text


@contextlib.contextmanager
def peak_memory(limit_mb: float) -> Iterator[None]:
    """Fail if the block allocates more than ``limit_mb`` at its peak (Python heap)."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit_mb * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


# ---- building hostile files ---------------------------------------------------------------

HEADER = "Họ và tên,Số quầy,Số điện thoại,Ngân hàng,Số tài khoản\n"
STATEMENT_HEADER = "Ngày,Số tiền,Số tài khoản,Nội dung,Mã giao dịch\n"


def encode(text: str, codec: str) -> bytes:
    """``text`` in ``codec``; Windows-1258 as Vietnamese Windows writes it (base letters
    with circumflex/breve/horn precomposed, tone marks combining)."""
    if codec != "cp1258":
        return text.encode(codec)
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            for mark in marks:  # â ê ô ă ơ ư exist precomposed
                composed = unicodedata.normalize("NFC", base + mark)
                with contextlib.suppress(UnicodeEncodeError):
                    composed.encode("cp1258")
                    base = composed
                    marks.remove(mark)
                    break
            out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


def now_text() -> str:
    return (dt.datetime.now(VN) - dt.timedelta(hours=1)).strftime("%d/%m/%Y %H:%M")


def csv_line(*cells: str) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells) + "\n"


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet_xml(
    rows_xml: Iterator[bytes],
    dimension: str = "A1:B2",
    shared: list[str] | None = None,
    prolog: bytes = b"",
) -> bytes:
    """A real workbook whose first sheet is replaced by streamed raw XML (and, with
    ``shared``, a shared-strings table: cells ``<c t="s"><v>i</v></c>`` refer to it)."""
    base = zipfile.ZipFile(io.BytesIO(xlsx([["Họ và tên", "Số quầy"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in base.infolist():
            content = base.read(info.filename)
            if info.filename == "[Content_Types].xml" and shared is not None:
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                    b"</Types>",
                )
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, content)
                continue
            with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
                sheet.write(
                    prolog
                    + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                    b'main"><dimension ref="' + dimension.encode() + b'"/><sheetData>'
                )
                for chunk in rows_xml:
                    sheet.write(chunk)
                sheet.write(b"</sheetData></worksheet>")
        if shared is not None:
            items = "".join(f"<si><t>{text}</t></si>" for text in shared)
            target.writestr(
                "xl/sharedStrings.xml",
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"{items}</sst>",
            )
    return out.getvalue()


def text_row(number: int, *cells: str) -> bytes:
    xml = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{c}</t></is></c>'
        for i, c in enumerate(cells)
    )
    return f'<row r="{number}">{xml}</row>'.encode()


def header_and_one_vendor() -> list[bytes]:
    return [text_row(1, "Họ và tên", "Số quầy"), text_row(2, "Trần Thị Lan", "B-7")]


# ---- vendor lists: encodings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "prefix"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16", b""), ("cp1258", b"")],
)
def test_vendor_list_in_each_encoding_boards_use_imports(
    imports: Importer, codec: str, prefix: bytes
) -> None:
    text = HEADER + csv_line("Nguyễn Thị Hường", "ENC-1", "0912345678", "", "")
    resp = imports.vendors(prefix + encode(text, codec))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["created"] == 1
    name = imports.db.session.scalar(select(Vendor.full_name).where(Vendor.stall == "ENC-1"))
    assert name == "Nguyễn Thị Hường"


@given(data=st.binary(max_size=3000))
@FUZZ
def test_random_bytes_as_a_vendor_list_never_fail_badly(imports: Importer, data: bytes) -> None:
    imports.vendors(data, "list.csv")
    imports.vendors(b"PK\x03\x04" + data, "list.xlsx")


_cell = st.one_of(
    st.sampled_from(FORMULAS),
    st.text(max_size=30),
    st.text(alphabet="0123456789.,Ee+- ", max_size=20),
    st.sampled_from(["", " ", "có", "x", "9.70436E+12", "912345678.0", "VCB", "970436"]),
)


@given(
    rows=st.lists(st.lists(_cell, min_size=1, max_size=7), max_size=12),
    codec=st.sampled_from(["utf-8", "utf-16", "cp1258"]),
    dry_run=st.booleans(),
)
@FUZZ
def test_vendor_list_with_hostile_cells_reports_row_by_row(
    imports: Importer, rows: list[list[str]], codec: str, dry_run: bool
) -> None:
    text = HEADER + "".join(csv_line(*row) for row in rows)
    resp = imports.vendors(text.encode(codec, errors="replace"), dry_run=dry_run)
    if resp.status_code == 200:
        for row in resp.get_json()["rows"]:
            if row["status"] == "created" and row["full_name"] in FORMULAS:
                # stored as the text it is, never evaluated
                assert row["full_name"].startswith(("=", "+", "-", "@"))


@given(rows=st.lists(st.lists(_cell, min_size=1, max_size=7), max_size=12))
@FUZZ
def test_vendor_xlsx_with_hostile_cells_reports_row_by_row(
    imports: Importer, rows: list[list[str]]
) -> None:
    # openpyxl writes text starting with "=" as a formula: the importer reads only values.
    # (Control characters cannot be stored in a worksheet at all.)
    rows = [[ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row] for row in rows]
    imports.vendors(xlsx([["Họ và tên", "Số quầy", "SĐT", "Ngân hàng", "STK"], *rows]), "l.xlsx")


def test_formulas_in_a_vendor_list_are_stored_as_plain_text(imports: Importer) -> None:
    text = HEADER + "".join(csv_line(f, f"F-{n}", "", "", "") for n, f in enumerate(FORMULAS))
    body = imports.vendors(text.encode()).get_json()
    assert body["created"] == len(FORMULAS)
    stored = imports.db.session.scalars(
        select(Vendor.full_name).where(Vendor.stall.like("F-%"))
    ).all()
    assert sorted(stored) == sorted(FORMULAS)


# ---- vendor lists: size ---------------------------------------------------------------------


def test_a_megabyte_cell_in_a_csv_vendor_list_is_refused_clearly(imports: Importer) -> None:
    text = HEADER + csv_line(MEGABYTE_CELL, "A-1", "", "", "")
    refused(imports.vendors(text.encode()), "CSV")


def test_a_megabyte_cell_shared_by_every_xlsx_row_is_reported_not_echoed(
    imports: Importer,
) -> None:
    # One shared string referenced by 2,000 rows: echoing it per row would answer 4 GB.
    def rows() -> Iterator[bytes]:
        yield text_row(1, "Họ và tên", "Số quầy", "Ngân hàng")
        for n in range(2, 2002):
            cells = f'<c r="A{n}" t="s"><v>0</v></c><c r="B{n}" t="inlineStr"><is><t>M-{n}'
            cells += f'</t></is></c><c r="C{n}" t="s"><v>0</v></c>'
            yield f'<row r="{n}">{cells}</row>'.encode()

    data = with_sheet_xml(rows(), shared=[MEGABYTE_CELL])
    assert len(data) < 100_000
    with peak_memory(100):
        resp = imports.vendors(data, "big.xlsx")
    assert resp.status_code == 200
    assert len(resp.get_data()) < 5_000_000
    body = resp.get_json()
    assert body["error"] == 2000 and body["created"] == 0
    assert all(row["full_name"] is None for row in body["rows"])
    assert body["rows"][0]["errors"]["full_name"] == ["Ô dài quá 1000 ký tự."]


def test_megabyte_cells_in_every_header_candidate(imports: Importer) -> None:
    def rows() -> Iterator[bytes]:
        for n in range(1, 31):
            cells = "".join(f'<c r="{chr(65 + i)}{n}" t="s"><v>0</v></c>' for i in range(26))
            yield f'<row r="{n}">{cells}</row>'.encode()

    refused(imports.vendors(with_sheet_xml(rows(), shared=[MEGABYTE_CELL]), "h.xlsx"), "file")


def test_100000_empty_csv_rows_around_one_vendor(imports: Importer) -> None:
    text = HEADER + ",,,,\n" * 50_000 + csv_line("Lê Văn Tám", "C-1", "", "", "") + "\n" * 50_000
    body = imports.vendors(text.encode()).get_json()
    assert body["created"] == 1 and body["total"] == 1


def test_100000_empty_xlsx_rows_around_one_vendor(imports: Importer) -> None:
    def rows() -> Iterator[bytes]:
        yield text_row(1, "Họ và tên", "Số quầy")
        for n in range(2, 100_002):
            empty = f'<c r="A{n}"/><c r="B{n}" t="inlineStr"><is><t></t></is></c>'
            yield f'<row r="{n}">{empty}</row>'.encode()
        yield text_row(100_002, "Lê Văn Tám", "C-1")

    body = imports.vendors(with_sheet_xml(rows()), "empty.xlsx").get_json()
    assert body["created"] == 1 and body["total"] == 1


def test_thousands_of_columns(imports: Importer) -> None:
    wide = ",".join(["cột"] * 5000)
    text = f"Họ và tên,Số quầy,{wide}\n" + "".join(f"Người {n},W-{n},{wide}\n" for n in range(300))
    body = imports.vendors(text.encode()).get_json()
    assert body["created"] == 300
    # the same columns pushed past the columns read: no header, a clear refusal
    text = f"{wide},Họ và tên,Số quầy\n" + f"{wide},Người,W-1\n"
    refused(imports.vendors(text.encode()), "Họ và tên")


def test_an_xlsx_row_reaching_the_last_column_and_row(imports: Importer) -> None:
    def rows() -> Iterator[bytes]:
        yield from header_and_one_vendor()
        last = '<c r="XFD1048576" t="inlineStr"><is><t>cuối</t></is></c>'
        yield f'<row r="1048576">{last}</row>'.encode()

    # A 5 KB file declaring the whole grid used: 16,384 columns x 1,048,576 rows if believed.
    data = with_sheet_xml(rows(), dimension="A1:XFD1048576")
    with peak_memory(50):
        resp = imports.vendors(data, "grid.xlsx")
    assert resp.get_json()["created"] == 1, resp.get_json()


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + bytes(range(256)) * 20,
        b"PK\x05\x06" + b"\0" * 18,  # an empty zip
        zipfile.ZipFile.__name__.encode() * 100,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,  # old .xls
    ],
    ids=["garbage-after-zip-magic", "empty-zip", "text", "xls"],
)
def test_garbage_named_xlsx_is_refused_clearly(imports: Importer, data: bytes) -> None:
    refused(imports.vendors(data, "list.xlsx"), "file")


def test_a_zip_that_is_not_a_workbook_is_refused(imports: Importer) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "xin chào")
    refused(imports.vendors(out.getvalue(), "list.xlsx"), "file")


def test_an_xlsx_with_broken_xml_is_refused(imports: Importer) -> None:
    data = with_sheet_xml(iter(["<row r='1'><c r='A1' t='inlineStr'><is><t>Họ".encode()]))
    refused(imports.vendors(data, "broken.xlsx"), "file")


def test_an_xml_entity_bomb_is_refused(imports: Importer) -> None:
    # "Billion laughs": ten levels of ten entities each, a gigabyte once expanded.
    entities = ['<!ENTITY e0 "ha">'] + [
        f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 10)
    ]
    prolog = f"<!DOCTYPE worksheet [{''.join(entities)}]>".encode()
    rows = iter([text_row(1, "Họ và tên", "Số quầy"), text_row(2, "&e9;", "B-1")])
    resp = imports.vendors(with_sheet_xml(rows, prolog=prolog), "laughs.xlsx")
    refused(resp, "file")
    assert resp.elapsed < 5


def test_zip_bomb_xlsx_is_refused_before_parsing(imports: Importer) -> None:
    def rows() -> Iterator[bytes]:
        yield from header_and_one_vendor()
        chunk = b"<row/>" * 100_000
        for _ in range(120):  # 72 MB of XML, about 70 KB compressed
            yield chunk

    data = with_sheet_xml(rows())
    assert len(data) < 1_000_000
    with peak_memory(50):
        resp = imports.vendors(data, "bomb.xlsx")
    refused(resp, "file")
    assert resp.elapsed < 2


# ---- bank statements ---------------------------------------------------------------------


def statement_line(amount: str, account: str, content: str, ref: str) -> str:
    return csv_line(now_text(), amount, account, content, ref)


@pytest.mark.parametrize(
    "data",
    [
        (STATEMENT_HEADER + statement_line("100000", "0011223344", "CPHOSTILE1", "R1")).encode(
            "utf-16"
        ),
        encode(STATEMENT_HEADER + "01/11/2026,1,2,tiền,3\n", "cp1258"),
        bytes(range(128, 256)) * 10,
        b"",
    ],
    ids=["utf-16", "cp1258", "random-high-bytes", "empty"],
)
def test_statement_in_a_wrong_encoding_is_refused_clearly(imports: Importer, data: bytes) -> None:
    refused(imports.statement(data), "file")


@given(data=st.binary(max_size=3000))
@FUZZ
def test_random_bytes_as_a_statement_never_fail_badly(imports: Importer, data: bytes) -> None:
    imports.statement(data)
    imports.statement(STATEMENT_HEADER.encode() + data)


@given(
    lines=st.lists(
        st.tuples(
            st.one_of(st.just(now_text()), st.text(max_size=20)),
            st.one_of(
                st.sampled_from(["100.000", "-5000", "1,250,000", "0", "9" * 12]),
                st.text(max_size=12),
            ),
            st.one_of(st.just("0011223344"), st.text(max_size=60)),
            st.one_of(st.sampled_from(FORMULAS), st.just("CPHOSTILE1 rau"), st.text(max_size=40)),
            st.one_of(st.sampled_from(FORMULAS), st.text(max_size=20)),
        ),
        max_size=10,
    )
)
@FUZZ
def test_statement_with_hostile_lines_reports_line_by_line(
    imports: Importer, lines: list[tuple[str, ...]]
) -> None:
    text = STATEMENT_HEADER + "".join(csv_line(*line) for line in lines)
    imports.statement(text.encode())


def test_statement_formulas_are_kept_as_text(imports: Importer) -> None:
    text = STATEMENT_HEADER + "".join(
        statement_line("10.000", "0011223344", f"CPHOSTILE1 {f}", f"F{n}")
        + statement_line("20.000", "9999999999", f, f"U{n}")
        for n, f in enumerate(FORMULAS)
    )
    body = imports.statement(text.encode()).get_json()
    assert body["created"] == len(FORMULAS) and body["unmatched_total"] == len(FORMULAS)
    notes = imports.db.session.scalars(select(Transaction.note)).all()
    assert sorted(notes) == sorted(f"CPHOSTILE1 {f}" for f in FORMULAS)
    held = imports.db.session.scalars(select(InboundPayment.content)).all()
    assert sorted(held) == sorted(FORMULAS)


def test_a_megabyte_cell_in_a_statement_is_refused_clearly(imports: Importer) -> None:
    text = STATEMENT_HEADER + statement_line("10.000", "0011223344", MEGABYTE_CELL, "R1")
    refused(imports.statement(text.encode()), "CSV")


def test_an_overlong_account_number_is_a_line_error(imports: Importer) -> None:
    text = STATEMENT_HEADER + statement_line("10.000", "1" * 500, "CPHOSTILE1", "R1")
    text += statement_line("10.000", "0011223344", "CPHOSTILE1", "R2")
    body = imports.statement(text.encode()).get_json()
    assert body["created"] == 1 and body["rejected_total"] == 1
    assert "account_number" in body["rejected"][0]["details"]


def test_statement_with_100000_empty_rows(imports: Importer) -> None:
    text = STATEMENT_HEADER + ",,,,\n" * 50_000
    text += statement_line("10.000", "0011223344", "CPHOSTILE1", "R1") + "\n" * 50_000
    body = imports.statement(text.encode()).get_json()
    assert body["lines"] == 1 and body["created"] == 1


def test_statement_with_thousands_of_columns(imports: Importer) -> None:
    wide = ",".join(["x"] * 5000)
    text = STATEMENT_HEADER.rstrip("\n") + f",{wide}\n"
    text += "".join(
        statement_line(f"{1000 + n}", "0011223344", "CPHOSTILE1", f"W{n}").rstrip("\n")
        + f",{wide}\n"
        for n in range(200)
    )
    body = imports.statement(text.encode()).get_json()
    assert body["created"] == 200
