"""The ``chopay`` command group (``flask --app wsgi chopay …`` or the ``chopay`` script)."""

from __future__ import annotations

from flask.cli import AppGroup, FlaskGroup

chopay_cli = AppGroup("chopay", help="chopay administration commands.")


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
