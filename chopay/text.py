"""Text helpers shared by services: NFC normalisation, accent-free slugs, NUL checks."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l

from chopay.vietqr import to_ascii

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def nfc(text: str) -> str:
    """Unicode NFC with surrounding and repeated inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold(text: str) -> str:
    """Lowercase ASCII without Vietnamese diacritics: 'Đại Từ' → 'dai tu'."""
    return " ".join(to_ascii(text).lower().split())


def slugify(text: str) -> str:
    """'Xã Hùng Sơn' → 'xahungson' (the form vietnamadminunits keys use)."""
    return _NON_ALNUM.sub("", fold(text))


# Why text holding a NUL is refused (see ``nul_path``).
NUL_MESSAGE = _l("Có ký tự điều khiển không hợp lệ (NUL, mã 0). Xoá ký tự đó rồi gửi lại.")


def nul_path(value: Any, path: str = "") -> str | None:
    """Where a NUL character (code 0) sits in parsed JSON, as a dotted path (``note``,
    ``3.note``; ``_schema`` for the top level), or None. PostgreSQL cannot store one in
    text, and no one types one."""
    if isinstance(value, str):
        return (path or "_schema") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in where:
                return where.replace("\x00", "")
            found = nul_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


_JSON_NUL = b"\\u0000"  # a NUL in JSON text (a raw NUL is not valid JSON)


def may_hold_nul(raw_json: bytes) -> bool:
    """Whether a JSON body's raw text can hold a NUL (its escape): only then is the
    parsed value worth walking with ``nul_path``. Nearly every body costs a substring
    search and nothing more."""
    return _JSON_NUL in raw_json
