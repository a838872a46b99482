"""Figures shown on the dashboard, scoped to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from chopay.auth.policy import market_scope, vendor_scope
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus


@dataclass(frozen=True)
class Overview:
    markets: int
    stall_count: int
    vendors: int
    vendors_with_qr: int
    pending_accounts: int


def overview(user: Any) -> Overview:
    """Counts over the markets and vendors in the user's scope."""
    markets, stalls = db.session.execute(
        select(func.count(Market.id), func.coalesce(func.sum(Market.stall_count), 0)).where(
            market_scope(user), Market.is_active
        )
    ).one()
    vendors = db.session.scalar(
        select(func.count(Vendor.id)).where(vendor_scope(user), Vendor.status != VendorStatus.LEFT)
    )
    with_qr = db.session.scalar(
        select(func.count(func.distinct(QrCode.vendor_id)))
        .join(Vendor, Vendor.id == QrCode.vendor_id)
        .where(
            vendor_scope(user),
            Vendor.status != VendorStatus.LEFT,
            QrCode.revoked_at.is_(None),
            QrCode.is_dynamic.is_(False),
        )
    )
    pending = db.session.scalar(
        select(func.count(PaymentAccount.id))
        .join(Vendor, Vendor.id == PaymentAccount.vendor_id)
        .where(vendor_scope(user), PaymentAccount.status == AccountStatus.PENDING)
    )
    return Overview(
        markets=markets or 0,
        stall_count=int(stalls or 0),
        vendors=vendors or 0,
        vendors_with_qr=with_qr or 0,
        pending_accounts=pending or 0,
    )
