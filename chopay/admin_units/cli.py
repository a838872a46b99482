"""``chopay load-admin-units``."""

from __future__ import annotations

import click

from chopay.admin_units import services
from chopay.cli import chopay_cli, fail
from chopay.errors import ChopayError
from chopay.extensions import db


@chopay_cli.command("load-admin-units")
@click.option("--province", default=None, help="Province code (e.g. 19); omit for the country")
def load_admin_units_command(province: str | None) -> None:
    """Load administrative units of both schemes and the legacy → 2025 mapping."""
    try:
        result = services.load_units(province)
        db.session.commit()
    except ChopayError as exc:
        fail(exc)
        return
    click.echo(
        f"Units: {result.created} created, {result.updated} updated, "
        f"{result.total_units} in source. Mappings: {result.mappings_created} created, "
        f"{result.mappings_updated} updated."
    )
