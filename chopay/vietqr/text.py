"""ASCII transliteration for VietQR text fields (and any other Vietnamese text).

EMVCo "ans" values are printable ASCII, and Vietnamese bank apps display
unaccented text, so notes such as "Tiền chợ Bến Thành" are sent as
"Tien cho Ben Thanh".
"""

from __future__ import annotations

import unicodedata

# Letters that Unicode does not decompose into base letter + combining mark, plus
# common typographic punctuation that spreadsheets and phones insert.
_SPECIAL = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark
        "\u201c": '"',  # left double quotation mark
        "\u201d": '"',  # right double quotation mark
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2212": "-",  # minus sign
    }
)


def to_ascii(text: str) -> str:
    """Transliterate ``text`` to ASCII: strip diacritics, đ→d; drop what has no ASCII form."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    # After NFKD every tone/vowel mark is a separate combining character, which is
    # non-ASCII and dropped together with symbols that have no ASCII equivalent.
    return decomposed.encode("ascii", "ignore").decode("ascii")


def is_ans(text: str) -> bool:
    """Return True if ``text`` is EMVCo "ans": printable ASCII 0x20..0x7E only."""
    return text.isascii() and text.isprintable()
