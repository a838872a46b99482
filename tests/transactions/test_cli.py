"""``chopay create-webhook-source`` and ``chopay rebuild-rollups``."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from chopay.transactions import services
from chopay.transactions.models import DailyRollup, WebhookSource
from chopay.transactions.webhooks import sign
from tests.transactions.conftest import World, payment, rollup


def test_create_webhook_source_prints_the_secret_alone_on_the_last_line(
    runner: Any, client: Any, db: Any, world: World
) -> None:
    result = runner.invoke(
        args=["chopay", "create-webhook-source", "sepay-tn", "--format", "sepay"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert len(secret) == 64 and secret.isalnum()
    source = db.session.scalar(select(WebhookSource).where(WebhookSource.name == "sepay-tn"))
    assert source.format == "sepay"
    body = json.dumps(
        {
            "id": 1,
            "transactionDate": "2025-11-21 10:00:00",
            "accountNumber": world.account.account_number,
            "content": "x",
            "transferType": "in",
            "transferAmount": 5000,
        }
    ).encode()
    resp = client.post(
        "/api/v1/webhooks/sepay-tn",
        data=body,
        content_type="application/json",
        headers={"X-Chopay-Signature": sign(secret, body)},
    )
    assert resp.status_code == 201
    again = runner.invoke(args=["chopay", "create-webhook-source", "sepay-tn"])
    assert again.exit_code != 0 and "sepay-tn" in again.output
    bad = runner.invoke(args=["chopay", "create-webhook-source", "x y", "--format", "chopay"])
    assert bad.exit_code != 0


def test_rebuild_rollups_command(runner: Any, db: Any, world: World) -> None:
    services.record_transaction(payment(world.vendor, "c-1"), actor=world.board)
    services.record_transaction(payment(world.vendor, "c-2"), actor=world.board)
    db.session.commit()
    expected = rollup(db, world.vendor.id)
    db.session.execute(DailyRollup.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["chopay", "rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert "1 rollup rows from 2 transactions" in result.output
    assert rollup(db, world.vendor.id) == expected
