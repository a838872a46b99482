"""EMVCo Merchant-Presented Mode TLV (ID, length, value) encoding and decoding.

Each data object is a 2-digit ID, a 2-digit length "01".."99" counting characters of
the value, then the value. Templates (IDs 26-51, 62, 64, 80-99) nest the same format.
"""

from __future__ import annotations

from typing import NoReturn

from chopay.vietqr.errors import DuplicateFieldError, TLVError

MAX_VALUE_LENGTH = 99  # EMVCo MPM 4.1: length field is two digits, "01".."99"
_DIGITS = frozenset("0123456789")
# Every two-digit ID, and every two-digit length mapped to its value; lookups in these
# replace per-character digit checks and int() in the hot loop.
_IDS = frozenset(f"{i:02d}" for i in range(100))
_LENGTHS = {f"{i:02d}": i for i in range(100)}


def _path(parent: str, tag: str) -> str:
    """Join a template path and a child ID, e.g. ("38", "01") -> "38.01"."""
    return f"{parent}.{tag}" if parent else tag


def encode_tlv(tag: str, value: str) -> str:
    """Encode one data object as ID + 2-digit length + value."""
    if len(tag) != 2 or not _DIGITS.issuperset(tag):
        raise TLVError(tag, "ID must be exactly two digits")
    size = len(value)
    if not 1 <= size <= MAX_VALUE_LENGTH:
        raise TLVError(tag, f"value length {size} is outside 1..{MAX_VALUE_LENGTH}")
    return f"{tag}{size:02d}{value}"


def decode_tlv(text: str, parent: str = "") -> dict[str, str]:
    """Split ``text`` into its data objects, in order, keyed by ID.

    ``parent`` is the tag path of the enclosing template, used in error fields.
    Raises :class:`TLVError` for a non-digit ID or length, a zero length, a value that
    runs past the end (truncation), and :class:`DuplicateFieldError` for a repeated ID.
    """
    fields: dict[str, str] = {}
    pos = 0
    end = len(text)
    while pos < end:
        tag = text[pos : pos + 2]
        size = _LENGTHS.get(text[pos + 2 : pos + 4], 0)
        if tag not in _IDS or not size:
            _raise_header_error(text, pos, parent)
        start = pos + 4
        pos = start + size
        if pos > end:
            raise TLVError(
                _path(parent, tag),
                f"declares {size} character(s) but only {end - start} remain (truncated)",
            )
        if tag in fields:
            raise DuplicateFieldError(_path(parent, tag), "appears more than once")
        fields[tag] = text[start:pos]
    return fields


def _raise_header_error(text: str, pos: int, parent: str) -> NoReturn:
    """Explain why the 4-character ID + length header at ``pos`` is unusable."""
    where = parent or "payload"
    rest = len(text) - pos
    if rest < 4:
        raise TLVError(where, f"{rest} trailing character(s) {text[pos:]!r} cannot form a field")
    tag = text[pos : pos + 2]
    size_text = text[pos + 2 : pos + 4]
    if tag not in _IDS:
        raise TLVError(where, f"ID {tag!r} at offset {pos} is not two digits")
    if size_text not in _LENGTHS:
        raise TLVError(_path(parent, tag), f"length {size_text!r} is not two digits")
    raise TLVError(_path(parent, tag), "length 00 is not allowed (values have 1..99 characters)")
