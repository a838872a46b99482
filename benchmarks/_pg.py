"""A throw-away PostgreSQL database for a benchmark run, dropped however the run ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextmanager
def throwaway_database(prefix: str, server: str | sa.URL = SERVER) -> Iterator[str]:
    """Create ``<prefix>_<random>`` on ``server`` (any database of it in the URL is
    ignored) and yield its URL; drop it afterwards, even with sessions still open."""
    base = sa.make_url(server).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
