"""Benchmark: the dashboard (every user's landing page) on the Thái Nguyên demo.

Builds the demo (``chopay demo``: 15 markets, about 2,000 vendors and 150,000 payments
over 90 days at ``--scale 1``) on a fresh SQLite file, and on a fresh PostgreSQL
database unless ``--no-postgres``, then times for each demo login (admin, province
officer, district officer, market board, vendor):

  * ``dashboard.services.sales`` alone: the payment totals, the part that reads rollups;
  * the whole ``GET /dashboard`` through the test client, logged in.

Prints the data size and, per login, the median and 90th percentile of ``--runs``
calls. Staff totals read ``market_daily_rollups`` and ``vendor_activity_months`` (cost
grows with markets × days); a vendor's read their own daily rollups.

Run:  .venv/bin/python benchmarks/bench_dashboard.py [--scale 1.0] [--runs 30] [--no-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from _pg import throwaway_database

LOGINS = ("admin", "sct.thainguyen", "ubnd.daitu", "bql.tn-171-11", "tieuthuong.demo")


def _timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    call()  # warm: caches, prepared statements
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def run(label: str, url: str, scale: float, runs: int) -> None:
    from flask_migrate import upgrade

    from chopay import create_app
    from chopay.admin_units.services import load_units
    from chopay.auth.models import User
    from chopay.dashboard import services
    from chopay.demo import DEMO_PASSWORD, build_demo
    from chopay.extensions import db
    from chopay.transactions.models import DailyRollup, Transaction
    from chopay.vendors.models import Vendor

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        load_units("19")
        db.session.commit()
        build_demo(seed=2022, scale=scale)
        db.session.commit()
        size = {
            "vendors": db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)),
            "payments": db.session.scalar(sa.select(sa.func.count()).select_from(Transaction)),
            "vendor rollup rows": db.session.scalar(
                sa.select(sa.func.count()).select_from(DailyRollup)
            ),
        }
        db.session.remove()
    print(
        f"\n== {label}: demo at scale {scale}: " + ", ".join(f"{v:,} {k}" for k, v in size.items())
    )
    print(f"{'login':18} {'sales() median / p90':>24} {'GET /dashboard median / p90':>30}")
    for name in LOGINS:
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.username == name))
            service = _timed(lambda user=user: services.sales(user), runs)
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"username": name, "password": DEMO_PASSWORD})

        def page(client: Any = client) -> None:
            resp = client.get("/dashboard")
            assert resp.status_code == 200, resp.status_code

        whole = _timed(page, runs)
        print(
            f"{name:18} {service[0]:10.2f} / {service[1]:6.2f} ms"
            f" {whole[0]:14.2f} / {whole[1]:6.2f} ms"
        )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/dashboard.db", args.scale, args.runs)
    if args.no_postgres:
        return
    with throwaway_database("chopay_bench_dash") as url:
        run("PostgreSQL", url, args.scale, args.runs)


if __name__ == "__main__":
    main()
