"""``chopay demo``: a believable Thái Nguyên programme on a fresh database.

Real legacy districts and communes (from the loaded admin units), ~15 markets,
~2,000 vendors with Vietnamese names and valid bank BINs, maker-checker approved
accounts with issued VietQR codes, 90 days of payments, and one login per role.
Everything comes from one seeded PRNG, so ``--seed`` makes it reproducible.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, insert, select

from chopay.admin_units.models import AdminUnit, Scheme, UnitLevel
from chopay.admin_units.services import place_commune
from chopay.auth.models import User
from chopay.auth.services import create_user
from chopay.cli import chopay_cli
from chopay.db import utcnow
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.text import fold, slugify
from chopay.transactions.models import Method, Source, Transaction
from chopay.vendors.models import (
    AccountStatus,
    OnboardingOrg,
    PaymentAccount,
    QrCode,
    Vendor,
    VendorStatus,
)
from chopay.vietqr import build_payload

logger = logging.getLogger(__name__)
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEMO_PASSWORD = "cho40-demo"  # noqa: S105 - printed demo credential, documented in README
DAYS = 90

# (market name, legacy district code, preferred commune short name, stalls, class)
MARKETS: tuple[tuple[str, str, str, int, str], ...] = (
    ("Chợ Thái", "164", "Phan Đình Phùng", 420, "1"),
    ("Chợ Đồng Quang", "164", "Đồng Quang", 180, "2"),
    ("Chợ Túc Duyên", "164", "Túc Duyên", 150, "2"),
    ("Chợ Trung tâm Sông Công", "165", "Thắng Lợi", 190, "2"),
    ("Chợ Ba Hàng", "172", "Ba Hàng", 210, "2"),
    ("Chợ Chu", "167", "Chợ Chu", 120, "2"),
    ("Chợ Đu", "168", "Đu", 140, "2"),
    ("Chợ Giang Tiên", "168", "Giang Tiên", 80, "3"),
    ("Chợ Chùa Hang", "169", "Chùa Hang", 130, "2"),
    ("Chợ Đình Cả", "170", "Đình Cả", 90, "3"),
    ("Chợ Trung tâm Đại Từ", "171", "Hùng Sơn", 400, "1"),
    ("Chợ Quân Chu", "171", "Quân Chu", 70, "3"),
    ("Chợ Úc Sơn", "173", "Hương Sơn", 160, "2"),
    ("Chợ Điềm Thụy", "173", "Điềm Thụy", 75, "3"),
    ("Chợ Bắc Sơn", "172", "Bắc Sơn", 95, "3"),
)

SURNAMES = (
    ("Nguyễn", 31),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Vũ", 4),
    ("Đặng", 3),
    ("Bùi", 3),
    ("Đỗ", 3),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 2),
    ("Lý", 1),
    ("Ma", 1),
    ("Nông", 1),
    ("Lương", 1),
    ("Triệu", 1),
    ("Hà", 1),
)
FEMALE_MIDDLE = ("Thị", "Thị", "Thị", "Thu", "Thanh", "Ngọc", "Minh", "Kim")
MALE_MIDDLE = ("Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Công")
FEMALE_GIVEN = (
    "Hường",
    "Lan",
    "Hoa",
    "Huệ",
    "Mai",
    "Nga",
    "Hằng",
    "Thủy",
    "Loan",
    "Dung",
    "Hạnh",
    "Thảo",
    "Yến",
    "Liên",
    "Oanh",
    "Nhung",
    "Phượng",
    "Tuyết",
    "Vân",
    "Hà",
)
MALE_GIVEN = (
    "Hùng",
    "Dũng",
    "Tuấn",
    "Bình",
    "Cường",
    "Thắng",
    "Long",
    "Sơn",
    "Hải",
    "Minh",
    "Quý",
    "Toàn",
    "Đức",
    "Khoa",
    "Phúc",
)
ZONES = ("Khu A", "Khu B", "Khu C", "Nhà lồng", "Ngoài trời")
GOODS = (
    ("Rau củ quả", 18),
    ("Thịt", 10),
    ("Cá, hải sản", 6),
    ("Trái cây", 8),
    ("Quần áo", 12),
    ("Tạp hóa", 12),
    ("Ăn uống", 9),
    ("Gạo, ngũ cốc", 5),
    ("Chè Thái Nguyên", 6),
    ("Giày dép", 4),
    ("Đồ gia dụng", 5),
    ("Hoa", 2),
    ("Khác", 3),
)
# BINs of banks common in Thái Nguyên markets (weights by how often boards see them).
BANKS = (
    ("970405", 24),
    ("970418", 16),
    ("970415", 14),
    ("970436", 12),
    ("970422", 10),
    ("970407", 6),
    ("970432", 5),
    ("970423", 4),
    ("970416", 3),
    ("970403", 2),
    ("970449", 2),
    ("970443", 2),
)
PHONE_PREFIXES = (
    "098",
    "097",
    "096",
    "086",
    "091",
    "094",
    "088",
    "090",
    "093",
    "089",
    "035",
    "036",
    "037",
    "038",
    "039",
    "083",
    "084",
    "085",
    "070",
    "076",
    "077",
    "078",
)
METHODS = ((Method.VIETQR, 70), (Method.EWALLET, 8), (Method.CARD, 2), (Method.CASH, 20))
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _weighted(rng: random.Random, pairs: Iterable[tuple[object, int]]) -> object:
    items = list(pairs)
    return rng.choices([p[0] for p in items], weights=[p[1] for p in items])[0]


def _name(rng: random.Random) -> str:
    surname = str(_weighted(rng, SURNAMES))
    if rng.random() < 0.68:  # market traders are mostly women
        return f"{surname} {rng.choice(FEMALE_MIDDLE)} {rng.choice(FEMALE_GIVEN)}"
    return f"{surname} {rng.choice(MALE_MIDDLE)} {rng.choice(MALE_GIVEN)}"


def _holder(name: str) -> str:
    """Bank account holder names are upper-case without diacritics."""
    return fold(name).upper()


def _code(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(length))


@dataclass
class DemoSummary:
    markets: int = 0
    vendors: int = 0
    accounts: int = 0
    qr_codes: int = 0
    transactions: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)

    def describe(self) -> str:
        """A printable summary with the demo logins."""
        lines = [
            f"Demo: {self.markets} markets, {self.vendors} vendors, {self.accounts} accounts, "
            f"{self.qr_codes} QR codes, {self.transactions} transactions over {DAYS} days.",
            "Logins (username / password — role):",
        ]
        lines += [f"  {u} / {p} — {r}" for u, p, r in self.users]
        return "\n".join(lines)


def _commune(district_code: str, short_name: str) -> AdminUnit:
    communes = db.session.scalars(
        select(AdminUnit)
        .where(
            AdminUnit.scheme == Scheme.LEGACY,
            AdminUnit.level == UnitLevel.COMMUNE,
            AdminUnit.district_code == district_code,
        )
        .order_by(AdminUnit.code)
    ).all()
    if not communes:
        raise click.ClickException(
            "Administrative units of Thái Nguyên are missing: run "
            "`flask --app wsgi chopay load-admin-units --province 19` first."
        )
    wanted = slugify(short_name)
    for unit in communes:
        if slugify(unit.short_name) == wanted:
            return unit
    return communes[0]


def build_demo(seed: int = 2022, *, scale: float = 1.0) -> DemoSummary:
    """Create the demo programme in the current session (the caller commits).

    ``scale`` shrinks the share of stalls registered (tests use a small programme).
    """
    if db.session.scalar(select(func.count()).select_from(Market)):
        raise click.ClickException("The database already has markets; demo data needs a fresh one.")
    rng = random.Random(seed)
    summary = DemoSummary()
    now = utcnow()

    markets: list[Market] = []
    for i, (name, district, commune_name, stalls, klass) in enumerate(MARKETS, start=1):
        placement = place_commune(Scheme.LEGACY, _commune(district, commune_name).code)
        market = Market(
            code=f"TN-{district}-{i:02d}",
            name=name,
            address=f"{placement.legacy_commune.name}, {placement.legacy_commune.parent.name}"
            if placement.legacy_commune and placement.legacy_commune.parent
            else None,
            market_class=klass,
            stall_count=stalls,
            legacy_commune=placement.legacy_commune,
            new_commune=placement.new_commune,
            needs_location_review=placement.needs_review,
        )
        db.session.add(market)
        markets.append(market)
    db.session.flush()
    summary.markets = len(markets)

    # One login per role. The helper (a bank's staff) enters accounts; the board approves.
    daitu = next(m for m in markets if m.name == "Chợ Trung tâm Đại Từ")
    province = db.session.scalar(
        select(AdminUnit).where(AdminUnit.scheme == Scheme.LEGACY, AdminUnit.code == "19")
    )
    district = db.session.scalar(
        select(AdminUnit).where(AdminUnit.scheme == Scheme.LEGACY, AdminUnit.code == "171")
    )
    admin = create_user(
        username="admin", role="admin", password=DEMO_PASSWORD, full_name="Quản trị hệ thống"
    )
    create_user(
        username="sct.thainguyen",
        role="officer",
        password=DEMO_PASSWORD,
        unit=province,
        full_name="Sở Công Thương Thái Nguyên",
    )
    create_user(
        username="ubnd.daitu",
        role="officer",
        password=DEMO_PASSWORD,
        unit=district,
        full_name="Phòng Kinh tế huyện Đại Từ",
    )
    boards = {
        m.id: create_user(
            username=f"bql.{m.code.lower()}",
            role="board",
            password=DEMO_PASSWORD,
            market_ids=[m.id],
            full_name=f"Ban quản lý {m.name}",
        )
        for m in markets
    }
    helper = create_user(
        username="hotro.agribank",
        role="helper",
        password=DEMO_PASSWORD,
        market_ids=[m.id for m in markets],
        full_name="Cán bộ Agribank Thái Nguyên",
        organisation="Agribank Chi nhánh Thái Nguyên",
    )
    db.session.flush()

    vendor_rows: list[dict[str, object]] = []
    used_phones: set[str] = set()
    used_refs: set[str] = set()
    for market in markets:
        registered = max(3, int(market.stall_count * rng.uniform(0.78, 0.95) * scale))
        for n in range(1, registered + 1):
            phone = ""
            while not phone or phone in used_phones:
                phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**7):07d}"
            used_phones.add(phone)
            ref = ""
            while not ref or ref in used_refs:
                ref = "CP" + _code(rng, 6)
            used_refs.add(ref)
            status = VendorStatus.ACTIVE
            roll = rng.random()
            if roll < 0.03:
                status = VendorStatus.LEFT
            elif roll < 0.06:
                status = VendorStatus.PENDING
            vendor_rows.append(
                {
                    "market_id": market.id,
                    "full_name": _name(rng),
                    "stall": f"{'ABCDE'[n % 5]}-{n:03d}",
                    "zone": rng.choice(ZONES),
                    "goods_category": str(_weighted(rng, GOODS)),
                    "phone": phone,
                    "has_smartphone": rng.random() < 0.82,
                    "has_payment_speaker": rng.random() < 0.45,
                    "status": status,
                    "onboarding_org": rng.choice(
                        [
                            OnboardingOrg.BANK,
                            OnboardingOrg.BANK,
                            OnboardingOrg.COMMUNITY,
                            OnboardingOrg.TELCO,
                            OnboardingOrg.BOARD,
                        ]
                    ),
                    "onboarded_by_id": helper.id,
                    "reference": ref,
                    "created_at": now - dt.timedelta(days=rng.randint(DAYS, DAYS + 200)),
                    "updated_at": now,
                    "left_at": now - dt.timedelta(days=rng.randint(1, 60))
                    if status == VendorStatus.LEFT
                    else None,
                }
            )
    db.session.execute(insert(Vendor), vendor_rows)
    vendors = db.session.execute(
        select(
            Vendor.id, Vendor.market_id, Vendor.full_name, Vendor.status, Vendor.reference
        ).order_by(Vendor.id)
    ).all()
    summary.vendors = len(vendors)

    # Accounts: most active vendors have one approved account with a QR code; a few
    # changed banks (old account replaced, its code revoked); some still await approval.
    qr_vendors: list[tuple[int, int]] = []  # (vendor id, market id) with a live static code
    for v in vendors:
        if v.status == VendorStatus.PENDING or rng.random() < 0.12:
            if rng.random() < 0.5:
                _account(rng, v, helper.id, None, AccountStatus.PENDING, primary=False)
                summary.accounts += 1
            continue
        approver = boards[v.market_id].id
        changed = rng.random() < 0.05
        if changed:
            old = _account(rng, v, helper.id, approver, AccountStatus.REPLACED, primary=False)
            _code_for(rng, old, v, revoked=True)
            summary.accounts += 1
            summary.qr_codes += 1
        acc = _account(rng, v, helper.id, approver, AccountStatus.APPROVED, primary=True)
        _code_for(rng, acc, v, revoked=v.status == VendorStatus.LEFT)
        summary.accounts += 1
        summary.qr_codes += 1
        if v.status != VendorStatus.LEFT:
            qr_vendors.append((v.id, v.market_id))
    db.session.flush()

    summary.transactions = _payments(rng, qr_vendors, vendors, admin.id, now)
    _seed_rules()
    summary.users = [
        ("admin", DEMO_PASSWORD, "admin"),
        ("sct.thainguyen", DEMO_PASSWORD, "officer: tỉnh Thái Nguyên (legacy:19)"),
        ("ubnd.daitu", DEMO_PASSWORD, "officer: huyện Đại Từ (legacy:171)"),
        (f"bql.{daitu.code.lower()}", DEMO_PASSWORD, f"board: {daitu.name}"),
        ("hotro.agribank", DEMO_PASSWORD, "helper: all demo markets"),
    ]
    vendor_user = _vendor_login(daitu)
    if vendor_user is not None:
        summary.users.append(
            (
                vendor_user.username,
                DEMO_PASSWORD,
                "vendor: " + (vendor_user.vendor.full_name if vendor_user.vendor else ""),
            )
        )
    logger.info("demo built: %s", summary)
    return summary


def _account(
    rng: random.Random,
    vendor: object,
    maker_id: int,
    checker_id: int | None,
    status: AccountStatus,
    *,
    primary: bool,
) -> PaymentAccount:
    bank_bin = str(_weighted(rng, BANKS))
    number = str(rng.choice([rng.randrange(10**9, 10**10), rng.randrange(10**12, 10**13)]))
    account = PaymentAccount(
        vendor_id=vendor.id,  # type: ignore[attr-defined]
        bank_bin=bank_bin,
        account_number=number,
        account_name=_holder(vendor.full_name),  # type: ignore[attr-defined]
        status=status,
        is_primary=primary,
        created_by_id=maker_id,
        decided_by_id=checker_id,
        decided_at=utcnow() if checker_id else None,
    )
    db.session.add(account)
    return account


def _code_for(
    rng: random.Random, account: PaymentAccount, vendor: object, *, revoked: bool
) -> None:
    ref = vendor.reference  # type: ignore[attr-defined]
    payload = build_payload(account.bank_bin, account.account_number, purpose=ref)
    db.session.add(
        QrCode(
            vendor_id=vendor.id,  # type: ignore[attr-defined]
            account=account,
            payload=payload,
            verify_code=_code(rng, 6),
            is_dynamic=False,
            issued_at=utcnow() - dt.timedelta(days=DAYS + 1),
            revoked_at=utcnow() - dt.timedelta(days=rng.randint(1, 80)) if revoked else None,
            revoked_reason="Đổi tài khoản" if revoked else None,
        )
    )


def _payments(
    rng: random.Random,
    qr_vendors: list[tuple[int, int]],
    vendors: list[object],
    reporter_id: int,
    now: dt.datetime,
) -> int:
    """Insert 90 days of payments in bulk, then rebuild the rollups from the ledger."""
    from chopay.transactions.rollups import rebuild_rollups

    today = now.astimezone(VN_TZ).date()
    rows: list[dict[str, object]] = []
    active = [v for v in qr_vendors if rng.random() < 0.7]  # the rest stay dormant
    seq = 0
    for vendor_id, market_id in active:
        daily = rng.uniform(0.3, 4.0)
        start = rng.randint(0, 60)  # many started taking QR payments part-way through
        for day_offset in range(start, DAYS):
            day = today - dt.timedelta(days=DAYS - 1 - day_offset)
            for _ in range(_poisson(rng, daily)):
                seq += 1
                local = dt.datetime.combine(
                    day, dt.time(rng.randint(5, 18), rng.randint(0, 59)), tzinfo=VN_TZ
                )
                occurred = local.astimezone(dt.UTC)
                if occurred > now:
                    continue
                method = _weighted(rng, METHODS)
                voided = rng.random() < 0.004
                rows.append(
                    {
                        "vendor_id": vendor_id,
                        "market_id": market_id,
                        "amount_vnd": rng.choice(
                            (
                                10,
                                15,
                                20,
                                25,
                                30,
                                35,
                                40,
                                50,
                                60,
                                80,
                                100,
                                120,
                                150,
                                200,
                                250,
                                300,
                                500,
                            )
                        )
                        * 1000,
                        "occurred_at": occurred,
                        "local_day": day,
                        "method": method,
                        "source": Source.VENDOR if method == Method.CASH else Source.WEBHOOK,
                        "external_ref": f"demo-{seq:08d}",
                        "reporter_id": reporter_id,
                        "created_at": occurred,
                        "voided_at": occurred + dt.timedelta(hours=1) if voided else None,
                        "voided_by_id": reporter_id if voided else None,
                        "void_reason": "Nhập nhầm số tiền" if voided else None,
                    }
                )
    for start in range(0, len(rows), 20_000):
        db.session.execute(insert(Transaction), rows[start : start + 20_000])
    db.session.flush()
    rebuild_rollups()
    return len(rows)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates used here
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _seed_rules() -> None:
    try:
        from chopay.reports.services import seed_default_rules
    except ImportError:
        return
    seed_default_rules()


def _vendor_login(market: Market) -> User | None:
    """The demo vendor's login: the market's first vendor with a QR code who was paid
    in the last week (a third of the demo's vendors stay dormant, and a login showing
    no sales demonstrates little), else its first vendor with a QR code."""
    with_qr = (
        select(Vendor)
        .join(QrCode, QrCode.vendor_id == Vendor.id)
        .where(Vendor.market_id == market.id, QrCode.revoked_at.is_(None))
        .order_by(Vendor.id)
    )
    recent = utcnow() - dt.timedelta(days=7)
    paid = select(Transaction.id).where(
        Transaction.vendor_id == Vendor.id, Transaction.occurred_at >= recent
    )
    vendor = db.session.scalar(with_qr.where(paid.exists())) or db.session.scalar(with_qr)
    if vendor is None:
        return None
    return create_user(
        username="tieuthuong.demo",
        role="vendor",
        password=DEMO_PASSWORD,
        vendor_id=vendor.id,
        full_name=vendor.full_name,
    )


@chopay_cli.command("demo")
@click.option("--seed", default=2022, show_default=True, type=int, help="PRNG seed")
def demo_command(seed: int) -> None:
    """Build the Thái Nguyên demo programme on a fresh database."""
    summary = build_demo(seed=seed)
    db.session.commit()
    click.echo(summary.describe())
