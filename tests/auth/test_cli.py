"""``chopay create-user`` and ``chopay create-token``: the exact shape scripts rely on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from chopay.auth.models import Role, User
from chopay.auth.services import user_for_token
from tests.factories import MarketFactory, UserFactory, VendorFactory


def _users(db: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_create_admin_then_token_prints_token_alone_on_last_line(runner: Any, db: Any) -> None:
    result = runner.invoke(
        args=["chopay", "create-user", "anna", "--role", "admin", "--password", "s3cret-pass"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["chopay", "create-token", "anna"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert " " not in token
    user = user_for_token(token)
    assert user is not None and user.username == "anna"


def test_officer_with_unit(runner: Any, db: Any) -> None:
    result = runner.invoke(
        args=[
            "chopay",
            "create-user",
            "canbo",
            "--role",
            "officer",
            "--unit",
            "legacy:171",
            "--password",
            "s3cret-pass",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "canbo"))
    assert user.role == Role.OFFICER
    assert user.unit.code == "171" and user.unit.scheme == "legacy"


def test_board_helper_vendor_scopes(runner: Any, db: Any) -> None:
    market = MarketFactory()
    other = MarketFactory()
    vendor = VendorFactory(market=market)
    pw = ["--password", "s3cret-pass"]
    assert (
        runner.invoke(
            args=[
                "chopay",
                "create-user",
                "bql",
                "--role",
                "board",
                "--market",
                str(market.id),
                *pw,
            ]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            args=[
                "chopay",
                "create-user",
                "hotro",
                "--role",
                "helper",
                "--market",
                str(market.id),
                "--market",
                str(other.id),
                *pw,
            ]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            args=[
                "chopay",
                "create-user",
                "tt",
                "--role",
                "vendor",
                "--vendor",
                str(vendor.id),
                *pw,
            ]
        ).exit_code
        == 0
    )
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert users["bql"].market_id == market.id
    assert {m.id for m in users["hotro"].helper_markets} == {market.id, other.id}
    assert users["tt"].vendor_id == vendor.id


def test_generated_password_is_printed(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["chopay", "create-user", "nopass", "--role", "admin"])
    assert result.exit_code == 0
    assert "Password: " in result.output


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--role", "officer"], "unit"),
        (["--role", "officer", "--unit", "legacy:99999"], "unit"),
        (["--role", "officer", "--unit", "19"], "unit"),
        (["--role", "board"], "market"),
        (["--role", "board", "--market", "999999"], "market"),
        (["--role", "helper"], "market"),
        (["--role", "vendor"], "vendor"),
        (["--role", "vendor", "--vendor", "999999"], "vendor"),
        (["--role", "king"], "role"),
        (["--role", "admin", "--password", "short"], "password"),
    ],
)
def test_bad_input_is_a_clear_error_and_creates_nothing(
    runner: Any, db: Any, args: list[str], field: str
) -> None:
    before = _users(db)
    if "--password" not in args:
        args = [*args, "--password", "long-enough-pass"]
    result = runner.invoke(args=["chopay", "create-user", "someone", *args])
    assert result.exit_code != 0
    assert f"{field}:" in result.output
    assert _users(db) == before


def test_duplicate_username_refused(runner: Any, db: Any) -> None:
    UserFactory(username="taken")
    result = runner.invoke(
        args=["chopay", "create-user", "taken", "--role", "admin", "--password", "s3cret-pass"]
    )
    assert result.exit_code != 0
    assert "taken" in result.output


def test_token_for_unknown_user_is_refused(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["chopay", "create-token", "ghost"])
    assert result.exit_code != 0
    assert "ghost" in result.output
