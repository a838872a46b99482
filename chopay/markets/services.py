"""Markets: create, edit, list, always inside the actor's scope."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from chopay.admin_units.models import AdminUnit, UnitLevel
from chopay.admin_units.services import Placement, list_units, place_commune
from chopay.audit.models import AuditEvent
from chopay.audit.services import Origin, diff, record_event
from chopay.auth.models import User
from chopay.auth.policy import Action, authorize, can, market_scope
from chopay.db import MAX_ID
from chopay.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus

logger = logging.getLogger(__name__)

# Fields a market's audit events record.
AUDITED_FIELDS = (
    "code",
    "name",
    "address",
    "market_class",
    "stall_count",
    "legacy_commune_code",
    "new_commune_code",
    "needs_location_review",
    "is_active",
)


def find_market(market_id: int) -> Market | None:
    """The market with this id, or None (also for ids no table can hold)."""
    return db.session.get(Market, market_id) if 0 < market_id <= MAX_ID else None


def get_market(market_id: int, *, actor: User, action: Action = Action.VIEW) -> Market:
    """The market, if the actor may see it (else NotFoundError) and do ``action`` (else 403)."""
    market = find_market(market_id)
    if market is None or not can(actor, Action.VIEW, market):
        raise NotFoundError(_l("Không tìm thấy chợ số %(id)s.", id=market_id))
    authorize(actor, action, market)
    return market


def list_markets(*, actor: User, query: str | None = None) -> list[Market]:
    """Markets the actor may see, by name; ``query`` matches name or code."""
    stmt = select(Market).where(market_scope(actor))
    if query:
        like = f"%{query.strip()}%"
        stmt = stmt.where(or_(Market.name.ilike(like), Market.code.ilike(like)))
    return list(db.session.scalars(stmt.order_by(Market.name, Market.id)))


def market_snapshot(market: Market) -> dict[str, Any]:
    """The audited fields of a market as plain values."""
    return {
        "code": market.code,
        "name": market.name,
        "address": market.address,
        "market_class": market.market_class,
        "stall_count": market.stall_count,
        "legacy_commune_code": market.legacy_commune.code if market.legacy_commune else None,
        "new_commune_code": market.new_commune.code if market.new_commune else None,
        "needs_location_review": market.needs_location_review,
        "is_active": market.is_active,
    }


def _authorize_placement(actor: User, placement: Placement) -> None:
    """The actor must be allowed to create markets in the commune, in either scheme."""
    units = [u for u in (placement.legacy_commune, placement.new_commune) if u is not None]
    if not any(can(actor, Action.CREATE_MARKET, unit) for unit in units):
        raise PermissionDeniedError(
            _l("Bạn không có quyền đặt chợ ở xã/phường này."),
            details={"commune_code": [_l("Xã/phường nằm ngoài địa bàn bạn phụ trách.")]},
        )


def _check_code_free(code: str, *, exclude_id: int | None = None) -> None:
    stmt = select(Market.id).where(func.upper(Market.code) == code.upper())
    if exclude_id is not None:
        stmt = stmt.where(Market.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise ConflictError(
            _l("Mã chợ %(code)s đã được dùng.", code=code),
            details={"code": [_l("Mã chợ %(code)s đã được dùng cho chợ khác.", code=code)]},
        )


def _generate_code(placement: Placement) -> str:
    """CHO-<commune code>-<n>: readable, unique, stable once given."""
    commune = placement.legacy_commune or placement.new_commune
    prefix = f"CHO-{commune.code if commune else 'X'}-"
    taken = set(db.session.scalars(select(Market.code).where(Market.code.startswith(prefix))))
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def create_market(data: Mapping[str, Any], *, actor: User, origin: Origin | None = None) -> Market:
    """Create a market placed by one commune code; the other scheme's commune is derived.

    When the commune was split or merged in 2025 the derived commune is only a best guess,
    so the market is flagged ``needs_location_review`` until a person confirms it.
    """
    authorize(actor, Action.CREATE_MARKET)
    placement = place_commune(data["scheme"], data["commune_code"])
    _authorize_placement(actor, placement)
    code = data.get("code") or _generate_code(placement)
    _check_code_free(code)
    market = Market(
        code=code,
        name=data["name"],
        address=data.get("address"),
        market_class=data.get("market_class"),
        stall_count=data["stall_count"],
        legacy_commune=placement.legacy_commune,
        new_commune=placement.new_commune,
        needs_location_review=placement.needs_review,
    )
    db.session.add(market)
    db.session.flush()
    record_event(
        actor_id=actor.id,
        action="market.create",
        entity_type="market",
        entity_id=market.id,
        market_id=market.id,
        new=market_snapshot(market),
        origin=origin,
    )
    logger.info("user %s created market %s (%s)", actor.id, market.id, market.code)
    return market


def update_market(
    market: Market, data: Mapping[str, Any], *, actor: User, origin: Origin | None = None
) -> Market:
    """Change a market's fields or location; the change is audited with old and new values."""
    authorize(actor, Action.EDIT, market)
    before = market_snapshot(market)
    changes = {
        key: data[key]
        for key in ("name", "address", "market_class", "stall_count", "is_active")
        if key in data
    }
    if data.get("code"):
        if data["code"] != market.code:
            _check_code_free(data["code"], exclude_id=market.id)
        changes["code"] = data["code"]
    if ("scheme" in data) != ("commune_code" in data):
        missing = "commune_code" if "scheme" in data else "scheme"
        raise InvalidInputError.for_field(
            missing, _l("Đổi vị trí chợ cần cả hệ đơn vị và mã xã/phường.")
        )
    if "scheme" in data:
        placement = place_commune(data["scheme"], data["commune_code"])
        if (placement.legacy_commune, placement.new_commune) != (
            market.legacy_commune,
            market.new_commune,
        ):
            changes["legacy_commune"] = placement.legacy_commune
            changes["new_commune"] = placement.new_commune
            changes["needs_location_review"] = placement.needs_review
    if data.get("location_confirmed"):
        changes["needs_location_review"] = False
    _, new = diff(market, changes)
    for key, value in new.items():
        setattr(market, key, value)
    moved = "legacy_commune" in new or "new_commune" in new
    if moved and not can(actor, Action.EDIT, market):
        # Moving a market must not take it out of the actor's own scope.
        raise PermissionDeniedError(
            _l("Không thể chuyển chợ ra ngoài địa bàn bạn phụ trách."),
            details={"commune_code": [_l("Xã/phường nằm ngoài địa bàn bạn phụ trách.")]},
        )
    after = market_snapshot(market)
    old_values = {k: v for k, v in before.items() if after[k] != v}
    if old_values:
        db.session.flush()
        record_event(
            actor_id=actor.id,
            action="market.update",
            entity_type="market",
            entity_id=market.id,
            market_id=market.id,
            old=old_values,
            new={k: after[k] for k in old_values},
            origin=origin,
        )
        logger.info("user %s updated market %s: %s", actor.id, market.id, sorted(old_values))
    return market


def commune_choices(actor: User, scheme: str, query: str, *, limit: int = 20) -> list[AdminUnit]:
    """Communes of ``scheme`` whose name matches, where the actor may place markets."""
    units = list_units(scheme=scheme, level=UnitLevel.COMMUNE, query=query.strip(), limit=500)
    return [u for u in units if can(actor, Action.CREATE_MARKET, u)][:limit]


def resolve_commune(actor: User, scheme: str, text: str) -> str:
    """A commune code from what a person typed: a code, or a name matching one commune."""
    text = text.strip()
    if not text:
        raise InvalidInputError.for_field("commune_code", _l("Chưa nhập xã/phường."))
    code = text.split(" ", 1)[0]
    if code.isascii() and code.isdigit():
        return code  # "05614" or "05614 Xã Hùng Sơn" from the suggestion list
    choices = commune_choices(actor, scheme, text, limit=10)
    if len(choices) == 1:
        return choices[0].code
    if not choices:
        raise InvalidInputError.for_field(
            "commune_code",
            _l("Không tìm thấy xã/phường “%(text)s” trong địa bàn của bạn.", text=text),
        )
    names = "; ".join(f"{u.code} {u.name}" for u in choices)
    raise InvalidInputError.for_field(
        "commune_code",
        _l("Có nhiều xã/phường khớp “%(text)s”, hãy nhập mã: %(names)s", text=text, names=names),
    )


@dataclass(frozen=True)
class MarketFigures:
    """Onboarding progress of one market."""

    vendors: int = 0  # registered, not left
    with_qr: int = 0  # with a live static QR code
    pending_accounts: int = 0

    def share(self, stall_count: int) -> float | None:
        """Vendors with a QR code as a percentage of the declared stalls."""
        return 100 * self.with_qr / stall_count if stall_count else None


def market_figures(market_ids: list[int]) -> dict[int, MarketFigures]:
    """Vendor, QR and pending-account counts for each of the given markets."""
    if not market_ids:
        return {}
    vendors = dict(
        db.session.execute(
            select(Vendor.market_id, func.count(Vendor.id))
            .where(Vendor.market_id.in_(market_ids), Vendor.status != VendorStatus.LEFT)
            .group_by(Vendor.market_id)
        ).all()
    )
    with_qr = dict(
        db.session.execute(
            select(Vendor.market_id, func.count(func.distinct(QrCode.vendor_id)))
            .join(Vendor, Vendor.id == QrCode.vendor_id)
            .where(
                Vendor.market_id.in_(market_ids),
                Vendor.status != VendorStatus.LEFT,
                QrCode.revoked_at.is_(None),
                QrCode.is_dynamic.is_(False),
            )
            .group_by(Vendor.market_id)
        ).all()
    )
    pending = dict(
        db.session.execute(
            select(Vendor.market_id, func.count(PaymentAccount.id))
            .join(Vendor, Vendor.id == PaymentAccount.vendor_id)
            .where(
                Vendor.market_id.in_(market_ids),
                PaymentAccount.status == AccountStatus.PENDING,
            )
            .group_by(Vendor.market_id)
        ).all()
    )
    return {
        mid: MarketFigures(vendors.get(mid, 0), with_qr.get(mid, 0), pending.get(mid, 0))
        for mid in market_ids
    }


def market_history(market: Market, *, actor: User, limit: int = 500) -> list[AuditEvent]:
    """Audited changes to the market itself and its imports, newest first."""
    authorize(actor, Action.AUDIT, market)
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "market", AuditEvent.entity_id == str(market.id))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
