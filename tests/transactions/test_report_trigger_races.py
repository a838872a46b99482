"""Two real connections racing on one vendor's day: the activity bit is right once both
commit, in either order of lock acquisition (PostgreSQL only: real commits on a database
of its own).

Clearing a day bit (a void emptied the day's last row of a method) re-checks the day's
other rollup rows. The trigger must lock the month row FIRST and re-check AFTER, in a new
statement, so that a concurrent payment of another method is seen once it commits; and a
payment on a day whose bit is already set must still lock the month row, or a clearer
would not wait for it. Each test holds one transaction open, starts the other on its own
thread, checks that it really waits for a lock (when it must), then commits in order.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from chopay.auth.models import User
from chopay.extensions import db
from chopay.reports.models import VendorActivityMonth
from chopay.reports.services import report_rollup_drift
from chopay.transactions import services
from tests.conftest import IS_POSTGRES, build_app, new_database_url
from tests.factories import MarketFactory, UserFactory, VendorFactory
from tests.transactions.conftest import VN

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="needs PostgreSQL row locks")

DAY = dt.date(2026, 11, 14)
BIT = 1 << (DAY.day - 1)
TIMEOUT = 30


@pytest.fixture(scope="module")
def race_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a database of its own, shared by this module's tests (each uses its own
    vendor), so that transactions really commit."""
    url, drop = new_database_url(tmp_path_factory.mktemp("races"))
    app = build_app(url, str(tmp_path_factory.mktemp("instance")))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


class Connection:
    """A database session on a thread of its own (its own app context, hence its own
    Flask-SQLAlchemy session and connection), run step by step."""

    def __init__(self, app: Flask) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._context = app.app_context()
        self.call(self._context.push)

    def start(self, step: Callable[[], Any]) -> Future[Any]:
        return self._thread.submit(step)

    def call(self, step: Callable[[], Any]) -> Any:
        return self.start(step).result(timeout=TIMEOUT)

    def close(self) -> None:
        def end() -> None:
            db.session.rollback()
            db.session.remove()
            self._context.pop()

        self.call(end)
        self._thread.shutdown()


def _payment(vendor_id: int, market_id: int, method: str, ref: str) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "market_id": market_id,
        "amount_vnd": 35_000,
        "occurred_at": dt.datetime.combine(DAY, dt.time(7, 15), VN),
        "method": method,
        "source": "import",
        "external_ref": ref,
    }


def _setup(app: Flask, methods: tuple[str, ...]) -> dict[str, Any]:
    """A vendor with one committed cashless payment per method on DAY, and an admin."""
    with app.app_context():
        market = MarketFactory(legacy_commune=None, new_commune=None)
        vendor = VendorFactory(market=market)
        admin = UserFactory()
        db.session.flush()
        ids = {}
        for method in methods:
            ref = f"race-{vendor.id}-{method}"
            counts = services.insert_transactions([_payment(vendor.id, market.id, method, ref)])
            ids[method] = counts.ids[("import", ref)]
        db.session.commit()
        info = {"vendor": vendor.id, "market": market.id, "admin": admin.id, "ids": ids}
        db.session.remove()
    assert _day_bit(app, info) is True
    return info


def _void(tx_id: int, admin_id: int) -> Callable[[], Any]:
    def step() -> None:
        actor = db.session.get(User, admin_id)
        services.void_transaction(tx_id, actor=actor, reason="nhập nhầm")

    return step


def _insert(row: dict[str, Any]) -> Callable[[], Any]:
    def step() -> None:
        counts = services.insert_transactions([row])
        assert counts.inserted == 1

    return step


def _commit() -> None:
    db.session.commit()


def _waits_for_a_lock(app: Flask, pending: Future[Any]) -> bool:
    """Whether the step in progress blocks on a lock (True), or ends without (False)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if pending.done():
            pending.result()  # surface its error, if any
            return False
        with app.app_context(), db.engine.connect() as conn:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return True
        time.sleep(0.02)
    raise AssertionError("the second transaction neither finished nor waited for a lock")


def _race(app: Flask, first: Callable[[], Any], second: Callable[[], Any]) -> bool:
    """Run ``first`` (uncommitted), then ``second`` on another connection; commit the
    first, finish and commit the second. Returns whether the second waited for a lock."""
    one, two = Connection(app), Connection(app)
    try:
        one.call(first)
        pending = two.start(second)
        waited = _waits_for_a_lock(app, pending)
        one.call(_commit)
        pending.result(timeout=TIMEOUT)
        two.call(_commit)
    finally:
        one.close()
        two.close()
    return waited


def _day_bit(app: Flask, info: dict[str, Any]) -> bool:
    a = VendorActivityMonth
    with app.app_context():
        mask = db.session.scalar(
            select(a.day_mask).where(
                a.market_id == info["market"],
                a.month == DAY.replace(day=1),
                a.vendor_id == info["vendor"],
            )
        )
        # The app's own check, on this test's market (each test has its own).
        assert [row for row in report_rollup_drift() if row[0] == info["market"]] == []
        db.session.remove()
    return bool((mask or 0) & BIT)


@pytest.mark.parametrize("void_first", [True, False], ids=["void-first", "payment-first"])
@pytest.mark.parametrize("method", ["ewallet", "cash"])
def test_a_void_racing_a_payment_of_another_method_on_the_same_day(
    race_app: Flask, method: str, void_first: bool
) -> None:
    info = _setup(race_app, ("vietqr",))
    void = _void(info["ids"]["vietqr"], info["admin"])
    pay = _insert(_payment(info["vendor"], info["market"], method, f"race-{info['vendor']}-2"))
    waited = _race(race_app, *((void, pay) if void_first else (pay, void)))
    # void first: the payment waits for the voider's month-row lock, then sets the bit
    # again; payment first: the voider waits for the payer's lock (taken though the bit
    # was set already), then its re-check sees the committed e-wallet row. Cash payments
    # take no month-row lock and never keep a day active.
    assert waited is (method != "cash")
    assert _day_bit(race_app, info) is (method != "cash")


def test_two_voids_emptying_a_day_each_see_the_other(race_app: Flask) -> None:
    """Each void alone leaves the other method active; together they empty the day. The
    second re-checks after the first committed, so it sees that, and clears the bit."""
    info = _setup(race_app, ("vietqr", "ewallet"))
    waited = _race(
        race_app,
        _void(info["ids"]["vietqr"], info["admin"]),
        _void(info["ids"]["ewallet"], info["admin"]),
    )
    assert waited is True
    assert _day_bit(race_app, info) is False
