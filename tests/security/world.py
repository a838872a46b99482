"""A shared world for the security tests: two markets in two districts, their vendors,
accounts, codes, payments, held lines, webhook sources, and one user (with a bearer token)
per role.

``in`` is market M (huyện Đại Từ, legacy 171) and its vendor V; ``sib`` is V's neighbour
V2 at the same market; ``out`` is market N (TP Sông Công, legacy 165) and its vendor W.
The officer's unit is huyện Đại Từ, the board and the helper work at M, the vendor user
is V. Names, phones and account numbers are ASCII so that a leak shows in any encoding.

``module_session`` opens one connection with an outer transaction for a whole module (the
world is written into it once); ``isolated`` wraps one request in a savepoint that is
rolled back, so every case starts from the same world.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from chopay.admin_units.models import AdminUnit, Scheme, UnitLevel
from chopay.auth.services import create_token
from chopay.extensions import db as _db
from chopay.transactions import services as tx_services
from chopay.transactions.models import InboundPayment, Source
from chopay.vendors import codes
from chopay.vendors.models import AccountStatus
from tests.conftest import _JoinedSession
from tests.factories import (
    MarketFactory,
    PaymentAccountFactory,
    UserFactory,
    VendorFactory,
)

ROLES = ("admin", "officer", "board", "helper", "vendor")
DISTRICT_IN = "171"  # huyện Đại Từ
DISTRICT_OUT = "165"  # TP Sông Công
VN = dt.timezone(dt.timedelta(hours=7))


@dataclass
class Scope:
    """The objects of one side of the world (the ids and values the URLs need)."""

    market_id: int
    market_name: str
    market_code: str
    commune_code: str  # legacy commune of the market
    district: str
    vendor_id: int
    vendor_name: str
    vendor_stall: str
    vendor_phone: str
    account_id: int  # approved, primary
    account_number: str
    pending_account_id: int
    pending_account_number: str
    payload: str  # the live stand payload
    verify_code: str
    transaction_id: int
    inbound_id: int
    inbound_content: str

    def secrets(self) -> list[str]:
        """Values that identify this side's vendor: none may reach an outsider."""
        return [
            self.vendor_name,
            self.vendor_phone,
            self.account_number,
            self.pending_account_number,
        ]


@dataclass
class World:
    scopes: dict[str, Scope]
    users: dict[str, int]  # role -> user id
    tokens: dict[str, str]  # role -> bearer token
    token_ids: dict[str, int]  # role -> its token's id
    spare_token_id: int  # a token of a user outside every role here
    webhook_secrets: dict[str, str] = field(default_factory=dict)  # source -> secret

    def hidden_from(self, role: str) -> list[str]:
        """Strings that must not appear in any answer to ``role``."""
        if role == "admin":
            return []
        out = self.scopes["out"]
        hidden = [*out.secrets(), out.market_name, out.inbound_content]
        if role == "vendor":
            hidden += self.scopes["sib"].secrets()
        return hidden


def commune_in(district: str) -> AdminUnit:
    """The first legacy commune of a legacy district."""
    unit = _db.session.scalars(
        select(AdminUnit)
        .where(
            AdminUnit.scheme == Scheme.LEGACY,
            AdminUnit.level == UnitLevel.COMMUNE,
            AdminUnit.district_code == district,
        )
        .order_by(AdminUnit.code)
    ).first()
    assert unit is not None
    return unit


def legacy_unit(code: str) -> AdminUnit:
    unit = _db.session.scalar(
        select(AdminUnit).where(AdminUnit.scheme == Scheme.LEGACY, AdminUnit.code == code)
    )
    assert unit is not None
    return unit


def _vendor_side(
    *,
    market: Any,
    n: int,
    name: str,
    maker: Any,
    checker: Any,
    admin: Any,
    inbound_content: str | None,
    inbound_market: Any,
    commune: AdminUnit,
    district: str,
) -> Scope:
    vendor = VendorFactory(
        market=market, full_name=name, stall=f"K-{n}", phone=f"09770000{n:02d}", status="active"
    )
    account = PaymentAccountFactory(
        vendor=vendor,
        status=AccountStatus.APPROVED,
        is_primary=True,
        account_number=f"88880000{n:02d}",
        account_name=name.upper(),
        created_by_id=maker.id,
        decided_by_id=checker.id,
    )
    code = codes.issue_static_code(account, actor=checker)
    pending = PaymentAccountFactory(
        vendor=vendor,
        status=AccountStatus.PENDING,
        account_number=f"77770000{n:02d}",
        account_name=name.upper(),
        created_by_id=maker.id,
    )
    occurred = dt.datetime.now(VN) - dt.timedelta(hours=1)
    tx, _ = tx_services.record_transaction(
        {
            "vendor_id": vendor.id,
            "amount": 120_000 + n,
            "occurred_at": occurred.isoformat(),
            "method": "vietqr",
            "external_ref": f"world-{n}",
        },
        actor=admin,
    )
    content = inbound_content or f"HELD-{n}"
    inbound = InboundPayment(
        source=Source.IMPORT,
        external_ref=f"held-{n}",
        amount_vnd=30_000 + n,
        occurred_at=occurred,
        account_number=f"55500000{n:02d}",
        content=content,
        reason="unknown_account",
        market_id=inbound_market.id,
        raw={"line": n},
    )
    _db.session.add(inbound)
    _db.session.flush()
    return Scope(
        market_id=market.id,
        market_name=market.name,
        market_code=market.code,
        commune_code=commune.code,
        district=district,
        vendor_id=vendor.id,
        vendor_name=name,
        vendor_stall=vendor.stall,
        vendor_phone=vendor.phone,
        account_id=account.id,
        account_number=account.account_number,
        pending_account_id=pending.id,
        pending_account_number=pending.account_number,
        payload=code.payload,
        verify_code=code.verify_code,
        transaction_id=tx.id,
        inbound_id=inbound.id,
        inbound_content=content,
    )


def build_world() -> World:
    """Write the world with the factories into the current session (flushes, no commit)."""
    commune_a, commune_b = commune_in(DISTRICT_IN), commune_in(DISTRICT_OUT)
    market_m = MarketFactory(name="Cho Trong Pham Vi", code="SEC-M", legacy_commune=commune_a)
    market_n = MarketFactory(name="Cho Ngoai Pham Vi", code="SEC-N", legacy_commune=commune_b)
    admin = UserFactory(username="sec.admin")
    maker = UserFactory(username="sec.maker")  # entered every pending account: no role here
    checker = UserFactory(username="sec.checker")
    common = {"maker": maker, "checker": checker, "admin": admin}
    inside = _vendor_side(
        market=market_m,
        n=1,
        name="Nguyen Thi Trongpham",
        inbound_content=None,
        inbound_market=market_m,
        commune=commune_a,
        district=DISTRICT_IN,
        **common,
    )
    sibling = _vendor_side(
        market=market_m,
        n=2,
        name="Le Thi Bencanh",
        inbound_content=None,
        inbound_market=market_m,
        commune=commune_a,
        district=DISTRICT_IN,
        **common,
    )
    outside = _vendor_side(
        market=market_n,
        n=3,
        name="Tran Van Ngoaipham",
        inbound_content="HELD-NGOAI-PHAM-VI",
        inbound_market=market_n,
        commune=commune_b,
        district=DISTRICT_OUT,
        **common,
    )
    users = {
        "admin": admin,
        "officer": UserFactory.officer(legacy_unit(DISTRICT_IN), username="sec.officer"),
        "board": UserFactory.board(market_m, username="sec.board"),
        "helper": UserFactory.helper(market_m, username="sec.helper"),
        "vendor": UserFactory.vendor(_vendor_of(inside), username="sec.vendor"),
    }
    other_board = UserFactory.board(market_n, username="sec.board.n")
    tokens: dict[str, str] = {}
    token_ids: dict[str, int] = {}
    for role, user in users.items():
        row, text = create_token(user, name="security matrix")
        tokens[role], token_ids[role] = text, row.id
    spare, _ = create_token(other_board, name="not yours")
    secrets = {}
    for name in ("bank-a", "bank-b"):
        _, secrets[name] = tx_services.create_webhook_source(name, format="chopay")
    _db.session.flush()
    return World(
        scopes={"in": inside, "sib": sibling, "out": outside},
        users={role: user.id for role, user in users.items()},
        tokens=tokens,
        token_ids=token_ids,
        spare_token_id=spare.id,
        webhook_secrets=secrets,
    )


def _vendor_of(scope: Scope) -> Any:
    from chopay.vendors.models import Vendor

    return _db.session.get(Vendor, scope.vendor_id)


@contextlib.contextmanager
def module_session(app: Flask) -> Iterator[Any]:
    """One connection and outer transaction (rolled back at the end) behind ``db.session``."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _JoinedSession,
            }
        )
        try:
            yield connection
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@contextlib.contextmanager
def isolated(connection: Any) -> Iterator[None]:
    """Run a request inside a savepoint rolled back afterwards: nothing it writes stays."""
    nested = connection.begin_nested()
    try:
        yield
    finally:
        _db.session.remove()
        nested.rollback()
