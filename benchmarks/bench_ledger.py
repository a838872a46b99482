"""Benchmark: bulk ledger writes, rollups included, into SQLite and PostgreSQL.

For each backend, on a fresh database migrated with the real Alembic revisions
(400 vendors with approved accounts in one market):

  (a) statement import: a generated bank-statement CSV of N lines through
      ``importer.import_statement`` (CSV parsing, amount/date parsing, matching by account
      number and note reference, ledger insert, rollup upsert, held lines) + commit;
  (b) bulk API: ``POST /api/v1/transactions`` with lists of 1,000 payments through the
      Flask test client (JSON, token auth, validation, rights, insert, rollups, commit);
  (c) ``insert_transactions`` alone (what the demo generator calls), N rows over 90 days;
  (d) re-import of (a): every line a duplicate;

then checks that the rollups equal a fresh aggregate of the ledger. Targets: (a) and (b)
at least 20,000 rows/s on PostgreSQL and 10,000 rows/s on SQLite.

Run:  .venv/bin/python benchmarks/bench_ledger.py [--rows 100000] [--db sqlite|postgres|both]
PostgreSQL: a throw-away database on 127.0.0.1:5432 (user postgres) is created and dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
from _proc import postgres_cpu, postgres_cpu_since
from _seed import add_vendors

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VENDORS = 400
VN = dt.timezone(dt.timedelta(hours=7))


def _make_app(url: str) -> Any:
    from flask_migrate import upgrade

    from chopay import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    return app


def _seed(app: Any) -> dict[str, Any]:
    from chopay.auth.models import Role, User
    from chopay.auth.services import create_token, hash_password
    from chopay.extensions import db
    from chopay.markets.models import Market

    with app.app_context():
        pw = hash_password("bench-password-1")
        admin = User(username="bench-admin", password_hash=pw, role=Role.ADMIN)
        checker = User(username="bench-checker", password_hash=pw, role=Role.ADMIN)
        market = Market(code="BENCH-1", name="Chợ Đại Từ (bench)", stall_count=VENDORS)
        db.session.add_all([admin, checker, market])
        db.session.flush()
        vendors = add_vendors(
            db,
            market.id,
            VENDORS,
            maker_id=admin.id,
            checker_id=checker.id,
            name="Nguyễn Thị Bench {i}",
            stall="A-{i}",
            phone="09{i:08d}",
            reference="CPB{i:05d}X",
            account="10{i:08d}",
            holder="NGUYEN THI BENCH",
        )
        _, token = create_token(admin)
        db.session.commit()
        info = {
            "admin_id": admin.id,
            "market_id": market.id,
            "vendors": vendors,
            "token": token,
        }
        db.session.remove()
    return info


def _statement(info: dict[str, Any], rows: int, rng: random.Random) -> bytes:
    """A week of a market's transfers (about 35 a vendor a day at 100,000 lines)."""
    start = dt.datetime.now(VN).replace(second=0, microsecond=0) - dt.timedelta(days=8)
    week = 7 * 24 * 60
    out = ["Ngày giao dịch,Số tiền,Số tài khoản,Nội dung,Mã giao dịch"]
    for i in range(rows):
        _, reference, account = info["vendors"][i % VENDORS]
        when = start + dt.timedelta(minutes=i * week // rows)
        amount = f"{rng.randrange(5, 2_000) * 1_000:,}".replace(",", ".")
        if i % 50 == 0:
            account = "8888888888"
        if i % 97 == 0:
            account, reference = "7777777777", "khong ro"
        note = f"{reference} thanh toan tien hang"
        out.append(f'{when:%d/%m/%Y %H:%M},"{amount}",{account},{note},FT{i:010d}')
    return ("\n".join(out) + "\n").encode()


def _rate(n: int, seconds: float) -> str:
    return f"{n:>8,} rows in {seconds:6.2f} s = {n / seconds:>9,.0f} rows/s"


class _Clock:
    """Wall time, this process's CPU and (PostgreSQL) the server processes' CPU of one
    phase. CPU per row is the steadier figure on a shared machine: wall time also counts
    the moments the host gives the CPUs to someone else."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.wall = self.python = self.server = 0.0

    def __enter__(self) -> _Clock:
        self._server = postgres_cpu() if self.postgres else {}
        self._python = time.process_time()
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.python = time.process_time() - self._python
        self.server = postgres_cpu_since(self._server) if self.postgres else 0.0

    def cpu(self, rows: int) -> str:
        text = f"CPU per row: Python {1e6 * self.python / rows:5.1f} µs"
        if self.postgres:
            text += f", PostgreSQL {1e6 * self.server / rows:5.1f} µs"
        return text


def _drop_report_triggers(app: Any) -> None:
    """Measure the ledger alone: remove the reports' triggers on daily_rollups."""
    from chopay.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ALTER TABLE daily_rollups DISABLE TRIGGER USER"))
        else:
            names = db.session.scalars(
                sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'daily_rollups'"
                )
            ).all()
            for name in names:
                db.session.execute(sa.text(f'DROP TRIGGER "{name}"'))
        db.session.commit()
        db.session.remove()


def run(url: str, label: str, rows: int, *, report_triggers: bool = True) -> dict[str, float]:
    from chopay.auth.models import User
    from chopay.extensions import db
    from chopay.transactions import importer, rollups, services
    from chopay.transactions.models import Transaction

    app = _make_app(url)
    if not report_triggers:
        _drop_report_triggers(app)
        label += ", reports' rollup triggers removed"
    info = _seed(app)
    rng = random.Random(5)
    data = _statement(info, rows, rng)
    figures: dict[str, float] = {}
    postgres = url.startswith("postgresql")
    print(f"\n== {label}: {rows:,} statement lines, {VENDORS} vendors ==")

    with app.app_context():
        actor = db.session.get(User, info["admin_id"])
        with _Clock(postgres) as clock:
            report = importer.import_statement(data, actor=actor)
            db.session.commit()
        figures["import"] = rows / clock.wall
        print(f"(a) statement import       {_rate(rows, clock.wall)}")
        print(f"    {clock.cpu(rows)}")
        print(
            f"    created {report.created:,}, unmatched (held) {report.unmatched_total:,}, "
            f"rejected {report.rejected_total:,}"
        )
        assert report.created + report.unmatched_total == rows, report.rejected[:3]
        db.session.remove()

    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['token']}"}
    # A day's reports, 1,000 per request (e.g. boards syncing their POS terminals).
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    batches = rows // 1000
    bodies = [
        json.dumps(
            [
                {
                    "vendor_id": info["vendors"][(b * 1000 + i) % VENDORS][0],
                    "amount": rng.randrange(5, 2_000) * 1_000,
                    "occurred_at": (
                        now - dt.timedelta(seconds=(b * 1000 + i) % 86_400)
                    ).isoformat(),
                    "method": ("vietqr", "cash", "ewallet", "card")[i % 4],
                    "external_ref": f"api-{b}-{i}",
                }
                for i in range(1000)
            ]
        ).encode()
        for b in range(batches)
    ]
    created = 0
    with _Clock(postgres) as clock:
        for body in bodies:
            # bodies are encoded beforehand: a client's JSON encoding is not the server's work
            resp = client.post(
                "/api/v1/transactions", data=body, content_type="application/json", headers=headers
            )
            assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
            created += resp.get_json()["created"]
    assert created == batches * 1000
    figures["bulk_api"] = created / clock.wall
    print(f"(b) bulk API, 1,000/request {_rate(created, clock.wall)}")
    print(f"    {clock.cpu(created)}")

    with app.app_context():
        rows_c = [
            {
                "vendor_id": info["vendors"][i % VENDORS][0],
                "market_id": info["market_id"],
                "amount_vnd": 1000 + i % 5000,
                "occurred_at": now - dt.timedelta(minutes=i * 90 * 1440 // rows),
                "method": "vietqr",
                "source": "import",
                "external_ref": f"demo-{i}",
            }
            for i in range(rows)
        ]
        with _Clock(postgres) as clock:
            counts = services.insert_transactions(rows_c)
            db.session.commit()
        figures["insert_transactions"] = rows / clock.wall
        print(f"(c) insert_transactions    {_rate(counts.inserted, clock.wall)}")
        print(f"    {clock.cpu(rows)}")

        actor = db.session.get(User, info["admin_id"])
        with _Clock(postgres) as clock:
            again = importer.import_statement(data, actor=actor)
            db.session.commit()
        print(f"(d) re-import (duplicates)  {_rate(rows, clock.wall)}; created {again.created}")
        print(f"    {clock.cpu(rows)}")
        assert again.created == 0

        t0 = time.perf_counter()
        problems = rollups.rollups_match_ledger()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Transaction))
        print(
            f"    ledger rows {total:,}; rollups == ledger aggregate: {not problems} "
            f"(checked in {time.perf_counter() - t0:.2f} s)"
        )
        assert not problems
        t0 = time.perf_counter()
        stats = rollups.rebuild_rollups()
        db.session.commit()
        print(
            f"    rebuild-rollups: {stats.rollup_rows:,} rows from {stats.transactions:,} "
            f"transactions in {time.perf_counter() - t0:.2f} s"
        )
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--without-report-triggers",
        action="store_true",
        help="drop the reports' triggers on daily_rollups, to measure the ledger alone",
    )
    args = parser.parse_args()
    triggers = not args.without_report_triggers
    results: dict[str, dict[str, float]] = {}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            results["sqlite"] = run(
                f"sqlite:///{tmp}/bench.db",
                "SQLite (file, WAL)",
                args.rows,
                report_triggers=triggers,
            )
    if args.db in ("postgres", "both"):
        with throwaway_database("chopay_bench", PG_ADMIN_URL) as url:
            results["postgres"] = run(
                url, "PostgreSQL (127.0.0.1)", args.rows, report_triggers=triggers
            )
    targets = {"sqlite": 10_000, "postgres": 20_000}
    print(f"\n{os.cpu_count()} CPUs; 1-minute load average now {os.getloadavg()[0]:.1f}")
    print("Summary (rows/s; target: SQLite >= 10,000, PostgreSQL >= 20,000)")
    for backend, figures in results.items():
        verdict = all(figures[k] >= targets[backend] for k in ("import", "bulk_api"))
        shown = ", ".join(f"{k} {v:,.0f}" for k, v in figures.items())
        print(f"  {backend:<9} {shown}  -> {'OK' if verdict else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()
