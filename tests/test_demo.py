"""``chopay demo`` builds a believable, reproducible Thái Nguyên programme."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from chopay.admin_units.models import AdminUnit
from chopay.auth.models import Role, User
from chopay.db import utcnow
from chopay.demo import DEMO_PASSWORD, build_demo
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.transactions.models import DailyRollup, Transaction
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor
from chopay.vietqr import lookup_bank, parse_payload


def _snapshot() -> dict[str, Any]:
    return {
        "vendors": db.session.execute(
            select(Vendor.full_name, Vendor.stall, Vendor.phone, Vendor.reference).order_by(
                Vendor.id
            )
        ).all(),
        "accounts": db.session.execute(
            select(PaymentAccount.bank_bin, PaymentAccount.account_number).order_by(
                PaymentAccount.id
            )
        ).all(),
        "tx": db.session.execute(select(func.count(), func.sum(Transaction.amount_vnd))).one(),
    }


def test_demo_is_deterministic_for_a_seed_and_believable(
    fresh_app: Callable[..., Flask],
) -> None:
    snapshots = []
    for _ in range(2):
        app = fresh_app()
        with app.app_context():
            summary = build_demo(seed=7, scale=0.05)
            db.session.commit()
            snapshots.append(_snapshot())
    assert snapshots[0] == snapshots[1]

    with app.app_context():
        markets = db.session.scalars(select(Market)).all()
        assert len(markets) == 15
        districts = set()
        for market in markets:
            unit = db.session.get(AdminUnit, market.legacy_commune_id)
            assert unit.province_code == "19"
            districts.add(unit.district_code)
            assert market.new_commune_id is not None
        assert len(districts) == 9  # every district-level unit of Thái Nguyên has a market
        # every issued code is a valid VietQR payload for a known bank, note = vendor ref
        for code, ref in db.session.execute(
            select(QrCode, Vendor.reference).join(Vendor, Vendor.id == QrCode.vendor_id)
        ):
            parsed = parse_payload(code.payload)
            assert lookup_bank(parsed.bank_bin) is not None
            assert parsed.purpose == ref
        # maker-checker holds for every approved account
        for acc in db.session.scalars(
            select(PaymentAccount).where(PaymentAccount.status == AccountStatus.APPROVED)
        ):
            assert acc.decided_by_id is not None and acc.decided_by_id != acc.created_by_id
        # one login per role, all with the printed password
        roles = {u.role for u in db.session.scalars(select(User))}
        assert roles == set(Role)
        assert {u for u, p, _ in summary.users if p == DEMO_PASSWORD} >= {"admin"}
        # rollups agree with the non-void ledger
        ledger = db.session.execute(
            select(func.count(), func.coalesce(func.sum(Transaction.amount_vnd), 0)).where(
                Transaction.voided_at.is_(None)
            )
        ).one()
        rollups = db.session.execute(
            select(func.sum(DailyRollup.tx_count), func.sum(DailyRollup.tx_value))
        ).one()
        assert tuple(int(x) for x in rollups) == tuple(int(x) for x in ledger)
        assert ledger[0] > 1000
        # the demo vendor's login has sales to show (a third of vendors stay dormant)
        demo_vendor = db.session.scalar(select(User.vendor_id).where(User.role == Role.VENDOR))
        week_ago = utcnow() - dt.timedelta(days=7)
        recent = db.session.scalar(
            select(func.count()).where(
                Transaction.vendor_id == demo_vendor, Transaction.occurred_at >= week_ago
            )
        )
        assert recent > 0


def test_the_demo_vendor_login_goes_to_a_vendor_with_recent_sales(
    fresh_app: Callable[..., Flask],
) -> None:
    from sqlalchemy import delete

    from chopay.demo import _vendor_login

    app = fresh_app()
    with app.app_context():
        build_demo(seed=7, scale=0.05)
        db.session.flush()
        login = db.session.scalar(select(User).where(User.role == Role.VENDOR))
        market = login.vendor.market
        first = login.vendor_id
        # The market's first vendor with a code falls dormant: no payment this week.
        week_ago = utcnow() - dt.timedelta(days=7)
        db.session.execute(
            delete(Transaction).where(
                Transaction.vendor_id == first, Transaction.occurred_at >= week_ago
            )
        )
        db.session.delete(login)
        db.session.flush()
        chosen = _vendor_login(market)
        assert chosen is not None and chosen.vendor_id != first
        assert chosen.vendor.market_id == market.id
        assert db.session.scalar(
            select(func.count()).where(
                Transaction.vendor_id == chosen.vendor_id, Transaction.occurred_at >= week_ago
            )
        )
        db.session.rollback()
