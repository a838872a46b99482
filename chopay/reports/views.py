"""Report pages (drill-down, market page, PDF summary) and the public open data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from marshmallow import ValidationError

from chopay.auth.access import public
from chopay.db import utcnow
from chopay.errors import InvalidInputError
from chopay.extensions import limiter
from chopay.formatting import MONEY_UNITS, format_date, format_pct
from chopay.reports import charts, exports, opendata, services
from chopay.reports.pdf import summary_pdf
from chopay.reports.schemas import (
    AdoptionQuerySchema,
    MarketQuerySchema,
    OpenDataQuerySchema,
    parse_month,
)

bp = Blueprint("reports", __name__)

ARG_NAMES = {"start": "from", "end": "to"}


def _load(schema: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Query arguments through a schema: (values, errors by field)."""
    try:
        return schema.load(request.args, unknown="exclude"), {}
    except ValidationError as err:
        return {}, err.normalized_messages()


def _query(report: services.AdoptionReport, **changes: Any) -> dict[str, Any]:
    args = {
        "scheme": report.scheme,
        "level": report.level,
        "unit": report.unit.code if report.unit is not None else None,
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
    }
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


def _drill_links(report: services.AdoptionReport) -> dict[str, str]:
    """Where each row leads: the next level down, or the market's page."""
    links = {}
    below = services.next_level(report.scheme, report.level)
    for row in report.rows:
        if report.level == "market":
            links[row["unit_code"]] = url_for(
                "reports.market_page",
                market_id=row["market_id"],
                scheme=report.scheme,
                **{"from": report.start.isoformat(), "to": report.end.isoformat()},
            )
        elif below is not None and row["markets"]:
            links[row["unit_code"]] = url_for(
                "reports.adoption_page", **_query(report, unit=row["unit_code"], level=below)
            )
    return links


def _breadcrumbs(report: services.AdoptionReport) -> list[tuple[str, str]]:
    """The report's unit and its ancestors, province first, each linking to its report."""
    crumbs = []
    unit = report.unit
    while unit is not None:
        below = services.next_level(report.scheme, str(unit.level))
        crumbs.append(
            (
                unit.name,
                url_for("reports.adoption_page", **_query(report, unit=unit.code, level=below)),
            )
        )
        unit = unit.parent
    return crumbs[::-1]


def _periods(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    first = today.replace(day=1)
    prev_last = first - dt.timedelta(days=1)
    return [
        (_("30 ngày qua"), today - dt.timedelta(days=29), today),
        (_("Tháng này"), first, today),
        (_("Tháng trước"), prev_last.replace(day=1), prev_last),
        (_("Từ đầu năm"), today.replace(month=1, day=1), today),
    ]


def unit_chart(report: services.AdoptionReport, limit: int = 40) -> Markup | None:
    """Adoption per row unit (those with markets), best first."""
    rows = [r for r in report.rows if r["markets"]]
    if not rows:
        return None
    rows.sort(key=lambda r: (-(r["adoption_pct"] or -1), r["unit_name"]))
    shown = rows[:limit]
    bars = [
        charts.Bar(
            r["unit_name"],
            r["adoption_pct"],
            highlight=bool(r.get("qualification", {}).get("status") == "qualifies"),
        )
        for r in shown
    ]
    desc = _("Tỷ lệ tiểu thương có QR trên số quầy của %(n)d đơn vị", n=len(shown))
    if len(rows) > limit:
        desc += " " + _("(%(n)d đơn vị có tỷ lệ cao nhất)", n=limit)
    svg = charts.hbar_chart(
        bars,
        title=_("Tỷ lệ có QR theo đơn vị"),
        desc=desc,
        fmt=lambda v: format_pct(v).replace(",0%", "%"),
        none_label=_("chưa khai báo số quầy"),
        ident="units",
    )
    return Markup(svg)  # noqa: S704 - built by charts, every text escaped there


def trend_chart(points: list[services.MonthPoint], ident: str = "trend") -> Markup:
    """Cashless value per month (bars) and the QR adoption rate at each month's end."""
    data = [
        charts.TrendPoint(
            p.month.strftime("%m/%y"),
            p.tx_value,
            p.adoption_pct,
            partial=p.last_day < services.month_end(p.month),
        )
        for p in points
    ]
    svg = charts.trend_chart(
        data,
        title=_("Xu hướng theo tháng"),
        desc=_(
            "Giá trị thanh toán không tiền mặt mỗi tháng và tỷ lệ có QR cuối mỗi tháng, "
            "%(a)s – %(b)s",
            a=format_date(points[0].month),
            b=format_date(points[-1].last_day),
        ),
        bar_name=_("Giá trị không tiền mặt"),
        line_name=_("Tỷ lệ có QR"),
        bar_fmt=lambda v: charts.compact_vnd(v, MONEY_UNITS),
        ident=ident,
    )
    return Markup(svg)  # noqa: S704 - built by charts, every text escaped there


@bp.route("/reports")
def adoption_page() -> Any:
    """Adoption report for the caller's scope, with drill-down, charts and ranking."""
    args, errors = _load(AdoptionQuerySchema())
    if not errors:
        try:
            report = services.adoption_report(current_user, **args)
        except InvalidInputError as exc:
            errors = exc.details or {}
    if errors:
        page = render_template(
            "reports/adoption.html", report=None, errors=errors, form=request.args
        )
        return page, 422
    if not request.args and report.level == "market" and len(report.markets) == 1:
        return redirect(url_for("reports.market_page", market_id=report.markets[0].place.market_id))
    trend = services.monthly_trend(report.area, report.end) if report.area else []
    return render_template(
        "reports/adoption.html",
        report=report,
        errors={},
        form=_query(report),
        links=_drill_links(report),
        breadcrumbs=_breadcrumbs(report),
        periods=_periods(services.today_vn()),
        units_svg=unit_chart(report),
        trend_svg=trend_chart(trend) if trend else None,
        ranking=report.ranking(),
        query=_query(report),
    )


@bp.route("/reports/markets/<int:market_id>")
def market_page(market_id: int) -> Any:
    """One market: figures, Chợ 4.0 status, trend; vendors and follow-up list if allowed."""
    args, errors = _load(MarketQuerySchema())
    if errors:
        args = {}
    result = services.market_report(current_user, market_id, **args)
    trend = services.market_trend(result)
    return render_template(
        "reports/market.html",
        result=result,
        errors=errors,
        trend_svg=trend_chart(trend, ident="mtrend") if trend else None,
        periods=_periods(services.today_vn()),
    )


@bp.route("/reports/summary.pdf")
def summary_pdf_page() -> Any:
    """A one-page PDF summary of the report, for meetings."""
    args, errors = _load(AdoptionQuerySchema())
    if errors:
        raise InvalidInputError(details=errors)
    report = services.adoption_report(current_user, **args)
    trend = services.monthly_trend(report.area, report.end) if report.area else []
    body = summary_pdf(report, trend, generated_at=utcnow())
    response = Response(body, mimetype="application/pdf")
    name = f"chopay-{report.scheme}-{report.unit.code if report.unit else 'vn'}-{report.end}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# --- open data ----------------------------------------------------------------------------


def _open_data() -> opendata.OpenData:
    args, errors = _load(OpenDataQuerySchema())
    if errors:
        raise InvalidInputError(details=errors)
    month = parse_month(args["month"]) if args.get("month") else None
    return opendata.open_data(
        scheme=args["scheme"],
        level=args.get("level"),
        unit_code=args.get("unit"),
        month=month,
        today=services.today_vn(),
    )


@bp.route("/open-data")
@public
def open_data_page() -> Any:
    """Licence, data dictionary and download links of the public aggregates."""
    latest = opendata.last_complete_month(services.today_vn())
    return render_template(
        "reports/open_data.html",
        dictionary=opendata.DICTIONARY,
        licence=opendata.LICENCE,
        threshold=opendata.THRESHOLD,
        latest=latest.strftime("%Y-%m"),
        vendor_fields=opendata.VENDOR_FIELDS,
        payment_fields=opendata.PAYMENT_FIELDS,
    )


# Each request aggregates a whole area: enough for any dashboard, not for a flood.
OPEN_DATA_RATE_LIMIT = "30 per minute"


def _public_file(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    # Past months only change through late voids: an hour of caching is harmless.
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/open-data/adoption.json")
@public
@limiter.limit(OPEN_DATA_RATE_LIMIT)
def open_data_json() -> Any:
    """Public monthly aggregates as JSON."""
    return _public_file(jsonify(_open_data().as_dict(utcnow())))


@bp.route("/open-data/adoption.csv")
@public
@limiter.limit(OPEN_DATA_RATE_LIMIT)
def open_data_csv() -> Any:
    """Public monthly aggregates as CSV (UTF-8, machine column names)."""
    data = _open_data()
    headers, rows = opendata.csv_rows(data)
    response = Response(exports.to_csv(headers, rows), mimetype="text/csv; charset=utf-8")
    unit = data.unit.code if data.unit is not None else "vn"
    name = f"chopay-adoption-{data.scheme}-{unit}-{data.level}-{data.month:%Y-%m}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _public_file(response)
