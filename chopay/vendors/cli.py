"""``flask --app wsgi chopay import-vendors``: bulk import from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from chopay.auth.services import get_user_by_username
from chopay.cli import chopay_cli
from chopay.errors import ChopayError
from chopay.extensions import db
from chopay.markets.services import get_market
from chopay.vendors import importer
from chopay.vendors.models import OnboardingOrg


@chopay_cli.command("import-vendors")
@click.argument("market_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", required=True, help="Who imports (needs onboarding rights).")
@click.option("--dry-run", is_flag=True, help="Only report what would happen.")
@click.option("--org", type=click.Choice(list(OnboardingOrg)), help="Onboarding organisation.")
def import_vendors_command(
    market_id: int, path: Path, username: str, dry_run: bool, org: str | None
) -> None:
    """Import a CSV/XLSX vendor list into MARKET_ID (accounts stay pending for approval)."""
    try:
        actor = get_user_by_username(username)
        market = get_market(market_id, actor=actor)
        report = importer.import_vendors(
            market,
            path.read_bytes(),
            filename=path.name,
            dry_run=dry_run,
            actor=actor,
            onboarding_org=OnboardingOrg(org) if org else None,
        )
    except ChopayError as exc:
        db.session.rollback()
        details = "; ".join(
            f"{field}: {' '.join(map(str, reasons))}"
            for field, reasons in (exc.details or {}).items()
            if isinstance(reasons, list)
        )
        raise click.ClickException(f"{exc.message} {details}".strip()) from None
    if not dry_run:
        db.session.commit()
    for row in report.rows:
        if row.status == "error":
            reasons = "; ".join(f"{f}: {' '.join(map(str, r))}" for f, r in row.errors.items())
            click.echo(f"dòng {row.row}: lỗi – {reasons}")
        elif row.status == "duplicate":
            click.echo(f"dòng {row.row}: trùng – {row.full_name}")
    verb = "sẽ tạo" if dry_run else "đã tạo"
    click.echo(
        f"{report.total} dòng: {verb} {report.created}, trùng {report.duplicate}, "
        f"lỗi {report.error}; {report.accounts_pending} tài khoản chờ duyệt."
    )
