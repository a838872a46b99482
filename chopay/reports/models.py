"""Chợ 4.0 qualification rule sets (data, per province, with a valid-from date)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chopay.db import Base, utcnow


class QualificationRule(Base):
    """One version of a province's Chợ 4.0 rule; null thresholds are not checked."""

    __tablename__ = "qualification_rules"
    __table_args__ = (
        UniqueConstraint("scheme", "province_code", "valid_from", name="uq_rules_version"),
        CheckConstraint(
            "min_adoption_pct IS NULL OR (min_adoption_pct >= 0 AND min_adoption_pct <= 100)",
            name="adoption_pct_range",
        ),
        CheckConstraint(
            "min_active_pct IS NULL OR (min_active_pct >= 0 AND min_active_pct <= 100)",
            name="active_pct_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(String(8))
    province_code: Mapped[str] = mapped_column(String(10))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    min_adoption_pct: Mapped[float | None] = mapped_column(Float)
    min_active_pct: Mapped[float | None] = mapped_column(Float)
    min_active_vendors: Mapped[int | None]
    min_vendors_with_qr: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<QualificationRule {self.scheme}:{self.province_code} from {self.valid_from}>"
