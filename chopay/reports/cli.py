"""``chopay reports …``: Chợ 4.0 rule versions and report rollup upkeep."""

from __future__ import annotations

import datetime as dt

import click

from chopay.cli import chopay_cli, fail
from chopay.errors import ChopayError
from chopay.extensions import db
from chopay.reports import services


@chopay_cli.group("reports")
def reports_cli() -> None:
    """Adoption reports: Chợ 4.0 qualification rules, report rollups."""


def _fmt(value: float | int | None, suffix: str = "") -> str:
    return "–" if value is None else f"{value:g}{suffix}"


@reports_cli.command("list-rules")
@click.option("--scheme", type=click.Choice(services.SCHEMES), default=None)
@click.option("--province", default=None, help="Province code, e.g. 19")
def list_rules_command(scheme: str | None, province: str | None) -> None:
    """List Chợ 4.0 rule versions (newest first per province)."""
    rules = services.list_rules(scheme=scheme, province=province)
    if not rules:
        click.echo("Chưa có tiêu chí nào. / No rules yet.")
        return
    for rule in rules:
        click.echo(
            f"#{rule.id} {rule.scheme}:{rule.province_code} từ {rule.valid_from.isoformat()} "
            f"— {rule.name}\n"
            f"    QR/quầy ≥ {_fmt(rule.min_adoption_pct, '%')} · "
            f"QR đã dùng ≥ {_fmt(rule.min_active_pct, '%')} · "
            f"TT hoạt động ≥ {_fmt(rule.min_active_vendors)} · "
            f"TT có QR ≥ {_fmt(rule.min_vendors_with_qr)}"
            + (f"\n    {rule.notes}" if rule.notes else "")
        )


@reports_cli.command("add-rule")
@click.option("--scheme", type=click.Choice(services.SCHEMES), required=True)
@click.option("--province", "province_code", required=True, help="Province code, e.g. 19")
@click.option(
    "--valid-from", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="YYYY-MM-DD"
)
@click.option("--name", required=True, help="Name of the rule version (Vietnamese)")
@click.option("--min-adoption-pct", type=float, default=None, help="Vendors with QR / stalls, %")
@click.option("--min-active-pct", type=float, default=None, help="QR holders who used it, %")
@click.option("--min-active-vendors", type=int, default=None)
@click.option("--min-vendors-with-qr", type=int, default=None)
@click.option("--notes", default=None, help="Source document, caveats")
def add_rule_command(
    scheme: str,
    province_code: str,
    valid_from: dt.datetime,
    name: str,
    min_adoption_pct: float | None,
    min_active_pct: float | None,
    min_active_vendors: int | None,
    min_vendors_with_qr: int | None,
    notes: str | None,
) -> None:
    """Add a Chợ 4.0 rule version for a province, valid from a date."""
    try:
        rule = services.add_rule(
            scheme=scheme,
            province_code=province_code,
            valid_from=valid_from.date(),
            name=name,
            min_adoption_pct=min_adoption_pct,
            min_active_pct=min_active_pct,
            min_active_vendors=min_active_vendors,
            min_vendors_with_qr=min_vendors_with_qr,
            notes=notes,
        )
        db.session.commit()
    except ChopayError as exc:
        fail(exc)
        return
    click.echo(
        f"Đã thêm tiêu chí #{rule.id} / Rule added: {rule.scheme}:{rule.province_code} "
        f"from {rule.valid_from.isoformat()}"
    )


@reports_cli.command("seed-rules")
def seed_rules_command() -> None:
    """Add Thái Nguyên's demo rule versions if missing."""
    added = services.seed_default_rules()
    db.session.commit()
    click.echo(f"Đã thêm {len(added)} tiêu chí. / {len(added)} rule(s) added.")


@reports_cli.command("rebuild-rollups")
@click.option("--check", is_flag=True, help="Only report differences, change nothing")
def rebuild_rollups_command(check: bool) -> None:
    """Recompute the market totals and vendor activity reports read (or check them)."""
    if check:
        drift = services.report_rollup_drift()
        for row in drift:
            click.echo("  " + " ".join(str(v) for v in row))
        click.echo(f"{len(drift)} khác biệt / difference(s).")
        if drift:
            raise SystemExit(1)
        return
    rows = services.rebuild_report_rollups()
    db.session.commit()
    click.echo(f"Đã tính lại {rows} dòng. / {rows} row(s) rebuilt.")
