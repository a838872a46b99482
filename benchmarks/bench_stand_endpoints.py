"""Benchmark: the stand endpoints end to end (HTTP through the Flask test client, real DB).

On a fresh SQLite database (migrated with the real Alembic revisions) with one market of N
vendors, each with an approved primary account and a live stand code (created via models),
measures side by side in one run:

  (a) encoding the same N stored payloads with the ``qrcode`` library alone,
  (b) ``GET /api/v1/markets/<id>/stands.pdf?layout=a6``  and (c) ``?layout=a4x4``,
  (d) ``GET /api/v1/vendors/<id>/stand.png``, 100 requests for 100 different vendors
      (cold: nothing cached), p50 / p95,
  (e) the same vendor's stand.png requested 100 times (warm: per-process render cache),

plus the SQL statements one stands.pdf request sends (no N+1: constant in N).

Targets: (b), (c) < 5 s and <= 1.5x (a); (d) p50 < 50 ms.

Run:  .venv/bin/python benchmarks/bench_stand_endpoints.py [--n 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qrcode
from sqlalchemy import event

BANKS = ["970436", "970415", "970418", "970405", "970422", "970407", "970432", "970423"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
GIVEN = ["Thị Hường", "Văn Đức", "Thị Lan", "Minh Tuấn", "Thị Ánh", "Quốc Bảo", "Thu Hà"]
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def build_app(db_path: Path) -> Any:
    """A chopay app on a fresh SQLite file, migrated to head."""
    os.environ.pop("CHOPAY_TEST_DATABASE_URL", None)
    from flask_migrate import upgrade

    from chopay import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}"})
    app.instance_path = str(db_path.parent / "instance")
    with app.app_context():
        upgrade()
    return app


def seed(app: Any, n: int) -> tuple[int, list[int], dict[str, str]]:
    """One market, an admin with a token, N vendors with approved accounts and stand codes."""
    from chopay.auth.services import create_token, create_user
    from chopay.extensions import db
    from chopay.markets.models import Market
    from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus
    from chopay.vietqr import build_payload

    with app.app_context():
        market = Market(code="TN-DT-BENCH", name="Chợ Trung tâm Đại Từ", stall_count=n)
        db.session.add(market)
        db.session.flush()
        secret = "mat-khau-an-toan-1"  # noqa: S105 - a throwaway benchmark database
        admin = create_user(username="bench.admin", role="admin", password=secret)
        checker = create_user(username="bench.checker", role="admin", password=secret)
        db.session.flush()
        vendors = []
        for i in range(n):
            zone = "ABCDEFGH"[i % 8]
            vendors.append(
                Vendor(
                    market_id=market.id,
                    full_name=f"{FAMILY[i % 10]} {GIVEN[i % 7]}",
                    stall=f"{zone}-{i // 8 + 1}",
                    phone=f"09{i:08d}",
                    status=VendorStatus.ACTIVE,
                    reference=f"CPB{i:05d}",
                )
            )
        db.session.add_all(vendors)
        db.session.flush()
        accounts = []
        for i, vendor in enumerate(vendors):
            accounts.append(
                PaymentAccount(
                    vendor_id=vendor.id,
                    bank_bin=BANKS[i % len(BANKS)],
                    account_number=f"{1020304050 + i * 7919:013d}",
                    account_name=vendor.full_name.upper(),
                    status=AccountStatus.APPROVED,
                    is_primary=True,
                    decided_by_id=checker.id,
                )
            )
        db.session.add_all(accounts)
        db.session.flush()
        codes = []
        for i, (vendor, account) in enumerate(zip(vendors, accounts, strict=True)):
            code = "".join(ALPHABET[(i // len(ALPHABET) ** k) % len(ALPHABET)] for k in range(6))
            codes.append(
                QrCode(
                    vendor_id=vendor.id,
                    account_id=account.id,
                    payload=build_payload(
                        account.bank_bin, account.account_number, purpose=vendor.reference
                    ),
                    verify_code=code,
                )
            )
        db.session.add_all(codes)
        _, token = create_token(admin)
        db.session.commit()
        payloads = {str(v.id): c.payload for v, c in zip(vendors, codes, strict=True)}
        return market.id, [v.id for v in vendors], {"Authorization": f"Bearer {token}", **payloads}


def encode_only(payloads: list[str]) -> None:
    """(a): the plain ``qrcode`` library encoding the same symbols (EC level Q, as printed)."""
    for p in payloads:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
        code.add_data(p)
        code.make(fit=True)
        code.get_matrix()


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="vendors in the market (default 500)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a)-(c), best of")
    parser.add_argument("--png-requests", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chopay-bench-") as tmp:
        app = build_app(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        market_id, vendor_ids, extra = seed(app, args.n)
        headers = {"Authorization": extra.pop("Authorization")}
        payloads = list(extra.values())
        print(
            f"seeded {args.n} vendors with accounts and codes in {time.perf_counter() - t0:.1f} s"
        )
        client = app.test_client()

        def get(url: str) -> bytes:
            resp = client.get(url, headers=headers)
            assert resp.status_code == 200, (url, resp.status_code, resp.get_data()[:300])
            return resp.get_data()

        a6 = f"/api/v1/markets/{market_id}/stands.pdf?layout=a6"
        a4 = f"/api/v1/markets/{market_id}/stands.pdf?layout=a4x4"
        get(f"/api/v1/markets/{market_id}/stands.pdf?layout=a4x4&warm=1")  # fonts, QR grids

        from chopay.extensions import db

        statements: list[str] = []
        with app.app_context():
            engine = db.engine

        def count(*_: Any) -> None:
            statements.append("x")

        event.listen(engine, "before_cursor_execute", count)
        size_a6 = len(get(a6))
        event.remove(engine, "before_cursor_execute", count)
        size_a4 = len(get(a4))

        best: dict[str, float] = {"encode": float("inf"), "a6": float("inf"), "a4": float("inf")}
        for _ in range(args.repeat):  # interleaved, so load spikes hit all three alike
            best["encode"] = min(best["encode"], timed(lambda: encode_only(payloads)))
            best["a6"] = min(best["a6"], timed(lambda: get(a6)))
            best["a4"] = min(best["a4"], timed(lambda: get(a4)))

        from chopay.printing import services

        # (d) one request per vendor, each followed by the pure renderer on the same stand
        # (interleaved, so the machine's load hits both alike): their difference is what
        # the endpoint adds to the renderer.
        from chopay.printing.layout import stand_png
        from chopay.vendors.models import Vendor

        services._render_cached.cache_clear()
        with app.app_context():
            stands = {
                vid: services.build_stand(
                    services.get_stand_code(db.session.get(Vendor, vid)), base_url="http://x"
                )
                for vid in vendor_ids[: args.png_requests]
            }
            db.session.remove()
        cold: list[float] = []
        pure: list[float] = []
        for vid, stand in stands.items():
            start = time.perf_counter()
            get(f"/api/v1/vendors/{vid}/stand.png")
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            stand_png(stand)
            pure.append(time.perf_counter() - start)
        warm: list[float] = []
        for _ in range(args.png_requests):
            start = time.perf_counter()
            get(f"/api/v1/vendors/{vendor_ids[0]}/stand.png")
            warm.append(time.perf_counter() - start)

        with app.app_context():
            db.engine.dispose()

    enc, t6, t4 = best["encode"], best["a6"], best["a4"]
    print(f"N = {args.n} vendors, best of {args.repeat} interleaved runs, SQLite, test client")
    print(f"(a) qrcode encode only (EC Q)     : {enc:7.3f} s")
    print(
        f"(b) GET stands.pdf?layout=a6      : {t6:7.3f} s  ratio {t6 / enc:.2f}x  "
        f"({size_a6 / 1e6:.1f} MB, {args.n} pages, {len(statements)} SQL statements)"
    )
    print(
        f"(c) GET stands.pdf?layout=a4x4    : {t4:7.3f} s  ratio {t4 / enc:.2f}x  "
        f"({size_a4 / 1e6:.1f} MB, {-(-args.n // 4)} pages)"
    )
    print(
        f"(d) GET stand.png, {len(cold)} vendors (cold): "
        f"p50 {statistics.median(cold) * 1e3:6.1f} ms  p95 {percentile(cold, 0.95) * 1e3:6.1f} ms"
    )
    print(
        f"    pure layout.stand_png, same stands : p50 {statistics.median(pure) * 1e3:6.1f} ms"
        f"  (endpoint overhead ~{(statistics.median(cold) - statistics.median(pure)) * 1e3:.1f} ms)"
    )
    print(
        f"(e) GET stand.png, same vendor (warm): p50 {statistics.median(warm) * 1e3:6.1f} ms"
        f"  p95 {percentile(warm, 0.95) * 1e3:6.1f} ms"
    )
    ok = max(t6, t4) < 5.0 and max(t6, t4) <= 1.5 * enc and statistics.median(cold) < 0.050
    print("targets (<5 s, <=1.5x encode, cold png p50 <50 ms):", "MET" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
