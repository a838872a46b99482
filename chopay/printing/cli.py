"""``chopay print-stands``: a market's stands as one PDF, from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from chopay.cli import chopay_cli
from chopay.errors import ChopayError
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.printing import services


@chopay_cli.command("print-stands")
@click.argument("market_id", type=int)
@click.option(
    "--layout",
    type=click.Choice(["a6", "a4x4"]),
    default="a6",
    show_default=True,
    help="a6: one stand per A6 page; a4x4: four per A4 page with cut marks.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="PDF file to write (default: bang-qr-<market code>-<layout>.pdf).",
)
def print_stands_command(market_id: int, layout: str, output: Path | None) -> None:
    """Write every active vendor's stand of MARKET_ID to one PDF, in stall order."""
    market = db.session.get(Market, market_id)
    if market is None:
        raise click.ClickException(f"Không có chợ số {market_id} / no market {market_id}")
    try:
        pdf, count = services.market_stands_pdf(
            market, layout_name=layout, base_url=current_app.config["PUBLIC_BASE_URL"]
        )
    except ChopayError as exc:
        raise click.ClickException(str(exc.message)) from exc
    path = output or Path(services.market_filename(market, layout))
    path.write_bytes(pdf)
    click.echo(f"{count} bảng QR → {path}")
