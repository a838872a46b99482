"""ASCII transliteration of Vietnamese text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chopay.vietqr import is_ans, to_ascii

SETTINGS = settings(database=None, deadline=None, max_examples=300)

# Hand-written table: every Vietnamese vowel with each of its tone marks, by base letter.
VIETNAMESE_LETTERS: dict[str, str] = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ",
    "A": "AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ",
    "e": "eèéẻẽẹêềếểễệ",
    "E": "EÈÉẺẼẸÊỀẾỂỄỆ",
    "i": "iìíỉĩị",
    "I": "IÌÍỈĨỊ",
    "o": "oòóỏõọôồốổỗộơờớởỡợ",
    "O": "OÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ",
    "u": "uùúủũụưừứửữự",
    "U": "UÙÚỦŨỤƯỪỨỬỮỰ",
    "y": "yỳýỷỹỵ",
    "Y": "YỲÝỶỸỴ",
    "d": "dđ",
    "D": "DĐ",
}
TO_BASE = {accented: base for base, group in VIETNAMESE_LETTERS.items() for accented in group}


def test_table_sizes() -> None:
    # 17 forms of a and o, 11 of e and u, 5 of i and y (plus the bare letter), d/đ.
    sizes = {base: len(group) for base, group in VIETNAMESE_LETTERS.items()}
    assert sizes["a"] == sizes["o"] == 18
    assert sizes["e"] == sizes["u"] == 12
    assert sizes["i"] == sizes["y"] == 6


@pytest.mark.parametrize(("accented", "base"), sorted(TO_BASE.items()))
def test_every_vietnamese_letter(accented: str, base: str) -> None:
    assert to_ascii(accented) == base


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đặng Văn Ánh", "Dang Van Anh"),
        ("Tiền chợ Bến Thành", "Tien cho Ben Thanh"),
        ("ủng hộ lũ lụt", "ung ho lu lut"),
        ("Số tiền (VNĐ)", "So tien (VND)"),
        ("Ngày giao dịch", "Ngay giao dich"),
        ("Hộ kinh doanh \u2013 \u201cCô Ba\u201d", 'Ho kinh doanh - "Co Ba"'),
        ("Tên\u00a0sạp", "Ten sap"),  # no-break space from Excel
        ("\uff36\uff29\uff25\uff34\uff31\uff32", "VIETQR"),  # full-width letters
        ("Cà phê ☕ sữa", "Ca phe  sua"),  # no ASCII form: dropped
        ("already ascii 123", "already ascii 123"),
        ("", ""),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert to_ascii(text) == expected


@SETTINGS
@given(st.text(alphabet="".join(TO_BASE), max_size=60))
def test_vietnamese_letters_map_one_to_one(text: str) -> None:
    assert to_ascii(text) == "".join(TO_BASE[ch] for ch in text)


@SETTINGS
@given(st.text(max_size=80))
def test_output_is_ascii_and_idempotent(text: str) -> None:
    out = to_ascii(text)
    assert out.isascii()
    assert to_ascii(out) == out


@SETTINGS
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=80))
def test_ascii_is_unchanged(text: str) -> None:
    assert to_ascii(text) == text


@pytest.mark.parametrize(
    ("text", "ok"), [("Chuyen tien 100%", True), ("tab\there", False), ("Tiền", False)]
)
def test_is_ans(text: str, ok: bool) -> None:
    assert is_ans(text) is ok
