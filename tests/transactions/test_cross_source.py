"""One bank transfer reaching the ledger by two sources (provider webhook and statement
import) is recorded once: both carry its bank_ref, ``<receiving account>:<bank reference>``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from chopay.audit.models import AuditEvent
from chopay.reports.services import report_rollup_drift
from chopay.transactions import importer, rollups, services
from chopay.transactions.models import InboundPayment, Transaction
from tests.conftest import IS_POSTGRES
from tests.factories import VendorFactory
from tests.transactions.conftest import (
    THREADS,
    VN,
    World,
    approved_account,
    counts,
    ledger_totals,
    post_webhook,
    race_sepay_body,
    race_setup,
    rollup,
    run_together,
    sepay_body,
)

DAY = dt.date(2025, 11, 21)
# sepay_body's transfer: 227,000 đ to vendor 1's account at 14:02:37, bank reference
# MBVCB.3278907687, as the bank's statement lists it
LINE = "21/11/2025 14:02,227.000,{account},{note},MBVCB.3278907687"


def _statement(*lines: str) -> bytes:
    return "\n".join(["date,amount,account_number,content,reference", *lines, ""]).encode()


def _transfer_line(world: World, account: str | None = None) -> str:
    return LINE.format(
        account=account or world.account.account_number, note=f"{world.vendor.reference} mua ca"
    )


def _totals_are_exact() -> None:
    assert rollups.rollups_match_ledger() == []
    assert report_rollup_drift() == []


def test_webhook_first_then_the_statement_counts_the_transfer_once(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    notified = post_webhook(client, "sepay", sepay[1], sepay_body(world))
    assert notified.status_code == 201
    tx_id = notified.get_json()["id"]
    # the statement prints the account its own way: normalised, it is the same account
    account = world.account.account_number
    spaced = f"{account[:3]} {account[3:6]}.{account[6:]}"
    other = f"21/11/2025 15:00,50.000,{account},{world.vendor.reference} rau,FT777"
    report = importer.import_statement(
        _statement(_transfer_line(world, spaced), other), actor=world.board
    )
    db.session.commit()

    assert (report.created, report.duplicates) == (1, 1)
    assert counts(db) == (2, 2, 0)
    rows = db.session.scalars(select(Transaction).order_by(Transaction.id)).all()
    assert rows[0].id == tx_id and rows[0].source == "webhook"
    assert rows[0].bank_ref == f"{account}:MBVCB.3278907687"
    assert (rows[1].source, rows[1].bank_ref) == ("import", f"{account}:FT777")
    assert rollup(db, world.vendor.id) == [(DAY, "vietqr", 2, 277_000)]
    _totals_are_exact()
    again = importer.import_statement(_statement(_transfer_line(world)), actor=world.board)
    assert (again.created, again.duplicates) == (0, 1)
    assert counts(db) == (2, 2, 0)


def test_statement_first_then_the_webhook_answers_duplicate_with_the_imported_row(
    client: Any, db: Any, world: World, sepay: Any, own: Any
) -> None:
    report = importer.import_statement(_statement(_transfer_line(world)), actor=world.board)
    db.session.commit()
    assert report.created == 1
    imported = db.session.scalars(select(Transaction)).one()

    notified = post_webhook(client, "sepay", sepay[1], sepay_body(world))
    assert notified.status_code == 200
    assert notified.get_json() == {
        "success": True,
        "status": "duplicate",
        "id": imported.id,
        "inbound_id": None,
    }
    # a retry of the provider: still that row
    assert post_webhook(client, "sepay", sepay[1], sepay_body(world)).get_json()["id"] == (
        imported.id
    )
    # chopay's own format names the bank's reference in bank_reference
    mine = {
        "id": "evt-9",
        "amount": 227_000,
        "occurred_at": "2025-11-21T14:02:37+07:00",
        "account_number": world.account.account_number,
        "content": "thanh toan",
        "bank_reference": " MBVCB.3278907687 ",
    }
    answer = post_webhook(client, "pos-app", own[1], mine)
    assert (answer.status_code, answer.get_json()["status"]) == (200, "duplicate")
    assert answer.get_json()["id"] == imported.id
    assert counts(db) == (1, 1, 0)
    assert rollup(db, world.vendor.id) == [(DAY, "vietqr", 1, 227_000)]
    _totals_are_exact()


def test_the_same_reference_on_another_account_is_another_transfer(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    assert post_webhook(client, "sepay", sepay[1], sepay_body(world)).status_code == 201
    line = LINE.format(account=world.account2.account_number, note=f"{world.vendor2.reference} mua")
    report = importer.import_statement(_statement(line), actor=world.board)
    assert (report.created, report.duplicates) == (1, 0)
    assert counts(db) == (2, 2, 0)
    assert rollup(db, world.vendor2.id) == [(DAY, "vietqr", 1, 227_000)]
    refs = set(db.session.scalars(select(Transaction.bank_ref)))
    accounts = (world.account.account_number, world.account2.account_number)
    assert refs == {f"{a}:MBVCB.3278907687" for a in accounts}


def test_a_statement_without_reference_column_is_unaffected(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    assert post_webhook(client, "sepay", sepay[1], sepay_body(world)).status_code == 201
    text = (
        "date,amount,account_number,content\n"
        f"21/11/2025 14:02,227.000,{world.account.account_number},{world.vendor.reference}\n"
    )
    report = importer.import_statement(text.encode(), actor=world.board)
    # nothing names the bank's reference: the line cannot be told from another transfer
    assert (report.created, report.duplicates) == (1, 0)
    imported = db.session.scalars(select(Transaction).where(Transaction.source == "import")).one()
    assert imported.bank_ref is None
    again = importer.import_statement(text.encode(), actor=world.board)
    assert (again.created, again.duplicates) == (0, 1)  # its own key still holds
    assert counts(db) == (2, 2, 0)


def test_a_notification_without_the_banks_reference_has_no_bank_ref(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    resp = post_webhook(client, "sepay", sepay[1], sepay_body(world, referenceCode="  "))
    assert resp.status_code == 201
    assert db.session.get(Transaction, resp.get_json()["id"]).bank_ref is None


def test_the_same_bank_ref_twice_in_one_statement_is_recorded_once(db: Any, world: World) -> None:
    account = world.account.account_number
    report = importer.import_statement(
        _statement(_transfer_line(world), _transfer_line(world, f" {account} ")),
        actor=world.board,
    )
    assert (report.created, report.duplicates) == (1, 1)
    row = db.session.scalars(select(Transaction)).one()
    assert row.bank_ref == f"{account}:MBVCB.3278907687"
    assert rollup(db, world.vendor.id) == [(DAY, "vietqr", 1, 227_000)]


def test_insert_transactions_keeps_the_first_row_of_a_bank_ref(db: Any, world: World) -> None:
    """Within one call the first row with a bank_ref wins, even when a later one sorts
    first by key; across calls the database skips it. Rollups count what was stored."""
    moment = dt.datetime(2025, 11, 21, 9, 0, tzinfo=VN)

    def row(source: str, ref: str, amount: int, bank_ref: str | None) -> dict[str, Any]:
        return {
            "vendor_id": world.vendor.id,
            "market_id": world.market.id,
            "amount_vnd": amount,
            "occurred_at": moment,
            "method": "vietqr",
            "source": source,
            "external_ref": ref,
            "bank_ref": bank_ref,
        }

    first = services.insert_transactions(
        [
            row("webhook", "sepay:1", 10_000, "ACC1:FT1"),
            row("import", "ACC1:FT1", 10_000, "ACC1:FT1"),  # sorts before the webhook's key
            row("import", "no-ref-1", 20_000, None),
            row("import", "no-ref-2", 30_000, None),
        ]
    )
    assert (first.inserted, first.duplicates) == (3, 1)
    assert ("webhook", "sepay:1") in first.ids and ("import", "ACC1:FT1") not in first.ids
    second = services.insert_transactions(
        [row("import", "ACC1:FT1", 10_000, "ACC1:FT1"), row("import", "x", 5_000, "ACC1:FT2")]
    )
    assert (second.inserted, second.duplicates) == (1, 1)
    assert services.find_transaction_id_by_bank_ref("ACC1:FT1") == first.ids[("webhook", "sepay:1")]
    assert rollup(db, world.vendor.id) == [(DAY, "vietqr", 4, 65_000)]
    _totals_are_exact()


def test_the_import_settles_a_held_notification_of_the_same_transfer(
    client: Any, auth: Any, db: Any, world: World, sepay: Any
) -> None:
    newcomer = VendorFactory(market=world.market)
    body = sepay_body(world, accountNumber="77770000", content="chuyen khoan", id=4242)
    held = post_webhook(client, "sepay", sepay[1], body).get_json()
    assert held["status"] == "unmatched"  # the account is not approved yet
    approved_account(newcomer, world.admin, world.board, account_number="77770000")
    db.session.commit()
    line = f"21/11/2025 14:02,227.000,77770000,chuyen khoan,{body['referenceCode']}"
    assert importer.import_statement(_statement(line), actor=world.board).created == 1
    db.session.commit()
    imported = db.session.scalars(select(Transaction)).one()
    # the held notification is linked to the imported row: nobody has to credit it
    line_held = db.session.get(InboundPayment, held["inbound_id"])
    db.session.refresh(line_held)
    assert (line_held.status, line_held.transaction_id) == ("assigned", imported.id)

    # crediting it by hand now is refused (it is handled), and counts nothing
    headers = auth.token_headers(world.admin)
    done = client.post(
        f"/api/v1/inbound-payments/{held['inbound_id']}/assign",
        json={"vendor_id": newcomer.id},
        headers=headers,
    )
    assert done.status_code == 409
    assert counts(db) == (1, 1, 1)
    # the provider retries, now matched: the same row
    again = post_webhook(client, "sepay", sepay[1], body).get_json()
    assert (again["status"], again["id"]) == ("duplicate", imported.id)
    assert counts(db) == (1, 1, 1)
    _totals_are_exact()


def test_a_held_notification_is_settled_when_it_arrives_again_after_the_import(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    newcomer = VendorFactory(market=world.market)
    body = sepay_body(world, accountNumber="77770000", content="chuyen khoan", id=4243)
    held = post_webhook(client, "sepay", sepay[1], body).get_json()
    approved_account(newcomer, world.admin, world.board, account_number="77770000")
    db.session.commit()
    line = f"21/11/2025 14:02,227.000,77770000,chuyen khoan,{body['referenceCode']}"
    importer.import_statement(_statement(line), actor=world.board)
    db.session.commit()
    imported = db.session.scalars(select(Transaction)).one()
    again = post_webhook(client, "sepay", sepay[1], body).get_json()
    assert (again["status"], again["id"]) == ("duplicate", imported.id)
    line_held = db.session.get(InboundPayment, held["inbound_id"])
    db.session.refresh(line_held)
    assert (line_held.status, line_held.transaction_id) == ("assigned", imported.id)
    assert counts(db) == (1, 1, 1)


@pytest.mark.skipif(not IS_POSTGRES, reason="real concurrency needs PostgreSQL")
def test_webhook_and_import_of_one_transfer_at_once_store_it_once(race_app: Flask) -> None:
    """Half the clients deliver the provider's notification, half import a statement
    listing the same transfer, all released at once: one row, counted once."""
    info = race_setup(race_app)
    notification = race_sepay_body(info)
    when = dt.datetime.now(VN).strftime("%d/%m/%Y %H:%M")
    statement = _statement(f"{when},45000,{info['account']},{info['reference']} mua rau,FT1")

    def send(client: Any, i: int) -> Any:
        if i % 2:
            resp = client.post(
                "/api/v1/transactions/import",
                data=statement,
                headers={**info["headers"], "Content-Type": "text/csv"},
            )
            body = resp.get_json()
            return "import", resp.status_code, body["created"], body["duplicates"]
        resp = post_webhook(client, "race", info["secret"], notification)
        body = resp.get_json()
        return "webhook", resp.status_code, body["status"], body["id"]

    answers = run_together(race_app, send)
    assert ledger_totals(race_app, info["vendor_id"]) == (1, 1, 45_000)
    imports = [a for a in answers if a[0] == "import"]
    hooks = [a for a in answers if a[0] == "webhook"]
    assert len(imports) == len(hooks) == THREADS // 2
    assert all(code == 200 and created + dup == 1 for _, code, created, dup in imports)
    assert {status for _, _, status, _ in hooks} <= {"created", "duplicate"}
    created = sum(a[2] for a in imports) + sum(a[2] == "created" for a in hooks)
    assert created == 1, answers
    assert len({a[3] for a in hooks}) == 1 and hooks[0][3] is not None  # the one row's id


# ---- a board's decision on one held copy stands for the transfer ---------------------------


def _inbound(db: Any) -> list[tuple[str, str, int | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(InboundPayment).order_by(InboundPayment.id)).all()
    return [(r.source, r.status, r.transaction_id) for r in rows]


def _stray(world: World, **change: Any) -> dict[str, Any]:
    """A transfer of 227,000 đ to an account no vendor has yet, bank reference FT77."""
    return (
        sepay_body(
            world, accountNumber="77770000", content="chuyen khoan", id=5151, referenceCode="FT77"
        )
        | change
    )


STRAY_LINE = "21/11/2025 14:02,227.000,77770000,chuyen khoan,FT77"


def _ignore(client: Any, auth: Any, world: World, inbound_id: int) -> None:
    resp = client.post(
        f"/api/v1/inbound-payments/{inbound_id}/ignore",
        json={"note": "tiền hoàn lại cho khách"},
        headers=auth.token_headers(world.admin),
    )
    assert resp.status_code == 200, resp.get_json()


def test_a_transfer_set_aside_from_its_notification_is_not_imported(
    client: Any, auth: Any, db: Any, world: World, sepay: Any
) -> None:
    held = post_webhook(client, "sepay", sepay[1], _stray(world)).get_json()
    _ignore(client, auth, world, held["inbound_id"])
    newcomer = VendorFactory(market=world.market)
    approved_account(newcomer, world.admin, world.board, account_number="77770000")
    db.session.commit()
    report = importer.import_statement(_statement(STRAY_LINE), actor=world.board)
    db.session.commit()
    assert (report.created, report.duplicates) == (0, 1)
    assert counts(db) == (0, 0, 1)


def test_a_transfer_set_aside_from_its_statement_line_is_not_recorded_by_the_notification(
    client: Any, auth: Any, db: Any, world: World, sepay: Any
) -> None:
    report = importer.import_statement(_statement(STRAY_LINE), actor=world.admin)
    db.session.commit()
    (line,) = report.unmatched
    _ignore(client, auth, world, line["inbound_id"])
    newcomer = VendorFactory(market=world.market)
    approved_account(newcomer, world.admin, world.board, account_number="77770000")
    db.session.commit()
    answer = post_webhook(client, "sepay", sepay[1], _stray(world)).get_json()
    assert (answer["status"], answer["id"], answer["inbound_id"]) == (
        "duplicate",
        None,
        line["inbound_id"],
    )
    assert counts(db) == (0, 0, 1)


def test_a_held_statement_line_is_settled_when_the_notification_records_the_transfer(
    client: Any, db: Any, world: World, sepay: Any
) -> None:
    report = importer.import_statement(_statement(STRAY_LINE), actor=world.admin)
    db.session.commit()
    assert report.unmatched_total == 1
    newcomer = VendorFactory(market=world.market)
    approved_account(newcomer, world.admin, world.board, account_number="77770000")
    db.session.commit()
    answer = post_webhook(client, "sepay", sepay[1], _stray(world)).get_json()
    assert answer["status"] == "created"
    assert _inbound(db) == [("import", "assigned", answer["id"])]
    assert counts(db) == (1, 1, 1)
    _totals_are_exact()


@pytest.mark.parametrize("decision", ["assign", "ignore"])
def test_a_decision_on_one_held_copy_is_taken_for_the_other(
    client: Any, auth: Any, db: Any, world: World, sepay: Any, decision: str
) -> None:
    held = post_webhook(client, "sepay", sepay[1], _stray(world)).get_json()
    importer.import_statement(_statement(STRAY_LINE), actor=world.admin)
    db.session.commit()
    assert [status for _, status, _ in _inbound(db)] == ["unmatched", "unmatched"]
    if decision == "ignore":
        _ignore(client, auth, world, held["inbound_id"])
        assert _inbound(db) == [("webhook", "ignored", None), ("import", "ignored", None)]
        assert counts(db)[0] == 0
        return
    newcomer = VendorFactory(market=world.market)
    db.session.commit()
    done = client.post(
        f"/api/v1/inbound-payments/{held['inbound_id']}/assign",
        json={"vendor_id": newcomer.id},
        headers=auth.token_headers(world.admin),
    )
    assert done.status_code == 200, done.get_json()
    tx_id = done.get_json()["transaction_id"]
    assert _inbound(db) == [("webhook", "assigned", tx_id), ("import", "assigned", tx_id)]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "inbound.assign")
    ).one()
    other = db.session.scalars(
        select(InboundPayment.id).where(InboundPayment.source == "import")
    ).one()
    assert event.new_values["same_transfer"] == [other]  # the decision is on record for both
    assert counts(db) == (1, 1, 2)
    _totals_are_exact()
