"""Turning HTML form posts into schema input, and schema errors back into field messages.

Pages validate with the same marshmallow schemas as the API; these helpers only reshape
``request.form`` (strings, absent checkboxes, flat names) into what the schemas expect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError

from chopay.errors import ChopayError, InvalidInputError


def form_input(
    form: Mapping[str, str],
    *,
    fields: Iterable[str],
    flags: Iterable[str] = (),
    nested: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """Schema input from a form: blanks become None, checkboxes True/False.

    ``nested`` maps a key to the flat form fields that make it up (e.g. the first
    account's ``bank_bin`` …); the key is left out when all of them are blank.
    """
    data: dict[str, Any] = {}
    for name in fields:
        if name in form:
            value = form.get(name, "")
            data[name] = value if value.strip() else None
    for name in flags:
        data[name] = form.get(name) in ("on", "1", "true", "y")
    for key, names in (nested or {}).items():
        sub = {name: form.get(name, "") for name in names}
        if any(v.strip() for v in sub.values()):
            data[key] = {name: (v if v.strip() else None) for name, v in sub.items()}
    return data


def load_form(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    """Load form input through a schema (ignoring fields it does not know, such as the
    CSRF token); errors become an InvalidInputError carrying field → reasons."""
    try:
        return schema.load(data, unknown=EXCLUDE)
    except ValidationError as exc:
        raise InvalidInputError(details=exc.messages) from None


def field_errors(error: ValidationError | ChopayError) -> dict[str, list[str]]:
    """Field → reasons, with nested fields flattened ("account.bank_bin" → "bank_bin")."""
    messages = error.messages if isinstance(error, ValidationError) else (error.details or {})
    out: dict[str, list[str]] = {}

    def walk(value: Any, name: str) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                walk(sub, str(key))
        elif isinstance(value, list | tuple):
            out.setdefault(name, []).extend(str(v) for v in value)
        elif value is not None:
            out.setdefault(name, []).append(str(value))

    if isinstance(messages, Mapping):
        for key, value in messages.items():
            walk(value, str(key))
    return out
