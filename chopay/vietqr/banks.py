"""Directory of VietQR beneficiary banks, keyed by 6-digit NAPAS BIN.

BINs come from State Bank of Vietnam letter 1589/NHNN-TT (5 March 2024) and the
lists NAPAS/VietQR publish for digital and foreign banks. Codes are the short codes
VietQR peers use (e.g. "VCB", "MB", "TCB"); other codes seen in the wild and former
names live in ``aliases`` so that lookups by an old name still find the bank.

Always store the BIN, never a name: several BINs have been renamed (970406 DongA Bank
-> Vikki Bank, 970414 OceanBank -> MBV, 970449 LienVietPostBank -> LPBank).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from chopay.vietqr.errors import UnknownBankError
from chopay.vietqr.text import to_ascii


@dataclass(frozen=True, slots=True)
class Bank:
    """One beneficiary bank; ``bin`` is the NAPAS acquirer ID used in ID 38.01.00."""

    bin: str
    code: str | None
    short_name: str
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """All names this bank answers to: code, short name, full name and aliases."""
        head = (self.code,) if self.code else ()
        return (*head, self.short_name, self.name, *self.aliases)


def _bank(bin_: str, code: str | None, short: str, name: str, *aliases: str) -> Bank:
    """Shorthand constructor used by the table below."""
    return Bank(bin=bin_, code=code, short_name=short, name=name, aliases=aliases)


BANKS: tuple[Bank, ...] = (
    _bank(
        "970400",
        "SGICB",
        "SaigonBank",
        "Ngân hàng TMCP Sài Gòn Công Thương",
        "SGB",
        "Saigon Bank for Industry and Trade",
    ),
    _bank(
        "970403",
        "STB",
        "Sacombank",
        "Ngân hàng TMCP Sài Gòn Thương Tín",
        "Saigon Thuong Tin Commercial Joint Stock Bank",
    ),
    _bank(
        "970405",
        "VBA",
        "Agribank",
        "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam",
        "Vietnam Bank for Agriculture and Rural Development",
    ),
    _bank(
        "970406",
        "VIKKI",
        "Vikki Bank",
        "Ngân hàng TNHH MTV Số Vikki",
        "DongA Bank",
        "DOB",
        "DAB",
        "Ngân hàng TMCP Đông Á",
    ),
    _bank(
        "970407",
        "TCB",
        "Techcombank",
        "Ngân hàng TMCP Kỹ Thương Việt Nam",
        "Vietnam Technological and Commercial Joint Stock Bank",
    ),
    _bank(
        "970408",
        "GPB",
        "GPBank",
        "Ngân hàng Thương mại TNHH MTV Dầu khí Toàn cầu",
        "Global Petro Bank",
    ),
    _bank("970409", "BAB", "BacA Bank", "Ngân hàng TMCP Bắc Á", "NASB"),
    _bank(
        "970410",
        "SCVN",
        "Standard Chartered Vietnam",
        "Ngân hàng TNHH MTV Standard Chartered Bank (Việt Nam)",
        "Standard Chartered",
        "SC",
    ),
    _bank("970412", "PVCB", "PVcomBank", "Ngân hàng TMCP Đại Chúng Việt Nam"),
    _bank(
        "970414",
        "MBV",
        "MBV",
        "Ngân hàng TNHH MTV Việt Nam Hiện Đại",
        "OceanBank",
        "Ngân hàng Thương mại TNHH MTV Đại Dương",
    ),
    _bank(
        "970415",
        "ICB",
        "VietinBank",
        "Ngân hàng TMCP Công Thương Việt Nam",
        "CTG",
        "Vietin",
        "Vietnam Joint Stock Commercial Bank for Industry and Trade",
    ),
    _bank("970416", "ACB", "ACB", "Ngân hàng TMCP Á Châu", "Asia Commercial Bank"),
    _bank(
        "970418",
        "BIDV",
        "BIDV",
        "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam",
        "BID",
        "Bank for Investment and Development of Vietnam",
    ),
    _bank(
        "970419",
        "NCB",
        "NCB",
        "Ngân hàng TMCP Quốc Dân",
        "NVB",
        "Navibank",
        "National Citizen Bank",
    ),
    _bank(
        "970421",
        "VRB",
        "VRB",
        "Ngân hàng Liên doanh Việt - Nga",
        "VietNgaBank",
        "Vietnam-Russia Joint Venture Bank",
    ),
    _bank(
        "970422",
        "MB",
        "MB Bank",
        "Ngân hàng TMCP Quân Đội",
        "MBB",
        "Military Commercial Joint Stock Bank",
    ),
    _bank("970423", "TPB", "TPBank", "Ngân hàng TMCP Tiên Phong", "Tien Phong Bank"),
    _bank(
        "970424",
        "SHBVN",
        "Shinhan Bank",
        "Ngân hàng TNHH MTV Shinhan Việt Nam",
        "SVB",
        "Shinhan Bank Vietnam",
    ),
    _bank("970425", "ABB", "ABBANK", "Ngân hàng TMCP An Bình", "An Binh Bank"),
    _bank("970426", "MSB", "MSB", "Ngân hàng TMCP Hàng Hải Việt Nam", "Maritime Bank"),
    _bank("970427", "VAB", "VietABank", "Ngân hàng TMCP Việt Á"),
    _bank("970428", "NAB", "Nam A Bank", "Ngân hàng TMCP Nam Á"),
    _bank("970429", "SCB", "SCB", "Ngân hàng TMCP Sài Gòn", "Saigon Commercial Bank"),
    _bank(
        "970430",
        "PGB",
        "PG Bank",
        "Ngân hàng TMCP Thịnh vượng và Phát triển",
        "Petrolimex Group Bank",
        "Ngân hàng TMCP Xăng dầu Petrolimex",
    ),
    _bank(
        "970431",
        "EIB",
        "Eximbank",
        "Ngân hàng TMCP Xuất Nhập khẩu Việt Nam",
        "Vietnam Export Import Bank",
    ),
    _bank(
        "970432", "VPB", "VPBank", "Ngân hàng TMCP Việt Nam Thịnh Vượng", "Vietnam Prosperity Bank"
    ),
    _bank("970433", "VIETBANK", "VietBank", "Ngân hàng TMCP Việt Nam Thương Tín", "VBB"),
    _bank("970434", "IVB", "Indovina Bank", "Ngân hàng TNHH Indovina"),
    _bank(
        "970436",
        "VCB",
        "Vietcombank",
        "Ngân hàng TMCP Ngoại Thương Việt Nam",
        "Joint Stock Commercial Bank for Foreign Trade of Vietnam",
    ),
    _bank(
        "970437",
        "HDB",
        "HDBank",
        "Ngân hàng TMCP Phát triển Thành phố Hồ Chí Minh",
        "Ho Chi Minh City Development Bank",
    ),
    # "BVB" is BaoViet Bank in the VietQR.io list; vietnam-qr-pay uses it for Ban Viet.
    _bank("970438", "BVB", "BaoViet Bank", "Ngân hàng TMCP Bảo Việt"),
    _bank(
        "970439",
        "PBVN",
        "Public Bank Vietnam",
        "Ngân hàng TNHH MTV Public Việt Nam",
        "Public Bank",
        "VID Public Bank",
    ),
    _bank(
        "970440",
        "SEAB",
        "SeABank",
        "Ngân hàng TMCP Đông Nam Á",
        "SSB",
        "Southeast Asia Commercial Bank",
    ),
    _bank("970441", "VIB", "VIB", "Ngân hàng TMCP Quốc tế Việt Nam", "Vietnam International Bank"),
    _bank(
        "970442",
        "HLBVN",
        "Hong Leong Bank Vietnam",
        "Ngân hàng TNHH MTV Hong Leong Việt Nam",
        "HLB",
        "Hong Leong Bank",
    ),
    _bank("970443", "SHB", "SHB", "Ngân hàng TMCP Sài Gòn - Hà Nội", "Saigon-Hanoi Bank"),
    _bank(
        "970444",
        "CBB",
        "CB Bank",
        "Ngân hàng Thương mại TNHH MTV Xây dựng Việt Nam",
        "VNCB",
        "Construction Bank",
    ),
    _bank("970446", "COOPBANK", "Co-op Bank", "Ngân hàng Hợp tác xã Việt Nam"),
    _bank("970448", "OCB", "OCB", "Ngân hàng TMCP Phương Đông", "Orient Commercial Bank"),
    _bank(
        "970449",
        "LPB",
        "LPBank",
        "Ngân hàng TMCP Lộc Phát Việt Nam",
        "LienVietPostBank",
        "Ngân hàng TMCP Bưu điện Liên Việt",
    ),
    _bank("970452", "KLB", "KienlongBank", "Ngân hàng TMCP Kiên Long"),
    _bank(
        "970454",
        "VCCB",
        "BVBank",
        "Ngân hàng TMCP Bản Việt",
        "Ban Viet",
        "Viet Capital Bank",
    ),
    _bank(
        "970455",
        "IBKHN",
        "IBK Hanoi",
        "Ngân hàng Công nghiệp Hàn Quốc - Chi nhánh Hà Nội",
        "IBK HN",
    ),
    _bank(
        "970456",
        "IBKHCM",
        "IBK Ho Chi Minh City",
        "Ngân hàng Công nghiệp Hàn Quốc - Chi nhánh TP. Hồ Chí Minh",
        "IBK HCM",
    ),
    _bank(
        "970457",
        "WVN",
        "Woori Bank Vietnam",
        "Ngân hàng TNHH MTV Woori Việt Nam",
        "WRB",
        "Woori Bank",
    ),
    _bank(
        "970458",
        "UOB",
        "UOB Vietnam",
        "Ngân hàng TNHH MTV United Overseas Bank (Việt Nam)",
        "United Overseas Bank",
    ),
    # CIMB's card BIN in the SBV letter; VietQR lists route CIMB accounts via 422589,
    # so names resolve to 422589 and this entry is reachable by BIN only.
    _bank("970459", None, "CIMB (card BIN)", "Ngân hàng TNHH MTV CIMB Việt Nam"),
    _bank(
        "970462",
        "KBHN",
        "Kookmin Hanoi",
        "Ngân hàng Kookmin - Chi nhánh Hà Nội",
        "Kookmin Bank Hanoi",
    ),
    _bank(
        "970463",
        "KBHCM",
        "Kookmin Ho Chi Minh City",
        "Ngân hàng Kookmin - Chi nhánh TP. Hồ Chí Minh",
        "Kookmin Bank HCM",
    ),
    _bank(
        "970466",
        "KEBHANAHCM",
        "KEB Hana Ho Chi Minh City",
        "Ngân hàng KEB Hana - Chi nhánh TP. Hồ Chí Minh",
    ),
    _bank("970467", "KEBHANAHN", "KEB Hana Hanoi", "Ngân hàng KEB Hana - Chi nhánh Hà Nội"),
    _bank("546034", "CAKE", "CAKE by VPBank", "Ngân hàng số CAKE by VPBank"),
    _bank("546035", "UBANK", "Ubank by VPBank", "Ngân hàng số Ubank by VPBank"),
    _bank("963388", "TIMO", "Timo", "Ngân hàng số Timo by Bản Việt"),
    _bank("963369", "LIOBANK", "Liobank", "Ngân hàng số Liobank by OCB"),
    _bank(
        "668888",
        "KBANK",
        "KBank Ho Chi Minh City",
        "Ngân hàng Đại chúng TNHH Kasikornbank - Chi nhánh TP. Hồ Chí Minh",
        "Kasikornbank",
    ),
    _bank("458761", "HSBC", "HSBC Vietnam", "Ngân hàng TNHH MTV HSBC (Việt Nam)"),
    _bank(
        "796500",
        "DBS",
        "DBS Ho Chi Minh City",
        "Ngân hàng DBS - Chi nhánh TP. Hồ Chí Minh",
        "DBS Bank",
    ),
    _bank(
        "801011",
        "NHB",
        "Nonghyup Hanoi",
        "Ngân hàng Nonghyup - Chi nhánh Hà Nội",
        "Nonghyup",
        "NHB HN",
    ),
    _bank("422589", "CIMB", "CIMB Vietnam", "Ngân hàng TNHH MTV CIMB Việt Nam", "CIMB Bank"),
    _bank("971025", "MOMO", "MoMo", "Ví điện tử MoMo", "M_Service"),
)

# Entries reachable only by BIN because their names belong to another entry.
_BIN_ONLY = frozenset({"970459"})


def name_key(text: str) -> str:
    """Normalise a bank name for matching: ASCII, lowercase, letters and digits only."""
    return "".join(ch for ch in to_ascii(text).lower() if ch.isalnum())


def _build_indexes(banks: Iterable[Bank]) -> tuple[dict[str, Bank], dict[str, Bank]]:
    """Index banks by BIN and by normalised name; refuse ambiguous names."""
    by_bin: dict[str, Bank] = {}
    by_name: dict[str, Bank] = {}
    for bank in banks:
        if len(bank.bin) != 6 or not bank.bin.isdigit():
            raise ValueError(f"bank BIN {bank.bin!r} is not 6 digits")
        if bank.bin in by_bin:
            raise ValueError(f"bank BIN {bank.bin} listed twice")
        by_bin[bank.bin] = bank
        if bank.bin in _BIN_ONLY:
            continue
        for alias in bank.names:
            key = name_key(alias)
            if not key:
                continue
            other = by_name.get(key)
            if other is not None and other.bin != bank.bin:
                raise ValueError(f"bank name {alias!r} matches both {other.bin} and {bank.bin}")
            by_name[key] = bank
    return by_bin, by_name


_BY_BIN_DICT, _BY_NAME_DICT = _build_indexes(BANKS)
BANKS_BY_BIN: Mapping[str, Bank] = MappingProxyType(_BY_BIN_DICT)
_BY_NAME: Mapping[str, Bank] = MappingProxyType(_BY_NAME_DICT)


def lookup_bank(bin_or_name: str) -> Bank | None:
    """Find a bank by BIN, code, short name, full name, alias or former name; else None."""
    text = bin_or_name.strip()
    if len(text) == 6 and text.isascii() and text.isdigit():
        return _BY_BIN_DICT.get(text)
    key = name_key(text)
    return _BY_NAME_DICT.get(key) if key else None


def get_bank(bin_: str) -> Bank:
    """Return the bank with this 6-digit BIN or raise :class:`UnknownBankError`."""
    bank = _BY_BIN_DICT.get(bin_)
    if bank is None:
        raise UnknownBankError("bank_bin", f"no bank with BIN {bin_!r} in the directory")
    return bank
