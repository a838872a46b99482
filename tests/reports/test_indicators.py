"""Every indicator, at every level and in both schemes, against an independent count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from chopay.admin_units.models import AdminUnit
from chopay.reports import services
from chopay.reports.models import MarketDailyRollup
from chopay.transactions.models import DailyRollup
from tests.factories import UserFactory
from tests.reports.data import END, START, Dataset, generate, seed_rules, unit
from tests.reports.oracle import Oracle

# (scheme, level, area unit code or None for the country)
CASES = [
    ("legacy", "province", None),
    ("legacy", "province", "19"),
    ("legacy", "district", "19"),
    ("legacy", "commune", "19"),
    ("legacy", "market", "19"),
    ("legacy", "commune", "164"),
    ("legacy", "market", "164"),
    ("legacy", "market", "05461"),  # the split commune
    ("legacy", "district", "06"),  # Bắc Kạn, merged into 2025 province 19
    ("legacy", "commune", "05461"),
    ("2025", "province", None),
    ("2025", "province", "19"),
    ("2025", "commune", "19"),
    ("2025", "market", "19"),
    ("2025", "market", "05467"),  # gets markets from two legacy communes
    ("2025", "commune", "05443"),
]
PERIODS = [
    (START, END),  # judged by the 2025 rule (valid from 15/10)
    (START + dt.timedelta(days=3), START + dt.timedelta(days=12)),  # by the legacy rule
    (END, END),  # one day
]


@pytest.fixture
def dataset(db: Any) -> Dataset:
    seed_rules()
    return generate(seed=11)


def _compare(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    for name, value in want.items():
        assert got[name] == value, f"{where}: {name} is {got[name]!r}, expected {value!r}"


def _check(scheme: str, level: str, code: str | None, start: dt.date, end: dt.date) -> None:
    admin = UserFactory()
    report = services.adoption_report(
        admin, scheme=scheme, level=level, unit=code, start=start, end=end
    )
    area = unit(scheme, code) if code else None
    want_rows, want_totals = Oracle().report(scheme, level, area, start, end)
    where = f"{scheme}/{level}/{code} {start}..{end}"
    assert [r["unit_code"] for r in report.rows] == sorted(want_rows), where
    for row in report.rows:
        _compare(row, want_rows[row["unit_code"]], f"{where} row {row['unit_code']}")
    _compare(report.totals, want_totals, f"{where} totals")
    assert set(report.totals) == set(services.INDICATOR_FIELDS)


@pytest.mark.parametrize(("scheme", "level", "code"), CASES)
def test_indicators_match_an_independent_count_of_the_ledger(
    dataset: Dataset, scheme: str, level: str, code: str | None
) -> None:
    for start, end in PERIODS:
        _check(scheme, level, code, start, end)


def test_generated_data_has_the_awkward_cases(dataset: Dataset, db: Any) -> None:
    oracle = Oracle()
    assert dataset.voided > 10
    assert any(t.source == "webhook" and t.voided_at for t in oracle.txs)  # duplicates
    assert any(t.method == "cash" for t in oracle.txs)
    assert any(v.status == "left" for v in dataset.vendors)
    two = [v for v in dataset.vendors if sum(1 for a in v.accounts if a.status == "approved") > 1]
    assert two, "some vendors hold two approved accounts"
    totals = Oracle().report("legacy", "province", None, START, END)[1]
    assert totals["vendors_with_qr"] > 0 and totals["dormant_vendors"] > 0
    assert totals["qualifying_markets"] >= 0
    # one legacy commune's markets fall into two 2025 communes
    split = [m for m in dataset.markets if m.legacy_commune and m.legacy_commune.code == "05461"]
    assert len({m.new_commune_id for m in split}) == 2


def test_report_rollups_kept_by_triggers_match_the_vendor_rollups(
    dataset: Dataset, db: Any
) -> None:
    def totals(model: Any) -> list[tuple[Any, ...]]:
        return [  # rows emptied by voids may stay behind with zeros: leave them out
            tuple(r)
            for r in db.session.execute(
                select(
                    model.market_id,
                    model.day,
                    model.method,
                    func.sum(model.tx_count),
                    func.sum(model.tx_value),
                )
                .group_by(model.market_id, model.day, model.method)
                .having(func.sum(model.tx_count) > 0)
                .order_by(model.market_id, model.day, model.method)
            )
        ]

    assert totals(MarketDailyRollup) == totals(DailyRollup)
    # a void lowers, a deletion removes, a move between days shifts
    row = db.session.scalars(select(DailyRollup).where(DailyRollup.tx_count > 1)).first()
    row.tx_count -= 1
    row.tx_value -= 1000
    db.session.flush()
    assert totals(MarketDailyRollup) == totals(DailyRollup)
    assert services.report_rollup_drift() == []
    row.day = row.day + dt.timedelta(days=400)
    db.session.flush()
    db.session.delete(db.session.scalars(select(DailyRollup)).first())
    zeroed = db.session.scalars(
        select(DailyRollup).where(DailyRollup.method != "cash", DailyRollup.tx_count > 0)
    ).all()[-1]
    zeroed.tx_count, zeroed.tx_value = 0, 0  # every payment of the day voided
    db.session.flush()
    assert totals(MarketDailyRollup) == totals(DailyRollup)
    assert services.report_rollup_drift() == []


def test_units_without_markets_appear_with_zeros(db: Any) -> None:
    admin = UserFactory()
    report = services.adoption_report(
        admin, scheme="legacy", level="district", unit="19", start=START, end=END
    )
    districts = db.session.scalars(
        select(AdminUnit.code).where(
            AdminUnit.scheme == "legacy",
            AdminUnit.level == "district",
            AdminUnit.province_code == "19",
        )
    ).all()
    assert [r["unit_code"] for r in report.rows] == sorted(districts)
    assert all(r["markets"] == 0 and r["adoption_pct"] is None for r in report.rows)
    assert report.totals["cashless_share"] is None


def test_month_masks_cover_exactly_the_period() -> None:
    from chopay.reports.queries import month_masks

    masks = month_masks(dt.date(2026, 1, 30), dt.date(2026, 3, 2))
    assert masks == [
        (dt.date(2026, 1, 1), (1 << 29) | (1 << 30)),  # 30 and 31 January
        (dt.date(2026, 2, 1), (1 << 28) - 1),  # all 28 days of February
        (dt.date(2026, 3, 1), 0b11),
    ]
    assert month_masks(dt.date(2026, 10, 5), dt.date(2026, 10, 5)) == [
        (dt.date(2026, 10, 1), 1 << 4)
    ]


def test_monthly_trend_agrees_with_the_report_of_each_month(dataset: Dataset, db: Any) -> None:
    admin = UserFactory()
    args = {"scheme": "2025", "level": "province", "unit": "19"}
    report = services.adoption_report(admin, start=START, end=END, **args)
    end = END + dt.timedelta(days=3)  # a month cut short: 1–3 November
    points = services.monthly_trend(report.area, end, months=3)
    assert [p.month for p in points] == [
        dt.date(2026, 9, 1),
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 1),
    ]
    assert points[-1].last_day == end
    for point in points:
        month = services.adoption_report(admin, start=point.month, end=point.last_day, **args)
        assert point.vendors_with_qr == month.totals["vendors_with_qr"]
        assert point.adoption_pct == month.totals["adoption_pct"]
        assert point.tx_count == month.totals["tx_count"]
        assert point.tx_value == month.totals["tx_value"]
        assert point.cash_value == month.totals["cash_value"]
    assert len({p.vendors_with_qr for p in points}) > 1
