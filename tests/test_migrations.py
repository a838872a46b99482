"""Models and Alembic revisions cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from chopay.db import Base
from chopay.extensions import db


def test_upgrade_on_empty_database_leaves_no_autogenerate_diff(
    fresh_app: Callable[..., Flask],
) -> None:
    app = fresh_app(load_units=False)  # runs `flask db upgrade` on a new, empty database
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_downgrade_to_base_and_back(fresh_app: Callable[..., Flask]) -> None:
    from flask_migrate import downgrade, upgrade

    app = fresh_app(load_units=False)
    with app.app_context():
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
