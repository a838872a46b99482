"""Vendor and payment-account shapes, and the rules for phones, ID numbers and accounts."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from chopay.db import MAX_ID
from chopay.markets.schemas import StrictSchema, Text, flag, invalid, one_of
from chopay.vendors.codes import format_verify_code
from chopay.vendors.models import AccountKind, OnboardingOrg, VendorStatus
from chopay.vietqr import MAX_ACCOUNT_LENGTH, lookup_bank

_SEPARATORS = re.compile(r"[\s.\-()/]")
_ASCII_DIGITS = re.compile(r"^[0-9]+$")
_PHONE = re.compile(r"^0[1-9][0-9]{8}$")
_ACCOUNT = re.compile(rf"^[A-Za-z0-9]{{1,{MAX_ACCOUNT_LENGTH}}}$")

PHONE_FORMAT = _l("Số điện thoại phải có 10 chữ số và bắt đầu bằng 0 (ví dụ 0912345678).")


def normalise_phone(raw: str, *, restore_leading_zero: bool = False) -> str:
    """A Vietnamese phone number as 10 digits starting with 0; ValidationError otherwise.

    ``+84 912 345 678``, ``0084912345678``, ``84912345678`` and ``0912.345.678`` all give
    ``0912345678``. ``restore_leading_zero`` also accepts the 9 digits left when a
    spreadsheet stored the number as a number and dropped its 0 (import only).
    """
    compact = _SEPARATORS.sub("", raw.strip())
    if compact.startswith("+"):
        if not compact.startswith("+84"):
            raise invalid(_l("Chỉ nhận số điện thoại Việt Nam (+84)."))
        compact = "0" + compact[3:]
    elif compact.startswith("0084"):
        compact = "0" + compact[4:]
    if not _ASCII_DIGITS.match(compact):
        raise invalid(_l("Số điện thoại chỉ được gồm chữ số (có thể bắt đầu bằng +84)."))
    if len(compact) == 11 and compact.startswith("84"):
        compact = "0" + compact[2:]
    elif restore_leading_zero and len(compact) == 9 and not compact.startswith("0"):
        compact = "0" + compact
    if not _PHONE.match(compact):
        raise invalid(PHONE_FORMAT)
    return compact


class Phone(fields.String):
    """A phone number, normalised to ``0XXXXXXXXX``; blank loads as None."""

    def __init__(self, *, restore_leading_zero: bool = False, **kw: Any) -> None:
        self.restore_leading_zero = restore_leading_zero
        super().__init__(
            allow_none=True,
            error_messages={"invalid": _l("Số điện thoại không hợp lệ.")},
            **kw,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            return None
        return normalise_phone(text, restore_leading_zero=self.restore_leading_zero)


def mask_id_number(digits: str) -> str:
    """Keep only the last 4 digits: '001085012345' → '********2345'."""
    return "*" * (len(digits) - 4) + digits[-4:]


class IdNumber(fields.String):
    """A CMND (9 digits) or CCCD (12 digits) number; loads as its masked form only."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(
            allow_none=True,
            load_only=True,
            error_messages={"invalid": _l("Số CMND/CCCD không hợp lệ.")},
            **kw,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = _SEPARATORS.sub("", super()._deserialize(value, attr, data, **kwargs))
        if not text:
            return None
        if not _ASCII_DIGITS.match(text) or len(text) not in (9, 12):
            raise invalid(_l("Số CMND/CCCD phải gồm 9 hoặc 12 chữ số."))
        return mask_id_number(text)


def normalise_account_number(raw: str) -> str:
    """Account number without spaces, dots or dashes; 1–19 letters or digits."""
    compact = _SEPARATORS.sub("", raw.strip())
    if not compact:
        raise invalid(_l("Chưa nhập số tài khoản."))
    if len(compact) > MAX_ACCOUNT_LENGTH:
        raise invalid(
            _l(
                "Số tài khoản dài %(n)d ký tự; tối đa %(max)d chữ số hoặc chữ cái.",
                n=len(compact),
                max=MAX_ACCOUNT_LENGTH,
            )
        )
    if not _ACCOUNT.match(compact):
        raise invalid(
            _l("Số tài khoản chỉ được gồm chữ số và chữ cái không dấu (không ký tự đặc biệt).")
        )
    return compact


class AccountNumber(fields.String):
    def __init__(self, **kw: Any) -> None:
        super().__init__(
            error_messages={
                "required": _l("Chưa nhập số tài khoản."),
                "null": _l("Chưa nhập số tài khoản."),
                "invalid": _l("Số tài khoản không hợp lệ."),
            },
            **kw,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return normalise_account_number(super()._deserialize(value, attr, data, **kwargs))


def validate_bank_bin(value: str) -> None:
    """The BIN must be one of the VietQR directory's banks."""
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        raise invalid(_l("Mã ngân hàng (BIN) phải gồm đúng 6 chữ số."))
    if lookup_bank(value) is None:
        raise invalid(_l("Không có ngân hàng mã BIN %(bin)s trong danh mục VietQR.", bin=value))


class AccountCreateSchema(StrictSchema):
    """A payment account to add; it stays pending until a second person approves it."""

    kind = one_of(_l("loại tài khoản"), tuple(AccountKind), load_default=AccountKind.BANK)
    bank_bin = fields.String(
        required=True,
        validate=validate_bank_bin,
        error_messages={
            "required": _l("Chưa chọn ngân hàng."),
            "null": _l("Chưa chọn ngân hàng."),
            "invalid": _l("Mã ngân hàng không hợp lệ."),
        },
        metadata={"description": "6-digit NAPAS BIN of a bank in the VietQR directory"},
    )
    account_number = AccountNumber(required=True)
    account_name = Text(_l("tên chủ tài khoản"), max_length=120, required=True)


class AccountRejectSchema(StrictSchema):
    reason = Text(_l("lý do từ chối"), max_length=300, required=True)


class AccountBatchSchema(StrictSchema):
    """Accounts to approve or reject at once (the pending-accounts page)."""

    account_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=2000),
    )
    reason = Text(_l("lý do từ chối"), max_length=300)


_ORGS = tuple(OnboardingOrg)


class _VendorFields(StrictSchema):
    full_name = Text(_l("họ và tên"), max_length=120, required=True)
    stall = Text(_l("số quầy"), max_length=30, required=True)
    zone = Text(_l("khu/dãy"), max_length=60)
    goods_category = Text(_l("ngành hàng"), max_length=80)
    phone = Phone()
    id_number_masked = IdNumber(data_key="id_number")
    has_smartphone = flag(_l("có điện thoại thông minh"), load_default=False)
    has_payment_speaker = flag(_l("có loa thanh toán"), load_default=False)
    onboarding_org = one_of(_l("đơn vị hỗ trợ"), _ORGS, allow_none=True)
    onboarding_org_name = Text(_l("tên đơn vị hỗ trợ"), max_length=120)


class VendorCreateSchema(_VendorFields):
    """A vendor to register, optionally with a first payment account (pending)."""

    account = fields.Nested(AccountCreateSchema, allow_none=True)


class VendorImportRowSchema(_VendorFields):
    """One row of an imported list: spreadsheets drop the leading 0 of phone numbers."""

    phone = Phone(restore_leading_zero=True)


class VendorUpdateSchema(_VendorFields):
    """Fields to change and/or a new status (moves follow the vendor status table)."""

    full_name = Text(_l("họ và tên"), max_length=120, nullable=False)
    stall = Text(_l("số quầy"), max_length=30, nullable=False)
    has_smartphone = flag(_l("có điện thoại thông minh"))
    has_payment_speaker = flag(_l("có loa thanh toán"))
    status = one_of(_l("trạng thái"), tuple(VendorStatus))


class VendorQuerySchema(Schema):
    q = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "Name (accents optional), stall, phone or reference"},
    )
    status = fields.String(validate=validate.OneOf(tuple(VendorStatus)))


class AccountSchema(Schema):
    id = fields.Integer()
    vendor_id = fields.Integer()
    kind = fields.String()
    bank_bin = fields.String()
    bank_name = fields.Function(lambda a: _bank_name(a.bank_bin))
    account_number = fields.String()
    account_name = fields.String()
    status = fields.String()
    is_primary = fields.Boolean()
    replaces_id = fields.Integer(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


def _bank_name(bank_bin: str) -> str | None:
    bank = lookup_bank(bank_bin)
    return bank.short_name if bank else None


class QrCodeSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    payload = fields.String()
    verify_code = fields.Function(lambda c: format_verify_code(c.verify_code))
    issued_at = fields.DateTime()


class VendorSchema(Schema):
    id = fields.Integer()
    market_id = fields.Integer()
    reference = fields.String()
    full_name = fields.String()
    stall = fields.String()
    zone = fields.String(allow_none=True)
    goods_category = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    id_number_masked = fields.String(allow_none=True)
    has_smartphone = fields.Boolean()
    has_payment_speaker = fields.Boolean()
    status = fields.String()
    onboarding_org = fields.String(allow_none=True)
    onboarding_org_name = fields.String(allow_none=True)
    onboarded_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    left_at = fields.DateTime(allow_none=True)


class VendorDetailSchema(VendorSchema):
    accounts = fields.List(fields.Nested(AccountSchema))
    qr = fields.Nested(QrCodeSchema, allow_none=True, attribute="current_qr")


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "1: check and report, write nothing"}
    )


class ImportFileSchema(StrictSchema):
    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary"},
        error_messages={"required": _l("Chưa chọn tệp danh sách (CSV hoặc XLSX).")},
    )


class ImportRowSchema(Schema):
    row = fields.Integer()
    status = fields.String(metadata={"description": "created | duplicate | error"})
    full_name = fields.String(allow_none=True)
    stall = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    bank_bin = fields.String(allow_none=True)
    account_number = fields.String(allow_none=True)
    vendor_id = fields.Integer(allow_none=True)
    duplicate_of_row = fields.Integer(allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    warnings = fields.List(fields.String())


class ImportReportSchema(Schema):
    dry_run = fields.Boolean()
    total = fields.Integer()
    created = fields.Integer()
    duplicate = fields.Integer()
    error = fields.Integer()
    accounts_pending = fields.Integer()
    header_row = fields.Integer()
    columns = fields.Dict(keys=fields.String(), values=fields.String())
    rows = fields.List(fields.Nested(ImportRowSchema))


# --- personal data: export and erasure on the vendor's request --------------------------


class QrCodeExportSchema(QrCodeSchema):
    is_dynamic = fields.Boolean()
    amount_vnd = fields.Integer(allow_none=True)
    purpose = fields.String(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    revoked_reason = fields.String(allow_none=True)


class TransactionExportSchema(Schema):
    id = fields.Integer()
    amount_vnd = fields.Integer()
    occurred_at = fields.DateTime()
    local_day = fields.Date()
    method = fields.String()
    source = fields.String()
    external_ref = fields.String()
    # "<receiving account>:<bank's reference>" of a bank transfer (the vendor's account)
    bank_ref = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)


class LoginExportSchema(Schema):
    username = fields.String()
    full_name = fields.String(allow_none=True)
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


class MarketRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class VendorExportSchema(Schema):
    """Everything chopay holds about one vendor (Personal Data Protection Law 91/2025)."""

    exported_at = fields.DateTime()
    vendor = fields.Nested(VendorSchema)
    market = fields.Nested(MarketRefSchema)
    accounts = fields.List(fields.Nested(AccountSchema))
    qr_codes = fields.List(fields.Nested(QrCodeExportSchema))
    transactions = fields.List(fields.Nested(TransactionExportSchema))
    logins = fields.List(fields.Nested(LoginExportSchema))


class VendorEraseSchema(StrictSchema):
    confirm = Text(
        _l("mã xác nhận"),
        max_length=40,
        required=True,
        metadata={"description": "The vendor's reference code, typed again to confirm"},
    )


class ErasureResultSchema(Schema):
    vendor_id = fields.Integer()
    accounts = fields.Integer()
    qr_codes_revoked = fields.Integer()
    transactions = fields.Integer()
    inbound_payments = fields.Integer()
    logins = fields.Integer()
    audit_events = fields.Integer()
