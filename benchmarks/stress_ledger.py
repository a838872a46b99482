"""Fault test: concurrent payment reporters while PostgreSQL is restarted under them.

What it does, all on 127.0.0.1 (needs root, or the right to run pg_ctlcluster):

1. creates a throw-away PostgreSQL database (user postgres, 127.0.0.1:5432), migrates it
   and seeds one market with ``--vendors`` vendors and a board user's API token
   (``load_ledger.seed``);
2. starts ``gunicorn -w 2 wsgi:app`` on a free loopback port, its log kept in a file;
3. runs ``--clients`` reporters for ``--duration`` seconds. Each sends every payment TWICE
   with the same ``external_ref`` (``POST /api/v1/transactions``), sometimes one copy after
   the other, sometimes both at once on two connections; a fifth of the sends are batches
   of three payments. A reporter retries a send on 503 (after the Retry-After it was
   given, capped at ``--max-wait``) and on connection errors, with the same body: the
   idempotency key makes retries safe. A payment is ACKNOWLEDGED once a send of it is
   answered 201 created or 200 duplicate;
4. ``--restart-at`` seconds in, stops PostgreSQL (``pg_ctlcluster … stop``, fast mode),
   keeps it down ``--down-seconds`` and starts it again, once;
5. afterwards checks, and prints: no answer other than 201/200/503 (a 503 always with a
   Retry-After header and the JSON error body, never a traceback; no traceback in
   gunicorn's log either); at least one 503 seen while the database was down; every
   acknowledged payment is in the ledger exactly once with the amount and vendor sent; no
   payment twice; nothing in the ledger that no reporter sent; no payment answered
   "created" twice; the rollups equal a fresh aggregate of the ledger (SQL, and
   ``rollups_match_ledger``); the same gunicorn workers served before and after (the app
   recovered without a restart) and payments were acknowledged after the restart;
6. stops gunicorn and drops the database. Exit status 0 when every check passed.

Run:   .venv/bin/python benchmarks/stress_ledger.py                       (60 s, 50 clients)
CI:    .venv/bin/python benchmarks/stress_ledger.py --duration 15 --clients 20
Other engineers' tests on the same PostgreSQL lose their connections during the restart:
run the full variant sparingly.
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
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load_ledger  # noqa: E402 - the ledger engineer's load script: database, seed, gunicorn
import sqlalchemy as sa  # noqa: E402 - after the sys.path lines above
from _proc import gunicorn_pids  # noqa: E402 - a module of this folder

VN = dt.timezone(dt.timedelta(hours=7))
METHODS = ("vietqr", "ewallet", "card", "cash")
REQUEST_TIMEOUT = 15.0


# ---- PostgreSQL, gunicorn ---------------------------------------------------------------------


def cluster_version() -> str:
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        raise SystemExit("no PostgreSQL cluster under /etc/postgresql")
    return versions[0]


def pg_ctl(action: str) -> None:
    """Stop or start the local cluster (fast shutdown: open sessions are terminated)."""
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster_version(), "main", action],
        check=True,
        capture_output=True,
    )


def pg_ready(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0:
            return True
        time.sleep(0.2)
    return False


def start_gunicorn(url: str, port: int, log: Path, threads: int) -> subprocess.Popen[Any]:
    """gunicorn -w 2 (gthread) on 127.0.0.1:port, stdout and stderr into ``log``."""
    env = {
        **os.environ,
        "CHOPAY_DATABASE_URL": url,
        "CHOPAY_SECRET_KEY": uuid.uuid4().hex * 2,
        "CHOPAY_ENV": "development",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--workers=2",
        f"--bind=127.0.0.1:{port}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--backlog=512",
        "--timeout=60",
        "--log-level=warning",
        "wsgi:app",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if b" 200 " in sock.recv(200):
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    load_ledger.stop_gunicorn(proc)
    raise SystemExit(f"gunicorn did not come up; see {log}")


# ---- a small keep-alive HTTP/1.1 client that reports headers too ---------------------------


class Http:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """One request; raises ConnectionError (or a timeout) when it cannot complete."""
        try:
            return await asyncio.wait_for(self._send(method, path, body, headers), REQUEST_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.close()
            kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            raise ConnectionError(kind) from exc

    async def _send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        if body:
            head.append("Content-Type: application/json")
        head.extend(f"{k}: {v}" for k, v in headers.items())
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed by the server")
        status = int(status_line.split()[1])
        got: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            got[name.strip().lower()] = value.strip()
        length = int(got.get("content-length", "0"))
        payload = await self.reader.readexactly(length) if length else b""
        if got.get("connection", "").lower() == "close":
            self.close()
        return status, got, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# ---- the reporters -------------------------------------------------------------------------------


@dataclass
class Payment:
    ref: str
    vendor_id: int
    amount: int
    acks: list[str] = field(default_factory=list)  # "created" / "duplicate", per send


@dataclass
class Stats:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unavailable: int = 0  # 503s
    unavailable_bad: list[str] = field(default_factory=list)  # 503s without the promised shape
    connection_errors: Counter[str] = field(default_factory=Counter)  # by kind
    unexpected: list[str] = field(default_factory=list)
    acks_after_restart: int = 0
    first_ack_after_up: float | None = None


@dataclass
class Fault:
    """When the database went down and came back (monotonic seconds)."""

    down_at: float | None = None
    up_at: float | None = None


async def send_until_acknowledged(
    http: Http,
    payments: list[Payment],
    token: str,
    stats: Stats,
    fault: Fault,
    give_up: float,
    max_wait: float,
) -> None:
    """Send one copy (a payment, or a batch) until it is acknowledged, retrying on 503
    and connection errors with the very same body."""
    if len(payments) == 1:
        body: Any = _item(payments[0])
    else:
        body = [_item(p) for p in payments]
    raw = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random()
    while True:
        if time.monotonic() > give_up:
            return  # left unacknowledged: reported (and fails the run)
        stats.requests += 1
        try:
            status, got, payload = await http.send("POST", "/api/v1/transactions", raw, headers)
        except ConnectionError as exc:
            stats.connection_errors[str(exc)] += 1
            await asyncio.sleep(0.1 + rng.random() * 0.2)
            continue
        stats.statuses[status] += 1
        if status == 503:
            stats.unavailable += 1
            _check_unavailable(got, payload, stats)
            wait = float(got.get("retry-after", "1") or 1)
            await asyncio.sleep(min(wait, max_wait) * (0.5 + rng.random()))
            continue
        if status not in (200, 201):
            stats.unexpected.append(f"{status}: {payload[:300]!r}")
            return
        answer = json.loads(payload)
        results = [answer] if len(payments) == 1 else answer["results"]
        for payment, result in zip(payments, results, strict=True):
            if result["status"] not in ("created", "duplicate"):
                stats.unexpected.append(f"{payment.ref}: {result}")
                continue
            payment.acks.append(result["status"])
        if fault.up_at is not None:
            stats.acks_after_restart += 1
            if stats.first_ack_after_up is None:
                stats.first_ack_after_up = time.monotonic() - fault.up_at
        return


def _item(payment: Payment) -> dict[str, Any]:
    return {
        "vendor_id": payment.vendor_id,
        "amount": payment.amount,
        "occurred_at": (dt.datetime.now(VN) - dt.timedelta(minutes=1)).isoformat(),
        "method": METHODS[payment.amount % len(METHODS)],
        "external_ref": payment.ref,
        "note": "stress",
    }


def _check_unavailable(headers: dict[str, str], payload: bytes, stats: Stats) -> None:
    problem = None
    if not headers.get("retry-after", "").isdigit():
        problem = "no Retry-After"
    else:
        try:
            error = json.loads(payload)["error"]
            if error["code"] != "unavailable":
                problem = f"code {error['code']}"
        except (ValueError, KeyError, TypeError):
            problem = f"not the JSON error body: {payload[:200]!r}"
    if b"Traceback" in payload:
        problem = "traceback in the body"
    if problem:
        stats.unavailable_bad.append(problem)


async def reporter(
    number: int,
    port: int,
    info: dict[str, Any],
    payments: list[Payment],
    stats: Stats,
    fault: Fault,
    deadline: float,
    give_up: float,
    max_wait: float,
) -> None:
    rng = random.Random(number)
    first, second = Http(port), Http(port)
    sent = 0
    try:
        while time.monotonic() < deadline:
            size = 3 if rng.random() < 0.2 else 1
            group = []
            for k in range(size):
                vendor_id, _, _ = info["vendors"][rng.randrange(len(info["vendors"]))]
                group.append(
                    Payment(
                        ref=f"st-{number}-{sent}-{k}",
                        vendor_id=vendor_id,
                        amount=rng.randrange(1, 2000) * 500,
                    )
                )
            sent += 1
            payments.extend(group)
            token = info["token"]
            if rng.random() < 0.5:  # one copy after the other
                for http in (first, second):
                    await send_until_acknowledged(
                        http, group, token, stats, fault, give_up, max_wait
                    )
            else:  # both copies at the same moment, on two connections
                await asyncio.gather(
                    send_until_acknowledged(first, group, token, stats, fault, give_up, max_wait),
                    send_until_acknowledged(second, group, token, stats, fault, give_up, max_wait),
                )
    finally:
        first.close()
        second.close()


async def restart_database(fault: Fault, at: float, down: float) -> None:
    await asyncio.sleep(at)
    print(f"  {at:.0f} s: stopping PostgreSQL", flush=True)
    await asyncio.to_thread(pg_ctl, "stop")
    fault.down_at = time.monotonic()
    await asyncio.sleep(down)
    await asyncio.to_thread(pg_ctl, "start")
    if not await asyncio.to_thread(pg_ready, 30):
        raise SystemExit("PostgreSQL did not come back")
    fault.up_at = time.monotonic()
    print(f"  PostgreSQL back after {fault.up_at - fault.down_at:.1f} s down", flush=True)


async def drive(
    port: int, info: dict[str, Any], args: argparse.Namespace
) -> tuple[list[Payment], Stats, Fault]:
    payments: list[Payment] = []
    stats = Stats()
    fault = Fault()
    start = time.monotonic()
    deadline = start + args.duration
    give_up = deadline + args.grace
    tasks = [
        reporter(n, port, info, payments, stats, fault, deadline, give_up, args.max_wait)
        for n in range(args.clients)
    ]
    if not args.no_restart:
        tasks.append(restart_database(fault, args.restart_at, args.down_seconds))
    await asyncio.gather(*tasks)
    return payments, stats, fault


async def probe(port: int, token: str, vendor_id: int) -> tuple[int, int]:
    """A new payment and the health check, after everything: (POST status, healthz status)."""
    http = Http(port)
    body = json.dumps(
        _item(Payment(ref=f"st-probe-{uuid.uuid4().hex[:8]}", vendor_id=vendor_id, amount=777))
    ).encode()
    posted, _, _ = await http.send(
        "POST", "/api/v1/transactions", body, {"Authorization": f"Bearer {token}"}
    )
    health, _, _ = await http.send("GET", "/healthz", b"", {})
    http.close()
    return posted, health


# ---- checking the ledger ---------------------------------------------------------------------


def ledger_checks(url: str, payments: list[Payment]) -> dict[str, Any]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT external_ref, vendor_id, amount_vnd FROM transactions")
        ).all()
        distinct = conn.execute(
            sa.text("SELECT count(DISTINCT (source, external_ref)) FROM transactions")
        ).scalar_one()
        rollup_rows = conn.execute(sa.text("SELECT count(*) FROM daily_rollups")).scalar_one()
        sql_mismatches = conn.execute(load_ledger.ROLLUP_MISMATCHES).scalar_one()
    engine.dispose()

    from chopay import create_app
    from chopay.extensions import db
    from chopay.transactions.rollups import rollups_match_ledger

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        app_mismatches = rollups_match_ledger()
        db.session.remove()
        db.engine.dispose()

    stored = Counter(ref for ref, _, _ in rows)
    values = {ref: (vendor_id, amount) for ref, vendor_id, amount in rows}
    sent = {p.ref: p for p in payments}
    acked = [p for p in payments if p.acks]
    return {
        "ledger_rows": len(rows),
        "rollup_rows": rollup_rows,
        "distinct": distinct,
        "acked": len(acked),
        "unacked": [p.ref for p in payments if not p.acks],
        "lost": [p.ref for p in acked if stored[p.ref] != 1],
        "twice": [ref for ref, n in stored.items() if n > 1],
        "wrong_values": [
            p.ref for p in acked if values.get(p.ref) not in (None, (p.vendor_id, p.amount))
        ],
        "unknown": [ref for ref in stored if ref not in sent and not ref.startswith("st-probe")],
        "created_twice": [p.ref for p in payments if p.acks.count("created") > 1],
        "sql_mismatches": sql_mismatches,
        "app_mismatches": len(app_mismatches),
    }


# ---- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of reporting")
    parser.add_argument("--clients", type=int, default=50, help="concurrent reporters")
    parser.add_argument("--vendors", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per worker")
    parser.add_argument("--restart-at", type=float, help="seconds in (default: 40%%)")
    parser.add_argument("--down-seconds", type=float, default=1.0)
    parser.add_argument("--max-wait", type=float, default=1.0, help="cap on Retry-After")
    parser.add_argument("--grace", type=float, default=30.0, help="to finish retries")
    parser.add_argument("--no-restart", action="store_true", help="load only, no fault")
    args = parser.parse_args()
    if args.restart_at is None:
        args.restart_at = args.duration * 0.4
    if not args.no_restart and os.geteuid() != 0:
        raise SystemExit("restarting PostgreSQL needs root (pg_ctlcluster)")

    name, url = load_ledger.create_database()
    proc = None
    log = Path(tempfile.mkstemp(prefix="chopay-stress-", suffix=".log")[1])
    try:
        print(f"database {name}; seeding {args.vendors} vendors …", flush=True)
        info = load_ledger.seed(url, args.vendors)
        port = load_ledger.free_port()
        proc = start_gunicorn(url, port, log, args.threads)
        workers_before = sorted(gunicorn_pids(proc.pid))
        fault_text = (
            "no restart"
            if args.no_restart
            else f"PostgreSQL stopped at {args.restart_at:.0f} s for {args.down_seconds:.0f} s"
        )
        print(
            f"gunicorn -w 2 (gthread x {args.threads}) on 127.0.0.1:{port}; {args.clients} "
            f"reporters for {args.duration:.0f} s, every payment sent twice; {fault_text}",
            flush=True,
        )
        started = time.monotonic()
        payments, stats, fault = asyncio.run(drive(port, info, args))
        elapsed = time.monotonic() - started
        probe_post, probe_health = asyncio.run(probe(port, info["token"], info["vendors"][0][0]))
        workers_after = sorted(gunicorn_pids(proc.pid))
        load_ledger.stop_gunicorn(proc)
        proc = None
        tracebacks = log.read_text(errors="replace").count("Traceback")
        check = ledger_checks(url, payments)
    finally:
        if proc is not None:
            load_ledger.stop_gunicorn(proc)
        if not pg_ready(30):
            pg_ctl("start")
            pg_ready(30)
        load_ledger.drop_database(name)

    restarted = not args.no_restart
    faults = 1 if restarted and fault.up_at is not None else 0
    print(
        f"\nrequests sent: {stats.requests:,} in {elapsed:.1f} s; statuses {dict(stats.statuses)}"
    )
    print(
        f"payments: {len(payments):,} distinct, each sent twice; acknowledged "
        f"{check['acked']:,}; unacknowledged {len(check['unacked'])}"
    )
    print(
        f"503s seen: {stats.unavailable} (without Retry-After/JSON body: "
        f"{len(stats.unavailable_bad)}); connection errors (retried): "
        f"{dict(stats.connection_errors) or 0}; "
        f"other answers: {len(stats.unexpected)}; tracebacks in gunicorn's log: {tracebacks}"
    )
    if restarted:
        recovery = (
            f"{stats.first_ack_after_up:.2f} s" if stats.first_ack_after_up is not None else "never"
        )
        print(
            f"faults survived: {faults} PostgreSQL restart; first acknowledgement after it "
            f"came back: {recovery}; sends acknowledged after the restart: "
            f"{stats.acks_after_restart:,}"
        )
    print(
        f"gunicorn workers before/after: {workers_before[1:]} / {workers_after[1:]}; "
        f"probe after the run: POST {probe_post}, /healthz {probe_health}"
    )
    print(
        f"rows compared: ledger {check['ledger_rows']:,} rows (distinct keys "
        f"{check['distinct']:,}) against {check['acked']:,} acknowledged payments; rollups "
        f"{check['rollup_rows']:,} rows against the ledger: {check['sql_mismatches']} differ "
        f"(SQL), {check['app_mismatches']} (rollups_match_ledger)"
    )
    print(
        f"lost: {len(check['lost'])}; twice: {len(check['twice'])}; wrong values: "
        f"{len(check['wrong_values'])}; not sent by anyone: {len(check['unknown'])}; "
        f"answered 'created' twice: {len(check['created_twice'])}"
    )
    for label, items in (
        ("unexpected answers", stats.unexpected),
        ("bad 503s", stats.unavailable_bad),
        ("lost", check["lost"]),
        ("unacknowledged", check["unacked"]),
    ):
        if items:
            print(f"  {label} (first 5): {items[:5]}")

    problems = {
        "an answer other than 201/200/503": bool(stats.unexpected),
        "a 503 without Retry-After or the JSON error": bool(stats.unavailable_bad),
        "a traceback in gunicorn's log": tracebacks > 0,
        "an acknowledged payment lost or stored twice": bool(check["lost"] or check["twice"]),
        "a payment stored with other values": bool(check["wrong_values"]),
        "a ledger row nobody sent": bool(check["unknown"]),
        "a payment answered 'created' twice": bool(check["created_twice"]),
        "a payment never acknowledged": bool(check["unacked"]),
        "rollups differ from the ledger": bool(check["sql_mismatches"] or check["app_mismatches"]),
        "ledger rows != distinct keys": check["ledger_rows"] != check["distinct"],
        "no 503 while the database was down": restarted and stats.unavailable == 0,
        "no acknowledgement after the restart": restarted and stats.acks_after_restart == 0,
        "gunicorn workers were replaced": workers_before != workers_after,
        "the app did not answer after the run": (probe_post, probe_health) != (201, 200),
    }
    failed = [what for what, bad in problems.items() if bad]
    print("\nRESULT: " + ("OK" if not failed else "FAILED: " + "; ".join(failed)))
    if failed:
        print(f"gunicorn log: {log}")
    else:
        log.unlink(missing_ok=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
