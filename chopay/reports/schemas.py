"""Query and response shapes of the adoption reports and open data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from chopay.reports.services import LEVELS, MAX_PERIOD_DAYS, METHOD_FIELDS, SCHEMES

UNIT_CODE = validate.Regexp(r"^\d{2,5}$", error=_l("Mã đơn vị gồm 2 đến 5 chữ số."))


def check_scheme_level(data: dict[str, Any]) -> None:
    """The 2025 scheme has no districts."""
    if data.get("scheme") == "2025" and data.get("level") == "district":
        raise ValidationError(
            str(_l("Hệ đơn vị 2025 không có cấp huyện; chọn tỉnh, xã hoặc chợ.")), "level"
        )


def check_dates(data: dict[str, Any]) -> None:
    """``from`` not after ``to``, and the period not longer than MAX_PERIOD_DAYS."""
    start, end = data.get("start"), data.get("end")
    if start and end and start > end:
        raise ValidationError(str(_l("Ngày bắt đầu phải trước ngày kết thúc.")), "from")
    if start and end and (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError(str(_l("Kỳ báo cáo dài tối đa %(n)d ngày.", n=MAX_PERIOD_DAYS)), "to")


class AdoptionQuerySchema(Schema):
    """``?scheme=&level=&unit=&from=&to=``; omitted values default to the caller's scope."""

    scheme = fields.String(
        validate=validate.OneOf(SCHEMES, error=_l("Hệ đơn vị phải là legacy hoặc 2025.")),
        metadata={"description": "legacy (63 provinces, with districts) or 2025"},
    )
    level = fields.String(
        validate=validate.OneOf(
            LEVELS, error=_l("Cấp phải là province, district, commune hoặc market.")
        ),
        metadata={"description": "Level of the rows; default: one below the unit"},
    )
    unit = fields.String(
        validate=UNIT_CODE,
        metadata={"description": "Code of the area reported on; default: the caller's scope"},
    )
    start = fields.Date(
        data_key="from",
        metadata={"description": "First day (Vietnam time), default: 29 days before `to`"},
    )
    end = fields.Date(data_key="to", metadata={"description": "Last day, default: today"})

    @validates_schema
    def check_combination(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_scheme_level(data)
        check_dates(data)


class MarketQuerySchema(Schema):
    """Period of a market page."""

    scheme = fields.String(validate=validate.OneOf(SCHEMES))
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")

    @validates_schema
    def check_period(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_dates(data)


class RuleRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    scheme = fields.String()
    province_code = fields.String()
    valid_from = fields.String()


class LackSchema(Schema):
    criterion = fields.String(metadata={"description": "Indicator that falls short"})
    needed = fields.Integer(metadata={"description": "How many more vendors it needs"})
    message = fields.String(metadata={"description": "e.g. cần thêm 37 tiểu thương có QR"})


class QualificationSchema(Schema):
    status = fields.String(metadata={"description": "qualifies, not_yet or no_rule"})
    label = fields.String()
    rule = fields.Nested(RuleRefSchema, allow_none=True)
    lacks = fields.List(fields.Nested(LackSchema))


def _indicator_fields() -> dict[str, fields.Field[Any]]:
    out: dict[str, fields.Field[Any]] = {
        "markets": fields.Integer(),
        "qualifying_markets": fields.Integer(),
        "stall_count": fields.Integer(),
        "vendors": fields.Integer(),
        "vendors_with_qr": fields.Integer(),
        "vendors_active": fields.Integer(),
        "vendors_active_with_qr": fields.Integer(),
        "dormant_vendors": fields.Integer(),
        "adoption_pct": fields.Float(allow_none=True),
        "active_pct": fields.Float(allow_none=True),
        "tx_count": fields.Integer(),
        "tx_value": fields.Integer(),
    }
    for name in METHOD_FIELDS:
        out[name] = fields.Integer()
    out["cash_count"] = fields.Integer()
    out["cash_value"] = fields.Integer()
    out["cashless_share"] = fields.Float(allow_none=True)
    return out


IndicatorsSchema = Schema.from_dict(_indicator_fields(), name="AdoptionIndicatorsSchema")
AdoptionRowSchema = Schema.from_dict(
    {
        "unit_code": fields.String(),
        "unit_name": fields.String(),
        "market_id": fields.Integer(metadata={"description": "Market level only"}),
        "commune_code": fields.String(metadata={"description": "Market level only"}),
        "commune_name": fields.String(metadata={"description": "Market level only"}),
        **_indicator_fields(),
        "qualification": fields.Nested(QualificationSchema),
    },
    name="AdoptionRowSchema",
)


class UnitRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class AdoptionReportSchema(Schema):
    scheme = fields.String()
    level = fields.String()
    unit = fields.Nested(UnitRefSchema, allow_none=True)
    start = fields.String(data_key="from", attribute="from")
    end = fields.String(data_key="to", attribute="to")
    scope_limited = fields.Boolean(
        metadata={"description": "Only the markets of the area the caller may see are counted"}
    )
    rows = fields.List(fields.Nested(AdoptionRowSchema))
    totals = fields.Nested(IndicatorsSchema)


class OpenDataQuerySchema(Schema):
    """``?scheme=&level=&unit=&month=`` of the public aggregates."""

    scheme = fields.String(
        load_default="2025",
        validate=validate.OneOf(SCHEMES, error=_l("Hệ đơn vị phải là legacy hoặc 2025.")),
    )
    level = fields.String(
        load_default=None,
        validate=validate.OneOf(
            LEVELS, error=_l("Cấp phải là province, district, commune hoặc market.")
        ),
    )
    unit = fields.String(load_default=None, validate=UNIT_CODE)
    month = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error=_l("Tháng dạng YYYY-MM.")),
    )

    @validates_schema
    def check_combination(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_scheme_level(data)


def parse_month(value: str) -> dt.date:
    """'2026-10' → 2026-10-01."""
    year, month = value.split("-")
    return dt.date(int(year), int(month), 1)
