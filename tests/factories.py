"""factory_boy factories, one per model, persisting with flush into the test session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from sqlalchemy import select

from chopay.admin_units.models import AdminUnit, Scheme, UnitLevel
from chopay.auth.models import Role, User
from chopay.auth.services import hash_password
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.transactions.models import Method, Source, Transaction
from chopay.vendors.models import AccountStatus, PaymentAccount, Vendor, VendorStatus

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)


def _session() -> Any:
    return db.session


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _session
        sqlalchemy_session_persistence = "flush"


def commune(scheme: str = Scheme.LEGACY, code: str | None = None) -> AdminUnit:
    """A loaded commune (default: the first commune of huyện Đại Từ, legacy 171)."""
    stmt = select(AdminUnit).where(AdminUnit.scheme == scheme, AdminUnit.level == UnitLevel.COMMUNE)
    if code is not None:
        stmt = stmt.where(AdminUnit.code == code)
    elif scheme == Scheme.LEGACY:
        stmt = stmt.where(AdminUnit.district_code == "171")
    else:
        stmt = stmt.where(AdminUnit.province_code == "19")
    unit = db.session.scalars(stmt.order_by(AdminUnit.code)).first()
    assert unit is not None, "admin units are loaded by the app fixture"
    return unit


def unit(scheme: str, code: str) -> AdminUnit:
    found = db.session.scalar(
        select(AdminUnit).where(AdminUnit.scheme == scheme, AdminUnit.code == code)
    )
    assert found is not None
    return found


class MarketFactory(Base):
    class Meta:
        model = Market

    code = factory.Sequence(lambda n: f"TN-{n:04d}")
    name = factory.Sequence(lambda n: f"Chợ Thử Nghiệm {n}")
    address = "Thị trấn Hùng Sơn, Đại Từ, Thái Nguyên"
    market_class = "2"
    stall_count = 100
    legacy_commune = factory.LazyFunction(lambda: commune(Scheme.LEGACY))
    new_commune = factory.LazyFunction(lambda: commune(Scheme.NEW))


class VendorFactory(Base):
    class Meta:
        model = Vendor

    market = factory.SubFactory(MarketFactory)
    full_name = factory.Sequence(lambda n: f"Nguyễn Thị Hường {n}")
    stall = factory.Sequence(lambda n: f"A-{n}")
    phone = factory.Sequence(lambda n: f"09{n:08d}")
    status = VendorStatus.ACTIVE
    reference = factory.Sequence(lambda n: f"CPT{n:06d}")


class UserFactory(Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password_hash = _PASSWORD_HASH
    role = Role.ADMIN
    full_name = factory.Sequence(lambda n: f"Người dùng {n}")

    @classmethod
    def officer(cls, unit_: AdminUnit, **kw: Any) -> User:
        return cls(role=Role.OFFICER, unit=unit_, **kw)

    @classmethod
    def board(cls, market: Market, **kw: Any) -> User:
        return cls(role=Role.BOARD, market=market, **kw)

    @classmethod
    def helper(cls, *markets: Market, **kw: Any) -> User:
        return cls(role=Role.HELPER, helper_markets=list(markets), **kw)

    @classmethod
    def vendor(cls, vendor: Vendor, **kw: Any) -> User:
        return cls(role=Role.VENDOR, vendor=vendor, **kw)


class PaymentAccountFactory(Base):
    class Meta:
        model = PaymentAccount

    vendor = factory.SubFactory(VendorFactory)
    bank_bin = "970436"
    account_number = factory.Sequence(lambda n: f"10{n:08d}")
    account_name = "NGUYEN THI HUONG"
    status = AccountStatus.PENDING
    is_primary = False


class TransactionFactory(Base):
    class Meta:
        model = Transaction

    vendor_id = factory.LazyAttribute(lambda o: o.vendor_obj.id)
    market_id = factory.LazyAttribute(lambda o: o.vendor_obj.market_id)
    amount_vnd = 50_000
    occurred_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))
    local_day = factory.LazyAttribute(
        lambda o: o.occurred_at.astimezone(dt.timezone(dt.timedelta(hours=7))).date()
    )
    method = Method.VIETQR
    source = Source.VENDOR
    external_ref = factory.Sequence(lambda n: f"ref-{n}")

    class Params:
        vendor_obj = factory.SubFactory(VendorFactory)
