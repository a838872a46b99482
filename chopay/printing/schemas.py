"""Shapes of QR codes, stands, verification answers and re-scan audits."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from chopay.db import MAX_ID
from chopay.markets.schemas import StrictSchema, Text, invalid
from chopay.printing.services import MAX_RESCAN_ITEMS, MAX_SALE_AMOUNT, MIN_SALE_AMOUNT

# "50000", or grouped in threes the Vietnamese way ("50.000", "1.250.000") or with spaces or
# commas. "1.5" or "1,5" are not whole đồng and are refused rather than guessed at.
_PLAIN = re.compile(r"^[0-9]+$")
_GROUPED = re.compile(r"^[0-9]{1,3}(?:([.,\u00a0 ])[0-9]{3})(?:\1[0-9]{3})*$")

AMOUNT_RANGE = _l("Số tiền phải từ 1 ₫ đến 499.999.999 ₫ cho một lần bán.")
AMOUNT_FORMAT = _l("Số tiền phải là số nguyên đồng, ví dụ 50000 hoặc 50.000.")


def parse_amount(value: Any) -> int:
    """An amount in whole đồng from a JSON number or typed text; ValidationError if not."""
    if isinstance(value, bool):
        raise invalid(AMOUNT_FORMAT)
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str):
        text = value.strip().removesuffix("₫").removesuffix("đ").strip()
        if _PLAIN.match(text):
            amount = int(text)
        elif _GROUPED.match(text):
            amount = int(re.sub(r"[^0-9]", "", text))
        else:
            raise invalid(AMOUNT_FORMAT)
    else:
        raise invalid(AMOUNT_FORMAT)
    if not MIN_SALE_AMOUNT <= amount <= MAX_SALE_AMOUNT:
        raise invalid(AMOUNT_RANGE)
    return amount


class Amount(fields.Field[int | None]):
    """A sale amount in whole đồng, 1..499,999,999 (``50000``, ``"50000"``, ``"50.000"``)."""

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("metadata", {})
        kw["metadata"].setdefault("type", "integer")
        kw["metadata"].setdefault("minimum", MIN_SALE_AMOUNT)
        kw["metadata"].setdefault("maximum", MAX_SALE_AMOUNT)
        super().__init__(
            error_messages={"null": AMOUNT_FORMAT, "required": _l("Chưa nhập số tiền.")}, **kw
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if isinstance(value, str) and not value.strip() and self.allow_none:
            return None
        return parse_amount(value)


PURPOSE = _l("nội dung chuyển khoản")


class QrQuerySchema(Schema):
    """``?amount=&purpose=``: with an amount, a one-sale dynamic code instead of the stand's."""

    amount = Amount(
        load_default=None,
        allow_none=True,
        metadata={"description": "Whole đồng, 1..499,999,999: a dynamic code for one sale"},
    )
    purpose = Text(
        PURPOSE,
        max_length=40,
        load_default=None,
        metadata={
            "description": "Short note after the vendor reference (ASCII-transliterated; "
            "the whole note is at most 25 characters)"
        },
    )


class StandQuerySchema(QrQuerySchema):
    """Stand downloads take the same arguments: with an amount, a stand for one sale."""


class MarketStandsQuerySchema(Schema):
    layout = fields.String(
        load_default="a6",
        validate=validate.OneOf(("a6", "a4x4"), error=_l("Khổ in phải là a6 hoặc a4x4.")),
        metadata={"description": "a6: one stand per A6 page; a4x4: four per A4 with cut marks"},
    )


class BankSchema(Schema):
    bin = fields.String()
    short_name = fields.String()


class QrLinksSchema(Schema):
    stand_png = fields.String()
    stand_svg = fields.String()
    stand_pdf = fields.String()
    verify = fields.String()


class QrSchema(Schema):
    """A vendor's VietQR code: the payload to encode and what to print beside it."""

    vendor_id = fields.Integer()
    payload = fields.String()
    verify_code = fields.String(metadata={"description": "As printed: ABC-DEF"})
    verify_url = fields.String(metadata={"description": "Public check page for this code"})
    bank = fields.Nested(BankSchema)
    account_name = fields.String()
    account_number_masked = fields.String()
    is_dynamic = fields.Boolean()
    amount = fields.Integer(allow_none=True)
    note = fields.String(metadata={"description": "Transfer note (vendor reference first)"})
    issued_at = fields.DateTime()
    links = fields.Nested(QrLinksSchema)


class VerifyRequestSchema(StrictSchema):
    """A scanned VietQR payload, optionally with where it was found."""

    payload = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1000, error=_l("Nội dung mã QR dài quá.")),
        error_messages={
            "required": _l("Chưa có nội dung mã QR."),
            "null": _l("Chưa có nội dung mã QR."),
            "invalid": _l("Nội dung mã QR phải là chuỗi ký tự."),
        },
    )
    stall = Text(_l("quầy"), max_length=30, load_default=None)
    vendor_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        error_messages={"invalid": _l("Mã tiểu thương phải là số nguyên.")},
    )
    market_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        error_messages={"invalid": _l("Mã chợ phải là số nguyên.")},
    )


class VerifyMarketSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class VerifyVendorSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    stall = fields.String()
    market = fields.Nested(VerifyMarketSchema)


class ScannedSchema(Schema):
    bank = fields.Nested(BankSchema)
    account_number_masked = fields.String()
    amount = fields.Integer(allow_none=True)
    is_dynamic = fields.Boolean()


class VerifyResultSchema(Schema):
    """The public verdict: only what the stand itself shows."""

    status = fields.String(
        metadata={
            "enum": ["ok", "revoked", "unknown_account", "mismatch", "suspended"],
            "description": "ok: pay. Anything else: a warning, do not pay",
        }
    )
    message = fields.String()
    vendor = fields.Nested(VerifyVendorSchema)
    bank = fields.Nested(BankSchema)
    account_name = fields.String()
    account_number_masked = fields.String()
    scanned = fields.Nested(ScannedSchema)
    is_exact_payload = fields.Boolean(
        metadata={"description": "The scanned text is exactly the code chopay issued"}
    )


class RescanItemSchema(StrictSchema):
    stall = Text(_l("quầy"), max_length=30, load_default=None)
    payload = fields.String(
        required=True,
        validate=validate.Length(max=1000, error=_l("Nội dung mã QR dài quá.")),
        error_messages={
            "required": _l("Chưa có nội dung mã QR."),
            "null": _l("Chưa có nội dung mã QR."),
            "invalid": _l("Nội dung mã QR phải là chuỗi ký tự."),
        },
    )


class RescanRequestSchema(StrictSchema):
    items = fields.List(
        fields.Nested(RescanItemSchema),
        required=True,
        validate=validate.Length(
            min=1,
            max=MAX_RESCAN_ITEMS,
            error=_l("Gửi từ 1 đến %(n)d mã mỗi lần.", n=MAX_RESCAN_ITEMS),
        ),
        error_messages={"required": _l("Chưa có mã nào được quét.")},
    )


class RescanRegisteredSchema(Schema):
    vendor_id = fields.Integer()
    name = fields.String()
    stall = fields.String()
    market_id = fields.Integer()
    market_name = fields.String()


class RescanLineSchema(Schema):
    line = fields.Integer()
    stall = fields.String(allow_none=True)
    status = fields.String()
    message = fields.String()
    reason = fields.String(allow_none=True)
    registered = fields.Nested(RescanRegisteredSchema, allow_none=True)
    account_number_masked = fields.String(allow_none=True)
    bank = fields.Nested(BankSchema, allow_none=True)


class NotScannedSchema(Schema):
    vendor_id = fields.Integer()
    name = fields.String()
    stall = fields.String()


class RescanReportSchema(Schema):
    market_id = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    items = fields.List(fields.Nested(RescanLineSchema))
    not_scanned = fields.List(fields.Nested(NotScannedSchema))


class SellFormSchema(StrictSchema):
    """The sell page: an amount typed or picked from the quick buttons, and a short note."""

    amount = Amount(required=True)
    purpose = Text(PURPOSE, max_length=40, load_default=None)
