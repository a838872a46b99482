"""Open data: public, aggregates only, small cells suppressed and never recoverable."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest

from chopay.reports import opendata, services
from chopay.vendors.models import PaymentAccount
from tests.reports.data import END, START, generate, seed_rules
from tests.reports.oracle import Oracle

URL = "/open-data/adoption.json"
MONTH = "2026-10"
VENDOR_FIELDS = opendata.VENDOR_FIELDS
PAYMENT_FIELDS = opendata.PAYMENT_FIELDS


@pytest.fixture(autouse=True)
def _november(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "today_vn", lambda: dt.date(2026, 11, 15))


@pytest.fixture
def data(db: Any) -> Any:
    seed_rules()
    return generate(seed=2, vendors_per_market=(2, 14))


def fetch(client: Any, **params: Any) -> dict[str, Any]:
    resp = client.get(URL, query_string={"month": MONTH, **params})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_open_data_page_is_public_with_licence_and_dictionary(client: Any, db: Any) -> None:
    resp = client.get("/open-data")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "CC BY 4.0" in html and 'rel="license"' in html
    for name, _kind, _meaning in opendata.DICTIONARY:
        assert f"<code>{name}</code>" in html
    assert "dưới 5 tiểu thương" in html


def test_market_cells_below_five_vendors_are_withheld(client: Any, data: Any) -> None:
    body = fetch(client, scheme="legacy", level="market", unit="19")
    assert body["licence"]["name"] == "CC BY 4.0"
    oracle = Oracle()
    by_id = {m.id: m for m in oracle.markets}
    small = quiet = 0
    for row in body["rows"]:
        truth = oracle.market(by_id[row["market_id"]], START, END)
        if truth["vendors"] < 5:
            small += 1
            assert all(row[f] is None for f in VENDOR_FIELDS), row
            assert row["markets_vendor_data_withheld"] == 1
        else:
            assert row["vendors"] == truth["vendors"]
            assert row["vendors_with_qr"] == truth["with_qr"]
        if truth["active"] < 5:
            quiet += 1
            assert row["tx_count"] is None and row["tx_value"] is None
            assert row["markets_payment_data_withheld"] == 1
        else:
            assert row["tx_value"] == sum(
                truth["values"].get(m, 0) for m in ("vietqr", "ewallet", "card")
            )
        assert row["stall_count"] == truth["stall_count"]  # the register is public
    assert small >= 1 and quiet > small  # the data holds both kinds of small cells


def _published_sum(rows: list[dict[str, Any]], field: str) -> int:
    return sum(r[field] for r in rows if r[field] is not None)


@pytest.mark.parametrize(
    ("scheme", "level", "unit"),
    [
        ("legacy", "district", "19"),
        ("legacy", "commune", "164"),
        ("legacy", "province", None),
        ("2025", "commune", "19"),
        ("2025", "province", None),
    ],
)
def test_totals_are_sums_of_published_market_cells_only(
    client: Any, data: Any, scheme: str, level: str, unit: str | None
) -> None:
    """So no total minus published markets can reveal a withheld market."""
    params = {"scheme": scheme, "level": level, **({"unit": unit} if unit else {})}
    units = fetch(client, **params)
    markets = fetch(client, scheme=scheme, level="market", **({"unit": unit} if unit else {}))
    for field in (
        "vendors",
        "vendors_with_qr",
        "vendors_active",
        "dormant_vendors",
        "tx_count",
        "tx_value",
        "qualifying_markets",
    ):
        published = _published_sum(markets["rows"], field)
        assert _published_sum(units["rows"], field) == published, field
        assert (units["totals"][field] or 0) == published, field
    for field in (
        "markets_vendor_data_withheld",
        "markets_payment_data_withheld",
        "markets",
        "stall_count",
    ):
        assert (
            units["totals"][field]
            == markets["totals"][field]
            == sum(r[field] for r in markets["rows"])
        )


def test_a_unit_of_only_small_markets_shows_unknown_not_zero(client: Any, db: Any) -> None:
    from tests.factories import MarketFactory, VendorFactory

    market = MarketFactory(stall_count=10)
    for _ in range(3):
        VendorFactory(market=market, created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    body = fetch(client, scheme="legacy", level="commune", unit=market.legacy_commune.code)
    row = body["rows"][0]
    assert row["markets"] == 1 and row["stall_count"] == 10
    assert row["vendors"] is None and row["adoption_pct"] is None
    assert row["markets_vendor_data_withheld"] == 1


def test_no_names_or_accounts_are_published(client: Any, data: Any, db: Any) -> None:
    text = client.get(
        URL, query_string={"scheme": "2025", "level": "market", "unit": "19", "month": MONTH}
    ).get_data(as_text=True)
    for vendor in data.vendors:
        assert vendor.full_name not in text
        assert vendor.phone not in text
    for account in db.session.query(PaymentAccount).all():
        assert account.account_number not in text


def test_csv_matches_json_with_empty_withheld_cells(client: Any, data: Any) -> None:
    params = {"scheme": "legacy", "level": "market", "unit": "19", "month": MONTH}
    body = fetch(client, **params)
    resp = client.get("/open-data/adoption.csv", query_string=params)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert table[-1]["unit_code"] == "total"
    for row, want in zip(table[:-1], body["rows"], strict=True):
        for field in ("vendors", "tx_value", "adoption_pct"):
            assert row[field] == ("" if want[field] is None else str(want[field]))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"month": "2026-11"}, "month"),  # not over yet
        ({"month": "2026-13"}, "month"),
        ({"month": "10/2026"}, "month"),
        ({"scheme": "2025", "level": "district"}, "level"),
        ({"scheme": "x"}, "scheme"),
        ({"scheme": "legacy", "unit": "77777"}, "unit"),
    ],
)
def test_bad_open_data_queries_are_422_json(
    client: Any, db: Any, params: dict[str, str], field: str
) -> None:
    resp = client.get(URL, query_string=params)
    assert resp.status_code == 422
    assert field in resp.get_json()["error"]["details"]


def test_default_is_last_complete_month_by_province(client: Any, data: Any) -> None:
    body = client.get(URL).get_json()
    assert body["month"] == "2026-10" and body["level"] == "province" and body["scheme"] == "2025"
    assert [r["unit_code"] for r in body["rows"]] == ["19"]
