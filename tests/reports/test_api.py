"""``/api/v1/reports/adoption`` (+ .csv, .xlsx): scope, validation, file contents."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from chopay.vendors.models import VendorStatus
from tests.factories import MarketFactory, UserFactory, VendorFactory
from tests.reports.data import END, START, generate, seed_rules, unit

URL = "/api/v1/reports/adoption"
PERIOD = {"from": START.isoformat(), "to": END.isoformat()}


@pytest.fixture
def data(db: Any) -> Any:
    seed_rules()
    return generate(seed=3, vendors_per_market=(3, 8))


def get(client: Any, auth: Any, user: Any, path: str = URL, **params: Any) -> Any:
    return client.get(path, query_string=params, headers=auth.token_headers(user))


def test_admin_gets_rows_and_totals(client: Any, auth: Any, data: Any) -> None:
    resp = get(client, auth, UserFactory(), scheme="legacy", level="district", unit="19", **PERIOD)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["unit"]["code"] == "19" and body["level"] == "district"
    assert body["from"] == "2026-10-01" and body["to"] == "2026-10-31"
    assert len(body["rows"]) == 9  # Thái Nguyên's nine legacy districts, zeros included
    assert {"unit_code", "unit_name", "adoption_pct", "tx_value_vietqr"} <= set(body["rows"][0])
    assert body["totals"]["markets"] == sum(r["markets"] for r in body["rows"])
    assert body["scope_limited"] is False


def test_market_level_rows_carry_market_id_and_qualification(
    client: Any, auth: Any, data: Any
) -> None:
    body = get(
        client, auth, UserFactory(), scheme="2025", level="market", unit="19", **PERIOD
    ).get_json()
    row = body["rows"][0]
    assert isinstance(row["market_id"], int)
    assert row["qualification"]["status"] in ("qualifies", "not_yet", "no_rule")
    assert row["qualification"]["rule"]["name"] == "Thử nghiệm mới"
    lacking = [r for r in body["rows"] if r["qualification"]["lacks"]]
    assert lacking and lacking[0]["qualification"]["lacks"][0]["message"].startswith("cần thêm")


def test_officer_defaults_to_own_unit(client: Any, auth: Any, data: Any) -> None:
    officer = UserFactory.officer(unit("legacy", "164"))
    body = get(client, auth, officer, **PERIOD).get_json()
    assert body["scheme"] == "legacy" and body["unit"]["code"] == "164"
    assert body["level"] == "commune"
    assert all(r["unit_code"].startswith("0") for r in body["rows"])


def test_officer_of_one_district_cannot_query_another(client: Any, auth: Any, data: Any) -> None:
    officer = UserFactory.officer(unit("legacy", "164"))
    resp = get(client, auth, officer, scheme="legacy", level="commune", unit="171", **PERIOD)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"


def test_officer_looking_through_a_wider_unit_sees_only_own_markets(
    client: Any, auth: Any, data: Any
) -> None:
    officer = UserFactory.officer(unit("legacy", "164"))
    body = get(
        client, auth, officer, scheme="legacy", level="district", unit="19", **PERIOD
    ).get_json()
    assert body["scope_limited"] is True
    assert [r["unit_code"] for r in body["rows"]] == ["164"]
    # and through the 2025 scheme: only 2025 communes holding its markets
    body = get(client, auth, officer, scheme="2025", level="market", **PERIOD).get_json()
    assert body["scope_limited"] is True
    ids = {
        m.id
        for m in data.markets
        if m.legacy_commune and m.legacy_commune.district_code == "164" and m.is_active
    }
    assert {r["market_id"] for r in body["rows"]} == ids


def test_board_sees_its_market_only(client: Any, auth: Any, data: Any) -> None:
    market = data.markets[3]
    board = UserFactory.board(market)
    body = get(client, auth, board, **PERIOD).get_json()
    assert [r["market_id"] for r in body["rows"]] == [market.id]
    other = data.markets[0].legacy_commune.code
    assert get(client, auth, board, scheme="legacy", unit=other, **PERIOD).status_code == 403


@pytest.mark.parametrize("role", ["helper", "vendor"])
def test_roles_without_reports_are_refused(client: Any, auth: Any, db: Any, role: str) -> None:
    market = MarketFactory()
    user = (
        UserFactory.helper(market)
        if role == "helper"
        else UserFactory.vendor(VendorFactory(market=market))
    )
    assert get(client, auth, user).status_code == 403


def test_anonymous_is_refused(client: Any, db: Any) -> None:
    resp = client.get(URL)
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "village"}, "level"),
        ({"scheme": "1975"}, "scheme"),
        ({"scheme": "2025", "level": "district"}, "level"),
        ({"from": "2026-10-31", "to": "2026-10-01"}, "from"),
        ({"from": "31/10/2026"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"scheme": "legacy", "unit": "99999"}, "unit"),
        ({"scheme": "legacy", "unit": "abc"}, "unit"),
        ({"scheme": "legacy", "unit": "164", "level": "province"}, "level"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: Any, auth: Any, db: Any, params: dict[str, str], field: str
) -> None:
    resp = get(client, auth, UserFactory(), **params)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["details"]


def test_csv_has_vietnamese_headers_and_the_same_numbers(client: Any, auth: Any, data: Any) -> None:
    admin = UserFactory()
    params = {"scheme": "legacy", "level": "market", "unit": "19", **PERIOD}
    body = get(client, auth, admin, **params).get_json()
    resp = get(client, auth, admin, URL + ".csv", **params)
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    header = table[0]
    assert header[:2] == ["Mã đơn vị", "Tên đơn vị"]
    assert "Tiểu thương có QR" in header and "Tỷ lệ có QR trên số quầy (%)" in header
    assert "Còn thiếu" in header
    rows = table[1:-1]
    assert len(rows) == len(body["rows"])
    col = header.index("Tiểu thương có QR")
    assert [int(r[col]) for r in rows] == [r["vendors_with_qr"] for r in body["rows"]]
    value = header.index("Giá trị không tiền mặt (đồng)")
    assert table[-1][1] == "Tổng cộng"
    assert int(table[-1][value]) == body["totals"]["tx_value"]


def test_exports_do_not_let_names_become_formulas(client: Any, auth: Any, db: Any) -> None:
    MarketFactory(name='=HYPERLINK("http://evil.example","bấm")', stall_count=10)
    MarketFactory(name="+1+1", stall_count=10)
    admin = UserFactory()
    params = {"scheme": "legacy", "level": "market", "unit": "171", **PERIOD}
    text = get(client, auth, admin, URL + ".csv", **params).get_data().decode("utf-8-sig")
    names = [r[1] for r in csv.reader(io.StringIO(text))]
    assert '\'=HYPERLINK("http://evil.example","bấm")' in names and "'+1+1" in names
    resp = get(client, auth, admin, URL + ".xlsx", **params)
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    assert "'+1+1" in [c.value for c in cells]


def test_xlsx_parses_back_to_the_same_numbers(client: Any, auth: Any, data: Any) -> None:
    admin = UserFactory()
    params = {"scheme": "2025", "level": "commune", "unit": "19", **PERIOD}
    body = get(client, auth, admin, **params).get_json()
    resp = get(client, auth, admin, URL + ".xlsx", **params)
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(values) if r[0] == "Mã đơn vị")
    header = values[start]
    rows = values[start + 1 : -1]
    assert len(rows) == len(body["rows"])
    for key, label in (
        ("vendors", "Tiểu thương đăng ký"),
        ("tx_value", "Giá trị không tiền mặt (đồng)"),
        ("tx_count_card", "Số giao dịch thẻ"),
    ):
        col = header.index(label)
        assert [r[col] for r in rows] == [r[key] for r in body["rows"]]
        assert values[-1][col] == body["totals"][key]
    pct = header.index("Tỷ lệ có QR trên số quầy (%)")
    assert [r[pct] if r[pct] != "" else None for r in rows] == [
        r["adoption_pct"] for r in body["rows"]
    ]


def test_left_vendors_do_not_count(client: Any, auth: Any, db: Any) -> None:
    market = MarketFactory(stall_count=10)
    VendorFactory(market=market)
    VendorFactory(market=market, status=VendorStatus.LEFT)
    body = get(
        client,
        auth,
        UserFactory(),
        scheme="legacy",
        level="market",
        unit=market.legacy_commune.code,
    ).get_json()
    row = next(r for r in body["rows"] if r["market_id"] == market.id)
    assert row["vendors"] == 1
