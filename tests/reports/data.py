"""Generated registry and ledger for report tests, written straight through the models.

The ledger service is written elsewhere, so this writes Transaction rows *and* the
DailyRollup rows a correct ledger would keep (non-void payments only; a void keeps its
Transaction row with ``voided_at`` set). ``market_daily_rollups`` is then filled by the
database triggers, which the tests therefore check too.

The data is built to hit every awkward case: voids, duplicate reports of one payment
(the second voided as a duplicate), cash, vendors with two approved accounts and codes,
dynamic codes, revoked and replaced accounts, vendors who left before, during and after
the period, vendors registered after it, payments a second either side of midnight in
Vietnam on the period's edges, markets in a legacy commune split between two 2025
communes, a market known in only one scheme, an inactive market, a market with no
declared stalls, and a Bắc Kạn market (legacy province 06, 2025 province 19).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy import select

from chopay.admin_units.models import AdminUnit, AdminUnitMapping, Scheme, UnitLevel
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.reports.models import QualificationRule
from chopay.transactions.models import DailyRollup, Method, Source, Transaction
from chopay.vendors.models import AccountStatus, PaymentAccount, QrCode, Vendor, VendorStatus
from tests.factories import MarketFactory, UserFactory, VendorFactory

VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = dt.date(2026, 10, 1)
END = dt.date(2026, 10, 31)
METHODS = [Method.VIETQR, Method.EWALLET, Method.CARD, Method.CASH]

_serial = count(1)


def local(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """An aware UTC datetime for a wall-clock time in Vietnam."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=VN).astimezone(
        dt.UTC
    )


def unit(scheme: str, code: str) -> AdminUnit:
    found = db.session.scalar(
        select(AdminUnit).where(AdminUnit.scheme == scheme, AdminUnit.code == code)
    )
    assert found is not None, (scheme, code)
    return found


def new_communes_of(legacy: AdminUnit) -> list[AdminUnit]:
    maps = db.session.scalars(
        select(AdminUnitMapping)
        .where(AdminUnitMapping.legacy_unit_id == legacy.id)
        .order_by(AdminUnitMapping.id)
    ).all()
    return [m.new_unit for m in maps]


def communes_of_district(code: str, n: int) -> list[AdminUnit]:
    return list(
        db.session.scalars(
            select(AdminUnit)
            .where(
                AdminUnit.scheme == Scheme.LEGACY,
                AdminUnit.level == UnitLevel.COMMUNE,
                AdminUnit.district_code == code,
            )
            .order_by(AdminUnit.code)
            .limit(n)
        )
    )


@dataclass
class Dataset:
    markets: list[Market] = field(default_factory=list)
    vendors: list[Vendor] = field(default_factory=list)
    transactions: int = 0
    voided: int = 0


def seed_rules() -> None:
    """Two rule versions: legacy 19 from 2022, and a stricter 2025 one from 15/10/2026."""
    db.session.add_all(
        [
            QualificationRule(
                scheme="legacy",
                province_code="19",
                valid_from=dt.date(2022, 1, 1),
                name="Thử nghiệm cũ",
                min_adoption_pct=40.0,
                min_active_pct=30.0,
            ),
            QualificationRule(
                scheme="2025",
                province_code="19",
                valid_from=dt.date(2026, 10, 15),
                name="Thử nghiệm mới",
                min_adoption_pct=50.0,
                min_active_vendors=3,
            ),
        ]
    )
    db.session.flush()


def generate(seed: int = 7, vendors_per_market: tuple[int, int] = (6, 22)) -> Dataset:
    """Markets, vendors, accounts, codes, payments and rollups (see the module docstring)."""
    rng = random.Random(seed)
    maker = UserFactory(username=f"maker{seed}-{next(_serial)}")
    checker = UserFactory(username=f"checker{seed}-{next(_serial)}")
    data = Dataset()

    gia_sang = unit("legacy", "05461")  # split between 05443 and 05467 in 2025
    cam_gia = unit("legacy", "05467")  # split too; its main part is 2025 05467
    gs_new = new_communes_of(gia_sang)
    cg_new = new_communes_of(cam_gia)
    dai_tu = communes_of_district("171", 3)
    phu_binh = unit("legacy", "05932")
    bac_kan = db.session.scalars(
        select(AdminUnit)
        .where(
            AdminUnit.scheme == Scheme.LEGACY,
            AdminUnit.level == UnitLevel.COMMUNE,
            AdminUnit.province_code == "06",
        )
        .order_by(AdminUnit.code)
    ).first()
    assert bac_kan is not None

    def place(legacy: AdminUnit | None, new: AdminUnit | None, **kw: object) -> Market:
        market = MarketFactory(
            legacy_commune=legacy,
            new_commune=new,
            stall_count=kw.pop("stall_count", rng.randint(10, 40)),
            created_at=local(dt.date(2025, 1, 1), 8),
            **kw,
        )
        data.markets.append(market)
        return market

    place(gia_sang, gs_new[0])
    place(gia_sang, gs_new[1])  # same legacy commune, other 2025 commune
    place(cam_gia, cg_new[0])
    place(dai_tu[0], new_communes_of(dai_tu[0])[0])
    place(dai_tu[0], new_communes_of(dai_tu[0])[0], stall_count=0)
    place(dai_tu[1], new_communes_of(dai_tu[1])[0], stall_count=8)
    place(phu_binh, new_communes_of(phu_binh)[-1])
    place(bac_kan, new_communes_of(bac_kan)[0])
    place(None, gs_new[0])  # known only in the 2025 scheme
    place(dai_tu[2], new_communes_of(dai_tu[2])[0], is_active=False)

    for market in data.markets:
        for _ in range(rng.randint(*vendors_per_market)):
            data.vendors.append(_vendor(rng, market, maker, checker, data))
    db.session.flush()
    return data


def _vendor(
    rng: random.Random, market: Market, maker: object, checker: object, data: Dataset
) -> Vendor:
    created = rng.choice(
        [
            local(START - dt.timedelta(days=rng.randint(-12, 90)), rng.randint(6, 20)),
            local(START - dt.timedelta(days=rng.randint(1, 90)), rng.randint(6, 20)),
            local(END, 23, 59, 59),  # counted: registered in the period's last second
            local(END + dt.timedelta(days=1), 0, 0, 0),  # not counted: just after
        ]
    )
    status = rng.choices(
        [VendorStatus.ACTIVE, VendorStatus.PENDING, VendorStatus.SUSPENDED, VendorStatus.LEFT],
        weights=[70, 10, 8, 12],
    )[0]
    left_at = None
    if status == VendorStatus.LEFT:
        left_at = rng.choice(
            [
                None,  # left, date unknown
                local(START - dt.timedelta(days=3), 10),
                local(START + dt.timedelta(days=rng.randint(0, 29)), 10),
                local(END + dt.timedelta(days=1), 0, 0, 0),  # the instant the period ends
                local(END, 23, 59, 59),
                local(END + dt.timedelta(days=5), 10),
            ]
        )
        if left_at is not None and left_at < created:
            left_at = created + dt.timedelta(hours=1)
    vendor = VendorFactory(market=market, status=status, left_at=left_at, created_at=created)

    n_accounts = rng.choices([0, 1, 2], weights=[20, 55, 25])[0]
    for i in range(n_accounts):
        account_status = rng.choices(
            [
                AccountStatus.APPROVED,
                AccountStatus.PENDING,
                AccountStatus.REJECTED,
                AccountStatus.REPLACED,
            ],
            weights=[65, 10, 5, 20],
        )[0]
        decided = account_status != AccountStatus.PENDING
        account = PaymentAccount(
            vendor=vendor,
            bank_bin="970436",
            account_number=f"{vendor.id:06d}{i}{rng.randint(100, 999)}",
            account_name="NGUYEN VAN A",
            status=account_status,
            is_primary=i == 0,
            created_by_id=maker.id,  # type: ignore[attr-defined]
            decided_by_id=checker.id if decided else None,  # type: ignore[attr-defined]
            decided_at=created + dt.timedelta(days=1) if decided else None,
        )
        db.session.add(account)
        if account_status in (AccountStatus.APPROVED, AccountStatus.REPLACED):
            _codes(rng, vendor, account, created, account_status)
    db.session.flush()
    _payments(rng, vendor, data)
    return vendor


def _codes(
    rng: random.Random,
    vendor: Vendor,
    account: PaymentAccount,
    created: dt.datetime,
    status: AccountStatus,
) -> None:
    issued = created + dt.timedelta(days=rng.choice([1, 2, 20, 45, 80]))
    revoked = None
    if status == AccountStatus.REPLACED:
        revoked = rng.choice(
            [
                local(START + dt.timedelta(days=10), 9),  # inside the period
                local(END + dt.timedelta(days=3), 9),  # after it: valid at its end
                local(START - dt.timedelta(days=5), 9),  # before it
                local(END + dt.timedelta(days=1), 0, 0, 0),  # the instant it ends: valid
            ]
        )
        revoked = max(revoked, issued + dt.timedelta(hours=1))
    elif rng.random() < 0.15:
        revoked = issued + dt.timedelta(days=rng.randint(1, 60))
    db.session.add(
        QrCode(
            vendor=vendor,
            account=account,
            payload=f"000201...{vendor.id}",
            verify_code=f"V{next(_serial):07d}",
            issued_at=issued,
            revoked_at=revoked,
            revoked_reason="thay tài khoản" if revoked else None,
        )
    )
    if rng.random() < 0.3:  # a "sell with amount" dynamic code: never counts as holding QR
        db.session.add(
            QrCode(
                vendor=vendor,
                account=account,
                payload=f"000201...dyn{vendor.id}",
                verify_code=f"D{next(_serial):07d}",
                is_dynamic=True,
                amount_vnd=25_000,
                issued_at=issued,
            )
        )


def _payments(rng: random.Random, vendor: Vendor, data: Dataset) -> None:
    profile = rng.choices(["silent", "cash_only", "light", "busy"], weights=[20, 10, 40, 30])[0]
    if profile == "silent":
        return
    n = rng.randint(1, 4) if profile != "busy" else rng.randint(8, 25)
    rollups: dict[tuple[dt.date, str], list[int]] = defaultdict(lambda: [0, 0])
    for _ in range(n):
        day = START + dt.timedelta(days=rng.randint(-4, 34))
        when = rng.choice(
            [
                local(day, rng.randint(5, 20), rng.randint(0, 59)),
                local(START, 0, 0, 1),  # first second of the period
                local(START - dt.timedelta(days=1), 23, 59, 59),  # last second before it
                local(END, 23, 59, 59),  # last second of it
                local(END + dt.timedelta(days=1), 0, 0, 0),  # first second after it
            ]
        )
        method = Method.CASH if profile == "cash_only" else rng.choice(METHODS)
        amount = rng.choice([5_000, 12_000, 30_000, 150_000, 1_250_000])
        voided = rng.random() < 0.1
        _add_tx(vendor, when, method, amount, voided, rollups, data)
        if rng.random() < 0.08:  # the same payment reported again by a webhook: a duplicate
            _add_tx(vendor, when, method, amount, True, rollups, data, source=Source.WEBHOOK)
    for (day, method), (n_tx, value) in rollups.items():
        db.session.add(
            DailyRollup(
                vendor_id=vendor.id,
                day=day,
                method=method,
                market_id=vendor.market_id,
                tx_count=n_tx,
                tx_value=value,
            )
        )


def _add_tx(
    vendor: Vendor,
    when: dt.datetime,
    method: Method,
    amount: int,
    voided: bool,
    rollups: dict[tuple[dt.date, str], list[int]],
    data: Dataset,
    source: Source = Source.VENDOR,
) -> None:
    local_day = when.astimezone(VN).date()
    db.session.add(
        Transaction(
            vendor_id=vendor.id,
            market_id=vendor.market_id,
            amount_vnd=amount,
            occurred_at=when,
            local_day=local_day,
            method=method,
            source=source,
            external_ref=f"r-{next(_serial)}",
            voided_at=when + dt.timedelta(hours=2) if voided else None,
            void_reason=("trùng" if source == Source.WEBHOOK else "nhập nhầm") if voided else None,
        )
    )
    data.transactions += 1
    data.voided += voided
    slot = rollups[(local_day, str(method))]
    if not voided:
        slot[0] += 1
        slot[1] += amount
