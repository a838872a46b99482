"""The one authorization layer: who may do what to which market, vendor or unit.

Every view, API endpoint and CLI command asks ``authorize``/``can`` here or filters its
queries with ``market_scope``; nothing else looks at roles.
"""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, false, or_, select, true

from chopay.admin_units.models import AdminUnit, Scheme, UnitLevel
from chopay.auth.models import Role, User, helper_markets
from chopay.errors import AuthenticationError, PermissionDeniedError
from chopay.markets.models import Market
from chopay.vendors.models import Vendor


class Action(enum.StrEnum):
    VIEW = "view"  # see the market / vendor record
    EDIT = "edit"  # change the market / vendor record
    CREATE_MARKET = "create_market"  # target: the commune (or any unit) it goes in
    ONBOARD = "onboard"  # register vendors, add payment accounts, import lists
    APPROVE = "approve"  # approve or reject a payment account (never one's own entry)
    PRINT = "print"  # QR codes and stands
    RECORD_PAYMENT = "record_payment"
    VIEW_PAYMENTS = "view_payments"  # individual transactions (personal data)
    VOID_PAYMENT = "void_payment"
    VIEW_REPORTS = "view_reports"  # aggregates
    AUDIT = "audit"  # read change history
    MANAGE_USERS = "manage_users"
    MANAGE_SOURCES = "manage_sources"  # webhook sources, rule sets
    # A vendor's own request under the Personal Data Protection Law (91/2025):
    EXPORT_DATA = "export_data"  # everything held about the vendor, as one JSON file
    ERASE_DATA = "erase_data"  # anonymise the vendor for good (aggregates are kept)


# What each role may do to a market inside its scope.
MARKET_RIGHTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.OFFICER: frozenset(
        {Action.VIEW, Action.EDIT, Action.PRINT, Action.VIEW_REPORTS, Action.AUDIT}
    ),
    Role.BOARD: frozenset(
        {
            Action.VIEW,
            Action.EDIT,
            Action.ONBOARD,
            Action.APPROVE,
            Action.PRINT,
            Action.RECORD_PAYMENT,
            Action.VIEW_PAYMENTS,
            Action.VOID_PAYMENT,
            Action.VIEW_REPORTS,
            Action.AUDIT,
        }
    ),
    Role.HELPER: frozenset({Action.VIEW, Action.ONBOARD, Action.APPROVE, Action.PRINT}),
    Role.VENDOR: frozenset({Action.VIEW}),
}

# What each role may do to a vendor inside its scope.
VENDOR_RIGHTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.OFFICER: frozenset({Action.VIEW, Action.PRINT, Action.AUDIT}),
    Role.BOARD: (MARKET_RIGHTS[Role.BOARD] - {Action.VIEW_REPORTS})
    | {Action.EXPORT_DATA, Action.ERASE_DATA},
    Role.HELPER: frozenset(
        {Action.VIEW, Action.EDIT, Action.ONBOARD, Action.APPROVE, Action.PRINT}
    ),
    Role.VENDOR: frozenset(
        {Action.VIEW, Action.PRINT, Action.RECORD_PAYMENT, Action.VIEW_PAYMENTS, Action.EXPORT_DATA}
    ),
}

# What each role may do to an administrative unit inside its scope.
UNIT_RIGHTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.OFFICER: frozenset({Action.VIEW, Action.VIEW_REPORTS, Action.CREATE_MARKET}),
    Role.BOARD: frozenset(),
    Role.HELPER: frozenset(),
    Role.VENDOR: frozenset(),
}

# Actions with no target object.
GLOBAL_RIGHTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.OFFICER: frozenset({Action.VIEW_REPORTS, Action.CREATE_MARKET}),
    Role.BOARD: frozenset({Action.VIEW_REPORTS}),
    Role.HELPER: frozenset(),
    Role.VENDOR: frozenset(),
}


def _active_user(user: Any) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not isinstance(user, User) or not user.is_active:
        return None
    return user


def unit_contains(outer: AdminUnit, inner: AdminUnit | None) -> bool:
    """Whether ``inner`` is ``outer`` or lies under it (same scheme)."""
    if inner is None or inner.scheme != outer.scheme:
        return False
    if outer.level == UnitLevel.PROVINCE:
        return inner.province_code == outer.code
    if outer.level == UnitLevel.DISTRICT:
        return inner.code == outer.code or inner.district_code == outer.code
    return inner.code == outer.code


def market_commune(market: Market, scheme: str) -> AdminUnit | None:
    """The market's commune in the given scheme."""
    return market.legacy_commune if scheme == Scheme.LEGACY else market.new_commune


def market_in_scope(user: User, market: Market) -> bool:
    """Whether the market lies in the user's scope."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.OFFICER:
        return user.unit is not None and unit_contains(
            user.unit, market_commune(market, user.unit.scheme)
        )
    if user.role == Role.BOARD:
        return user.market_id == market.id
    if user.role == Role.HELPER:
        return any(m.id == market.id for m in user.helper_markets)
    if user.role == Role.VENDOR:
        return user.vendor is not None and user.vendor.market_id == market.id
    return False


def can(user: Any, action: Action, target: Any = None) -> bool:
    """Whether ``user`` may do ``action`` to ``target`` (a Market, Vendor, AdminUnit or None)."""
    actor = _active_user(user)
    if actor is None:
        return False
    role = Role(actor.role)
    if role == Role.ADMIN:
        return True
    if target is None:
        return action in GLOBAL_RIGHTS[role]
    if isinstance(target, Vendor):
        decided = can_by_ids(actor, action, target.id, target.market_id)
        return market_in_scope(actor, target.market) if decided is None else decided
    if isinstance(target, Market):
        return action in MARKET_RIGHTS[role] and market_in_scope(actor, target)
    if isinstance(target, AdminUnit):
        return (
            action in UNIT_RIGHTS[role]
            and actor.unit is not None
            and unit_contains(actor.unit, target)
        )
    return False


def authorize(user: Any, action: Action, target: Any = None) -> None:
    """Raise unless ``user`` may do ``action`` to ``target``."""
    if _active_user(user) is None:
        raise AuthenticationError()
    if not can(user, action, target):
        raise PermissionDeniedError()


def own_vendor_id(user: Any) -> int | None:
    """The vendor record a vendor's own login acts for (their sell page); None for staff."""
    actor = _active_user(user)
    if actor is None or actor.role != Role.VENDOR:
        return None
    return actor.vendor_id


def markets_in_unit(unit: AdminUnit) -> Select[tuple[int]]:
    """SELECT of the ids of markets whose commune (in the unit's scheme) lies in ``unit``."""
    column = Market.legacy_commune_id if unit.scheme == Scheme.LEGACY else Market.new_commune_id
    stmt = select(Market.id).join(AdminUnit, AdminUnit.id == column)
    if unit.level == UnitLevel.PROVINCE:
        return stmt.where(AdminUnit.scheme == unit.scheme, AdminUnit.province_code == unit.code)
    if unit.level == UnitLevel.DISTRICT:
        return stmt.where(
            AdminUnit.scheme == unit.scheme,
            or_(AdminUnit.code == unit.code, AdminUnit.district_code == unit.code),
        )
    return stmt.where(AdminUnit.id == unit.id)


def market_scope(user: Any) -> ColumnElement[bool]:
    """A WHERE clause on ``Market.id`` limiting a query to the markets the user may see."""
    actor = _active_user(user)
    if actor is None:
        return false()
    role = Role(actor.role)
    if role == Role.ADMIN:
        return true()
    if role == Role.OFFICER and actor.unit is not None:
        return Market.id.in_(markets_in_unit(actor.unit))
    if role == Role.BOARD and actor.market_id is not None:
        return Market.id == actor.market_id
    if role == Role.HELPER:
        return Market.id.in_(
            select(helper_markets.c.market_id).where(helper_markets.c.user_id == actor.id)
        )
    if role == Role.VENDOR and actor.vendor is not None:
        return Market.id == actor.vendor.market_id
    return false()


def vendor_scope(user: Any) -> ColumnElement[bool]:
    """A WHERE clause on ``Vendor`` limiting a query to the vendors the user may see."""
    actor = _active_user(user)
    if actor is None:
        return false()
    if actor.role == Role.VENDOR:
        return Vendor.id == actor.vendor_id
    return Vendor.market_id.in_(select(Market.id).where(market_scope(actor)))


def can_by_ids(user: Any, action: Action, vendor_id: int, market_id: int) -> bool | None:
    """``can(user, action, vendor)`` decided from the vendor's id and market id alone, for
    hot paths that read vendors as plain rows; None when the answer needs more of the
    vendor's market (an officer's unit, a helper's markets): ask ``can`` then."""
    actor = _active_user(user)
    if actor is None:
        return False
    role = Role(actor.role)
    if role == Role.ADMIN:
        return True
    if action not in VENDOR_RIGHTS[role]:
        return False
    if role == Role.VENDOR:
        return bool(actor.vendor_id == vendor_id)
    if role == Role.BOARD:
        return bool(actor.market_id == market_id)
    return None


# (label, endpoint, action, roles) of the main menu; an entry shows when the endpoint
# exists, the user holds the action somewhere, and (if roles are given) has one of them.
NAVIGATION: tuple[tuple[Any, str, Action | None, frozenset[Role] | None], ...] = (
    (_l("Tổng quan"), "dashboard.index", None, None),
    (_l("Bán hàng"), "printing.sell", None, frozenset({Role.VENDOR})),
    (_l("Chợ"), "markets.list_markets", Action.VIEW, frozenset(Role) - {Role.VENDOR}),
    (_l("Tiểu thương"), "vendors.list_vendors", Action.VIEW, frozenset(Role) - {Role.VENDOR}),
    (_l("Chờ duyệt"), "vendors.pending_accounts", Action.APPROVE, None),
    (_l("Giao dịch"), "transactions.list_transactions", Action.VIEW_PAYMENTS, None),
    (_l("Báo cáo"), "reports.adoption_page", Action.VIEW_REPORTS, None),
)

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    role: MARKET_RIGHTS[role] | VENDOR_RIGHTS[role] | UNIT_RIGHTS[role] | GLOBAL_RIGHTS[role]
    for role in Role
}


def navigation(user: Any) -> list[tuple[Any, str]]:
    """Menu entries (label, endpoint) for this user."""
    from flask import current_app

    actor = _active_user(user)
    if actor is None:
        return []
    role = Role(actor.role)
    held = ROLE_ACTIONS[role]
    return [
        (label, endpoint)
        for label, endpoint, action, roles in NAVIGATION
        if endpoint in current_app.view_functions
        and (action is None or action in held)
        and (roles is None or role in roles)
    ]
