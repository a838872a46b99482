"""Text helpers shared by services: NFC normalisation and accent-free slugs."""

from __future__ import annotations

import re
import unicodedata

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
