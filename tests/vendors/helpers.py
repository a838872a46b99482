"""People, markets and row counts shared by the markets, vendors and audit tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from chopay.admin_units.models import Scheme
from chopay.audit.models import AuditEvent
from chopay.auth.models import User
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.vendors.models import PaymentAccount, QrCode, Vendor
from tests.factories import MarketFactory, UserFactory, commune, unit

# Đại Từ (legacy district 171): Thị trấn Hùng Sơn, merged whole into 2025 Xã Đại Phúc.
HUNG_SON = "05761"
DAI_PHUC_2025 = "05488"
# A commune of Bắc Kạn (legacy province 06), outside Đại Từ.
BAC_KAN_DISTRICT = "058"

COUNTED = (Market, Vendor, PaymentAccount, QrCode, AuditEvent)


def counts() -> dict[str, int]:
    """Rows per onboarding table: compare before and after a refused request."""
    db.session.expire_all()
    result = {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }
    # Logging in through the API makes a token, which is audited: not the subject here.
    result["AuditEvent"] = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "token.create")
    )
    return result


@dataclass
class World:
    """Two markets in different places, and one person of each role."""

    market: Market
    other_market: Market
    admin: User
    board: User
    other_board: User
    helper: User
    officer: User  # huyện Đại Từ
    other_officer: User  # tỉnh Bắc Kạn (legacy 06)


def bac_kan_commune() -> Any:
    from chopay.admin_units.models import AdminUnit, UnitLevel

    return db.session.scalars(
        select(AdminUnit)
        .where(
            AdminUnit.scheme == Scheme.LEGACY,
            AdminUnit.level == UnitLevel.COMMUNE,
            AdminUnit.district_code == BAC_KAN_DISTRICT,
        )
        .order_by(AdminUnit.code)
    ).first()


def make_world() -> World:
    market = MarketFactory(
        name="Chợ Trung tâm Đại Từ",
        legacy_commune=commune(Scheme.LEGACY, HUNG_SON),
        new_commune=commune(Scheme.NEW, DAI_PHUC_2025),
        stall_count=400,
    )
    other = MarketFactory(name="Chợ Bắc Kạn", legacy_commune=bac_kan_commune(), new_commune=None)
    return World(
        market=market,
        other_market=other,
        admin=UserFactory(username="admin1", role="admin"),
        board=UserFactory.board(market, username="bql.daitu", full_name="Trần Văn Bình"),
        other_board=UserFactory.board(other, username="bql.backan"),
        helper=UserFactory.helper(market, username="hotro.agribank", organisation="Agribank"),
        officer=UserFactory.officer(unit(Scheme.LEGACY, "171"), username="ubnd.daitu"),
        other_officer=UserFactory.officer(unit(Scheme.LEGACY, "06"), username="sct.backan"),
    )


def vendor_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "full_name": "Nguyễn Thị Hường",
        "stall": "A-12",
        "phone": "0912345678",
        "account": {
            "bank_bin": "970436",
            "account_number": "1012345678",
            "account_name": "NGUYEN THI HUONG",
        },
    }
    data.update(overrides)
    return data


# --- fixtures (re-exported by the conftest of each onboarding test folder) -----------


@pytest.fixture
def world(db: Any) -> World:
    return make_world()


@pytest.fixture
def api(client: Any, auth: Any) -> Any:
    """Call the JSON API as a given user: ``api.post(user, url, json=...)``."""

    class Api:
        def __init__(self) -> None:
            self.headers: dict[int, dict[str, str]] = {}

        def _h(self, user: Any) -> dict[str, str]:
            if user.id not in self.headers:
                self.headers[user.id] = auth.token_headers(user)
            return self.headers[user.id]

        def login(self, *users: Any) -> None:
            for user in users:
                self._h(user)

        def get(self, user: Any, url: str, **kw: Any) -> Any:
            return client.get(url, headers=self._h(user), **kw)

        def post(self, user: Any, url: str, **kw: Any) -> Any:
            return client.post(url, headers=self._h(user), **kw)

        def patch(self, user: Any, url: str, **kw: Any) -> Any:
            return client.patch(url, headers=self._h(user), **kw)

    return Api()
