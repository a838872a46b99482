"""``chopay create-webhook-source`` and ``chopay rebuild-rollups``."""

from __future__ import annotations

import click

from chopay.cli import chopay_cli, fail
from chopay.errors import ChopayError
from chopay.extensions import db
from chopay.transactions import rollups, services


@chopay_cli.command("create-webhook-source")
@click.argument("name")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["sepay", "chopay"]),
    default="sepay",
    show_default=True,
    help="Body format the provider sends.",
)
def create_webhook_source_command(name: str, format_: str) -> None:
    """Register a payment provider; its signing secret is printed alone on the last line."""
    try:
        source, secret = services.create_webhook_source(name, format=format_)
        db.session.commit()
    except ChopayError as exc:
        fail(exc)
        return
    click.echo(
        f"Webhook source {source.name} ({source.format}) created: POST /api/v1/webhooks/"
        f"{source.name} with X-Chopay-Signature. Secret (shown once):"
    )
    click.echo(secret)


@chopay_cli.command("rebuild-rollups")
def rebuild_rollups_command() -> None:
    """Recompute every daily rollup from the ledger (safe while payments come in)."""
    stats = rollups.rebuild_rollups()
    db.session.commit()
    click.echo(
        f"Rebuilt {stats.rollup_rows} rollup rows from {stats.transactions} transactions "
        f"({stats.value_vnd} ₫) in {stats.seconds:.2f}s."
    )
