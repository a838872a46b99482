"""Benchmark: the district-level 30-day adoption report at province scale.

Builds, on SQLite and on PostgreSQL (its own database on 127.0.0.1:5432, dropped at
the end), Thái Nguyên's admin units, 150 markets across its legacy districts, 10,000
vendors (most with an approved account and a static QR code) and 90 days of vendor
rollups standing for 1,000,000 payments — one row per vendor, day and method that had
a payment, as the ledger keeps them. It then times the report officers run most:
``level=district&unit=19`` (the province's districts) for the last 30 days, both as
the service call and as the full ``GET /api/v1/reports/adoption`` request.

Then it copies that database and grows the copy to stand for 5,000,000 payments over
the same 90 days (so the 30-day window holds several times more rollup rows, not just
more history), optionally also writing one raw ledger row per payment (``--ledger``).
Both states are then timed in alternation — 1M, 5M, 1M, 5M, … — so that whatever
else the machine is doing weighs on both alike. Target: < 100 ms (median), and the
5M median at most 1.5× the 1M one.

Why it holds: counts and sums come from ``market_daily_rollups`` (markets × days ×
methods rows), and "active in the period" from ``vendor_activity_months`` (one row
per vendor and month, a bit per active day), both kept by triggers on
``daily_rollups``. Neither grows with the number of payments. The PostgreSQL bulk load
disables the trigger and rebuilds them afterwards (``rebuild_report_rollups``), as an
operator would for a bulk import; SQLite keeps the triggers on.

Run:  PYTHONPATH=. .venv/bin/python benchmarks/bench_reports.py [--backend sqlite|postgresql|both]
      [--vendors 10000] [--markets 150] [--tx 1000000] [--grow-to 5000000] [--runs 25] [--ledger]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import insert, select, text

from chopay import create_app
from chopay.admin_units.models import AdminUnit, AdminUnitMapping
from chopay.admin_units.services import load_units
from chopay.auth.models import Role, User
from chopay.auth.services import create_token, hash_password
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.reports import services
from chopay.transactions.models import DailyRollup, Transaction
from chopay.vendors.models import PaymentAccount, QrCode, Vendor

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
METHODS = (("vietqr", 0.52), ("ewallet", 0.14), ("card", 0.06), ("cash", 0.28))
DAYS = 90
PERIOD_DAYS = 30
CHUNK = 50_000


# --- databases ---------------------------------------------------------------------------


class Database:
    """A benchmark database (SQLite file or PostgreSQL database) and how to copy/drop it."""

    def __init__(self, backend: str, tmp: Path, name: str) -> None:
        self.backend, self.tmp, self.name = backend, tmp, name
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp / (name + '.db')}"
        else:
            self.url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)

    def _admin(self) -> sa.Engine:
        return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def create(self) -> None:
        if self.backend == "postgresql":
            with self._admin().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))

    def copy_to(self, name: str) -> Database:
        """A copy of this database (closed first), for the grown state."""
        other = Database(self.backend, self.tmp, name)
        if self.backend == "sqlite":
            shutil.copyfile(self.tmp / (self.name + ".db"), self.tmp / (name + ".db"))
        else:
            with self._admin().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"'))
        return other

    def drop(self) -> None:
        if self.backend == "postgresql":
            with self._admin().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def bulk_load(table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert many rows fast: COPY on PostgreSQL, chunked executemany on SQLite."""
    session = db.session
    n = 0
    if session.get_bind().dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    stmt = insert(table)
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) >= CHUNK:
            session.execute(stmt, batch)
            n += len(batch)
            batch = []
    if batch:
        session.execute(stmt, batch)
        n += len(batch)
    return n


# --- data ------------------------------------------------------------------------------------


def build_registry(rng: random.Random, n_markets: int, n_vendors: int, today: dt.date) -> list[int]:
    """Markets spread over Thái Nguyên's legacy communes, vendors, accounts, codes."""
    session = db.session
    communes = list(
        session.scalars(
            select(AdminUnit)
            .where(
                AdminUnit.scheme == "legacy",
                AdminUnit.level == "commune",
                AdminUnit.province_code == "19",
            )
            .order_by(AdminUnit.code)
        )
    )
    new_of = dict(
        session.execute(
            select(AdminUnitMapping.legacy_unit_id, AdminUnitMapping.new_unit_id).order_by(
                AdminUnitMapping.is_default
            )
        ).all()
    )
    step = len(communes) / n_markets
    long_ago = dt.datetime.combine(today - dt.timedelta(days=400), dt.time(8), tzinfo=dt.UTC)
    per_market = [
        n_vendors // n_markets + (1 if i < n_vendors % n_markets else 0) for i in range(n_markets)
    ]
    markets = []
    for i in range(n_markets):
        commune = communes[int(i * step)]
        markets.append(
            {
                "code": f"B-{i:04d}",
                "name": f"Chợ Bench {i}",
                "stall_count": int(per_market[i] * rng.uniform(1.0, 1.3)),
                "legacy_commune_id": commune.id,
                "new_commune_id": new_of.get(commune.id),
                "needs_location_review": False,
                "is_active": True,
                "created_at": long_ago,
                "updated_at": long_ago,
            }
        )
    session.execute(insert(Market), markets)
    market_ids = list(session.scalars(select(Market.id).order_by(Market.id)))
    maker = User(username="bench-maker", password_hash=hash_password("x" * 12), role=Role.ADMIN)
    checker = User(username="bench-checker", password_hash=hash_password("x" * 12), role=Role.ADMIN)
    session.add_all([maker, checker])
    session.flush()
    vendors = []
    serial = 0
    for market_id, count in zip(market_ids, per_market, strict=True):
        for _ in range(count):
            serial += 1
            vendors.append(
                {
                    "market_id": market_id,
                    "full_name": f"Tiểu thương {serial}",
                    "stall": f"K-{serial}",
                    "phone": f"09{serial:08d}",
                    "status": "left" if rng.random() < 0.03 else "active",
                    "reference": f"BN{serial:08d}",
                    "created_at": long_ago,
                    "updated_at": long_ago,
                    "has_smartphone": True,
                    "has_payment_speaker": False,
                }
            )
    session.execute(insert(Vendor), vendors)
    vendor_rows = session.execute(select(Vendor.id, Vendor.market_id).order_by(Vendor.id)).all()
    accounts = []
    for vid, _market in vendor_rows:
        if rng.random() < 0.85:
            accounts.append(
                {
                    "vendor_id": vid,
                    "kind": "bank",
                    "bank_bin": "970436",
                    "account_number": f"{vid:012d}",
                    "account_name": "NGUYEN VAN A",
                    "status": "approved",
                    "is_primary": True,
                    "created_by_id": maker.id,
                    "decided_by_id": checker.id,
                    "created_at": long_ago,
                    "decided_at": long_ago,
                }
            )
    session.execute(insert(PaymentAccount), accounts)
    codes = [
        {
            "vendor_id": vid,
            "account_id": aid,
            "payload": "000201010211...",
            "verify_code": f"Q{aid:09d}",
            "is_dynamic": False,
            "issued_at": long_ago,
            "revoked_at": long_ago if rng.random() < 0.05 else None,
        }
        for aid, vid in session.execute(select(PaymentAccount.id, PaymentAccount.vendor_id))
    ]
    session.execute(insert(QrCode), codes)
    session.commit()
    return [vid for vid, _ in vendor_rows]


def vendor_profiles(rng: random.Random, vendor_ids: list[int]) -> dict[int, tuple[float, int]]:
    """Per vendor: relative activity weight (0 = never paid cashless) and mean ticket."""
    out = {}
    for vid in vendor_ids:
        kind = rng.random()
        weight = 0.0 if kind < 0.12 else (0.5 if kind < 0.55 else 1.6)
        out[vid] = (weight * rng.uniform(0.6, 1.4), rng.choice([25_000, 40_000, 80_000, 150_000]))
    return out


def rollup_rows(
    rng: random.Random,
    vendors: dict[int, tuple[float, int]],
    market_of: dict[int, int],
    n_tx: int,
    end: dt.date,
) -> tuple[list[tuple[Any, ...]], int]:
    """Vendor-day-method rollup rows standing for about ``n_tx`` payments over DAYS days."""
    total_weight = sum(w for w, _ in vendors.values()) or 1.0
    per_weight_day = n_tx / total_weight / DAYS
    names = [m for m, _ in METHODS]
    cum = []
    acc = 0.0
    for _, share in METHODS:
        acc += share
        cum.append(acc)
    rows = []
    made = 0
    days = [end - dt.timedelta(days=i) for i in range(DAYS)]
    for vid, (weight, ticket) in vendors.items():
        rate = weight * per_weight_day
        market = market_of[vid]
        for day in days:
            count = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
            if weight == 0 and rng.random() < 0.3:
                count = 1  # never cashless, but some cash the board writes down
            if not count:
                continue
            per_method = [0, 0, 0, 0]
            for _ in range(count):
                r = rng.random()
                k = next(i for i, c in enumerate(cum) if r <= c)
                per_method[3 if weight == 0 else k] += 1
            for k, n in enumerate(per_method):
                if n:
                    rows.append((vid, day, names[k], market, n, n * ticket))
                    made += n
    return rows, made


def ledger_rows(rollups: Sequence[tuple[Any, ...]], start_serial: int) -> Iterable[tuple[Any, ...]]:
    """Raw Transaction rows matching the rollups (one per payment) — reports never read them."""
    serial = start_serial
    for vid, day, method, market, n, value in rollups:
        ticket = value // n
        when = dt.datetime.combine(day, dt.time(3), tzinfo=dt.UTC)
        for _ in range(n):
            serial += 1
            yield (vid, market, ticket, when, day, method, "import", f"b{serial}", when)


LEDGER_COLUMNS = (
    "vendor_id",
    "market_id",
    "amount_vnd",
    "occurred_at",
    "local_day",
    "method",
    "source",
    "external_ref",
    "created_at",
)
ROLLUP_COLUMNS = ("vendor_id", "day", "method", "market_id", "tx_count", "tx_value")


def load_state(rows: list[tuple[Any, ...]], *, ledger: bool, serial: int) -> None:
    """Replace the rollups (and append ledger rows) with a generated state."""
    session = db.session
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # every report trigger on daily_rollups (USER: not the foreign-key checks)
        session.execute(text("ALTER TABLE daily_rollups DISABLE TRIGGER USER"))
    session.execute(text("DELETE FROM daily_rollups"))
    if ledger:
        session.execute(text("DELETE FROM transactions"))
    bulk_load(DailyRollup.__table__, ROLLUP_COLUMNS, rows)
    if postgres:
        session.execute(text("ALTER TABLE daily_rollups ENABLE TRIGGER USER"))
        services.rebuild_report_rollups()
    if ledger:
        bulk_load(Transaction.__table__, LEDGER_COLUMNS, ledger_rows(rows, serial))
    session.commit()
    if postgres:  # what autovacuum would do soon after a bulk load: drop dead rows, analyze
        with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    else:
        session.execute(text("ANALYZE"))
        session.commit()


# --- timing ----------------------------------------------------------------------------------

QUERY = {"scheme": "legacy", "level": "district", "unit": "19"}


class Subject:
    """One database state under test: its app, an admin and a token for the API."""

    def __init__(self, label: str, app: Flask, start: dt.date, end: dt.date) -> None:
        self.label, self.app, self.start, self.end = label, app, start, end
        self.client = app.test_client()
        with app.app_context():
            admin = db.session.scalar(select(User).where(User.username == "bench-admin"))
            assert admin is not None
            self.admin_id = admin.id
            _, self.token = create_token(admin)
            db.session.commit()
            self.facts = counts()
        self.service: list[float] = []
        self.service_cpu: list[float] = []
        self.http: list[float] = []
        self.report: services.AdoptionReport | None = None

    def time_once(self, record: bool) -> None:
        with self.app.app_context():
            admin = db.session.get(User, self.admin_id)
            t0, c0 = time.perf_counter(), time.process_time()
            report = services.adoption_report(admin, start=self.start, end=self.end, **QUERY)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            db.session.remove()
        query = {**QUERY, "from": self.start.isoformat(), "to": self.end.isoformat()}
        t0 = time.perf_counter()
        resp = self.client.get(
            "/api/v1/reports/adoption",
            query_string=query,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        http = time.perf_counter() - t0
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        if record:
            self.service.append(wall * 1000)
            self.service_cpu.append(cpu * 1000)
            self.http.append(http * 1000)
            self.report = report


def counts() -> dict[str, int]:
    s = db.session
    return {
        "rollup_rows": s.scalar(select(sa.func.count()).select_from(DailyRollup)) or 0,
        "market_rollup_rows": s.scalar(text("SELECT count(*) FROM market_daily_rollups")) or 0,
        "activity_rows": s.scalar(text("SELECT count(*) FROM vendor_activity_months")) or 0,
        "ledger_rows": s.scalar(select(sa.func.count()).select_from(Transaction)) or 0,
        "payments": s.scalar(select(sa.func.sum(DailyRollup.tx_count))) or 0,
    }


def make_app(database: Database) -> Flask:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database.url})
    app.instance_path = str(database.tmp / "instance")
    return app


def close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Build the 1M state, copy it and grow the copy to 5M, then time both alternately."""
    from flask_migrate import upgrade

    rng = random.Random(args.seed)
    end = services.today_vn() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=PERIOD_DAYS - 1)
    out: dict[str, Any] = {"backend": backend}
    with tempfile.TemporaryDirectory(prefix="chopay-bench-") as tmp_name:
        tmp = Path(tmp_name)
        small_db = Database(backend, tmp, "chopay_bench_reports_1m")
        big_db: Database | None = None
        small_db.create()
        try:
            t0 = time.perf_counter()
            app = make_app(small_db)
            with app.app_context():
                upgrade()
                load_units("19")
                services.seed_default_rules()
                db.session.commit()
                vendor_ids = build_registry(rng, args.markets, args.vendors, end)
                db.session.add(
                    User(
                        username="bench-admin",
                        password_hash=hash_password("x" * 12),
                        role=Role.ADMIN,
                    )
                )
                db.session.commit()
                market_of = dict(db.session.execute(select(Vendor.id, Vendor.market_id)).all())
                profiles = vendor_profiles(rng, vendor_ids)
                rows, out["n_small"] = rollup_rows(rng, profiles, market_of, args.tx, end)
                load_state(rows, ledger=args.ledger, serial=0)
            close(app)
            out["setup_s"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            big_db = small_db.copy_to("chopay_bench_reports_5m")
            grown = make_app(big_db)
            with grown.app_context():
                rows, out["n_big"] = rollup_rows(rng, profiles, market_of, args.grow_to, end)
                load_state(rows, ledger=args.ledger, serial=10**9)
                drift = services.report_rollup_drift(limit=5)
                assert not drift, f"report rollups drifted: {drift}"
            close(grown)
            out["grow_s"] = time.perf_counter() - t0

            subjects = [
                Subject(f"{args.tx / 1e6:g}M", make_app(small_db), start, end),
                Subject(f"{args.grow_to / 1e6:g}M", make_app(big_db), start, end),
            ]
            for i in range(args.runs + 3):  # alternate, so load on the machine hits both alike
                for subject in subjects:
                    subject.time_once(record=i >= 3)
            out["subjects"] = subjects
            out["load"] = os.getloadavg()
            for subject in subjects:
                close(subject.app)
        finally:
            small_db.drop()
            if big_db is not None:
                big_db.drop()
    return out


def _stats(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    return ordered[0], statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def report(result: dict[str, Any], args: argparse.Namespace) -> bool:
    small, big = result["subjects"]
    rows = len(small.report.rows) if small.report else 0
    print(
        f"\n== {result['backend']}: {args.markets} markets, {args.vendors:,} vendors, {DAYS} days "
        f"of rollups; district-level report (legacy province 19 → {rows} districts) for "
        f"{PERIOD_DAYS} days; {args.runs} timed runs per state, alternating, after 3 warm-up"
    )
    for subject in (small, big):
        f = subject.facts
        s_min, s_p50, s_p95 = _stats(subject.service)
        c_min, c_p50, _ = _stats(subject.service_cpu)
        h_min, h_p50, h_p95 = _stats(subject.http)
        print(
            f"  {subject.label}: payments {f['payments']:>10,}  "
            f"rollup rows {f['rollup_rows']:>9,}  "
            f"market rollup rows {f['market_rollup_rows']:>6,}  activity rows "
            f"{f['activity_rows']:>6,}  ledger rows {f['ledger_rows']:>9,}\n"
            f"      service  p50 {s_p50:6.1f} ms  p95 {s_p95:6.1f}  min {s_min:6.1f}"
            f"   (python-process CPU p50 {c_p50:5.1f}, min {c_min:5.1f})\n"
            f"      HTTP     p50 {h_p50:6.1f} ms  p95 {h_p95:6.1f}  min {h_min:6.1f}"
        )
    ratio = statistics.median(big.service) / statistics.median(small.service)
    http_ratio = statistics.median(big.http) / statistics.median(small.http)
    totals_small = small.report.totals if small.report else {}
    totals_big = big.report.totals if big.report else {}
    print(
        f"  growth {small.label} → {big.label}: service p50 ×{ratio:.2f}, "
        f"HTTP p50 ×{http_ratio:.2f}   "
        f"(setup {result['setup_s']:.0f} s, growth {result['grow_s']:.0f} s, "
        f"load average {result['load'][0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(
        f"  totals: vendors {totals_small.get('vendors', 0):,}, with QR "
        f"{totals_small.get('vendors_with_qr', 0):,}, "
        f"active {totals_small.get('vendors_active', 0):,}"
        f" → {totals_big.get('vendors_active', 0):,}, cashless value "
        f"{totals_small.get('tx_value', 0):,} → {totals_big.get('tx_value', 0):,} đ"
    )
    ok = statistics.median(small.http) < 100 and statistics.median(big.http) < 100 and ratio <= 1.5
    print(f"  target (< 100 ms, growth ≤ 1.5×): {'met' if ok else 'NOT MET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--markets", type=int, default=150)
    parser.add_argument("--tx", type=int, default=1_000_000)
    parser.add_argument("--grow-to", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--ledger", action="store_true", help="also write raw ledger rows")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [report(run(b, args), args) for b in backends]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
