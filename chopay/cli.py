"""The ``chopay`` command group (``flask --app wsgi chopay …`` or the ``chopay`` script)."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup, FlaskGroup

chopay_cli = AppGroup("chopay", help="chopay administration commands.")


def fail(exc: Any) -> None:
    """Print a domain error with its field details and exit with status 1, changing nothing."""
    from chopay.extensions import db

    db.session.rollback()
    lines = [f"Lỗi / Error: {exc.message}"]
    for field, reasons in (exc.details or {}).items():
        for reason in reasons if isinstance(reasons, list) else [reasons]:
            lines.append(f"  {field}: {reason}")
    raise click.ClickException("\n".join(lines))


def _create_app():  # type: ignore[no-untyped-def]
    from chopay import create_app

    return create_app()


def main() -> None:
    """Entry point of the ``chopay`` console script: the chopay group plus Flask's own."""
    group = FlaskGroup(create_app=_create_app, help="chopay (same as flask --app wsgi chopay).")
    app = _create_app()
    for name, command in chopay_cli.commands.items():
        group.add_command(command, name)
    del app
    group()


@chopay_cli.command("quickstart")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and stop.")
def quickstart_command(host: str, port: int, no_serve: bool) -> None:
    """Migrate, load Thái Nguyên's units and demo data on first run, then serve the app."""
    from flask import current_app
    from flask_migrate import upgrade
    from sqlalchemy import func, select
    from werkzeug.serving import run_simple

    from chopay.admin_units.services import load_units
    from chopay.extensions import db
    from chopay.markets.models import Market

    click.echo("Migrating the database…")
    upgrade()
    if not db.session.scalar(select(func.count()).select_from(Market)):
        click.echo("First run: loading administrative units of Thái Nguyên (19)…")
        load_units("19")
        db.session.commit()
        from chopay.demo import build_demo

        click.echo("Building the demo programme (about a minute)…")
        summary = build_demo(seed=2022)
        db.session.commit()
        click.echo(summary.describe())
    else:
        click.echo("Database already has markets: keeping it as it is.")
    if no_serve:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Serving chopay on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False)
