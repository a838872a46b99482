"""The authorization layer: who may do what to which market, vendor or unit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from chopay.admin_units.models import AdminUnit, Scheme, UnitLevel
from chopay.auth.models import Role
from chopay.auth.policy import Action, can, market_scope, vendor_scope
from chopay.markets.models import Market
from chopay.vendors.models import Vendor
from tests.factories import MarketFactory, UserFactory, VendorFactory, commune, unit


def _commune_in(district: str) -> AdminUnit:
    from chopay.extensions import db

    return db.session.scalars(
        select(AdminUnit)
        .where(
            AdminUnit.scheme == Scheme.LEGACY,
            AdminUnit.level == UnitLevel.COMMUNE,
            AdminUnit.district_code == district,
        )
        .order_by(AdminUnit.code)
    ).first()


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    daitu = MarketFactory(legacy_commune=_commune_in("171"))  # huyện Đại Từ
    songcong = MarketFactory(legacy_commune=_commune_in("165"))  # TP Sông Công
    v1 = VendorFactory(market=daitu)
    v2 = VendorFactory(market=songcong)
    return {
        "daitu": daitu,
        "songcong": songcong,
        "v1": v1,
        "v2": v2,
        "admin": UserFactory(),
        "province_officer": UserFactory.officer(unit(Scheme.LEGACY, "19")),
        "district_officer": UserFactory.officer(unit(Scheme.LEGACY, "171")),
        "board": UserFactory.board(daitu),
        "helper": UserFactory.helper(daitu),
        "vendor": UserFactory.vendor(v1),
    }


@pytest.mark.parametrize(
    ("who", "action", "target", "allowed"),
    [
        ("admin", Action.VOID_PAYMENT, "v2", True),
        ("province_officer", Action.VIEW, "songcong", True),
        ("province_officer", Action.VIEW, "v2", True),
        ("district_officer", Action.VIEW, "daitu", True),
        ("district_officer", Action.VIEW, "songcong", False),
        ("district_officer", Action.VIEW_PAYMENTS, "v1", False),
        ("district_officer", Action.APPROVE, "v1", False),
        ("board", Action.APPROVE, "v1", True),
        ("board", Action.VIEW_PAYMENTS, "v1", True),
        ("board", Action.VIEW, "v2", False),
        ("board", Action.EDIT, "songcong", False),
        ("helper", Action.ONBOARD, "daitu", True),
        ("helper", Action.APPROVE, "v1", True),
        ("helper", Action.VIEW_PAYMENTS, "v1", False),
        ("helper", Action.ONBOARD, "songcong", False),
        ("vendor", Action.VIEW, "v1", True),
        ("vendor", Action.RECORD_PAYMENT, "v1", True),
        ("vendor", Action.VIEW, "v2", False),
        ("vendor", Action.APPROVE, "v1", False),
        ("vendor", Action.EDIT, "daitu", False),
    ],
)
def test_rights(
    world: dict[str, Any], who: str, action: Action, target: str, allowed: bool
) -> None:
    assert can(world[who], action, world[target]) is allowed


def test_anonymous_and_inactive_users_may_do_nothing(world: dict[str, Any]) -> None:
    assert can(None, Action.VIEW, world["daitu"]) is False
    world["board"].is_active = False
    assert can(world["board"], Action.VIEW, world["daitu"]) is False


def test_officer_scope_also_works_in_the_2025_scheme(db: Any) -> None:
    market = MarketFactory(new_commune=commune(Scheme.NEW))
    officer = UserFactory.officer(unit(Scheme.NEW, "19"))
    assert can(officer, Action.VIEW, market)
    outside = MarketFactory(new_commune=None)
    assert not can(officer, Action.VIEW, outside)


def test_scope_queries_match_the_object_checks(world: dict[str, Any], db: Any) -> None:
    everyone = [
        world[k]
        for k in ("admin", "province_officer", "district_officer", "board", "helper", "vendor")
    ]
    all_markets = db.session.scalars(select(Market)).all()
    all_vendors = db.session.scalars(select(Vendor)).all()
    for user in everyone:
        visible = set(db.session.scalars(select(Market.id).where(market_scope(user))))
        assert visible == {m.id for m in all_markets if can(user, Action.VIEW, m)}, user.role
        visible_v = set(db.session.scalars(select(Vendor.id).where(vendor_scope(user))))
        assert visible_v == {v.id for v in all_vendors if can(user, Action.VIEW, v)}, user.role


def test_every_role_has_a_rule_table_entry() -> None:
    from chopay.auth.policy import GLOBAL_RIGHTS, MARKET_RIGHTS, UNIT_RIGHTS, VENDOR_RIGHTS

    for table in (MARKET_RIGHTS, VENDOR_RIGHTS, UNIT_RIGHTS, GLOBAL_RIGHTS):
        assert set(table) == set(Role)


@pytest.mark.parametrize("action", list(Action))
def test_vendor_rights_by_object_and_by_ids_agree_with_the_sql_scope(
    db: Any, world: dict[str, Any], action: Action
) -> None:
    """can(user, action, vendor) and, wherever it answers, can_by_ids (the hot paths'
    version) against an independent statement of the rule: admins may do anything;
    others need the action among their vendor rights and the vendor in their scope (their
    own record for vendors, else a market that market_scope's SQL selects)."""
    from chopay.auth.policy import VENDOR_RIGHTS, can_by_ids

    inactive = UserFactory.board(world["daitu"], is_active=False)
    marketless = UserFactory(role=Role.HELPER)
    users = [v for k, v in world.items() if k not in ("daitu", "songcong", "v1", "v2")]
    users += [inactive, marketless, None]
    vendors = [world["v1"], world["v2"], VendorFactory(market=world["daitu"])]
    decided = set()
    for user in users:
        active = user is not None and user.is_active
        role = Role(user.role) if active else None
        scope = set(db.session.scalars(select(Market.id).where(market_scope(user))))
        for vendor in vendors:
            if role is None:
                expected = False
            elif role == Role.ADMIN:
                expected = True
            elif role == Role.VENDOR:
                expected = action in VENDOR_RIGHTS[role] and user.vendor_id == vendor.id
            else:
                expected = action in VENDOR_RIGHTS[role] and vendor.market_id in scope
            assert can(user, action, vendor) == expected, (role, action, vendor.id)
            answer = can_by_ids(user, action, vendor.id, vendor.market_id)
            if answer is not None:
                assert answer == expected, (role, action, vendor.id)
                decided.add(role)
    if action == Action.RECORD_PAYMENT:
        assert {Role.ADMIN, Role.BOARD, Role.VENDOR} <= decided
