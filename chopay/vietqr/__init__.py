"""VietQR (NAPAS 247 / EMVCo merchant-presented QR): build, parse, banks, transliteration.

Pure standard-library code: nothing here imports Flask, SQLAlchemy or other chopay parts.
"""

from chopay.vietqr.banks import BANKS, BANKS_BY_BIN, Bank, get_bank, lookup_bank
from chopay.vietqr.crc import crc16_ccitt_false, crc16_hex
from chopay.vietqr.emv import decode_tlv, encode_tlv
from chopay.vietqr.errors import (
    CRCMismatchError,
    DuplicateFieldError,
    FieldTooLongError,
    InvalidFieldError,
    MissingFieldError,
    TLVError,
    UnknownBankError,
    VietQRError,
)
from chopay.vietqr.payload import (
    COUNTRY_VN,
    CURRENCY_VND,
    MAX_ACCOUNT_LENGTH,
    MAX_AMOUNT,
    MAX_BILL_NUMBER_LENGTH,
    MAX_MERCHANT_CITY_LENGTH,
    MAX_MERCHANT_NAME_LENGTH,
    MAX_PURPOSE_LENGTH,
    NAPAS_GUID,
    SERVICE_ACCOUNT,
    SERVICE_CARD,
    SERVICES,
    VietQRPayload,
    build_payload,
    parse_payload,
)
from chopay.vietqr.text import is_ans, to_ascii

__all__ = [
    "BANKS",
    "BANKS_BY_BIN",
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
    "Bank",
    "CRCMismatchError",
    "DuplicateFieldError",
    "FieldTooLongError",
    "InvalidFieldError",
    "MissingFieldError",
    "TLVError",
    "UnknownBankError",
    "VietQRError",
    "VietQRPayload",
    "build_payload",
    "crc16_ccitt_false",
    "crc16_hex",
    "decode_tlv",
    "encode_tlv",
    "get_bank",
    "is_ans",
    "lookup_bank",
    "parse_payload",
    "to_ascii",
]
