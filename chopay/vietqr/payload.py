"""Build and parse VietQR (NAPAS 247 transfer) payloads.

A VietQR payload is an EMVCo Merchant-Presented Mode string whose merchant account
information is the NAPAS template in ID 38::

    00 02 "01"                      payload format indicator
    01 02 "11" | "12"               static | dynamic (amount filled in)
    38 .. 00 10 "A000000727"        NAPAS GUID
          01 .. 00 06 <BIN>         beneficiary organization: acquirer BIN
                01 .. <account>                               account / card number
          02 08 "QRIBFTTA"|"QRIBFTTC"  service: transfer to account | to card
    53 03 "704"                     currency VND
    54 .. <amount>                  optional, whole dong
    58 02 "VN"
    59 .. / 60 ..                   optional merchant name / city
    62 .. 01 .. <bill number>       optional additional data
          08 .. <purpose>           transfer note
    63 04 <CRC>                     CRC-16/CCITT-FALSE over everything before its value

Length limits applied (EMVCo MPM v1.1 section 4 and the NAPAS VietQR profile): every
value 1..99 characters; 38.01.01 account 1..19; 54 amount up to 13 characters;
59 name 25; 60 city 15; 62 sub-fields 01-08 up to 25 each (so the transfer note is at
most 25 characters); 62.09 up to 3; whole payload at most 512 characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from chopay.vietqr.banks import Bank, lookup_bank
from chopay.vietqr.crc import crc16_hex
from chopay.vietqr.emv import decode_tlv
from chopay.vietqr.errors import (
    CRCMismatchError,
    FieldTooLongError,
    InvalidFieldError,
    MissingFieldError,
)
from chopay.vietqr.text import to_ascii

# --- Root data object IDs -------------------------------------------------------------
TAG_PAYLOAD_FORMAT: Final = "00"  # EMVCo 00 Payload Format Indicator, fixed "01"
TAG_POINT_OF_INITIATION: Final = "01"  # EMVCo 01 Point of Initiation Method, "11"/"12"
TAG_NAPAS: Final = "38"  # EMVCo 26-51 Merchant Account Information; NAPAS uses 38
TAG_MCC: Final = "52"  # EMVCo 52 Merchant Category Code, ISO 18245, 4 digits
TAG_CURRENCY: Final = "53"  # EMVCo 53 Transaction Currency, ISO 4217 numeric
TAG_AMOUNT: Final = "54"  # EMVCo 54 Transaction Amount, up to 13 characters
TAG_COUNTRY: Final = "58"  # EMVCo 58 Country Code, ISO 3166-1 alpha-2
TAG_MERCHANT_NAME: Final = "59"  # EMVCo 59 Merchant Name, ans up to 25
TAG_MERCHANT_CITY: Final = "60"  # EMVCo 60 Merchant City, ans up to 15
TAG_POSTAL_CODE: Final = "61"  # EMVCo 61 Postal Code, ans up to 10
TAG_ADDITIONAL_DATA: Final = "62"  # EMVCo 62 Additional Data Field Template
TAG_CRC: Final = "63"  # EMVCo 63 CRC, CRC-16/CCITT-FALSE as 4 hex characters

# --- ID 38 NAPAS merchant account information template -------------------------------
SUB_GUID: Final = "00"  # NAPAS 38.00 Globally Unique Identifier
SUB_BENEFICIARY: Final = "01"  # NAPAS 38.01 Beneficiary Organization template
SUB_SERVICE: Final = "02"  # NAPAS 38.02 Service Code
SUB_ACQUIRER: Final = "00"  # NAPAS 38.01.00 Acquirer ID / BNB ID (6-digit BIN)
SUB_ACCOUNT: Final = "01"  # NAPAS 38.01.01 Merchant ID / Consumer ID (account or card)

# --- ID 62 additional data template ------------------------------------------------
SUB_BILL_NUMBER: Final = "01"  # EMVCo 62.01 Bill Number, ans up to 25
SUB_PURPOSE: Final = "08"  # EMVCo 62.08 Purpose of Transaction, ans up to 25
SUB_CONSUMER_DATA_REQUEST: Final = "09"  # EMVCo 62.09 Additional Consumer Data Request, ≤3

# --- Fixed values --------------------------------------------------------------------
PAYLOAD_FORMAT: Final = "01"  # EMVCo 00: the only defined version
POI_STATIC: Final = "11"  # EMVCo 01: same code reused for many transactions
POI_DYNAMIC: Final = "12"  # EMVCo 01: code made for one transaction (amount set)
NAPAS_GUID: Final = "A000000727"  # NAPAS application ID in 38.00
SERVICE_ACCOUNT: Final = "QRIBFTTA"  # NAPAS 38.02: 24/7 inter-bank transfer to account
SERVICE_CARD: Final = "QRIBFTTC"  # NAPAS 38.02: 24/7 inter-bank transfer to card
SERVICES: Final = frozenset({SERVICE_ACCOUNT, SERVICE_CARD})
CURRENCY_VND: Final = "704"  # ISO 4217 numeric code of the Vietnamese dong
COUNTRY_VN: Final = "VN"  # ISO 3166-1 alpha-2 code of Viet Nam

# --- Length limits -------------------------------------------------------------------
MAX_PAYLOAD_LENGTH: Final = 512  # EMVCo MPM: whole payload at most 512 characters
MAX_ACCOUNT_LENGTH: Final = 19  # NAPAS 38.01.01: account/card number up to 19
MAX_AMOUNT_DIGITS: Final = 13  # EMVCo 54: up to 13 characters
MAX_AMOUNT: Final = 10**MAX_AMOUNT_DIGITS - 1  # largest amount that fits ID 54
MAX_MERCHANT_NAME_LENGTH: Final = 25  # EMVCo 59
MAX_MERCHANT_CITY_LENGTH: Final = 15  # EMVCo 60
MAX_POSTAL_CODE_LENGTH: Final = 10  # EMVCo 61
MAX_ADDITIONAL_FIELD_LENGTH: Final = 25  # EMVCo 62.01-62.08 each
MAX_PURPOSE_LENGTH: Final = MAX_ADDITIONAL_FIELD_LENGTH  # EMVCo 62.08
MAX_BILL_NUMBER_LENGTH: Final = MAX_ADDITIONAL_FIELD_LENGTH  # EMVCo 62.01
MAX_CONSUMER_DATA_REQUEST_LENGTH: Final = 3  # EMVCo 62.09

_MANDATORY_ROOT: Final = (
    TAG_PAYLOAD_FORMAT,
    TAG_POINT_OF_INITIATION,
    TAG_NAPAS,
    TAG_CURRENCY,
    TAG_COUNTRY,
)
_MANDATORY_ROOT_SET: Final = frozenset(_MANDATORY_ROOT)
_TRAILING_WHITESPACE: Final = " \t\r\n"
_DIGITS: Final = frozenset("0123456789")
_ALNUM: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HEX: Final = frozenset("0123456789ABCDEFabcdef")
_CRC_TAIL: Final = TAG_CRC + "04"  # ID and length of the CRC, covered by the CRC itself
_GUID_TLV: Final = f"{SUB_GUID}{len(NAPAS_GUID):02d}{NAPAS_GUID}"
_HEAD_STATIC: Final = (
    f"{TAG_PAYLOAD_FORMAT}02{PAYLOAD_FORMAT}{TAG_POINT_OF_INITIATION}02{POI_STATIC}"
)
_HEAD_DYNAMIC: Final = (
    f"{TAG_PAYLOAD_FORMAT}02{PAYLOAD_FORMAT}{TAG_POINT_OF_INITIATION}02{POI_DYNAMIC}"
)
_CURRENCY_TLV: Final = f"{TAG_CURRENCY}03{CURRENCY_VND}"
_COUNTRY_TLV: Final = f"{TAG_COUNTRY}02{COUNTRY_VN}"

_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class VietQRPayload:
    """A validated VietQR payload, as returned by :func:`parse_payload`."""

    bank_bin: str
    account_number: str
    service: str
    amount: int | None
    purpose: str | None
    bill_number: str | None
    is_dynamic: bool
    crc: str
    merchant_name: str | None = None
    merchant_city: str | None = None
    currency: str = CURRENCY_VND
    country: str = COUNTRY_VN
    text: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    additional_data: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)

    @property
    def payload_format(self) -> str:
        """ID 00; parse_payload only accepts "01"."""
        return PAYLOAD_FORMAT

    @property
    def point_of_initiation(self) -> str:
        """ID 01: "12" for a dynamic code, "11" for a static one."""
        return POI_DYNAMIC if self.is_dynamic else POI_STATIC

    @property
    def guid(self) -> str:
        """ID 38.00; parse_payload only accepts the NAPAS GUID."""
        return NAPAS_GUID

    @property
    def is_static(self) -> bool:
        """True when the point of initiation is "11" (reusable code)."""
        return not self.is_dynamic

    @property
    def is_card(self) -> bool:
        """True when the transfer goes to a card number (QRIBFTTC)."""
        return self.service == SERVICE_CARD

    @property
    def bank(self) -> Bank | None:
        """The directory entry for ``bank_bin``, or None for a BIN we do not list."""
        return lookup_bank(self.bank_bin)


# --- building ------------------------------------------------------------------------


def _tlv(tag: str, value: str) -> str:
    """Encode a data object whose value length is already known to be 1..99."""
    return f"{tag}{len(value):02d}{value}"


def _text_field(name: str, value: str | None, limit: int, truncate: bool) -> str | None:
    """Transliterate and length-check a free-text argument; None or "" means absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidFieldError(name, f"must be a string, got {type(value).__name__}")
    if not value:
        return None
    ascii_value = to_ascii(value)
    if not ascii_value:
        raise InvalidFieldError(name, "has no characters left after ASCII transliteration")
    if not ascii_value.isprintable():
        raise InvalidFieldError(name, "contains control characters (tab, newline, ...)")
    if len(ascii_value) > limit:
        if not truncate:
            raise FieldTooLongError(
                name, f"is {len(ascii_value)} characters after transliteration; max is {limit}"
            )
        ascii_value = ascii_value[:limit]
    return ascii_value


def build_payload(
    bank_bin: str,
    account_number: str,
    *,
    amount: int | None = None,
    purpose: str | None = None,
    service: str = SERVICE_ACCOUNT,
    bill_number: str | None = None,
    merchant_name: str | None = None,
    merchant_city: str | None = None,
    truncate: bool = False,
) -> str:
    """Build a VietQR payload string; raise a VietQRError naming the bad argument.

    * ``bank_bin``: any 6-digit BIN (use :func:`lookup_bank` to check it is known).
    * ``account_number``: 1..19 ASCII letters/digits; digits only for ``QRIBFTTC``.
    * ``amount``: whole dong, int 1..9_999_999_999_999. Present -> point of initiation
      "12" (dynamic); absent -> "11" (static).
    * ``purpose`` (62.08), ``bill_number`` (62.01), ``merchant_name`` (59),
      ``merchant_city`` (60): transliterated with :func:`to_ascii` (đ->d, ễ->e, ...),
      must then be printable ASCII. ``None`` or ``""`` leaves the field out.
    * Over-long text: by default raises :class:`FieldTooLongError` (purpose and bill
      number max 25 characters, name 25, city 15, counted after transliteration).
      With ``truncate=True`` the transliterated text is cut to the limit instead.
    """
    if not isinstance(bank_bin, str) or len(bank_bin) != 6 or not _DIGITS.issuperset(bank_bin):
        raise InvalidFieldError(
            "bank_bin", f"must be a string of exactly 6 digits, got {bank_bin!r}"
        )
    if service not in SERVICES:
        raise InvalidFieldError(
            "service", f"must be {SERVICE_ACCOUNT!r} or {SERVICE_CARD!r}, got {service!r}"
        )
    if not isinstance(account_number, str) or not account_number:
        raise InvalidFieldError("account_number", "must be a non-empty string")
    if len(account_number) > MAX_ACCOUNT_LENGTH:
        raise FieldTooLongError(
            "account_number",
            f"is {len(account_number)} characters; max is {MAX_ACCOUNT_LENGTH}",
        )
    allowed = _DIGITS if service == SERVICE_CARD else _ALNUM
    if not allowed.issuperset(account_number):
        kind = "digits" if service == SERVICE_CARD else "ASCII letters and digits"
        raise InvalidFieldError("account_number", f"must contain only {kind}")

    if amount is None:
        head = _HEAD_STATIC
        amount_tlv = ""
    else:
        if type(amount) is not int:
            raise InvalidFieldError("amount", f"must be an int of whole dong, got {amount!r}")
        if not 1 <= amount <= MAX_AMOUNT:
            raise InvalidFieldError("amount", f"must be between 1 and {MAX_AMOUNT}, got {amount}")
        head = _HEAD_DYNAMIC
        amount_tlv = _tlv(TAG_AMOUNT, str(amount))

    purpose_ascii = _text_field("purpose", purpose, MAX_PURPOSE_LENGTH, truncate)
    bill_ascii = _text_field("bill_number", bill_number, MAX_BILL_NUMBER_LENGTH, truncate)
    name_ascii = _text_field("merchant_name", merchant_name, MAX_MERCHANT_NAME_LENGTH, truncate)
    city_ascii = _text_field("merchant_city", merchant_city, MAX_MERCHANT_CITY_LENGTH, truncate)

    beneficiary = f"{SUB_ACQUIRER}06{bank_bin}{_tlv(SUB_ACCOUNT, account_number)}"
    napas = f"{_GUID_TLV}{_tlv(SUB_BENEFICIARY, beneficiary)}{SUB_SERVICE}08{service}"
    additional = ""
    if bill_ascii is not None:
        additional = _tlv(SUB_BILL_NUMBER, bill_ascii)
    if purpose_ascii is not None:
        additional += _tlv(SUB_PURPOSE, purpose_ascii)
    parts = [head, _tlv(TAG_NAPAS, napas), _CURRENCY_TLV, amount_tlv, _COUNTRY_TLV]
    if name_ascii is not None:
        parts.append(_tlv(TAG_MERCHANT_NAME, name_ascii))
    if city_ascii is not None:
        parts.append(_tlv(TAG_MERCHANT_CITY, city_ascii))
    if additional:
        parts.append(_tlv(TAG_ADDITIONAL_DATA, additional))
    parts.append(_CRC_TAIL)
    body = "".join(parts)
    return body + crc16_hex(body)


# --- parsing -------------------------------------------------------------------------


def _require(fields: Mapping[str, str], tag: str, parent: str) -> str:
    """Return a mandatory sub-field or raise MissingFieldError naming its path."""
    value = fields.get(tag)
    if value is None:
        path = f"{parent}.{tag}" if parent else tag
        raise MissingFieldError(path, "mandatory field is missing")
    return value


def _reject_unknown(fields: Mapping[str, str], allowed: frozenset[str], parent: str) -> None:
    """Raise InvalidFieldError for a sub-field ID the NAPAS template does not define."""
    for tag in fields:
        if tag not in allowed:
            raise InvalidFieldError(f"{parent}.{tag}", "is not defined in this NAPAS template")


def _ans(path: str, value: str, limit: int) -> str:
    """Check an EMVCo "ans" value against its maximum length."""
    if len(value) > limit:
        raise FieldTooLongError(path, f"is {len(value)} characters; max is {limit}")
    return value


def _parse_amount(value: str) -> int:
    """Validate ID 54 for VND: 1..13 digits, no decimal point, no leading zero, > 0."""
    if len(value) > MAX_AMOUNT_DIGITS:
        raise FieldTooLongError(TAG_AMOUNT, f"is {len(value)} characters; max is 13")
    if not _DIGITS.issuperset(value):
        raise InvalidFieldError(TAG_AMOUNT, f"must be whole dong in digits only, got {value!r}")
    if value[0] == "0":
        raise InvalidFieldError(
            TAG_AMOUNT, f"must be positive without leading zeros, got {value!r}"
        )
    return int(value)


_NAPAS_SUBFIELDS: Final = frozenset({SUB_GUID, SUB_BENEFICIARY, SUB_SERVICE})
_BENEFICIARY_SUBFIELDS: Final = frozenset({SUB_ACQUIRER, SUB_ACCOUNT})


def parse_payload(text: str) -> VietQRPayload:
    """Parse and strictly validate a VietQR payload; raise a VietQRError if malformed.

    Accepted leniency: trailing spaces, tabs, CR and LF are stripped first (scanners and
    copy-paste append them); the CRC hex digits may be lower case. Everything else is
    strict: every TLV length at every nesting level must match, ID 00 must come first
    and ID 63 last, no ID may repeat, mandatory IDs 00/01/38/53/58/63 must be present,
    38.00 must be the NAPAS GUID, 38.02 QRIBFTTA or QRIBFTTC, currency 704, country VN,
    amount digits only without leading zeros, all characters printable ASCII, and the
    length limits listed in the module docstring. Point of initiation "11" with an
    amount, or "12" without one, is accepted (EMVCo does not tie them together).
    Other EMVCo IDs (e.g. 52, 61, 64, 80-99) are checked structurally and kept in
    ``tags``.
    """
    if not isinstance(text, str):
        raise InvalidFieldError("payload", f"must be a string, got {type(text).__name__}")
    text = text.rstrip(_TRAILING_WHITESPACE)
    if not text:
        raise MissingFieldError("payload", "is empty")
    if len(text) > MAX_PAYLOAD_LENGTH:
        raise FieldTooLongError("payload", f"is {len(text)} characters; max is 512")
    if not (text.isascii() and text.isprintable()):
        index, char = next(
            (i, c) for i, c in enumerate(text) if not (c.isascii() and c.isprintable())
        )
        raise InvalidFieldError(
            "payload", f"character {char!r} at offset {index} is not printable ASCII"
        )

    root = decode_tlv(text)

    # ID 63 must exist, be last, and match the checksum of everything before its value.
    crc = root.get(TAG_CRC)
    if crc is None:
        raise MissingFieldError(TAG_CRC, "mandatory field is missing")
    if next(reversed(root)) != TAG_CRC:
        raise InvalidFieldError(TAG_CRC, "must be the last field of the payload")
    if len(crc) != 4 or not _HEX.issuperset(crc):
        raise InvalidFieldError(TAG_CRC, f"must be 4 hexadecimal characters, got {crc!r}")
    expected = crc16_hex(text[:-4])
    crc = crc.upper()
    if crc != expected:
        raise CRCMismatchError(expected, crc)

    if not root.keys() >= _MANDATORY_ROOT_SET:
        for tag in _MANDATORY_ROOT:
            _require(root, tag, "")
    if next(iter(root)) != TAG_PAYLOAD_FORMAT:
        raise InvalidFieldError(TAG_PAYLOAD_FORMAT, "must be the first field of the payload")
    if root[TAG_PAYLOAD_FORMAT] != PAYLOAD_FORMAT:
        raise InvalidFieldError(
            TAG_PAYLOAD_FORMAT, f"must be {PAYLOAD_FORMAT!r}, got {root[TAG_PAYLOAD_FORMAT]!r}"
        )
    poi = root[TAG_POINT_OF_INITIATION]
    if poi != POI_STATIC and poi != POI_DYNAMIC:
        raise InvalidFieldError(
            TAG_POINT_OF_INITIATION, f"must be '11' (static) or '12' (dynamic), got {poi!r}"
        )

    napas = decode_tlv(root[TAG_NAPAS], TAG_NAPAS)
    if napas.keys() != _NAPAS_SUBFIELDS:  # fast path skips both helpers when complete
        _reject_unknown(napas, _NAPAS_SUBFIELDS, TAG_NAPAS)
        for tag in sorted(_NAPAS_SUBFIELDS):
            _require(napas, tag, TAG_NAPAS)
    guid = napas[SUB_GUID]
    if guid != NAPAS_GUID:
        raise InvalidFieldError("38.00", f"must be the NAPAS GUID {NAPAS_GUID!r}, got {guid!r}")
    beneficiary = decode_tlv(napas[SUB_BENEFICIARY], "38.01")
    if beneficiary.keys() != _BENEFICIARY_SUBFIELDS:
        _reject_unknown(beneficiary, _BENEFICIARY_SUBFIELDS, "38.01")
        for tag in sorted(_BENEFICIARY_SUBFIELDS):
            _require(beneficiary, tag, "38.01")
    bank_bin = beneficiary[SUB_ACQUIRER]
    if len(bank_bin) != 6 or not _DIGITS.issuperset(bank_bin):
        raise InvalidFieldError("38.01.00", f"must be exactly 6 digits, got {bank_bin!r}")
    account = beneficiary[SUB_ACCOUNT]
    service = napas[SUB_SERVICE]
    if service not in SERVICES:
        raise InvalidFieldError(
            "38.02", f"must be {SERVICE_ACCOUNT!r} or {SERVICE_CARD!r}, got {service!r}"
        )
    if len(account) > MAX_ACCOUNT_LENGTH:
        raise FieldTooLongError("38.01.01", f"is {len(account)} characters; max is 19")
    if service == SERVICE_CARD:
        if not _DIGITS.issuperset(account):
            raise InvalidFieldError("38.01.01", f"card number must be digits, got {account!r}")
    elif not _ALNUM.issuperset(account):
        raise InvalidFieldError("38.01.01", f"must be letters and digits only, got {account!r}")

    currency = root[TAG_CURRENCY]
    if currency != CURRENCY_VND:
        raise InvalidFieldError(TAG_CURRENCY, f"must be {CURRENCY_VND!r} (VND), got {currency!r}")
    country = root[TAG_COUNTRY]
    if country != COUNTRY_VN:
        raise InvalidFieldError(TAG_COUNTRY, f"must be {COUNTRY_VN!r}, got {country!r}")

    amount_text = root.get(TAG_AMOUNT)
    amount = None if amount_text is None else _parse_amount(amount_text)

    mcc = root.get(TAG_MCC)
    if mcc is not None and (len(mcc) != 4 or not _DIGITS.issuperset(mcc)):
        raise InvalidFieldError(TAG_MCC, f"must be 4 digits, got {mcc!r}")
    merchant_name = root.get(TAG_MERCHANT_NAME)
    if merchant_name is not None:
        _ans(TAG_MERCHANT_NAME, merchant_name, MAX_MERCHANT_NAME_LENGTH)
    merchant_city = root.get(TAG_MERCHANT_CITY)
    if merchant_city is not None:
        _ans(TAG_MERCHANT_CITY, merchant_city, MAX_MERCHANT_CITY_LENGTH)
    postal_code = root.get(TAG_POSTAL_CODE)
    if postal_code is not None:
        _ans(TAG_POSTAL_CODE, postal_code, MAX_POSTAL_CODE_LENGTH)

    additional: Mapping[str, str] = _EMPTY
    bill_number = purpose = None
    additional_text = root.get(TAG_ADDITIONAL_DATA)
    if additional_text is not None:
        fields = decode_tlv(additional_text, TAG_ADDITIONAL_DATA)
        for tag, value in fields.items():
            if "01" <= tag <= "08":
                _ans(f"62.{tag}", value, MAX_ADDITIONAL_FIELD_LENGTH)
            elif tag == SUB_CONSUMER_DATA_REQUEST:
                _ans("62.09", value, MAX_CONSUMER_DATA_REQUEST_LENGTH)
        bill_number = fields.get(SUB_BILL_NUMBER)
        purpose = fields.get(SUB_PURPOSE)
        additional = MappingProxyType(fields)

    return VietQRPayload(
        bank_bin=bank_bin,
        account_number=account,
        service=service,
        amount=amount,
        purpose=purpose,
        bill_number=bill_number,
        is_dynamic=poi == POI_DYNAMIC,
        crc=crc,
        merchant_name=merchant_name,
        merchant_city=merchant_city,
        currency=currency,
        country=country,
        text=text,
        tags=MappingProxyType(root),
        additional_data=additional,
    )


__all__ = [
    "COUNTRY_VN",
    "CURRENCY_VND",
    "MAX_ACCOUNT_LENGTH",
    "MAX_AMOUNT",
    "MAX_BILL_NUMBER_LENGTH",
    "MAX_MERCHANT_CITY_LENGTH",
    "MAX_MERCHANT_NAME_LENGTH",
    "MAX_PURPOSE_LENGTH",
    "NAPAS_GUID",
    "SERVICES",
    "SERVICE_ACCOUNT",
    "SERVICE_CARD",
    "VietQRPayload",
    "build_payload",
    "parse_payload",
]
