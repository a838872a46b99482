"""The report tables kept by triggers on ``daily_rollups`` stay exactly what a recomputation
from ``daily_rollups`` gives, whatever writes the rollups and however many rows a statement
touches: the ledger service, voids, rebuilds, repair scripts deleting, emptying, re-keying
or moving rows between markets.

On PostgreSQL the triggers are statement-level with transition tables (revision
1257cc86824a); on SQLite they are per-row (revision f620fdb93b75).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update

from chopay.reports.models import MarketDailyRollup, VendorActivityMonth
from chopay.reports.services import report_rollup_drift
from chopay.transactions import rollups, services
from tests.conftest import IS_POSTGRES
from tests.transactions.conftest import VN, World

METHODS = ("vietqr", "ewallet", "card", "cash")
# Around a month boundary, so one statement touches two months of activity bits.
DAYS = tuple(dt.date(2026, 10, 29) + dt.timedelta(days=i) for i in range(5))
TABLE = rollups.ROLLUPS

# ---- the oracle ---------------------------------------------------------------------------


def expected_reports(db: Any) -> tuple[dict[Any, Any], dict[Any, int]]:
    """Both report tables computed afresh, in Python, from the daily_rollups rows."""
    market: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    activity: dict[tuple[Any, ...], int] = defaultdict(int)
    rows = db.session.execute(
        select(
            TABLE.c.market_id,
            TABLE.c.vendor_id,
            TABLE.c.day,
            TABLE.c.method,
            TABLE.c.tx_count,
            TABLE.c.tx_value,
        )
    )
    for market_id, vendor_id, day, method, count, value in rows:
        totals = market[(market_id, day, method)]
        totals[0] += count
        totals[1] += value
        if method != "cash" and count > 0:
            activity[(market_id, day.replace(day=1), vendor_id)] |= 1 << (day.day - 1)
    return (
        {key: tuple(v) for key, v in market.items() if v != [0, 0]},
        dict(activity),
    )


def kept_reports(db: Any) -> tuple[dict[Any, Any], dict[Any, int]]:
    """Both report tables as the triggers left them (rows of zeros left out)."""
    m = MarketDailyRollup
    a = VendorActivityMonth
    market = {
        (r.market_id, r.day, r.method): (r.tx_count, r.tx_value)
        for r in db.session.execute(select(m.market_id, m.day, m.method, m.tx_count, m.tx_value))
        if (r.tx_count, r.tx_value) != (0, 0)
    }
    activity = {
        (r.market_id, r.month, r.vendor_id): r.day_mask
        for r in db.session.execute(select(a.market_id, a.month, a.vendor_id, a.day_mask))
        if r.day_mask
    }
    return market, activity


def assert_reports_exact(db: Any, step: str = "") -> None:
    db.session.flush()
    kept_market, kept_activity = kept_reports(db)
    want_market, want_activity = expected_reports(db)
    assert kept_market == want_market, step
    assert kept_activity == want_activity, step


# ---- a random mix of writes ------------------------------------------------------------------


class Mix:
    """Random rollup writes of every kind, for one seed."""

    def __init__(self, db: Any, world: World, seed: int) -> None:
        self.db = db
        self.world = world
        self.rng = random.Random(seed)
        self.vendors = [world.vendor, world.vendor2, world.outsider]
        self.market_of = {v.id: v.market_id for v in self.vendors}
        self.markets = [world.market.id, world.other_market.id]
        # (id, vendor_id, day, method, amount) of every payment inserted
        self.payments: list[tuple[int, int, dt.date, str, int]] = []
        self.voided: set[int] = set()
        self.serial = 0
        kinds = ["insert"] * 6 + ["void"] * 4 + ["single"] * 4 + ["nudge"] * 2
        kinds += ["delete", "empty", "bump", "revalue", "shift", "rebuild"]
        self.kinds = [*kinds, "move", "move"]

    def plan(self, steps: int) -> list[str]:
        """``steps`` kinds of write in random order, each kind at least twice."""
        kinds = sorted(set(self.kinds)) * 2
        kinds += [self.rng.choice(self.kinds) for _ in range(steps - len(kinds))]
        self.rng.shuffle(kinds)
        return kinds

    def _some_key(self) -> tuple[int, dt.date, str] | None:
        keys = self.db.session.execute(
            select(TABLE.c.vendor_id, TABLE.c.day, TABLE.c.method).order_by(
                TABLE.c.vendor_id, TABLE.c.day, TABLE.c.method
            )
        ).all()
        return tuple(self.rng.choice(keys)) if keys else None  # type: ignore[return-value]

    def insert(self) -> None:
        rows = []
        for _ in range(self.rng.randint(1, 12)):
            vendor = self.rng.choice(self.vendors)
            day = self.rng.choice(DAYS)
            self.serial += 1
            rows.append(
                {
                    "vendor_id": vendor.id,
                    "market_id": self.market_of[vendor.id],
                    "amount_vnd": self.rng.randint(1, 500_000),
                    "occurred_at": dt.datetime.combine(day, dt.time(9, 30), VN),
                    "method": self.rng.choice(METHODS),
                    "source": "import",
                    # A small pool of references: duplicates are common.
                    "external_ref": f"mix-{self.rng.randrange(80)}",
                }
            )
        counts = services.insert_transactions(rows)
        by_ref: dict[str, dict[str, Any]] = {}
        for row in rows:  # the first of repeated references is the one inserted
            by_ref.setdefault(row["external_ref"], row)
        for (_, ref), new_id in counts.ids.items():
            row = by_ref[ref]
            day = row["occurred_at"].date()
            self.payments.append((new_id, row["vendor_id"], day, row["method"], row["amount_vnd"]))

    def single(self) -> None:
        """One payment, the ledger's most frequent write: on PostgreSQL it updates one
        rollup row (if its key exists), the UPDATE trigger's single-row path."""
        vendor = self.rng.choice(self.vendors)
        day = self.rng.choice(DAYS)
        method = self.rng.choice(METHODS)
        amount = self.rng.randint(1, 500_000)
        self.serial += 1
        ref = f"one-{self.serial}"
        row = {
            "vendor_id": vendor.id,
            "market_id": self.market_of[vendor.id],
            "amount_vnd": amount,
            "occurred_at": dt.datetime.combine(day, dt.time(10, 15), VN),
            "method": method,
            "source": "import",
            "external_ref": ref,
        }
        counts = services.insert_transactions([row])
        self.payments.append((counts.ids[("import", ref)], vendor.id, day, method, amount))

    def nudge(self) -> None:
        """A repair changes ONE rollup row: growing (single-row path) or not (set-based)."""
        key = self._some_key()
        if key is None:
            return
        change = self.rng.choice(
            [
                {"tx_count": TABLE.c.tx_count + 1},
                {"tx_value": TABLE.c.tx_value + 700},
                {"tx_count": TABLE.c.tx_count + 2, "tx_value": TABLE.c.tx_value + 1},
                {},  # rewritten unchanged
                {"tx_value": TABLE.c.tx_value - 1},  # lower: set-based path
            ]
        )
        where = [TABLE.c.vendor_id == key[0], TABLE.c.day == key[1], TABLE.c.method == key[2]]
        if "tx_value" in change and self.rng.random() < 0.5:
            where.append(TABLE.c.tx_value >= 1)
        self.db.session.execute(
            update(TABLE).where(*where).values(**(change or {"tx_count": TABLE.c.tx_count}))
        )

    def void(self) -> None:
        live = [p for p in self.payments if p[0] not in self.voided]
        if not live:
            return
        tx_id, vendor_id, day, method, amount = self.rng.choice(live)
        kept = self.db.session.execute(
            select(TABLE.c.tx_count, TABLE.c.tx_value).where(
                TABLE.c.vendor_id == vendor_id, TABLE.c.day == day, TABLE.c.method == method
            )
        ).first()
        if kept is not None and (kept[0] < 1 or kept[1] < amount):
            return  # a repair emptied the row: the void would break its CHECK constraint
        services.void_transaction(tx_id, actor=self.world.admin, reason="kiểm thử")
        self.voided.add(tx_id)

    def delete(self) -> None:
        """A repair script deletes one row, or every method of a vendor's day."""
        key = self._some_key()
        if key is None:
            return
        where = [TABLE.c.vendor_id == key[0], TABLE.c.day == key[1]]
        if self.rng.random() < 0.5:
            where.append(TABLE.c.method == key[2])
        self.db.session.execute(delete(TABLE).where(*where))

    def empty(self) -> None:
        """Every method of a vendor's day emptied in one statement (rows stay, at zero)."""
        key = self._some_key()
        if key is None:
            return
        self.db.session.execute(
            update(TABLE)
            .where(TABLE.c.vendor_id == key[0], TABLE.c.day == key[1])
            .values(tx_count=0, tx_value=0)
        )

    def bump(self) -> None:
        """Every row of a vendor grows (emptied ones become active again)."""
        vendor = self.rng.choice(self.vendors)
        self.db.session.execute(
            update(TABLE)
            .where(TABLE.c.vendor_id == vendor.id)
            .values(tx_count=TABLE.c.tx_count + 1, tx_value=TABLE.c.tx_value + 1_000)
        )

    def revalue(self) -> None:
        """A repair corrects the amounts of a vendor's day: the value changes, and the count
        may not, or may grow while the value shrinks."""
        key = self._some_key()
        if key is None:
            return
        self.db.session.execute(
            update(TABLE)
            .where(TABLE.c.vendor_id == key[0], TABLE.c.day == key[1], TABLE.c.tx_value >= 1)
            .values(
                tx_count=TABLE.c.tx_count + self.rng.choice((0, 1)),
                tx_value=TABLE.c.tx_value + self.rng.choice((-1, 500)),
            )
        )

    def shift(self) -> None:
        """A row moves to another day (its key changes)."""
        key = self._some_key()
        if key is None:
            return
        target = self.rng.choice(DAYS)
        taken = self.db.session.execute(
            select(TABLE.c.vendor_id).where(
                TABLE.c.vendor_id == key[0], TABLE.c.day == target, TABLE.c.method == key[2]
            )
        ).first()
        if taken is None:
            self.db.session.execute(
                update(TABLE)
                .where(TABLE.c.vendor_id == key[0], TABLE.c.day == key[1], TABLE.c.method == key[2])
                .values(day=target)
            )

    def move(self) -> None:
        """The vendor moves to the other market: new payments count there, and a repair
        moves some of their history too (same keys, another market_id)."""
        vendor = self.rng.choice(self.vendors)
        new_market = next(m for m in self.markets if m != self.market_of[vendor.id])
        self.market_of[vendor.id] = new_market
        vendor.market_id = new_market
        self.db.session.flush()
        self.db.session.execute(
            update(TABLE)
            .where(TABLE.c.vendor_id == vendor.id, TABLE.c.day == self.rng.choice(DAYS))
            .values(market_id=new_market)
        )

    def rebuild(self) -> None:
        rollups.rebuild_rollups()


@pytest.mark.parametrize("seed", range(6))
def test_report_tables_equal_a_recomputation_after_any_mix_of_writes(
    db: Any, world: World, seed: int
) -> None:
    mix = Mix(db, world, seed)
    done = []
    for kind in mix.plan(45):
        getattr(mix, kind)()
        done.append(kind)
        assert_reports_exact(db, " → ".join(done))
    assert report_rollup_drift() == []  # the app's own check agrees


# ---- targeted cases ----------------------------------------------------------------------------


def _pay(vendor: Any, market_id: int, day: dt.date, method: str, ref: str) -> int:
    counts = services.insert_transactions(
        [
            {
                "vendor_id": vendor.id,
                "market_id": market_id,
                "amount_vnd": 20_000,
                "occurred_at": dt.datetime.combine(day, dt.time(8), VN),
                "method": method,
                "source": "import",
                "external_ref": ref,
            }
        ]
    )
    return counts.ids[("import", ref)]


def _mask(db: Any, market_id: int, vendor_id: int, month: dt.date) -> int:
    a = VendorActivityMonth
    found = db.session.scalar(
        select(a.day_mask).where(
            a.market_id == market_id, a.month == month, a.vendor_id == vendor_id
        )
    )
    return int(found or 0)


def test_a_void_clears_the_day_unless_another_cashless_method_keeps_it(
    db: Any, world: World
) -> None:
    day = dt.date(2026, 11, 14)
    bit = 1 << 13
    month = day.replace(day=1)
    vendor, market = world.vendor, world.market.id
    qr = _pay(vendor, market, day, "vietqr", "keep-1")
    wallet = _pay(vendor, market, day, "ewallet", "keep-2")
    _pay(vendor, market, day, "cash", "keep-3")
    assert _mask(db, market, vendor.id, month) == bit
    services.void_transaction(qr, actor=world.admin, reason="nhập nhầm")
    assert _mask(db, market, vendor.id, month) == bit  # the e-wallet payment keeps the day
    services.void_transaction(wallet, actor=world.admin, reason="nhập nhầm")
    assert _mask(db, market, vendor.id, month) == 0  # cash alone does not count
    assert_reports_exact(db)


def test_activity_is_kept_per_market_for_a_vendor_who_moved(db: Any, world: World) -> None:
    """A vendor with payments in two markets on the same day (moved that day) is active
    in each market only through that market's rows, as a recomputation groups them."""
    day = dt.date(2026, 11, 14)
    month = day.replace(day=1)
    vendor = world.vendor
    old, new = world.market.id, world.other_market.id
    before_move = _pay(vendor, old, day, "vietqr", "move-1")
    _pay(vendor, new, day, "ewallet", "move-2")
    assert _mask(db, old, vendor.id, month) == _mask(db, new, vendor.id, month) == 1 << 13
    services.void_transaction(before_move, actor=world.admin, reason="nhập nhầm")
    # Filtering the re-check by vendor and day only would keep the old market's bit.
    assert _mask(db, old, vendor.id, month) == 0
    assert _mask(db, new, vendor.id, month) == 1 << 13
    # A repair moving the remaining row back: the new market's bit goes, the old one's returns.
    db.session.execute(update(TABLE).where(TABLE.c.vendor_id == vendor.id).values(market_id=old))
    assert _mask(db, old, vendor.id, month) == 1 << 13
    assert _mask(db, new, vendor.id, month) == 0
    assert_reports_exact(db)


# ---- PostgreSQL: one trigger call per statement, no needless locks ----------------------------


def _calls(db: Any) -> dict[str, int]:
    return {
        name: int(calls)
        for name, calls in db.session.execute(
            text(
                "SELECT funcname, calls FROM pg_stat_xact_user_functions "
                "WHERE funcname LIKE 'daily_rollups_reports_%' "
                "OR funcname = 'vendor_activity_recheck'"
            )
        )
    }


def _month_row_versions(db: Any) -> dict[tuple[Any, ...], str]:
    return {
        (r[0], r[1], r[2]): r[3]
        for r in db.session.execute(
            text("SELECT market_id, month, vendor_id, ctid::text FROM vendor_activity_months")
        )
    }


@pytest.mark.skipif(not IS_POSTGRES, reason="statement-level triggers are PostgreSQL's")
def test_a_batch_costs_one_call_per_trigger_and_rewrites_no_month_row(
    db: Any, world: World
) -> None:
    db.session.execute(text("SET LOCAL track_functions = 'pl'"))
    vendors = (world.vendor, world.vendor2)

    def batch(tag: str, methods: tuple[str, ...]) -> None:
        services.insert_transactions(
            [
                {
                    "vendor_id": vendor.id,
                    "market_id": vendor.market_id,
                    "amount_vnd": 10_000 + i,
                    "occurred_at": dt.datetime.combine(day, dt.time(10), VN),
                    "method": method,
                    "source": "import",
                    "external_ref": f"{tag}-{vendor.id}-{day}-{method}-{i}",
                }
                for vendor in vendors
                for day in DAYS
                for method in methods
                for i in range(5)
            ]
        )

    batch("first", ("vietqr", "cash"))
    # One statement (20 new rollup rows): each trigger called once; the UPDATE one too, as
    # INSERT ... ON CONFLICT DO UPDATE fires it even when it updated no row.
    assert _calls(db) == {"daily_rollups_reports_insert": 1, "daily_rollups_reports_update": 1}
    versions = _month_row_versions(db)
    assert len(versions) == 4  # 2 vendors × 2 months

    # The hot path: payments added to active rows, and a new method on an active day.
    batch("second", ("vietqr", "cash", "card"))
    assert _calls(db) == {"daily_rollups_reports_insert": 2, "daily_rollups_reports_update": 2}
    assert _month_row_versions(db) == versions  # every bit was set: no row rewritten
    assert_reports_exact(db)

    # Emptying rows is what needs the re-check: once per statement, whatever the rows.
    db.session.execute(update(TABLE).where(TABLE.c.method != "cash").values(tx_count=0, tx_value=0))
    assert _calls(db).get("vendor_activity_recheck") == 1
    assert_reports_exact(db)
    assert _month_row_versions(db).keys() == versions.keys()
    assert kept_reports(db)[1] == {}  # every day cleared
