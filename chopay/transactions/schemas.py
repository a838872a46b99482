"""Shapes of payment data: fast item loaders for the ingest paths, marshmallow schemas for
query arguments, outputs and the OpenAPI document.

The ledger's ingest paths (bulk API, statement import) must handle tens of thousands of
rows a second, which marshmallow (~40 µs an item) cannot, so payment items are loaded by
``load_payment`` below. ``TransactionCreateSchema`` describes exactly the same shape for
the API document; a test checks that both accept and refuse the same inputs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from chopay.db import MAX_ID
from chopay.errors import InvalidInputError
from chopay.transactions.models import MAX_AMOUNT_VND, Method

# Asia/Ho_Chi_Minh has been UTC+7 without daylight saving since 1975 (and every date here
# is after 2000), so a fixed offset is exact, and much cheaper than ZoneInfo in hot loops.
VN_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
MAX_BATCH = 1000
MAX_REF_LENGTH = 120
MAX_NOTE_LENGTH = 255
METHODS = tuple(m.value for m in Method)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

PAYMENT_FIELDS = ("vendor_id", "amount", "occurred_at", "method", "external_ref", "note")
# Printable, no spaces at the ends; what a client may use as an idempotency key.
_REF_RE = re.compile(r"^[\w.:/#@+=-]{1,120}$", re.ASCII)


@dataclass(frozen=True, slots=True)
class PaymentIn:
    """A payment item that passed field validation (not yet checked against the database)."""

    vendor_id: int
    amount_vnd: int
    occurred_at: dt.datetime  # aware, UTC
    method: str  # one of Method's values
    external_ref: str
    note: str | None = None


# ---- field parsers (shared by the API, the pages, the importer and the webhooks) ----------


def amount_reason(value: Any) -> Any | None:
    """Why ``value`` is not an acceptable JSON amount (an integer number of đồng), or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float):
            return _l("Số tiền phải là số nguyên đồng (không có phần lẻ).")
        return _l("Số tiền phải là một số nguyên.")
    if value <= 0:
        return _l("Số tiền phải lớn hơn 0.")
    if value > MAX_AMOUNT_VND:
        return _l("Số tiền tối đa là 499.999.999 đồng.")
    return None


_GROUPED = re.compile(r"^\d{1,3}(?:([.,])\d{3})?(?:\1\d{3})*$")
_DECIMAL_TAIL = re.compile(r"^(?P<int>[\d.,]+?)[.,](?P<frac>\d{1,2})$")
_CURRENCY = re.compile(r"(?i)\s*(?:vnđ|vnd|đồng|dong|đ|₫)\s*$")


def parse_vnd_text(text: str) -> int:
    """Parse an amount written the Vietnamese way: ``1.250.000``, ``1,250,000``, ``1250000``,
    ``1.250.000 ₫``, ``1.250.000,00``. Raises ValueError with a user-safe message."""
    raw = _CURRENCY.sub("", text.strip()).replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise ValueError(_l("Thiếu số tiền."))
    if raw.startswith("-"):
        raise ValueError(_l("Số tiền phải lớn hơn 0."))
    raw = raw.lstrip("+")
    if raw.isdigit():
        value = int(raw)
    elif _GROUPED.match(raw):
        value = int(raw.replace(".", "").replace(",", ""))
    else:
        tail = _DECIMAL_TAIL.match(raw)
        integer = tail.group("int") if tail else ""
        if not tail or not (integer.isdigit() or _GROUPED.match(integer)):
            raise ValueError(_l("Số tiền không đọc được: %(v)s", v=text.strip()[:30]))
        if int(tail.group("frac")) != 0:
            raise ValueError(_l("Số tiền phải là số nguyên đồng (không có phần lẻ)."))
        sep = tail.group(0)[len(integer)]
        if sep in integer:  # "1.250.000.00" is not a number
            raise ValueError(_l("Số tiền không đọc được: %(v)s", v=text.strip()[:30]))
        value = int(integer.replace(".", "").replace(",", ""))
    if value <= 0:
        raise ValueError(_l("Số tiền phải lớn hơn 0."))
    if value > MAX_AMOUNT_VND:
        raise ValueError(_l("Số tiền tối đa là 499.999.999 đồng."))
    return value


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime; a naive one is read as Asia/Ho_Chi_Minh time."""
    tz = value.tzinfo
    if tz is dt.UTC:
        return value
    if tz is None or tz.utcoffset(value) is None:
        value = value.replace(tzinfo=VN_TZ)
    return value.astimezone(dt.UTC)


def parse_time(value: Any) -> dt.datetime:
    """An ISO 8601 string (or datetime) as an aware UTC datetime. Naive means Vietnam time.

    Raises ValueError with a user-safe message."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                _l("Thời gian phải theo ISO 8601, ví dụ 2026-11-21T09:15:00+07:00.")
            ) from None
    else:
        raise ValueError(_l("Thời gian phải theo ISO 8601, ví dụ 2026-11-21T09:15:00+07:00."))
    result = to_utc(parsed)
    if result < EARLIEST:
        raise ValueError(_l("Thời gian quá xa trong quá khứ."))
    return result


_STATEMENT_TIME = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)


def parse_statement_time(text: str) -> dt.datetime:
    """``dd/mm/yyyy hh:mm`` (seconds and the time optional), Vietnam time, as aware UTC."""
    found = _STATEMENT_TIME.match(text.strip())
    if not found:
        raise ValueError(_l("Ngày giờ phải có dạng dd/mm/yyyy hh:mm, ví dụ 21/11/2026 09:15."))
    day, month, year, hour, minute, second = (int(g) if g else 0 for g in found.groups())
    try:
        local = dt.datetime(year, month, day, hour, minute, second, tzinfo=VN_TZ)
    except ValueError:
        raise ValueError(_l("Ngày giờ không có thật: %(v)s", v=text.strip()[:20])) from None
    result = local.astimezone(dt.UTC)
    if result < EARLIEST:
        raise ValueError(_l("Thời gian quá xa trong quá khứ."))
    return result


def method_reason(value: Any) -> Any | None:
    """Why ``value`` is not a payment method, or None."""
    if value not in METHODS:
        return _l("Phương thức phải là một trong: %(m)s.", m=", ".join(METHODS))
    return None


def ref_reason(value: Any) -> Any | None:
    """Why ``value`` is not a usable external reference (idempotency key), or None."""
    if not isinstance(value, str) or not value:
        return _l("Cần mã tham chiếu (external_ref) để chống ghi trùng.")
    if not _REF_RE.match(value):
        return _l(
            "Mã tham chiếu gồm tối đa 120 ký tự chữ, số hoặc . _ : / # @ + = -, không có dấu cách."
        )
    return None


_MISSING = _l("Thiếu trường này.")
_FIELDS = frozenset(PAYMENT_FIELDS)


_METHOD_SET = frozenset(METHODS)


def load_payment(raw: Any, *, default_time: dt.datetime | None = None) -> PaymentIn:
    """Validate one payment item (``{"vendor_id", "amount", "occurred_at", "method",
    "external_ref", "note"}``). Raises InvalidInputError with every field's reasons.

    ``default_time`` (for the report form) stands in for a missing ``occurred_at``."""
    if type(raw) is dict:
        # Fast path for a well-formed item (the bulk paths see thousands a second); any
        # doubt falls through to the full check below, which says what is wrong.
        vendor_id = raw.get("vendor_id")
        amount = raw.get("amount")
        method = raw.get("method")
        ref = raw.get("external_ref")
        note = raw.get("note")
        when = raw.get("occurred_at")
        if (
            type(vendor_id) is int
            and 0 < vendor_id <= MAX_ID
            and type(amount) is int
            and 0 < amount <= MAX_AMOUNT_VND
            and type(method) is str
            and method in _METHOD_SET
            and type(ref) is str
            and _REF_RE.match(ref)
            and (note is None or (type(note) is str and len(note) <= MAX_NOTE_LENGTH))
            and type(when) is str
            and _FIELDS.issuperset(raw)
        ):
            try:
                occurred_at = parse_time(when)
            except ValueError:
                pass
            else:
                return PaymentIn(vendor_id, amount, occurred_at, method, ref, note or None)
    return _load_payment_checked(raw, default_time)


def _load_payment_checked(raw: Any, default_time: dt.datetime | None) -> PaymentIn:
    if not isinstance(raw, dict):
        raise InvalidInputError(
            _l("Mỗi giao dịch phải là một đối tượng JSON."),
            details={"_schema": [_l("Cần một đối tượng JSON.")]},
        )
    errors: dict[str, list[Any]] = {}
    missing = _MISSING

    vendor_id = raw.get("vendor_id")
    if vendor_id is None:
        errors["vendor_id"] = [missing]
    elif (
        isinstance(vendor_id, bool) or not isinstance(vendor_id, int) or not 0 < vendor_id <= MAX_ID
    ):
        errors["vendor_id"] = [_l("Mã tiểu thương phải là số nguyên dương.")]

    amount = raw.get("amount")
    if amount is None:
        errors["amount"] = [missing]
    else:
        reason = amount_reason(amount)
        if reason is not None:
            errors["amount"] = [reason]

    occurred_at: dt.datetime | None = None
    when = raw.get("occurred_at")
    if when is None and default_time is not None:
        occurred_at = default_time
    elif when is None:
        errors["occurred_at"] = [missing]
    else:
        try:
            occurred_at = parse_time(when)
        except ValueError as exc:
            errors["occurred_at"] = [exc.args[0]]

    method = raw.get("method")
    if method is None:
        errors["method"] = [missing]
    else:
        reason = method_reason(method)
        if reason is not None:
            errors["method"] = [reason]

    ref = raw.get("external_ref")
    if ref is None:
        errors["external_ref"] = [missing]
    else:
        reason = ref_reason(ref)
        if reason is not None:
            errors["external_ref"] = [reason]

    note = raw.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH):
        errors["note"] = [_l("Ghi chú tối đa 255 ký tự.")]

    if not _FIELDS.issuperset(raw):
        for name in sorted(set(raw) - _FIELDS, key=str)[:5]:
            errors[str(name)[:40]] = [_l("Trường không được hỗ trợ.")]

    if errors or occurred_at is None:
        raise InvalidInputError(details=errors)
    return PaymentIn(  # every field was checked above
        vendor_id=cast(int, vendor_id),
        amount_vnd=cast(int, amount),
        occurred_at=occurred_at,
        method=cast(str, method),
        external_ref=cast(str, ref),
        note=note or None,
    )


# ---- marshmallow schemas: API document, query arguments and outputs -----------------------


class TransactionCreateSchema(Schema):
    """One reported payment (``POST /transactions`` takes one of these or a list of up to
    1,000). ``external_ref`` is the idempotency key: sending the same payment again is
    answered ``duplicate`` and stored once. A time without a UTC offset is Vietnam time."""

    vendor_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    amount = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT_VND),
        metadata={"description": "Whole đồng, 1 to 499,999,999.", "example": 150000},
    )
    occurred_at = fields.DateTime(
        required=True,
        metadata={"description": "ISO 8601; no offset = Asia/Ho_Chi_Minh. Not in the future."},
    )
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    external_ref = fields.String(
        required=True,
        validate=validate.Regexp(_REF_RE),
        metadata={"description": "Your unique id for this payment (idempotency key)."},
    )
    note = fields.String(load_default=None, validate=validate.Length(max=MAX_NOTE_LENGTH))

    @validates_schema
    def _time_is_parseable(self, data: dict[str, Any], **kwargs: Any) -> None:
        when = data.get("occurred_at")
        if isinstance(when, dt.datetime) and to_utc(when) < EARLIEST:
            raise ValidationError("too early", field_name="occurred_at")


class TransactionSchema(Schema):
    """One ledger row as the API shows it."""

    id = fields.Integer()
    vendor_id = fields.Integer()
    market_id = fields.Integer()
    amount = fields.Integer(attribute="amount_vnd")
    occurred_at = fields.DateTime()
    local_day = fields.Date(metadata={"description": "The day in Asia/Ho_Chi_Minh it counts for"})
    method = fields.String()
    source = fields.String()
    external_ref = fields.String()
    note = fields.String(allow_none=True)
    voided = fields.Boolean(attribute="is_voided")
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


def dump_transaction(row: Any) -> dict[str, Any]:
    """``TransactionSchema().dump(row)``, written out: the single-payment POST answers
    with it on every call, and marshmallow's field machinery costs more than the insert.
    A test checks both give the same JSON."""
    voided_at = row.voided_at
    return {
        "id": row.id,
        "vendor_id": row.vendor_id,
        "market_id": row.market_id,
        "amount": row.amount_vnd,
        "occurred_at": row.occurred_at.isoformat(),
        "local_day": row.local_day.isoformat(),
        "method": str(row.method),
        "source": str(row.source),
        "external_ref": row.external_ref,
        "note": row.note,
        "voided": voided_at is not None,
        "voided_at": voided_at.isoformat() if voided_at is not None else None,
        "void_reason": row.void_reason,
        "created_at": row.created_at.isoformat(),
    }


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    details = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ItemResultSchema(Schema):
    """What happened to one item: ``created``, ``duplicate`` or ``rejected`` (with why)."""

    index = fields.Integer()
    status = fields.String(validate=validate.OneOf(("created", "duplicate", "rejected")))
    id = fields.Integer(allow_none=True, metadata={"description": "Ledger id (created/duplicate)"})
    external_ref = fields.String(allow_none=True)
    error = fields.Nested(ErrorBodySchema, allow_none=True)


class SingleResultSchema(ItemResultSchema):
    transaction = fields.Nested(TransactionSchema, allow_none=True)


class BatchResultSchema(Schema):
    created = fields.Integer()
    duplicates = fields.Integer()
    rejected = fields.Integer()
    results = fields.List(fields.Nested(ItemResultSchema))


class TransactionQuerySchema(Schema):
    """Filters of the transaction list (days are Vietnam days, both ends included)."""

    vendor = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    market = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)
    method = fields.String(load_default=None, validate=validate.OneOf(METHODS))
    voided = fields.Boolean(
        load_default=None, metadata={"description": "true: only voided; false: only valid"}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))

    @validates_schema
    def _range(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start and end and start > end:
            raise ValidationError(str(_l("Ngày bắt đầu phải trước ngày kết thúc.")), "to")


class TransactionPageSchema(Schema):
    items = fields.List(fields.Nested(TransactionSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class VoidSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=300))


class ImportArgsSchema(Schema):
    market = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Market whose board gets the unmatched lines (default: yours)"},
    )
    account_number = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9A-Za-z]{4,40}$"),
        metadata={"description": "Account of the whole statement, if it has no account column"},
    )


class ImportLineSchema(Schema):
    line = fields.Integer()
    status = fields.String()
    id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    amount = fields.Integer(allow_none=True)
    occurred_at = fields.DateTime(allow_none=True)
    account_number = fields.String(allow_none=True)
    content = fields.String(allow_none=True)
    inbound_id = fields.Integer(allow_none=True)


class ImportResultSchema(Schema):
    lines = fields.Integer()
    created = fields.Integer()
    duplicates = fields.Integer()
    ignored = fields.Integer(metadata={"description": "Outgoing (debit) lines, skipped"})
    unmatched_total = fields.Integer()
    rejected_total = fields.Integer()
    unmatched = fields.List(
        fields.Nested(ImportLineSchema),
        metadata={"description": "Held for the board (first 1,000 listed)"},
    )
    rejected = fields.List(fields.Nested(ImportLineSchema), metadata={"description": "First 1,000"})
    seconds = fields.Float()


class InboundPaymentSchema(Schema):
    id = fields.Integer()
    source = fields.String()
    external_ref = fields.String()
    amount = fields.Integer(attribute="amount_vnd")
    occurred_at = fields.DateTime()
    account_number = fields.String(allow_none=True)
    content = fields.String(allow_none=True)
    status = fields.String()
    reason = fields.String(allow_none=True)
    market_id = fields.Integer(allow_none=True)
    transaction_id = fields.Integer(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class InboundQuerySchema(Schema):
    market = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(
        load_default="unmatched", validate=validate.OneOf(("unmatched", "assigned", "ignored"))
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class InboundPageSchema(Schema):
    items = fields.List(fields.Nested(InboundPaymentSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class AssignSchema(Schema):
    vendor_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    method = fields.String(load_default=Method.VIETQR.value, validate=validate.OneOf(METHODS))


class IgnoreSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=3, max=300))


class SepayNotificationSchema(Schema):
    """SePay's bank-transfer webhook body (https://developer.sepay.vn, "SePay Webhooks").

    ``transactionDate`` is Vietnam time. Only ``transferType`` ``in`` is recorded; ``id``
    is the idempotency key. Fields we do not use are accepted and kept with unmatched lines.
    """

    id = fields.Raw(required=True, metadata={"description": "SePay's transaction id"})
    gateway = fields.String(load_default=None, allow_none=True)
    transactionDate = fields.String(  # noqa: N815 - SePay's field name
        required=True, metadata={"example": "2026-11-21 09:15:00"}
    )
    accountNumber = fields.String(load_default=None, allow_none=True)  # noqa: N815
    subAccount = fields.String(load_default=None, allow_none=True)  # noqa: N815
    code = fields.String(load_default=None, allow_none=True)
    content = fields.String(load_default=None, allow_none=True)
    transferType = fields.String(  # noqa: N815
        required=True, validate=validate.OneOf(("in", "out"))
    )
    transferAmount = fields.Raw(required=True)  # noqa: N815
    accumulated = fields.Raw(load_default=None, allow_none=True)
    referenceCode = fields.String(load_default=None, allow_none=True)  # noqa: N815
    description = fields.String(load_default=None, allow_none=True)

    class Meta:
        unknown = "include"


class ChopayNotificationSchema(Schema):
    """chopay's own provider-neutral notification.

    ``{"id": "evt-1", "direction": "in", "amount": 150000, "occurred_at":
    "2026-11-21T09:15:00+07:00", "method": "vietqr", "account_number": "0123456789",
    "content": "CP7K3QF9 rau", "vendor_id": null, "bank_reference": "FT25325A1B2C"}``.
    ``id`` is unique per source (the idempotency key); the vendor is ``vendor_id`` when
    given, else matched like SePay's: by account number and the vendor reference in
    ``content``. ``bank_reference`` (optional) is the bank's own reference of the transfer,
    as the receiving account's statement prints it: with ``account_number`` it lets the
    ledger recognise the same transfer in an imported statement (recorded once)."""

    id = fields.String(required=True, validate=validate.Regexp(_REF_RE))
    direction = fields.String(load_default="in", validate=validate.OneOf(("in", "out")))
    amount = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT_VND)
    )
    occurred_at = fields.String(required=True)
    method = fields.String(load_default=Method.VIETQR.value, validate=validate.OneOf(METHODS))
    account_number = fields.String(load_default=None, allow_none=True)
    content = fields.String(load_default=None, allow_none=True)
    vendor_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
    )
    bank_reference = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "the bank's own reference of the transfer (as on the statement)"},
    )


class WebhookResultSchema(Schema):
    success = fields.Boolean()
    status = fields.String(
        metadata={"description": "created, duplicate, unmatched (kept for a board) or ignored"}
    )
    id = fields.Integer(allow_none=True)
    inbound_id = fields.Integer(allow_none=True)


# ---- HTML forms ---------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
_LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def payment_from_form(form: Any) -> dict[str, Any]:
    """The report form (vendor, amount as typed, method button, idempotency token, optional
    time) as a payment item for ``load_payment``. The token, generated when the form was
    shown, becomes the external reference: submitting the same form twice stores once."""
    errors: dict[str, list[Any]] = {}
    raw: dict[str, Any] = {"method": form.get("method") or None}
    vendor_text = (form.get("vendor_id") or "").strip()
    # ASCII only: "²".isdigit() is true and int("²") fails; past 10 digits it is no id
    if not (vendor_text.isascii() and vendor_text.isdigit()) or len(vendor_text) > 10:
        errors["vendor_id"] = [_l("Chọn tiểu thương.")]
    else:
        raw["vendor_id"] = int(vendor_text)
    try:
        raw["amount"] = parse_vnd_text(form.get("amount") or "")
    except ValueError as exc:
        errors["amount"] = [exc.args[0]]
    token = (form.get("token") or "").strip()
    if not _TOKEN_RE.match(token):
        errors["token"] = [_l("Biểu mẫu đã cũ, vui lòng tải lại trang.")]
    raw["external_ref"] = f"web-{token}"
    when = (form.get("occurred_at") or "").strip()
    if when:
        try:
            raw["occurred_at"] = to_utc(dt.datetime.strptime(when[:16], _LOCAL_INPUT)).isoformat()
        except ValueError:
            errors["occurred_at"] = [_l("Giờ không hợp lệ.")]
    if errors:
        raise InvalidInputError(details=errors)
    return raw
