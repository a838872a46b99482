"""Exceptions raised by the VietQR library.

Every error carries ``field`` (which input or which EMVCo data object is wrong) and
``reason`` (what is wrong with it). Parse errors name the field by its tag path, e.g.
``"38.01.01"`` for the beneficiary account inside the NAPAS merchant account template;
build errors name the Python argument, e.g. ``"amount"``.
"""

from __future__ import annotations

# Human labels for the tag paths used in parse errors, so messages read
# "38.01.00 (acquirer BIN): must be 6 digits" instead of a bare path.
FIELD_LABELS: dict[str, str] = {
    "payload": "payload",
    "00": "payload format indicator",
    "01": "point of initiation method",
    "38": "NAPAS merchant account information",
    "38.00": "NAPAS GUID",
    "38.01": "beneficiary organization",
    "38.01.00": "acquirer BIN",
    "38.01.01": "account number",
    "38.02": "service code",
    "52": "merchant category code",
    "53": "transaction currency",
    "54": "transaction amount",
    "58": "country code",
    "59": "merchant name",
    "60": "merchant city",
    "61": "postal code",
    "62": "additional data",
    "62.01": "bill number",
    "62.08": "purpose of transaction",
    "63": "CRC",
}


class VietQRError(ValueError):
    """Base class of every VietQR error; a ``ValueError`` with ``field`` and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        label = FIELD_LABELS.get(field)
        where = f"{field} ({label})" if label and label != field else field
        super().__init__(f"{where}: {reason}")


class TLVError(VietQRError):
    """The ID/length/value structure is broken (bad length, truncation, bad ID)."""


class DuplicateFieldError(TLVError):
    """The same ID appears twice in one template."""


class CRCMismatchError(VietQRError):
    """The CRC in ID 63 does not match the payload."""

    def __init__(self, expected: str, found: str) -> None:
        self.expected = expected
        self.found = found
        super().__init__("63", f"checksum {found!r} does not match computed {expected!r}")


class MissingFieldError(VietQRError):
    """A mandatory data object is absent."""


class InvalidFieldError(VietQRError):
    """A data object is present but its value is not allowed."""


class FieldTooLongError(InvalidFieldError):
    """A value exceeds its EMVCo/NAPAS maximum length."""


class UnknownBankError(VietQRError):
    """No bank in the directory has the requested BIN."""
