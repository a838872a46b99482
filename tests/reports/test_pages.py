"""Report pages: drill-down, charts, ranking, market follow-up list, PDF summary."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from chopay.formatting import format_number
from tests.factories import UserFactory
from tests.reports.data import END, START, generate, seed_rules, unit

PERIOD = {"from": START.isoformat(), "to": END.isoformat()}


@pytest.fixture
def data(db: Any) -> Any:
    seed_rules()
    return generate(seed=21, vendors_per_market=(4, 10))


def html_of(resp: Any) -> str:
    text = resp.get_data(as_text=True)
    assert 'style="' not in text  # the CSP forbids inline styles
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)  # and inline scripts
    return text


def test_province_page_drills_down_and_shows_charts(client: Any, auth: Any, data: Any) -> None:
    auth.login(UserFactory())
    resp = client.get("/reports", query_string={"scheme": "legacy", "unit": "19", **PERIOD})
    assert resp.status_code == 200
    html = html_of(resp)
    assert "Tỉnh Thái Nguyên" in html and "Huyện Đại Từ" in html
    assert "unit=164&amp;level=commune" in html or "level=commune&amp;unit=164" in html
    assert html.count("<svg") == 2 and 'role="img"' in html
    assert "Xếp hạng chợ" in html
    assert "/api/v1/reports/adoption.xlsx?" in html and "/reports/summary.pdf?" in html


def test_commune_page_links_markets_and_market_page_lists_follow_up(
    client: Any, auth: Any, data: Any
) -> None:
    auth.login(UserFactory())
    html = html_of(
        client.get("/reports", query_string={"scheme": "legacy", "unit": "05461", **PERIOD})
    )
    market = next(m for m in data.markets if m.legacy_commune and m.legacy_commune.code == "05461")
    assert f"/reports/markets/{market.id}?" in html
    page = client.get(f"/reports/markets/{market.id}", query_string=PERIOD)
    assert page.status_code == 200
    html = html_of(page)
    assert "Cần theo dõi" in html and "Tiểu thương (" in html
    assert "cần thêm" in html.lower() or "Đạt Chợ 4.0" in html


def test_board_lands_on_its_market_with_the_dormant_list(client: Any, auth: Any, data: Any) -> None:
    market = data.markets[0]
    auth.login(UserFactory.board(market))
    resp = client.get("/reports")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith(f"/reports/markets/{market.id}")
    html = html_of(client.get(resp.headers["Location"]))
    assert "Cần theo dõi: có QR nhưng chưa giao dịch trong kỳ" in html
    other = data.markets[3]
    assert client.get(f"/reports/markets/{other.id}").status_code == 403


def test_officer_page_defaults_to_own_district(client: Any, auth: Any, data: Any) -> None:
    auth.login(UserFactory.officer(unit("legacy", "171")))
    html = html_of(client.get("/reports", query_string=PERIOD))
    assert "Huyện Đại Từ" in html
    assert (
        client.get("/reports", query_string={"unit": "164", "scheme": "legacy"}).status_code == 403
    )


def test_helper_has_no_report_page(client: Any, auth: Any, data: Any) -> None:
    auth.login(UserFactory.helper(data.markets[0]))
    assert client.get("/reports").status_code == 403
    assert client.get(f"/reports/markets/{data.markets[0].id}").status_code == 403


def test_bad_period_shows_the_form_with_the_reason(client: Any, auth: Any, db: Any) -> None:
    auth.login(UserFactory())
    resp = client.get("/reports", query_string={"from": "2026-10-31", "to": "2026-10-01"})
    assert resp.status_code == 422
    html = html_of(resp)
    assert "Ngày bắt đầu phải trước ngày kết thúc." in html
    resp = client.get("/reports", query_string={"scheme": "2025", "level": "district"})
    assert resp.status_code == 422 and "không có cấp huyện" in resp.get_data(as_text=True)


def test_summary_pdf_is_one_page_of_real_text(client: Any, auth: Any, data: Any) -> None:
    admin = UserFactory()
    auth.login(admin)
    params = {"scheme": "legacy", "level": "district", "unit": "19", **PERIOD}
    body = client.get("/api/v1/reports/adoption", query_string=params).get_json()
    resp = client.get("/reports/summary.pdf", query_string=params)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(resp.get_data()))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "Báo cáo Chợ 4.0: Tỉnh Thái Nguyên" in text
    assert "01/10/2026 – 31/10/2026" in text
    assert "Huyện Đại Từ" in text and "Tổng cộng" in text
    assert format_number(body["totals"]["vendors_with_qr"]) in text
    assert "Chợ dẫn đầu" in text and "Chợ cần hỗ trợ thêm" in text


def test_summary_pdf_of_many_rows_still_fits_one_page(client: Any, auth: Any, data: Any) -> None:
    auth.login(UserFactory())
    params = {"scheme": "legacy", "level": "commune", "unit": "19", **PERIOD}
    pdf = PdfReader(io.BytesIO(client.get("/reports/summary.pdf", query_string=params).get_data()))
    assert len(pdf.pages) == 1
    assert "đơn vị chưa có chợ tham gia" in pdf.pages[0].extract_text()


VI_MONEY = re.compile(r"\d (tỷ|tr|nghìn)\b")
EN_MONEY = re.compile(r"\d (bn|m|k)\b")


def test_money_units_on_charts_and_the_pdf_follow_the_language(
    client: Any, auth: Any, data: Any
) -> None:
    auth.login(UserFactory())
    params = {"scheme": "legacy", "level": "district", "unit": "19", **PERIOD}
    vi = html_of(client.get("/reports", query_string=params))
    assert VI_MONEY.search(vi) and not EN_MONEY.search(vi)
    en = html_of(client.get("/reports", query_string={**params, "lang": "en"}))
    assert '<html lang="en">' in en
    assert EN_MONEY.search(en) and not VI_MONEY.search(en)
    pdf = PdfReader(io.BytesIO(client.get("/reports/summary.pdf", query_string=params).data))
    text = pdf.pages[0].extract_text()
    assert EN_MONEY.search(text) and not VI_MONEY.search(text)
