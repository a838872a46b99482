"""Market shapes, and the text fields every onboarding form shares.

Messages are Vietnamese (the source language) and say what is wrong in plain words,
because the same schemas validate the HTML forms that boards fill in on their phones.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from chopay.admin_units.models import Scheme
from chopay.formatting import format_number
from chopay.text import nfc

MAX_STALL_COUNT = 20_000
MARKET_CLASSES = ("1", "2", "3")


def invalid(message: Any) -> ValidationError:
    """A validation error with one reason (wrapped in a list: marshmallow iterates
    non-list messages, and translated messages are lazy objects, not ``str``)."""
    return ValidationError([message])


def _capitalised(label: Any) -> LazyString:
    """The label with a capital first letter, for messages that start with it."""

    def render() -> str:
        text = str(label)
        return text[:1].upper() + text[1:]

    return LazyString(render)


def _messages(label: Any) -> dict[str, Any]:
    return {
        "required": _l("Chưa nhập %(label)s.", label=label),
        "null": _l("Chưa nhập %(label)s.", label=label),
        "invalid": _l("%(label)s không hợp lệ.", label=_capitalised(label)),
    }


def _as_lists(messages: Any) -> Any:
    """Field → list of reasons, all plain strings (translated messages are lazy objects,
    which marshmallow would otherwise leave unwrapped)."""
    if isinstance(messages, dict):
        return {key: _as_lists(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        flat: list[Any] = []
        for item in messages:
            value = _as_lists(item)
            if isinstance(value, list):
                flat.extend(value)
            else:
                flat.append(value)
        return flat
    return [str(messages)]


class StrictSchema(Schema):
    """A schema whose errors are Vietnamese and always shaped field → list of reasons."""

    error_messages = {  # noqa: RUF012 - marshmallow reads this class attribute
        "unknown": _l("Trường này không được hỗ trợ."),
        "type": _l("Dữ liệu gửi lên phải là một đối tượng JSON."),
    }

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kw: Any) -> None:
        raise ValidationError(
            _as_lists(error.messages), data=error.data, valid_data=error.valid_data
        )


class Text(fields.String):
    """A string stored in Unicode NFC with whitespace collapsed.

    Blank text counts as missing: a required field says "Chưa nhập …", an optional one
    loads as ``None``. Control characters and unpaired surrogates are refused (they break
    PostgreSQL and hide look-alike duplicates); invisible format characters such as
    zero-width spaces are dropped.
    """

    def __init__(
        self,
        label: Any,
        *,
        max_length: int,
        required: bool = False,
        nullable: bool | None = None,
        **kw: Any,
    ) -> None:
        self.label = label
        messages = _messages(label)
        messages.update(kw.pop("error_messages", {}))
        validators = [
            validate.Length(
                max=max_length,
                error=_l("%(label)s dài quá %(n)d ký tự.", label=_capitalised(label), n=max_length),
            ),
            *kw.pop("validate", []),
        ]
        super().__init__(
            required=required,
            allow_none=(not required) if nullable is None else nullable,
            validate=validators,
            error_messages=messages,
            **kw,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        text = super()._deserialize(value, attr, data, **kwargs)
        return clean_text(text, self.label, required=not self.allow_none)

    def _validate(self, value: Any) -> None:
        # Blank optional text loads as None: there is no length (or pattern) to check.
        if value is not None:
            super()._validate(value)


def clean_text(text: str, label: Any, *, required: bool) -> str | None:
    """NFC, collapsed whitespace, no control characters; blank is missing."""
    if not text.isprintable():  # rare: only then look for what is not printable
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise invalid(_l("%(label)s có ký tự không hợp lệ.", label=_capitalised(label)))
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
        if any(unicodedata.category(c) == "Cc" and not c.isspace() for c in text):
            raise invalid(
                _l("%(label)s có ký tự điều khiển không hợp lệ.", label=_capitalised(label))
            )
    text = nfc(text)
    if not text:
        if required:
            raise invalid(_l("Chưa nhập %(label)s.", label=label))
        return None
    return text


def flag(label: Any, **kw: Any) -> fields.Boolean:
    """A yes/no field (HTML checkboxes send "on")."""
    return fields.Boolean(error_messages=_messages(label), **kw)


def whole_number(label: Any, *, low: int, high: int, **kw: Any) -> fields.Integer:
    """An integer in [low, high]; "120" from a form is accepted, 12.5 is not."""
    return fields.Integer(
        error_messages={
            **_messages(label),
            "invalid": _l("%(label)s phải là số nguyên.", label=_capitalised(label)),
        },
        validate=validate.Range(
            min=low,
            max=high,
            error=_l(
                "%(label)s phải từ %(low)s đến %(high)s.",
                label=_capitalised(label),
                low=format_number(low),
                high=format_number(high),
            ),
        ),
        **kw,
    )


def one_of(label: Any, choices: tuple[str, ...], **kw: Any) -> fields.String:
    """A string that must be one of ``choices``."""
    return fields.String(
        error_messages=_messages(label),
        validate=validate.OneOf(
            choices,
            error=_l(
                "%(label)s phải là một trong: %(choices)s.",
                label=_capitalised(label),
                choices=", ".join(choices),
            ),
        ),
        **kw,
    )


SCHEMES = (str(Scheme.LEGACY), str(Scheme.NEW))
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _MarketFields(StrictSchema):
    name = Text(_l("tên chợ"), max_length=200, required=True)
    code = Text(
        _l("mã chợ"),
        max_length=20,
        validate=[
            validate.Regexp(CODE_PATTERN, error=_l("Mã chợ chỉ gồm chữ không dấu, số và . _ -"))
        ],
    )
    address = Text(_l("địa chỉ"), max_length=300)
    market_class = one_of(_l("hạng chợ"), MARKET_CLASSES, allow_none=True)
    stall_count = whole_number(_l("số quầy"), low=1, high=MAX_STALL_COUNT, required=True)
    scheme = one_of(_l("hệ đơn vị hành chính"), SCHEMES, required=True)
    commune_code = Text(_l("mã xã/phường"), max_length=10, required=True)


class MarketCreateSchema(_MarketFields):
    """A new market: where it is (one commune code in either scheme) and its size."""


class MarketUpdateSchema(_MarketFields):
    """Fields to change; moving a market needs both ``scheme`` and ``commune_code``."""

    name = Text(_l("tên chợ"), max_length=200, nullable=False)
    stall_count = whole_number(_l("số quầy"), low=1, high=MAX_STALL_COUNT)
    scheme = one_of(_l("hệ đơn vị hành chính"), SCHEMES)
    commune_code = Text(_l("mã xã/phường"), max_length=10, nullable=False)
    location_confirmed = flag(
        _l("xác nhận vị trí"),
        metadata={"description": "True: a person checked both communes; clears the review flag"},
    )
    is_active = flag(_l("đang hoạt động"))


class CommuneSchema(Schema):
    scheme = fields.String()
    code = fields.String()
    name = fields.String()
    district_code = fields.String(allow_none=True)
    province_code = fields.String()


class MarketSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    address = fields.String(allow_none=True)
    market_class = fields.String(allow_none=True)
    stall_count = fields.Integer()
    legacy_commune = fields.Nested(CommuneSchema, allow_none=True)
    new_commune = fields.Nested(CommuneSchema, allow_none=True)
    needs_location_review = fields.Boolean()
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class MarketQuerySchema(Schema):
    q = fields.String(
        validate=validate.Length(max=100), metadata={"description": "Name or code contains"}
    )
