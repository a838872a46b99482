"""``/api/v1/reports/adoption`` as JSON, CSV and XLSX."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from chopay.formatting import format_date
from chopay.reports import exports, services
from chopay.reports.schemas import AdoptionQuerySchema, AdoptionReportSchema

blp = Blueprint("reports_api", __name__, description="Adoption reports (aggregates)")

FILE_DOC = (
    "The same rows and totals as `/reports/adoption`, with Vietnamese column headers; "
    "the last row holds the totals."
)


def report_title(report: services.AdoptionReport) -> str:
    """'Tỉnh Thái Nguyên · 01/10/2026 – 31/10/2026' for file names and headings."""
    area = report.unit.name if report.unit is not None else _("Cả nước")
    return f"{area} · {format_date(report.start)} – {format_date(report.end)}"


def file_name(report: services.AdoptionReport, ext: str) -> str:
    """ASCII file name: adoption-legacy-19-district-2026-10-01-2026-10-31.csv."""
    code = report.unit.code if report.unit is not None else "vn"
    return (
        f"adoption-{report.scheme}-{code}-{report.level}-"
        f"{report.start.isoformat()}-{report.end.isoformat()}.{ext}"
    )


def _run(args: dict[str, Any]) -> services.AdoptionReport:
    return services.adoption_report(current_user, **args)


@blp.route("/reports/adoption")
@blp.arguments(AdoptionQuerySchema, location="query")
@blp.response(200, AdoptionReportSchema)
def adoption(args: dict[str, Any]) -> Any:
    """Adoption indicators per unit of ``level`` inside ``unit`` for [from, to].

    Officers see their unit and everything under it; a board sees its market. Rows of
    units without markets are zeros. Field definitions: see /open-data.
    """
    return _run(args).as_dict()


@blp.route("/reports/adoption.csv")
@blp.arguments(AdoptionQuerySchema, location="query")
@blp.response(200, description=FILE_DOC, content_type="text/csv")
def adoption_csv(args: dict[str, Any]) -> Any:
    """The adoption report as CSV (UTF-8 with BOM)."""
    report = _run(args)
    headers, rows = exports.report_table(report)
    return _download(
        exports.to_csv(headers, rows), "text/csv; charset=utf-8", file_name(report, "csv")
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/reports/adoption.xlsx")
@blp.arguments(AdoptionQuerySchema, location="query")
@blp.response(200, description=FILE_DOC, content_type=XLSX)
def adoption_xlsx(args: dict[str, Any]) -> Any:
    """The adoption report as an Excel workbook."""
    report = _run(args)
    headers, rows = exports.report_table(report)
    notes = [_("Hệ đơn vị: %(s)s · cấp: %(l)s", s=report.scheme, l=report.level)]
    if report.scope_limited:
        notes.append(_("Chỉ gồm các chợ trong phạm vi bạn được xem."))
    body = exports.to_xlsx(headers, rows, title=report_title(report), notes=notes)
    return _download(body, XLSX, file_name(report, "xlsx"))


def _download(body: bytes, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
