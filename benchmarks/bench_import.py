"""Benchmark: importing a board's vendor list (XLSX) through the JSON API.

Generates an N-row XLSX the way boards' lists look (two title rows, a blank line,
Vietnamese header, phones and account numbers stored by Excel as floats) and, on a
fresh SQLite file and a fresh PostgreSQL database, times through the real HTTP stack
(test client, bearer token, multipart upload):

  1. the dry run (``?dry_run=1``: read, validate, de-duplicate, write nothing),
  2. the real import (the same plus bulk INSERTs of vendors, accounts, audit events),
  3. re-importing the same file (every row a duplicate, nothing written),
  4. a second person approving every imported account at once (QR codes issued).

Prints N, seconds and rows/s for each. The PostgreSQL database is created and dropped
here; pass --no-postgres to skip it.

Run:  .venv/bin/python benchmarks/bench_import.py [--rows 5000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from _pg import throwaway_database
from openpyxl import Workbook

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Thị", "Văn", "Thị Thu", "Văn Minh", "Thị Ngọc", "Đức", "Thị Hồng"]
GIVEN = ["Hường", "Lan", "Mai", "Tám", "Bình", "Đức", "Hà", "Yến", "Phúc", "Quỳnh"]
GOODS = ["Rau củ", "Thịt lợn", "Cá", "Gạo", "Quần áo", "Tạp hóa", "Hoa quả", "Chè"]
BANKS = ["Vietcombank", "VCB", "BIDV", "Agribank", "970405", "MB", "Techcombank", "970422"]
PASSWORD = "mat-khau-dai-123"  # noqa: S105 - a throwaway benchmark database
HEADER = ["STT", "Họ và tên", "Số quầy", "Ngành hàng", "Số điện thoại", "Ngân hàng",
          "Số tài khoản", "Chủ tài khoản"]  # fmt: skip


def make_xlsx(rows: int, seed: int = 2025) -> bytes:
    """A board-style list of ``rows`` distinct vendors."""
    rng = random.Random(seed)
    book = Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH TIỂU THƯƠNG CHỢ TRUNG TÂM ĐẠI TỪ"])
    sheet.append(["(kèm theo kế hoạch chuyển đổi số chợ)"])
    sheet.append([])
    sheet.append(HEADER)
    for i in range(rows):
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)} {i}"
        sheet.append(
            [
                i + 1,
                name,
                f"{'ABCDEFGH'[i % 8]}-{i:04d}",
                rng.choice(GOODS),
                float(f"9{i:08d}"),  # Excel dropped the leading 0
                rng.choice(BANKS),
                float(f"{rng.randrange(1, 10)}{i:09d}"),
                "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def setup(url: str) -> tuple[Any, dict[str, str], int]:
    """A migrated app with Thái Nguyên's units, one market, a board member and a helper
    (the second person who approves); returns the app, the board's token header, the market."""
    from flask_migrate import upgrade

    from chopay import create_app
    from chopay.admin_units.services import load_units
    from chopay.auth.services import create_token, create_user
    from chopay.extensions import db
    from chopay.markets.models import Market

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        load_units("19")
        market = Market(code="BENCH-1", name="Chợ thử tải", stall_count=6000)
        db.session.add(market)
        db.session.flush()
        board = create_user(username="bql.bench", role="board", password=PASSWORD,
                            market_ids=[market.id])  # fmt: skip
        helper = create_user(username="hotro.bench", role="helper", password=PASSWORD,
                             market_ids=[market.id])  # fmt: skip
        assert helper.id != board.id
        _, board_token = create_token(board)
        db.session.commit()
        market_id = market.id
    return app, {"Authorization": f"Bearer {board_token}"}, market_id


def timed(label: str, n: int, fn: Any) -> Any:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<28} N={n:>5}  {seconds:6.2f} s  {n / seconds:8.0f} rows/s")
    return result


def run(url: str, data: bytes, rows: int) -> None:
    from chopay.extensions import db
    from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor

    app, board, market_id = setup(url)
    client = app.test_client()
    endpoint = f"/api/v1/markets/{market_id}/vendors/import"

    def upload(dry_run: bool) -> dict[str, Any]:
        resp = client.post(
            endpoint + ("?dry_run=1" if dry_run else ""),
            headers=board,
            data={"file": (io.BytesIO(data), "danh-sach.xlsx")},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        return resp.get_json()

    report = timed("dry run", rows, lambda: upload(True))
    assert report["created"] == rows, report["error"]
    report = timed("import", rows, lambda: upload(False))
    assert report["created"] == rows
    report = timed("re-import (all duplicates)", rows, lambda: upload(False))
    assert report["duplicate"] == rows

    with app.app_context():
        ids = list(db.session.scalars(sa.select(PaymentAccount.id).order_by(PaymentAccount.id)))

    def approve_all() -> None:
        from chopay.auth.models import User
        from chopay.vendors.services import approve_accounts

        with app.test_request_context():
            user = db.session.scalar(sa.select(User).where(User.username == "hotro.bench"))
            approve_accounts(ids, actor=user)
            db.session.commit()

    timed("approve all (QR issued)", len(ids), approve_all)
    with app.app_context():
        vendors = db.session.scalar(sa.select(sa.func.count(Vendor.id)))
        approved = db.session.scalar(
            sa.select(sa.func.count(PaymentAccount.id)).where(
                PaymentAccount.status == AccountStatus.APPROVED
            )
        )
        codes = db.session.scalar(sa.select(sa.func.count(QrCode.id)))
        db.session.remove()
        db.engine.dispose()
    print(f"  check: {vendors} vendors, {approved} approved accounts, {codes} QR codes")
    assert vendors == approved == codes == rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument(
        "--pg",
        default=os.environ.get("CHOPAY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    data = make_xlsx(args.rows)
    print(f"generated {args.rows}-row XLSX ({len(data) / 1024:.0f} KiB) "
          f"in {time.perf_counter() - start:.2f} s")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (file, WAL):")
        run(f"sqlite:///{tmp}/bench.db", data, args.rows)

    if args.no_postgres:
        return
    with throwaway_database("chopay_bench_import", args.pg) as url:
        print("PostgreSQL:")
        run(url, data, args.rows)


if __name__ == "__main__":
    main()
