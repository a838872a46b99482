"""Recording, idempotency, rollups and voids at the service level."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from chopay.audit.models import AuditEvent
from chopay.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from chopay.transactions import rollups, services
from chopay.transactions.models import DailyRollup, Source, Transaction
from chopay.vendors.models import VendorStatus
from tests.transactions.conftest import VN, World, counts, payment, rollup


def test_record_transaction_stores_utc_and_counts_the_vietnam_day(db: Any, world: World) -> None:
    # 23:30 on 20 Nov in Hà Nội is 16:30 UTC the same day; 00:30 on 21 Nov is 17:30 UTC on 20 Nov
    late = dt.datetime(2025, 11, 21, 0, 30, tzinfo=VN)
    row, created = services.record_transaction(
        payment(world.vendor, "r-1", occurred_at=late.isoformat()), actor=world.board
    )
    assert created
    assert row.occurred_at == dt.datetime(2025, 11, 20, 17, 30, tzinfo=dt.UTC)
    assert row.local_day == dt.date(2025, 11, 21)
    assert row.source == Source.BOARD
    assert row.market_id == world.market.id
    assert row.reporter_id == world.board.id
    assert rollup(db, world.vendor.id) == [(dt.date(2025, 11, 21), "vietqr", 1, 150_000)]


def test_naive_time_means_vietnam_time(db: Any, world: World) -> None:
    row, _ = services.record_transaction(
        payment(world.vendor, "r-naive", occurred_at="2025-11-21T06:00:00"), actor=world.board
    )
    assert row.occurred_at == dt.datetime(2025, 11, 20, 23, 0, tzinfo=dt.UTC)
    assert row.local_day == dt.date(2025, 11, 21)


def test_vendor_reporting_own_sale_is_source_vendor(db: Any, world: World) -> None:
    row, _ = services.record_transaction(payment(world.vendor, "own-1"), actor=world.vendor_user)
    assert row.source == Source.VENDOR


def test_same_payment_twice_is_stored_once_and_answered_duplicate(db: Any, world: World) -> None:
    first, created = services.record_transaction(payment(world.vendor, "dup"), actor=world.board)
    again, created_again = services.record_transaction(
        payment(world.vendor, "dup"), actor=world.board
    )
    assert created and not created_again
    assert again.id == first.id
    assert counts(db)[:2] == (1, 1)


def test_same_reference_for_a_different_payment_is_a_conflict(db: Any, world: World) -> None:
    services.record_transaction(payment(world.vendor, "dup"), actor=world.board)
    with pytest.raises(ConflictError) as err:
        services.record_transaction(payment(world.vendor, "dup", amount=9), actor=world.board)
    assert "external_ref" in err.value.details
    assert counts(db)[:2] == (1, 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 500_000_000}, "amount"),
        ({"amount": 1500.5}, "amount"),
        ({"amount": 1500.0}, "amount"),
        ({"amount": "150000"}, "amount"),
        ({"amount": True}, "amount"),
        ({"method": "bitcoin"}, "method"),
        ({"occurred_at": "21/11/2025"}, "occurred_at"),
        ({"occurred_at": 1700000000}, "occurred_at"),
        ({"external_ref": ""}, "external_ref"),
        ({"external_ref": "has space"}, "external_ref"),
        ({"external_ref": "x" * 121}, "external_ref"),
        ({"vendor_id": "1"}, "vendor_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_fields_are_refused_with_field_and_reason(
    db: Any, world: World, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as err:
        services.record_transaction(payment(world.vendor, "bad", **change), actor=world.board)
    assert err.value.details.get(field)
    assert counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    "missing", ["vendor_id", "amount", "occurred_at", "method", "external_ref"]
)
def test_missing_fields_are_refused(db: Any, world: World, missing: str) -> None:
    body = payment(world.vendor, "m-1")
    del body[missing]
    with pytest.raises(InvalidInputError) as err:
        services.record_transaction(body, actor=world.board)
    assert missing in err.value.details
    assert counts(db) == (0, 0, 0)


def test_amount_limits_are_inclusive(db: Any, world: World) -> None:
    services.record_transaction(payment(world.vendor, "min", amount=1), actor=world.board)
    services.record_transaction(payment(world.vendor, "max", amount=499_999_999), actor=world.board)
    assert counts(db)[:2] == (2, 2)


def test_future_payments_are_refused_but_small_skew_is_fine(db: Any, world: World) -> None:
    now = dt.datetime.now(dt.UTC)
    ok = (now + dt.timedelta(minutes=4)).isoformat()
    bad = (now + dt.timedelta(minutes=6)).isoformat()
    services.record_transaction(payment(world.vendor, "skew", occurred_at=ok), actor=world.board)
    with pytest.raises(InvalidInputError) as err:
        services.record_transaction(
            payment(world.vendor, "future", occurred_at=bad), actor=world.board
        )
    assert "occurred_at" in err.value.details
    assert counts(db)[:2] == (1, 1)


def test_vendor_who_left_gets_no_new_payments(db: Any, world: World) -> None:
    world.vendor.status = VendorStatus.LEFT
    db.session.flush()
    with pytest.raises(InvalidInputError) as err:
        services.record_transaction(payment(world.vendor, "gone"), actor=world.board)
    assert "vendor_id" in err.value.details
    assert counts(db) == (0, 0, 0)


def test_retry_after_vendor_left_is_still_a_duplicate(db: Any, world: World) -> None:
    first, _ = services.record_transaction(payment(world.vendor, "kept"), actor=world.board)
    world.vendor.status = VendorStatus.LEFT
    db.session.flush()
    again, created = services.record_transaction(payment(world.vendor, "kept"), actor=world.board)
    assert again.id == first.id and not created


def test_other_markets_vendor_is_forbidden_and_unknown_vendor_not_found(
    db: Any, world: World
) -> None:
    with pytest.raises(PermissionDeniedError):
        services.record_transaction(payment(world.outsider, "x"), actor=world.board)
    with pytest.raises(PermissionDeniedError):
        services.record_transaction(payment(world.vendor2, "x"), actor=world.vendor_user)
    with pytest.raises(PermissionDeniedError):
        services.record_transaction(payment(world.vendor, "x"), actor=world.officer)
    with pytest.raises(PermissionDeniedError):
        services.record_transaction(payment(world.vendor, "x"), actor=world.helper)
    body = payment(world.vendor, "x")
    body["vendor_id"] = 987_654
    with pytest.raises(NotFoundError):
        services.record_transaction(body, actor=world.admin)
    assert counts(db) == (0, 0, 0)


def test_batch_answers_per_item_and_stores_the_valid_ones(db: Any, world: World) -> None:
    services.record_transaction(payment(world.vendor, "old"), actor=world.board)
    items = [
        payment(world.vendor, "b-1"),
        payment(world.vendor, "b-2", amount=0),
        payment(world.vendor, "old"),
        payment(world.outsider, "b-3"),
        payment(world.vendor2, "b-4", method="cash"),
        payment(world.vendor2, "b-4", method="cash"),  # repeated inside the batch
        payment(world.vendor2, "b-1"),  # same key, other vendor: conflict
        "not an object",
    ]
    results = services.record_payments(items, actor=world.board)
    assert [r.status for r in results] == [
        "created",
        "rejected",
        "duplicate",
        "rejected",
        "created",
        "duplicate",
        "rejected",
        "rejected",
    ]
    assert results[1].error["details"]["amount"]
    assert results[3].error["code"] == "forbidden"
    assert results[5].id == results[4].id
    assert results[6].error["code"] == "conflict"
    assert counts(db)[:2] == (3, 3)


def test_insert_transactions_counts_rollups_only_for_new_rows(db: Any, world: World) -> None:
    when = dt.datetime(2025, 11, 20, 9, 0, tzinfo=VN)
    base = {
        "vendor_id": world.vendor.id,
        "market_id": world.market.id,
        "occurred_at": when,
        "method": "cash",
        "source": "import",
    }
    rows = [{**base, "amount_vnd": 1000 * (i + 1), "external_ref": f"k{i}"} for i in range(5)]
    first = services.insert_transactions(rows)
    assert (first.inserted, first.duplicates) == (5, 0)
    again = services.insert_transactions(
        [*rows, {**base, "amount_vnd": 7, "external_ref": "k9"}, rows[0]]
    )
    assert (again.inserted, again.duplicates) == (1, 6)
    assert rollup(db, world.vendor.id) == [(dt.date(2025, 11, 20), "cash", 6, 15_007)]


def test_void_takes_the_payment_out_of_the_totals_and_is_audited(db: Any, world: World) -> None:
    keep, _ = services.record_transaction(payment(world.vendor, "v-1"), actor=world.board)
    gone, _ = services.record_transaction(
        payment(world.vendor, "v-2", amount=20_000), actor=world.board
    )
    voided = services.void_transaction(gone.id, actor=world.board, reason="Khách trả lại hàng")
    assert voided.id == gone.id
    assert voided.is_voided and voided.void_reason == "Khách trả lại hàng"
    assert voided.voided_by_id == world.board.id
    (_, _, count, value) = rollup(db, world.vendor.id)[0]
    assert (count, value) == (1, keep.amount_vnd)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "transaction.void"))
    assert event.entity_id == str(gone.id) and event.actor_id == world.board.id
    with pytest.raises(ConflictError):
        services.void_transaction(gone.id, actor=world.board, reason="lần nữa")


def test_voiding_the_last_payment_of_a_day_removes_the_rollup_row(db: Any, world: World) -> None:
    row, _ = services.record_transaction(payment(world.vendor, "only"), actor=world.board)
    services.void_transaction(row.id, actor=world.admin, reason="nhập nhầm")
    assert rollup(db, world.vendor.id) == []
    assert rollups.rollups_match_ledger() == []


def test_void_needs_rights_on_the_vendor(db: Any, world: World) -> None:
    row, _ = services.record_transaction(payment(world.vendor, "own"), actor=world.vendor_user)
    with pytest.raises(PermissionDeniedError):  # vendors see but may not void
        services.void_transaction(row.id, actor=world.vendor_user, reason="không muốn")
    with pytest.raises(NotFoundError):  # another market's board cannot even see it
        services.void_transaction(row.id, actor=world.other_board, reason="không muốn")
    with pytest.raises(NotFoundError):  # officers see aggregates only
        services.void_transaction(row.id, actor=world.officer, reason="không muốn")
    with pytest.raises(InvalidInputError):
        services.void_transaction(row.id, actor=world.board, reason=" ")
    assert not db.session.get(Transaction, row.id).is_voided


def test_rebuild_recomputes_rollups_from_the_ledger(db: Any, world: World) -> None:
    for i in range(3):
        services.record_transaction(payment(world.vendor, f"rb-{i}"), actor=world.board)
    services.record_transaction(payment(world.vendor2, "rb-x", method="cash"), actor=world.board)
    before = rollup(db, world.vendor.id) + rollup(db, world.vendor2.id)
    db.session.execute(DailyRollup.__table__.update().values(tx_count=99))  # corrupt them
    stats = rollups.rebuild_rollups()
    assert stats.transactions == 4 and stats.rollup_rows == 2
    assert rollup(db, world.vendor.id) + rollup(db, world.vendor2.id) == before


def test_day_bounds_cover_vietnam_days() -> None:
    lower, upper = services.day_bounds(dt.date(2025, 11, 21), dt.date(2025, 11, 21))
    assert lower == dt.datetime(2025, 11, 20, 17, 0, tzinfo=dt.UTC)
    assert upper == dt.datetime(2025, 11, 21, 17, 0, tzinfo=dt.UTC)


def test_create_webhook_source_validates_and_refuses_duplicates(db: Any) -> None:
    source, secret = services.create_webhook_source("SePay", format="sepay")
    assert source.name == "sepay" and len(secret) == 64
    with pytest.raises(ConflictError):
        services.create_webhook_source("sepay")
    with pytest.raises(InvalidInputError):
        services.create_webhook_source("bad name!")
    with pytest.raises(InvalidInputError):
        services.create_webhook_source("other", format="xml")
