"""Concurrent clients against an app on its own database (real commits, many connections)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from tests.transactions.conftest import (
    THREADS,
    ledger_totals,
    post_webhook,
    race_sepay_body,
    race_setup,
    run_together,
)


def test_same_payment_posted_at_once_is_stored_exactly_once(race_app: Flask) -> None:
    info = race_setup(race_app)
    body = {
        "vendor_id": info["vendor_id"],
        "amount": 123_000,
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "method": "vietqr",
        "external_ref": "same-instant-1",
    }

    def send(client: Any, i: int) -> Any:
        resp = client.post("/api/v1/transactions", json=body, headers=info["headers"])
        return resp.status_code, resp.get_json()

    answers = run_together(race_app, send)
    statuses = sorted(code for code, _ in answers)
    assert statuses == [200] * (THREADS - 1) + [201], answers
    assert len({data["id"] for _, data in answers}) == 1
    assert sorted(data["status"] for _, data in answers).count("created") == 1
    assert ledger_totals(race_app, info["vendor_id"]) == (1, 1, 123_000)


def test_different_payments_at_once_lose_no_rollup_update(race_app: Flask) -> None:
    info = race_setup(race_app)

    def send(client: Any, i: int) -> Any:
        body = {
            "vendor_id": info["vendor_id"],
            "amount": 1_000 + i,
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
            "method": "cash",
            "external_ref": f"many-{i}",
        }
        return client.post("/api/v1/transactions", json=body, headers=info["headers"]).status_code

    assert run_together(race_app, send) == [201] * THREADS
    expected_value = sum(1_000 + i for i in range(THREADS))
    assert ledger_totals(race_app, info["vendor_id"]) == (THREADS, THREADS, expected_value)


def test_same_webhook_delivered_at_once_is_stored_once(race_app: Flask) -> None:
    info = race_setup(race_app)
    body = race_sepay_body(info)

    def send(client: Any, i: int) -> Any:
        resp = post_webhook(client, "race", info["secret"], body)
        return resp.status_code, resp.get_json()["status"]

    answers = run_together(race_app, send)
    assert sorted(answers) == [(200, "duplicate")] * (THREADS - 1) + [(201, "created")]
    assert ledger_totals(race_app, info["vendor_id"]) == (1, 1, 45_000)


def test_concurrent_voids_let_exactly_one_through(race_app: Flask) -> None:
    info = race_setup(race_app)
    client = race_app.test_client()
    created = client.post(
        "/api/v1/transactions",
        json={
            "vendor_id": info["vendor_id"],
            "amount": 50_000,
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
            "method": "cash",
            "external_ref": "to-void",
        },
        headers=info["headers"],
    ).get_json()

    def send(c: Any, i: int) -> Any:
        return c.post(
            f"/api/v1/transactions/{created['id']}/void",
            json={"reason": "nhập nhầm"},
            headers=info["headers"],
        ).status_code

    assert sorted(run_together(race_app, send)) == [200] + [409] * (THREADS - 1)
    assert ledger_totals(race_app, info["vendor_id"]) == (1, 0, 0)
