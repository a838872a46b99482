"""Administrative units and the legacy → 2025 commune mapping."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chopay.db import Base


class Scheme(enum.StrEnum):
    LEGACY = "legacy"  # 63 provinces → district → commune, before 1 July 2025
    NEW = "2025"  # 34 provinces → commune


class UnitLevel(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class AdminUnit(Base):
    """One province, district or commune in one scheme; a tree by ``parent``.

    ``province_code`` and ``district_code`` repeat the ancestors' codes so that "this unit
    and everything under it" is one indexed comparison instead of a recursive query.
    """

    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("scheme", "code", name="uq_admin_units_scheme_code"),
        Index("ix_admin_units_scheme_province", "scheme", "province_code"),
        Index("ix_admin_units_scheme_district", "scheme", "district_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[Scheme] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(10))
    level: Mapped[UnitLevel] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str] = mapped_column(String(120))
    unit_type: Mapped[str] = mapped_column(String(40))
    slug: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"), index=True)
    province_code: Mapped[str] = mapped_column(String(10))
    district_code: Mapped[str | None] = mapped_column(String(10))

    parent: Mapped[AdminUnit | None] = relationship(
        remote_side="AdminUnit.id", back_populates="children"
    )
    children: Mapped[list[AdminUnit]] = relationship(
        back_populates="parent", order_by="AdminUnit.code"
    )

    @property
    def key(self) -> str:
        """``scheme:code``, the form the CLI and scopes use."""
        return f"{self.scheme}:{self.code}"

    def __repr__(self) -> str:
        return f"<AdminUnit {self.scheme}:{self.code} {self.name}>"


class AdminUnitMapping(Base):
    """A legacy commune's share in a 2025 commune.

    A legacy commune merged whole into one new commune has one row; one split between
    several new communes has a row per part, with ``is_default`` on the part the
    statistics office lists first (a person still has to confirm which applies).
    """

    __tablename__ = "admin_unit_mappings"
    __table_args__ = (
        UniqueConstraint("legacy_unit_id", "new_unit_id", name="uq_admin_unit_mappings_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    legacy_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), index=True)
    new_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), index=True)
    is_default: Mapped[bool] = mapped_column(default=False)

    legacy_unit: Mapped[AdminUnit] = relationship(foreign_keys=[legacy_unit_id])
    new_unit: Mapped[AdminUnit] = relationship(foreign_keys=[new_unit_id])

    def __repr__(self) -> str:
        return f"<AdminUnitMapping {self.legacy_unit_id}->{self.new_unit_id}>"
