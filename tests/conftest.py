"""Shared fixtures.

The suite runs on SQLite by default and on PostgreSQL when CHOPAY_TEST_DATABASE_URL
points at one (``.ci/run`` does both). The schema is built once per run with the real
Alembic migrations; every test then runs inside an outer transaction that is rolled
back (SQLAlchemy's "join a Session into an external transaction" recipe), so code under
test may commit freely.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from hypothesis import HealthCheck, settings
from sqlalchemy import event

from chopay import create_app
from chopay.extensions import db as _db

# Shared CI machines stall now and then: a property test is judged on its examples, not
# on how fast this machine generated them.
settings.register_profile("chopay", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("chopay")

TEST_DB_URL = os.environ.get("CHOPAY_TEST_DATABASE_URL", "")
IS_POSTGRES = TEST_DB_URL.startswith("postgres")
# Admin units loaded once for the whole run: Thái Nguyên (both schemes, with Bắc Kạn,
# which merged into it in 2025). Tests that need the country load more themselves.
TEST_PROVINCE = "19"


def _postgres_database(base_url: str, name: str) -> str:
    url = sa.make_url(base_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(base_url: str, name: str) -> None:
    url = sa.make_url(base_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def new_database_url(tmp_dir: Path) -> tuple[str, Callable[[], None]]:
    """A fresh, empty database of the kind under test, and a function that removes it."""
    if IS_POSTGRES:
        name = f"chopay_test_{uuid.uuid4().hex[:10]}"
        return _postgres_database(TEST_DB_URL, name), lambda: _drop_postgres_database(
            TEST_DB_URL, name
        )
    path = tmp_dir / f"test-{uuid.uuid4().hex[:8]}.db"
    return f"sqlite:///{path}", lambda: None


def build_app(database_url: str, instance_path: str, **overrides: Any) -> Flask:
    """A testing app on the given database, schema migrated to head."""
    from flask_migrate import upgrade

    config = {"SQLALCHEMY_DATABASE_URI": database_url, **overrides}
    app = create_app(config)
    app.instance_path = instance_path
    with app.app_context():
        upgrade()
    return app


def load_test_units(app: Flask) -> None:
    from chopay.admin_units.services import load_units

    with app.app_context():
        load_units(TEST_PROVINCE)
        _db.session.commit()


@pytest.fixture(scope="session")
def _session_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="chopay-tests-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def app(_session_dir: Path) -> Iterator[Flask]:
    """The app under test, on a database migrated with the real Alembic revisions."""
    url, drop = new_database_url(_session_dir)
    application = build_app(url, str(_session_dir / "instance"))
    if not IS_POSTGRES:
        _enable_sqlite_savepoints(application)
    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    load_test_units(application)
    yield application
    with application.app_context():
        _db.engine.dispose()
    drop()


def _fresh_g() -> None:
    """Tests keep one app context open, so ``g`` would outlive a request; real requests
    each get their own. Start every test request with an empty ``g`` as production does."""
    from flask import g

    for name in list(vars(g)):
        delattr(g, name)


def _enable_sqlite_savepoints(app: Flask) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN."""
    with app.app_context():
        engine = _db.engine

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    engine.dispose()


class _JoinedSession(FlaskSession):
    """Flask-SQLAlchemy's session always picks the engine; a joined one must use its bind."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        return self.bind


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The db, with everything a test writes rolled back afterwards."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _JoinedSession,
            }
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _forget_api_tokens() -> Iterator[None]:
    """Worker processes cache token owners, webhook sources and vendor hints; tests start
    with none."""
    from chopay.auth.services import forget_tokens
    from chopay.transactions.services import forget_vendor_hints
    from chopay.transactions.webhooks import forget_sources

    forget_tokens()
    forget_sources()
    forget_vendor_hints()
    yield
    forget_tokens()
    forget_sources()
    forget_vendor_hints()


@pytest.fixture(autouse=True)
def _restore_rate_limiter() -> Iterator[None]:
    """Flask-Limiter's object is shared by every app in the process and init_app sets its
    ``enabled`` flag; a test that builds an app with limits on must not leave them on."""
    from chopay.extensions import limiter

    enabled = limiter.enabled
    yield
    limiter.enabled = enabled


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def fresh_app(_session_dir: Path) -> Iterator[Callable[..., Flask]]:
    """Factory of apps on their own new database (for tests that need real commits
    across connections, e.g. concurrency). Databases are dropped afterwards."""
    drops: list[Callable[[], None]] = []
    apps: list[Flask] = []

    def make(load_units: bool = True, **overrides: Any) -> Flask:
        url, drop = new_database_url(_session_dir)
        drops.append(drop)
        application = build_app(url, str(_session_dir / "instance"), **overrides)
        if load_units:
            load_test_units(application)
        apps.append(application)
        return application

    yield make
    for application in apps:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()
    for drop in drops:
        drop()


class AuthActions:
    """Log the test client in as a user, or get a bearer header for one."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: Any, password: str = "correct horse battery") -> Any:
        return self.client.post("/login", data={"username": user.username, "password": password})

    def logout(self) -> Any:
        return self.client.post("/logout")

    @staticmethod
    def token_headers(user: Any) -> dict[str, str]:
        from chopay.auth.services import create_token

        _, token = create_token(user)
        # Committed (into the test's outer transaction) so that a request whose error
        # handler rolls back does not take the token with it.
        _db.session.commit()
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)
