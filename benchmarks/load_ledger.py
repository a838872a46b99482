"""Load test: single-payment POSTs and signed webhooks under gunicorn on PostgreSQL.

What it does, all on 127.0.0.1:

1. creates a throw-away PostgreSQL database (user postgres, 127.0.0.1:5432), migrates it
   with the real Alembic revisions, and seeds one market with ``--vendors`` vendors
   (approved accounts), a board user with an API token and a ``sepay`` webhook source;
2. starts ``gunicorn -w 2 wsgi:app`` on a free loopback port (``--worker-class`` sync by
   default; gthread keeps connections alive);
3. drives it with ``--clients`` concurrent keep-alive connections (a small asyncio HTTP/1.1
   client, so the load generator leaves CPU to the server) for at most ``--seconds``:
   ``--payments`` distinct payments, half ``POST /api/v1/transactions`` with the board's
   token, half SePay-format ``POST /api/v1/webhooks/sepay`` with a fresh signature; EVERY
   payment is sent twice, the second copy by another connection shortly after or at the
   same moment;
4. stops gunicorn, then checks: ledger rows == distinct payments acknowledged, no payment
   answered "created" twice, no 5xx, and rollups == a fresh aggregate of the ledger;
5. prints requests/s and latency percentiles, then drops the database.

Targets: >= 800 requests/s, p99 < 100 ms, zero lost or duplicated rows.

Run:  .venv/bin/python benchmarks/load_ledger.py [--seconds 30] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402 - after the sys.path line above
from _proc import cpu_seconds, gunicorn_pids, postgres_cpu, postgres_cpu_since  # noqa: E402
from _seed import add_vendors  # noqa: E402 - a module of this folder

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
REFERENCE_SCHEMA = (
    "CREATE TABLE reference_payments ("
    "id bigserial PRIMARY KEY, ref text NOT NULL UNIQUE, amount bigint NOT NULL)"
)
VN = dt.timezone(dt.timedelta(hours=7))


# ---- database ---------------------------------------------------------------------------


def create_database() -> tuple[str, str]:
    name = f"chopay_load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, f"{PG_SERVER}/{name}"


def drop_database(name: str) -> None:
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str, vendors: int) -> dict[str, Any]:
    from flask_migrate import upgrade

    from chopay import create_app
    from chopay.auth.models import Role, User
    from chopay.auth.services import create_token, hash_password
    from chopay.extensions import db
    from chopay.markets.models import Market
    from chopay.transactions.services import create_webhook_source

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        pw = hash_password("load-test-password")
        market = Market(code="LOAD-1", name="Chợ tải thử", stall_count=vendors)
        maker = User(username="load-maker", password_hash=pw, role=Role.ADMIN)
        checker = User(username="load-checker", password_hash=pw, role=Role.ADMIN)
        db.session.add_all([market, maker, checker])
        db.session.flush()
        board = User(username="load-board", password_hash=pw, role=Role.BOARD, market_id=market.id)
        db.session.add(board)
        accounts = add_vendors(
            db,
            market.id,
            vendors,
            maker_id=maker.id,
            checker_id=checker.id,
            name="Tiểu thương {i}",
            stall="L-{i}",
            phone="08{i:08d}",
            reference="CPL{i:05d}Z",
            account="55{i:08d}",
            holder="TIEU THUONG",
        )
        _, token = create_token(board)
        _, secret = create_webhook_source("sepay", format="sepay")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"token": token, "secret": secret, "vendors": accounts}


# Rollup rows that differ from a fresh aggregate of the ledger (missing, extra or wrong).
ROLLUP_MISMATCHES = sa.text(
    """
    SELECT count(*) FROM (
      SELECT vendor_id, local_day AS day, method, count(*) AS n, sum(amount_vnd) AS v
      FROM transactions WHERE voided_at IS NULL
      GROUP BY vendor_id, local_day, method
    ) l FULL JOIN daily_rollups r USING (vendor_id, day, method)
    WHERE l.n IS DISTINCT FROM r.tx_count OR l.v IS DISTINCT FROM r.tx_value
    """
)


def verify(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ledger = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT (source, external_ref)) FROM transactions")
        ).one()
        mismatches = conn.execute(ROLLUP_MISMATCHES).scalar_one()
        refs = {row[0] for row in conn.execute(sa.text("SELECT external_ref FROM transactions"))}
    engine.dispose()
    return {"rows": ledger[0], "distinct": ledger[1], "rollup_mismatches": mismatches, "refs": refs}


# ---- gunicorn -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(
    url: str, port: int, worker_class: str, threads: int, *, reference: bool = False
) -> subprocess.Popen[Any]:
    env = {
        **os.environ,
        "CHOPAY_DATABASE_URL": url,
        "CHOPAY_SECRET_KEY": uuid.uuid4().hex * 2,
        "CHOPAY_ENV": "development",
        "REFERENCE_DATABASE": url.replace("postgresql+psycopg://", "postgresql://"),
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--backlog",
        "256",
        "--log-level",
        "warning",
        "--keep-alive",
        "5",
        "reference_app:app" if reference else "wsgi:app",
    ]
    cwd = ROOT / "benchmarks" if reference else ROOT
    proc = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if b" 200 " in sock.recv(200) or reference:
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(proc)
    raise SystemExit("gunicorn did not come up")


def stop_gunicorn(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- a small keep-alive HTTP/1.1 client ------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection sending pre-built requests (bytes): the load
    generator shares the machine with the server, so it must cost little per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in range(3):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                self.writer.write(raw)
                assert self.reader is not None
                head = await self.reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                status = int(lines[0].split(" ", 2)[1])
                length, close = 0, False
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "connection" and value.strip().lower() == "close":
                        close = True
                payload = await self.reader.readexactly(length) if length else b""
                if close:
                    self.close()
                return status, payload
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise ConnectionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def http_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A POST request as bytes."""
    head = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def make_requests(info: dict[str, Any], payments: int, rng: random.Random) -> list[dict[str, Any]]:
    """Each payment once; the driver sends each twice."""
    out = []
    now = dt.datetime.now(VN) - dt.timedelta(minutes=1)
    for i in range(payments):
        vendor_id, reference, account = info["vendors"][rng.randrange(len(info["vendors"]))]
        amount = rng.randrange(1, 500) * 1000
        if i % 2 == 0:
            body = {
                "vendor_id": vendor_id,
                "amount": amount,
                "occurred_at": (now - dt.timedelta(seconds=i)).isoformat(),
                "method": rng.choice(["vietqr", "cash", "ewallet", "card"]),
                "external_ref": f"load-{i}",
            }
            out.append({"kind": "api", "ref": f"load-{i}", "body": json.dumps(body).encode()})
        else:
            body = {
                "id": 1_000_000 + i,
                "gateway": "Vietcombank",
                "transactionDate": (now - dt.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S"),
                "accountNumber": account,
                "code": None,
                "content": f"{reference} thanh toan",
                "transferType": "in",
                "transferAmount": amount,
                "accumulated": 0,
                "subAccount": None,
                "referenceCode": f"FT{i}",
                "description": "",
            }
            out.append(
                {
                    "kind": "webhook",
                    "ref": f"sepay:{1_000_000 + i}",
                    "body": json.dumps(body).encode(),
                }
            )
    return out


async def drive(
    port: int,
    info: dict[str, Any],
    items: list[tuple[int, dict[str, Any]]],
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    from chopay.transactions.webhooks import sign

    # Every payment twice: the copy goes a few places later in the queue (often in flight
    # at the same moment on another connection) or right next to it.
    queue: list[tuple[int, dict[str, Any]]] = []
    for n, item in items:
        queue.append((n, item))
        queue.append((n, item))
    rng = random.Random(7)
    for i in range(0, len(queue) - 1, 2):
        j = min(len(queue) - 1, i + rng.randrange(1, 40))
        queue[i + 1], queue[j] = queue[j], queue[i + 1]
    # Requests are built before the clock starts (signatures stay valid for 5 minutes).
    auth = {"Authorization": f"Bearer {info['token']}"}
    raw: dict[int, bytes] = {}
    for n, item in items:
        if item["kind"] == "api":
            raw[n] = http_request("/api/v1/transactions", item["body"], auth)
        else:
            signature = {"X-Chopay-Signature": sign(info["secret"], item["body"])}
            raw[n] = http_request("/api/v1/webhooks/sepay", item["body"], signature)
    position = 0
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    answers: dict[int, list[str]] = {}
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal position
        conn = Connection(port)
        while position < len(queue) and time.monotonic() < deadline:
            n, _ = queue[position]
            position += 1
            t0 = time.perf_counter()
            status, payload = await conn.request(raw[n])
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
            if status < 300:
                answers.setdefault(n, []).append(json.loads(payload)["status"])
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "statuses": statuses, "answers": answers, "elapsed": elapsed}


def run_reference(
    url: str, args: argparse.Namespace, info: dict[str, Any], numbered: list[Any]
) -> dict[str, Any]:
    """The same load against the yardstick app (benchmarks/reference_app.py)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS reference_payments"))
        conn.execute(sa.text(REFERENCE_SCHEMA))
    engine.dispose()
    port = free_port()
    proc = start_gunicorn(url, port, args.worker_class, args.threads, reference=True)
    try:
        asyncio.run(drive(port, info, numbered[-300:], args.clients, 10))
        return asyncio.run(drive(port, info, numbered[:-300], args.clients, args.seconds))
    finally:
        stop_gunicorn(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="hard limit on the load")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--payments", type=int, default=12_000, help="distinct payments")
    parser.add_argument("--vendors", type=int, default=400)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread", "gevent"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--reference",
        action="store_true",
        help="afterwards, drive benchmarks/reference_app.py (one INSERT per POST, nothing "
        "else) the same way, and print both",
    )
    args = parser.parse_args()
    reference: dict[str, Any] | None = None

    name, url = create_database()
    proc = None
    try:
        print(f"database {name}; seeding {args.vendors} vendors …", flush=True)
        info = seed(url, args.vendors)
        items = make_requests(info, args.payments, random.Random(3))
        port = free_port()
        proc = start_gunicorn(url, port, args.worker_class, args.threads)
        print(
            f"gunicorn -w 2 ({args.worker_class}, {args.threads} thread(s)) on 127.0.0.1:{port}; "
            f"{args.clients} clients, {args.payments:,} payments x 2 sends, "
            f"at most {args.seconds:.0f} s",
            flush=True,
        )
        numbered = list(enumerate(items))
        # warm-up (counted in the checks, not in the figures): every worker thread opens
        # its database connection and psycopg prepares its statements
        warm = asyncio.run(drive(port, info, numbered[-300:], args.clients, 10))
        workers = gunicorn_pids(proc.pid)
        server = postgres_cpu()
        before = (cpu_seconds(workers), time.process_time())
        result = asyncio.run(drive(port, info, numbered[:-300], args.clients, args.seconds))
        db_cpu = postgres_cpu_since(server)
        after = (cpu_seconds(workers), time.process_time())
        app_cpu, client_cpu = (b - a for a, b in zip(before, after, strict=True))
        result["cpu"] = [app_cpu, db_cpu, client_cpu]
        result["load"] = os.getloadavg()[0]
        stop_gunicorn(proc)
        proc = None
        check = verify(url)
        if args.reference:
            reference = run_reference(url, args, info, numbered)
    finally:
        if proc is not None:
            stop_gunicorn(proc)
        drop_database(name)

    lat = sorted(result["latencies"])
    total = len(lat)
    acked = {**warm["answers"], **result["answers"]}
    created_twice = [n for n, a in acked.items() if a.count("created") > 1]
    never_created = [n for n, a in acked.items() if "created" not in a]
    expected_refs = {items[n]["ref"] for n in acked}
    lost = expected_refs - check["refs"]
    extra = check["refs"] - {item["ref"] for item in items}

    def pct(p: float) -> float:
        return lat[min(total - 1, int(p * total))] * 1000

    print(
        f"\nrequests: {total:,} in {result['elapsed']:.1f} s = "
        f"{total / result['elapsed']:,.0f} req/s"
    )
    print(
        f"latency ms: p50 {pct(0.50):.1f}  p95 {pct(0.95):.1f}  p99 {pct(0.99):.1f}  "
        f"max {lat[-1] * 1000:.1f}  mean {statistics.fmean(lat) * 1000:.1f}"
    )
    print(f"statuses: {dict(sorted(result['statuses'].items()))}")
    app_cpu, db_cpu, client_cpu = result["cpu"]
    print(
        f"CPU per request: gunicorn {app_cpu / total * 1000:.2f} ms, postgres "
        f"{db_cpu / total * 1000:.2f} ms, load client {client_cpu / total * 1000:.2f} ms; "
        f"{os.cpu_count()} CPUs, 1-min load average at the end {result['load']:.1f}"
    )
    print(
        f"distinct payments acknowledged: {len(acked):,}; ledger rows {check['rows']:,} "
        f"(distinct keys {check['distinct']:,}); lost {len(lost)}; unexpected {len(extra)}; "
        f"answered 'created' twice {len(created_twice)}; never 'created' {len(never_created)}; "
        f"rollup rows differing from the ledger {check['rollup_mismatches']}"
    )
    ok = (
        not lost
        and not extra
        and not created_twice
        and check["rows"] == len(acked) == check["distinct"]
        and check["rollup_mismatches"] == 0
        and all(code < 500 for code in result["statuses"])
    )
    if reference is not None:
        ref_lat = sorted(reference["latencies"])
        ref_rate = len(ref_lat) / reference["elapsed"]
        ref_p99 = ref_lat[min(len(ref_lat) - 1, int(0.99 * len(ref_lat)))] * 1000
        print(
            f"reference app (benchmarks/reference_app.py, same server and client): "
            f"{len(ref_lat):,} requests = {ref_rate:,.0f} req/s, p99 {ref_p99:.1f} ms; "
            f"chopay reaches {total / result['elapsed'] / ref_rate:.0%} of it"
        )
    fast = total / result["elapsed"] >= 800 and pct(0.99) < 100
    print(
        f"correctness: {'OK' if ok else 'FAILED'}; performance target: {'OK' if fast else 'MISSED'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
