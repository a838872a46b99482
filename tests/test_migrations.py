"""Models and Alembic revisions cannot drift apart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, text

from chopay.db import Base
from chopay.extensions import db
from tests.conftest import IS_POSTGRES


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


PER_STATEMENT_TRIGGERS = {
    "trg_daily_rollups_reports_insert",
    "trg_daily_rollups_reports_update",
    "trg_daily_rollups_reports_delete",
}


def _report_triggers() -> set[str]:
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            sql = (
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'daily_rollups'::regclass AND NOT tgisinternal"
            )
        else:
            sql = (
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'daily_rollups'"
            )
        return set(conn.scalars(text(sql)))


def test_report_triggers_go_back_to_per_row_and_return(fresh_app: Callable[..., Flask]) -> None:
    """Revision 1257cc86824a swaps PostgreSQL's per-row report trigger for per-statement
    ones and back; SQLite's (same names, per row) are left alone by it. Upgrading to the
    head also repairs day bits the per-row triggers left set in a market the vendor was no
    longer active in, on both backends."""
    from flask_migrate import downgrade, upgrade

    from chopay.reports.services import report_rollup_drift
    from chopay.transactions import services
    from tests.factories import MarketFactory, UserFactory, VendorFactory

    app = fresh_app(load_units=False)
    postgres = IS_POSTGRES
    with app.app_context():
        assert _report_triggers() == PER_STATEMENT_TRIGGERS
        downgrade(revision="5c1e0a7d2b43")
        assert _report_triggers() == (
            {"trg_daily_rollups_reports"} if postgres else PER_STATEMENT_TRIGGERS
        )
        # Today's ledger code writes and reads transactions.bank_ref (a later revision,
        # 54198dd7d2b6, undone by the downgrade): lend the older schema the column.
        db.session.execute(text("ALTER TABLE transactions ADD COLUMN bank_ref VARCHAR(120)"))
        # Under the per-row triggers: a vendor paid in two markets on one day (moved that
        # day); voiding the first market's payment leaves its bit set (day checked in any
        # market) on both backends.
        old, new = (MarketFactory(legacy_commune=None, new_commune=None) for _ in range(2))
        vendor = VendorFactory(market=old)
        admin = UserFactory()
        moment = dt.datetime(2026, 11, 14, 8, tzinfo=dt.UTC)
        rows = [
            {
                "vendor_id": vendor.id,
                "market_id": market.id,
                "amount_vnd": 30_000,
                "occurred_at": moment,
                "method": method,
                "source": "import",
                "external_ref": f"move-{method}",
            }
            for market, method in ((old, "vietqr"), (new, "ewallet"))
        ]
        ids = services.insert_transactions(rows).ids
        services.void_transaction(ids[("import", "move-vietqr")], actor=admin, reason="nhập nhầm")
        db.session.commit()
        stale = report_rollup_drift()
        assert [(r[0], r[2], r[3], r[4]) for r in stale] == [(old.id, vendor.id, 1 << 13, None)]
        db.session.execute(text("ALTER TABLE transactions DROP COLUMN bank_ref"))
        db.session.commit()
        db.session.remove()

        upgrade()
        assert _report_triggers() == PER_STATEMENT_TRIGGERS
        # 1257cc86824a repairs it on PostgreSQL, b7e19d04c2a8 on SQLite
        assert report_rollup_drift() == []
        db.session.remove()
