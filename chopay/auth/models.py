"""User, API token and the helper ↔ market assignment."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chopay.db import Base, utcnow

if TYPE_CHECKING:
    from chopay.admin_units.models import AdminUnit
    from chopay.markets.models import Market
    from chopay.vendors.models import Vendor


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything
    OFFICER = "officer"  # one admin unit and everything under it
    BOARD = "board"  # one market
    HELPER = "helper"  # onboarding in the markets assigned to them
    VENDOR = "vendor"  # their own record


helper_markets = Table(
    "helper_markets",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("market_id", ForeignKey("markets.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person who logs in, with a role and the scope that role needs."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role != 'officer' OR unit_id IS NOT NULL", name="officer_has_unit"),
        CheckConstraint("role != 'board' OR market_id IS NOT NULL", name="board_has_market"),
        CheckConstraint("role != 'vendor' OR vendor_id IS NOT NULL", name="vendor_has_vendor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    full_name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(String(10))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"))
    organisation: Mapped[str | None] = mapped_column(String(120))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    unit: Mapped[AdminUnit | None] = relationship()
    market: Mapped[Market | None] = relationship(foreign_keys=[market_id])
    vendor: Mapped[Vendor | None] = relationship(foreign_keys=[vendor_id])
    helper_markets: Mapped[list[Market]] = relationship(secondary=helper_markets)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… user={self.user_id}>"
