"""Declarative base, naming convention, type map and shared column helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    event,
    inspect,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    make_transient_to_detached,
    mapped_column,
    registry,
)
from sqlalchemy.orm.attributes import instance_state

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs BIGINT for the ledger.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
# The largest ids: INTEGER primary keys (markets, vendors, accounts, users, tokens…) and
# the BIGINT ones (ledger, held lines, audit). Ids from outside are checked against them,
# so an oversized number is "not found" or invalid, never a database error (a 500).
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored as UTC on every backend.

    SQLite has no timezone type, so values come back naive; this decorator normalises
    writes to UTC and re-attaches UTC on read, so Python code only ever sees aware times.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError("UTCDateTime needs a datetime")
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """Current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    # One registry carrying the metadata and the type map: Flask-SQLAlchemy subclasses
    # this base, and SQLAlchemy 2.1 refuses a per-class type_annotation_map on a subclass.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime(), str: String()},
    )


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def adopt(session: Any, cls: type[T], values: Mapping[str, Any]) -> T:
    """The session's instance of ``cls`` for a row whose column values are already known
    (from a Core query, a cache, an ``INSERT … RETURNING``), without reading it again.

    An instance already in the session's identity map wins. Otherwise a new one joins the
    session as if a query had loaded it: no history (a flush writes nothing), columns not
    in ``values`` expired (loaded on first access), relationships loaded lazily. The hot
    paths use this where the ORM's row processing would cost more than the query."""
    mapper = inspect(cls)
    ident = tuple(values[mapper.get_property_by_column(c).key] for c in mapper.primary_key)
    existing = session.identity_map.get(mapper.identity_key_from_primary_key(ident))
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    # The instance without __init__ and its per-attribute events (half the cost): the
    # values go straight into its state, then it becomes "detached" (history reset,
    # missing columns expired) and joins the session.
    obj = mapper.class_manager.new_instance()
    instance_state(obj).dict.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj  # type: ignore[no-any-return]


_ON_A_CONNECTION = "chopay_on_a_connection"


@event.listens_for(Session, "after_begin")
def _note_connection(session: Session, transaction: Any, connection: Any) -> None:
    session.info[_ON_A_CONNECTION] = True


@contextmanager
def own_transaction(session: Any) -> Iterator[Connection]:
    """A short transaction on a pooled connection of its own, committed on leaving: for
    the lookups that start a request (an API token's owner, a webhook source) and the
    token's ``last_used_at``. The session is left alone: it takes no connection that it
    would hold for the rest of the request next to the payment's own (two connections
    per request), and no commit expires the objects it already holds (a reload each).

    A session bound to one connection (the tests' transaction, rolled back afterwards)
    has no other to give: the statements run on that connection, inside its transaction."""
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        yield bind
        return
    with bind.begin() as conn:
        yield conn


def commit_if_needed(session: Any) -> None:
    """Commit the (scoped) session when it has something to commit: pending ORM changes,
    or a transaction begun on a database connection (whatever ran there). The ledger's
    hot paths write through the driver and often leave the session with neither, or make
    no session at all: committing it anyway cost as much as a lookup."""
    if not session.registry.has():
        return
    if session.info.pop(_ON_A_CONNECTION, False) or session.new or session.dirty or session.deleted:
        session.commit()


def render_alembic_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our UTCDateTime as a plain timezone-aware DateTime in migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
