"""The market table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chopay.db import Base, TimestampMixin

if TYPE_CHECKING:
    from chopay.admin_units.models import AdminUnit


class Market(TimestampMixin, Base):
    """A chợ, placed in a commune of each scheme it is known in."""

    __tablename__ = "markets"
    __table_args__ = (CheckConstraint("stall_count >= 0", name="stall_count_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    market_class: Mapped[str | None] = mapped_column(String(10))  # hạng 1, 2, 3
    stall_count: Mapped[int] = mapped_column(default=0)
    legacy_commune_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"), index=True)
    new_commune_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"), index=True)
    # True when the other scheme's commune was derived from a split commune and a person
    # still has to confirm it.
    needs_location_review: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)

    legacy_commune: Mapped[AdminUnit | None] = relationship(foreign_keys=[legacy_commune_id])
    new_commune: Mapped[AdminUnit | None] = relationship(foreign_keys=[new_commune_id])

    def __repr__(self) -> str:
        return f"<Market {self.id} {self.code}>"
