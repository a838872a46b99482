"""``chopay backup`` makes a consistent snapshot while the app writes; restoring it works."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask

from chopay import create_app
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.transactions.models import DailyRollup, Method, Source, Transaction
from chopay.transactions.rollups import rollups_match_ledger
from chopay.transactions.services import insert_transactions
from chopay.vendors.models import Vendor
from chopay.wiring import MIGRATIONS_DIR
from tests.conftest import IS_POSTGRES, TEST_DB_URL

HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def _write_payment(vendor: Vendor, n: int) -> None:
    """One ledger row and its rollup, in one database transaction (as the ledger does)."""
    now = dt.datetime.now(dt.UTC)
    day = now.astimezone(dt.timezone(dt.timedelta(hours=7))).date()
    db.session.add(
        Transaction(
            vendor_id=vendor.id,
            market_id=vendor.market_id,
            amount_vnd=1000 + n,
            occurred_at=now,
            local_day=day,
            method=Method.VIETQR,
            source=Source.VENDOR,
            external_ref=f"bk-{n}",
        )
    )
    rollup = db.session.get(DailyRollup, (vendor.id, day, Method.VIETQR))
    if rollup is None:
        rollup = DailyRollup(
            vendor_id=vendor.id,
            day=day,
            method=Method.VIETQR,
            market_id=vendor.market_id,
            tx_count=0,
            tx_value=0,
        )
        db.session.add(rollup)
    rollup.tx_count += 1
    rollup.tx_value += 1000 + n
    db.session.commit()


def _consistency(conn: Any) -> tuple[int, int, int, int]:
    ledger = conn.execute(
        sa.text("SELECT COUNT(*), COALESCE(SUM(amount_vnd), 0) FROM transactions")
    ).one()
    rollups = conn.execute(
        sa.text("SELECT COALESCE(SUM(tx_count), 0), COALESCE(SUM(tx_value), 0) FROM daily_rollups")
    ).one()
    return int(ledger[0]), int(ledger[1]), int(rollups[0]), int(rollups[1])


PADDING_ROWS = 20_000  # about 10 MB: far more than one step of a page-by-page copy


def _pad(vendor: Vendor) -> None:
    """Bulk ledger rows (with their rollups) so the database is big enough to take time."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    insert_transactions(
        [
            {
                "vendor_id": vendor.id,
                "market_id": vendor.market_id,
                "amount_vnd": 1,
                "occurred_at": now,
                "method": Method.CASH,
                "source": Source.IMPORT,
                "external_ref": f"pad-{n}",
                "note": "đệm " * 60,
            }
            for n in range(PADDING_ROWS)
        ]
    )
    db.session.commit()


def _restored_app(url: str, tmp_path: Path) -> Flask:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    app.instance_path = str(tmp_path)
    return app


def _check_restored(app: Flask) -> tuple[int, int, int, int]:
    """Counts and sums of the restored database, through the app: (writer's rows, their
    sum, markets, vendors); the rollups must equal the ledger row by row."""
    with app.app_context():
        assert rollups_match_ledger() == []
        counts = db.session.execute(
            sa.text(
                "SELECT COUNT(*), COALESCE(SUM(amount_vnd), 0) FROM transactions "
                "WHERE external_ref LIKE 'bk-%'"
            )
        ).one()
        padding = db.session.execute(
            sa.text("SELECT COUNT(*) FROM transactions WHERE external_ref LIKE 'pad-%'")
        ).scalar_one()
        assert padding == PADDING_ROWS
        markets = db.session.scalar(sa.select(sa.func.count()).select_from(Market))
        vendors = db.session.scalar(sa.select(sa.func.count()).select_from(Vendor))
        revision = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).one()
        assert revision[0] == HEAD
        db.session.remove()
        db.engine.dispose()
    return int(counts[0]), int(counts[1]), int(markets or 0), int(vendors or 0)


def test_backup_while_writing_restores_to_a_consistent_snapshot(
    fresh_app: Callable[..., Flask], tmp_path: Path
) -> None:
    if IS_POSTGRES and shutil.which("pg_restore") is None:
        pytest.fail("pg_restore is needed for the PostgreSQL backup test")
    app = fresh_app(load_units=False)
    with app.app_context():
        market = Market(code="BK-1", name="Chợ Sao Lưu", stall_count=10)
        db.session.add(market)
        db.session.flush()
        vendor = Vendor(
            market_id=market.id, full_name="Lê Thị Lưu", stall="A-1", reference="CPBACKUP"
        )
        db.session.add(vendor)
        db.session.commit()
        vendor_id = vendor.id
        _pad(vendor)
        for n in range(200):
            _write_payment(vendor, n)

    stop = threading.Event()
    written = [200]

    def writer() -> None:
        # Writes on until the backup is done (at most 60 s): a backup that restarted on
        # every write would never finish and the time check below would fail.
        with app.app_context():
            v = db.session.get(Vendor, vendor_id)
            n = 200
            deadline = time.monotonic() + 60
            while not stop.is_set() and time.monotonic() < deadline:
                _write_payment(v, n)
                n += 1
                written[0] = n
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    target = tmp_path / "snapshot.bak"
    try:
        while written[0] < 220:  # the app is really writing when the backup starts
            time.sleep(0.01)
        started = time.monotonic()
        result = app.test_cli_runner().invoke(args=["chopay", "backup", str(target)])
        took = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert target.exists()
    assert took < 10, f"the backup took {took:.0f} s while the app was writing"

    if IS_POSTGRES:
        name = f"chopay_restore_{uuid.uuid4().hex[:8]}"
        base = sa.make_url(TEST_DB_URL).set(drivername="postgresql")
        admin = sa.create_engine(
            base.set(drivername="postgresql+psycopg", database="postgres"),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            restore_url = base.set(database=name).render_as_string(hide_password=False)
            subprocess.run(["pg_restore", "--no-owner", "-d", restore_url, str(target)], check=True)
            engine = sa.create_engine(base.set(drivername="postgresql+psycopg", database=name))
            with engine.connect() as conn:
                counts = _consistency(conn)
            engine.dispose()
            restored = _check_restored(
                _restored_app(
                    base.set(drivername="postgresql+psycopg", database=name).render_as_string(
                        hide_password=False
                    ),
                    tmp_path,
                )
            )
        finally:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        con = sqlite3.connect(target)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
        engine = sa.create_engine(f"sqlite:///{target}")
        with engine.connect() as conn:
            counts = _consistency(conn)
        engine.dispose()
        restored = _check_restored(_restored_app(f"sqlite:///{target}", tmp_path))

    ledger_count, ledger_sum, rollup_count, rollup_sum = counts
    # one consistent moment: the rollups agree exactly with the ledger they were cut with
    assert (rollup_count, rollup_sum) == (ledger_count, ledger_sum)
    # ... and it holds the writer's first payments, in order, none missing
    payments, payments_sum, markets, vendors = restored
    assert 220 <= payments <= written[0]
    assert payments_sum == sum(1000 + n for n in range(payments))
    assert ledger_count == PADDING_ROWS + payments
    assert ledger_sum == PADDING_ROWS + payments_sum
    assert (markets, vendors) == (1, 1)


def test_backup_refuses_to_overwrite(fresh_app: Callable[..., Flask], tmp_path: Path) -> None:
    app = fresh_app(load_units=False)
    target = tmp_path / "exists.bak"
    target.write_text("keep me")
    result = app.test_cli_runner().invoke(args=["chopay", "backup", str(target)])
    assert result.exit_code != 0
    assert target.read_text() == "keep me"
