"""Chợ 4.0 qualification: rule versions as data, what a market still lacks, CLI."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from chopay.reports import services
from chopay.reports.models import QualificationRule
from chopay.reports.queries import MarketPlace
from chopay.reports.services import Indicators, judge, rule_for


def rule(**kw: Any) -> QualificationRule:
    base = {
        "scheme": "legacy",
        "province_code": "19",
        "valid_from": dt.date(2022, 1, 1),
        "name": "R",
    }
    return QualificationRule(**{**base, **kw})


def figures(stalls: int, with_qr: int, active_with_qr: int = 0, active: int = 0) -> Indicators:
    return Indicators(
        markets=1,
        stall_count=stalls,
        adoption_stalls=stalls,
        vendors=with_qr,
        vendors_with_qr=with_qr,
        vendors_active=max(active, active_with_qr),
        vendors_active_with_qr=active_with_qr,
    )


def test_lacking_qr_vendors_are_counted_exactly(app: Any) -> None:
    with app.test_request_context():
        status = judge(rule(min_adoption_pct=90.0), figures(400, 323))
        assert status.status == "not_yet"
        assert [lack.message for lack in status.lacks] == ["cần thêm 37 tiểu thương có QR"]
        assert status.lacks[0].needed == 37  # 90 % of 400 = 360
        assert judge(rule(min_adoption_pct=90.0), figures(400, 360)).qualifies
        # thresholds compare the exact ratio, not the rounded percentage (89.95 → 90.0)
        assert not judge(rule(min_adoption_pct=90.0), figures(2000, 1799)).qualifies


def test_every_unmet_threshold_is_listed(app: Any) -> None:
    with app.test_request_context():
        status = judge(
            rule(
                min_adoption_pct=50.0,
                min_vendors_with_qr=30,
                min_active_pct=50.0,
                min_active_vendors=25,
            ),
            figures(40, 10, active_with_qr=2, active=4),
        )
        assert [(x.criterion, x.needed) for x in status.lacks] == [
            ("vendors_with_qr", 20),  # the larger of 50 % of 40 (10 more) and 30 (20 more)
            ("vendors_active_with_qr", 3),
            ("vendors_active", 21),
        ]
        assert status.lacks[1].message == (
            "cần thêm 3 tiểu thương có QR phát sinh giao dịch không tiền mặt"
        )


def test_market_without_stalls_or_rule(app: Any) -> None:
    with app.test_request_context():
        status = judge(rule(min_adoption_pct=90.0), figures(0, 5))
        assert status.lacks[0].criterion == "stall_count"
        assert judge(None, figures(10, 10)).status == "no_rule"
        assert judge(rule(min_active_pct=50.0), figures(10, 0)).lacks[0].needed == 1


def place(legacy: str | None, new: str | None) -> MarketPlace:
    return MarketPlace(1, "M", "Chợ", 10, 1, "0", "X", None, "19", legacy, new)


def test_newest_rule_of_either_scheme_judges() -> None:
    old = rule(id=1, valid_from=dt.date(2022, 1, 1))
    bac_kan = rule(id=2, province_code="06", valid_from=dt.date(2023, 1, 1))
    merged = rule(id=3, scheme="2025", valid_from=dt.date(2025, 7, 1))
    newest_first = [merged, bac_kan, old]
    assert rule_for(place("19", "19"), newest_first) is merged
    assert rule_for(place("06", "19"), newest_first) is merged
    assert rule_for(place("06", None), newest_first) is bac_kan
    assert rule_for(place("19", None), [bac_kan, old]) is old
    assert rule_for(place("01", "01"), newest_first) is None


def test_seed_default_rules_is_idempotent(db: Any) -> None:
    added = services.seed_default_rules()
    assert [(r.scheme, r.province_code, r.min_adoption_pct) for r in added] == [
        ("legacy", "19", 90.0),
        ("2025", "19", 90.0),
    ]
    assert services.seed_default_rules() == []


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"scheme": "1999"}, "scheme"),
        ({"province_code": "99"}, "province_code"),
        ({"min_adoption_pct": 120.0}, "min_adoption_pct"),
        ({"min_adoption_pct": None}, "min_adoption_pct"),
        ({"min_active_vendors": -1}, "min_active_vendors"),
    ],
)
def test_add_rule_rejects_bad_input(db: Any, kw: dict[str, Any], field: str) -> None:
    from chopay.errors import InvalidInputError

    args = {
        "scheme": "legacy",
        "province_code": "19",
        "valid_from": dt.date(2024, 1, 1),
        "name": "R",
        "min_adoption_pct": 80.0,
        **kw,
    }
    with pytest.raises(InvalidInputError) as err:
        services.add_rule(**args)
    assert field in err.value.details


def test_cli_adds_lists_and_refuses_duplicates(runner: Any) -> None:
    args = [
        "chopay",
        "reports",
        "add-rule",
        "--scheme",
        "legacy",
        "--province",
        "19",
        "--valid-from",
        "2024-01-01",
        "--name",
        "Tiêu chí 2024",
        "--min-adoption-pct",
        "80",
        "--min-active-vendors",
        "20",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "valid_from" in again.output
    listed = runner.invoke(args=["chopay", "reports", "list-rules", "--province", "19"])
    assert "Tiêu chí 2024" in listed.output and "QR/quầy ≥ 80%" in listed.output
    seeded = runner.invoke(args=["chopay", "reports", "seed-rules"])
    assert "2 rule(s) added" in seeded.output


def test_cli_checks_and_rebuilds_market_rollups(runner: Any, db: Any) -> None:
    from sqlalchemy import text

    from tests.reports.data import generate

    generate(seed=5, vendors_per_market=(2, 4))
    assert runner.invoke(args=["chopay", "reports", "rebuild-rollups", "--check"]).exit_code == 0
    db.session.execute(text("UPDATE market_daily_rollups SET tx_count = tx_count + 1"))
    db.session.execute(text("UPDATE vendor_activity_months SET day_mask = 0"))
    broken = runner.invoke(args=["chopay", "reports", "rebuild-rollups", "--check"])
    assert broken.exit_code == 1
    assert runner.invoke(args=["chopay", "reports", "rebuild-rollups"]).exit_code == 0
    assert services.report_rollup_drift() == []
