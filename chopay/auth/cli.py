"""``chopay create-user`` and ``chopay create-token``."""

from __future__ import annotations

import secrets

import click

from chopay.auth import services
from chopay.cli import chopay_cli, fail
from chopay.errors import ChopayError
from chopay.extensions import db


@chopay_cli.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="admin, officer, board, helper or vendor")
@click.option("--password", help="Omit to generate one (printed once).")
@click.option("--unit", "unit_key", help="Officer's unit as SCHEME:CODE, e.g. legacy:19")
@click.option("--market", "market_ids", type=int, multiple=True, help="Market id (repeatable)")
@click.option("--vendor", "vendor_id", type=int, help="Vendor id, for the vendor role")
@click.option("--full-name", default=None)
@click.option("--organisation", default=None, help="Bank, telco or team a helper works for")
def create_user_command(
    username: str,
    role: str,
    password: str | None,
    unit_key: str | None,
    market_ids: tuple[int, ...],
    vendor_id: int | None,
    full_name: str | None,
    organisation: str | None,
) -> None:
    """Create a user with a role and its scope."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        unit = services.parse_unit_key(unit_key) if unit_key else None
        user = services.create_user(
            username=username,
            role=role,
            password=password,
            unit=unit,
            market_ids=list(market_ids),
            vendor_id=vendor_id,
            full_name=full_name,
            organisation=organisation,
        )
        db.session.commit()
    except ChopayError as exc:
        fail(exc)
        return
    click.echo(f"Created user {user.username} (id {user.id}, role {user.role}).")
    if generated:
        click.echo(f"Password: {password}")


@chopay_cli.command("create-token")
@click.argument("username")
@click.option("--name", default=None, help="What the token is for")
def create_token_command(username: str, name: str | None) -> None:
    """Create an API token; the token is printed alone on the last line."""
    try:
        user = services.get_user_by_username(username)
        row, token = services.create_token(user, name=name)
        db.session.commit()
    except ChopayError as exc:
        fail(exc)
        return
    click.echo(f"Token {row.prefix}… for {user.username} (id {row.id}). Shown once:")
    click.echo(token)


@chopay_cli.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    """Revoke an API token by id."""
    from chopay.auth.models import ApiToken

    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise click.ClickException(f"No token with id {token_id}.")
    services.revoke_token(token_id, actor=row.user)
    db.session.commit()
    click.echo(f"Revoked token {token_id}.")
