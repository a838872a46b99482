"""Property: after any mix of inserts, duplicates, conflicts and voids, the incrementally
kept rollups equal a rebuild from the ledger, and the report tables the rollups' triggers
keep equal a recomputation from the rollups (see also test_report_triggers)."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from chopay.errors import ConflictError
from chopay.extensions import db as _db
from chopay.reports.services import report_rollup_drift
from chopay.transactions import rollups, services
from chopay.transactions.models import DailyRollup
from tests.transactions.conftest import World

METHODS = ["vietqr", "ewallet", "card", "cash"]

insert_op = st.tuples(
    st.just("insert"),
    st.integers(0, 2),  # vendor
    st.integers(0, 4),  # days ago
    st.sampled_from(METHODS),
    st.integers(1, 3_000_000),
    st.integers(0, 12),  # reference: small range, so repeats (duplicates/conflicts) are common
)
void_op = st.tuples(st.just("void"), st.integers(0, 50))
bulk_op = st.tuples(st.just("bulk"), st.lists(insert_op, min_size=1, max_size=8))
operations = st.lists(st.one_of(insert_op, insert_op, void_op, bulk_op), max_size=25)


def _snapshot() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    return {
        (r.vendor_id, r.day, r.method): (r.market_id, r.tx_count, r.tx_value)
        for r in _db.session.scalars(select(DailyRollup))
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_incremental_rollups_equal_a_rebuild(db: Any, world: World, ops: list[Any]) -> None:
    vendors = [world.vendor, world.vendor2, world.outsider]
    noon = dt.datetime.now(dt.UTC).replace(hour=5, minute=0, second=0, microsecond=0)
    savepoint = db.session.begin_nested()
    try:
        ids: list[int] = []

        def item(op: Any) -> dict[str, Any]:
            _, v, days, method, amount, ref = op
            return {
                "vendor_id": vendors[v].id,
                "amount": amount,
                "occurred_at": (noon - dt.timedelta(days=days)).isoformat(),
                "method": method,
                "external_ref": f"p-{ref}",
            }

        for op in ops:
            if op[0] == "void":
                if ids:
                    with contextlib.suppress(ConflictError):  # voided before: changes nothing
                        services.void_transaction(
                            ids[op[1] % len(ids)], actor=world.admin, reason="kiểm thử"
                        )
                continue
            batch = [item(o) for o in (op[1] if op[0] == "bulk" else [op])]
            for result in services.record_payments(batch, actor=world.admin):
                if result.id is not None:
                    ids.append(result.id)
        incremental = _snapshot()
        assert rollups.rollups_match_ledger() == []
        assert report_rollup_drift() == []
        rollups.rebuild_rollups()
        assert _snapshot() == incremental
        assert report_rollup_drift() == []
    finally:
        savepoint.rollback()
