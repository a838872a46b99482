"""Bank directory keyed by NAPAS BIN."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chopay.vietqr import BANKS, Bank, UnknownBankError, get_bank, lookup_bank

# Every BIN listed in /work/shared/reference/banks.md (SBV letter 1589/NHNN-TT plus the
# NAPAS/VietQR lists of digital and foreign banks), copied here so the test stands alone.
REFERENCE_BINS = re.findall(
    r"\d{6}",
    """
    970400 970403 970405 970406 970407 970408 970409 970410 970412 970414 970415 970416
    970418 970419 970421 970422 970423 970424 970425 970426 970427 970428 970429 970430
    970431 970432 970433 970434 970436 970437 970438 970439 970440 970441 970442 970443
    970444 970446 970448 970449 970452 970454 970455 970456 970457 970458 970459 970462
    970463 970466 970467 546034 546035 963388 963369 668888 458761 796500 801011 422589
    971025
    """,
)
REFERENCE_FILE = Path("/work/shared/reference/banks.md")


def test_every_reference_bin_is_listed() -> None:
    assert len(REFERENCE_BINS) == 61
    listed = {bank.bin for bank in BANKS}
    assert set(REFERENCE_BINS) <= listed
    assert len(listed) == len(BANKS)  # no BIN twice


@pytest.mark.skipif(not REFERENCE_FILE.exists(), reason="shared reference file not mounted")
def test_reference_file_still_matches() -> None:
    bins = {
        match.group(1)
        for line in REFERENCE_FILE.read_text(encoding="utf-8").splitlines()
        if (match := re.match(r"^\|\s*(\d{6})\s*\|", line))
    }
    assert bins == set(REFERENCE_BINS)


@pytest.mark.parametrize(
    ("query", "bin_"),
    [
        ("LienVietPostBank", "970449"),
        ("lienvietpostbank", "970449"),
        ("LPBank", "970449"),
        ("OceanBank", "970414"),
        ("Ocean Bank", "970414"),
        ("MBV", "970414"),
        ("DongA Bank", "970406"),
        ("Dong A Bank", "970406"),
        ("Ngân hàng TMCP Đông Á", "970406"),
        ("Vikki Bank", "970406"),
        ("VCB", "970436"),
        ("vcb", "970436"),
        ("Vietcombank", "970436"),
        ("Ngân hàng TMCP Ngoại Thương Việt Nam", "970436"),
        ("ngan hang tmcp ngoai thuong viet nam", "970436"),
        ("MB", "970422"),
        ("MB Bank", "970422"),
        ("MBB", "970422"),
        ("TCB", "970407"),
        ("Techcombank", "970407"),
        ("BIDV", "970418"),
        ("VietinBank", "970415"),
        ("CTG", "970415"),
        ("Agribank", "970405"),
        ("Sacombank", "970403"),
        ("CIMB", "422589"),
        ("Ban Viet", "970454"),
        ("BaoViet Bank", "970438"),
        ("MoMo", "971025"),
        ("970436", "970436"),
        (" 970422 ", "970422"),
        ("970459", "970459"),
    ],
)
def test_lookup(query: str, bin_: str) -> None:
    bank = lookup_bank(query)
    assert bank is not None
    assert bank.bin == bin_


@pytest.mark.parametrize("query", ["", "   ", "999999", "Not A Bank", "97043"])
def test_lookup_miss(query: str) -> None:
    assert lookup_bank(query) is None


def test_get_bank() -> None:
    bank = get_bank("970436")
    assert isinstance(bank, Bank)
    assert bank.code == "VCB"
    assert bank.short_name == "Vietcombank"
    with pytest.raises(UnknownBankError) as info:
        get_bank("999999")
    assert info.value.field == "bank_bin"
    assert isinstance(info.value, ValueError)


def test_renamed_banks_keep_former_names_as_aliases() -> None:
    assert "LienVietPostBank" in get_bank("970449").aliases
    assert "OceanBank" in get_bank("970414").aliases
    assert "DongA Bank" in get_bank("970406").aliases


def test_bank_is_frozen() -> None:
    bank = get_bank("970422")
    with pytest.raises(AttributeError):
        bank.bin = "970436"  # type: ignore[misc]


def test_every_bank_has_names() -> None:
    for bank in BANKS:
        assert bank.short_name
        assert bank.name
        assert len(bank.bin) == 6
        assert bank.bin.isdigit()
