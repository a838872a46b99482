"""Tests for chopay.printing.qr: every QR is read back by an independent decoder (zxing-cpp)."""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import qrcode
import qrcode.util
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from chopay.printing import qr
from chopay.printing.qr import QUIET_ZONE, QrMatrix, qr_matrix, qr_png, qr_svg

# --------------------------------------------------------------------------------------------
# Realistic VietQR payloads, built here independently of the code under test.
# --------------------------------------------------------------------------------------------


def _crc16_ccitt(data: bytes) -> str:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def vietqr_payload(
    bank_bin: str, account: str, purpose: str, *, amount: int | None = None, bill: str = ""
) -> str:
    """EMVCo merchant-presented VietQR (NAPAS 247 account transfer) with a valid CRC."""
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", "A000000727") + _tlv("01", beneficiary) + _tlv("02", "QRIBFTTA")
    extra = (_tlv("01", bill) if bill else "") + _tlv("08", purpose)
    body = (
        _tlv("00", "01")
        + _tlv("01", "12" if amount else "11")
        + _tlv("38", merchant)
        + _tlv("53", "704")
        + (_tlv("54", str(amount)) if amount else "")
        + _tlv("58", "VN")
        + _tlv("62", extra)
        + "6304"
    )
    return body + _crc16_ccitt(body.encode("ascii"))


PAYLOADS = [
    vietqr_payload("970436", "0011004123456", "THANH TOAN CHO DAI TU QUAY A12"),
    vietqr_payload("970415", "108869912345", "CHOPAY B07", amount=35000, bill="HD20240518"),
    vietqr_payload("970418", "21510001234567", "MUA RAU CHO BEN THANH QUAY C-03 SANG"),
    vietqr_payload("970422", "0987654321", "CHOPAY", amount=1250000),
    vietqr_payload("970405", "1500205123456789", "TIEN HANG DONG XUAN D21", bill="CHOPAY-D21-01"),
]


def test_payloads_are_realistic() -> None:
    for p in PAYLOADS:
        assert 100 <= len(p) <= 150, len(p)
        assert p.isascii()
        assert p[-4:] == _crc16_ccitt(p[:-4].encode())


# --------------------------------------------------------------------------------------------
# Helpers: independent decoding
# --------------------------------------------------------------------------------------------


def decode_all(img: Image.Image) -> list[zxingcpp.Barcode]:
    """All QR codes zxing-cpp finds, in reading order (top to bottom, left to right)."""
    found = [
        b
        for b in zxingcpp.read_barcodes(img.convert("L"))
        if b.format == zxingcpp.BarcodeFormat.QRCode
    ]
    # Rows of stands are far apart, so rounding the y coordinate groups each row together.
    return sorted(found, key=lambda b: (round(b.position.top_left.y / 200), b.position.top_left.x))


def decode_one(img: Image.Image) -> str:
    codes = decode_all(img)
    assert len(codes) == 1, f"expected one QR code, found {len(codes)}"
    return str(codes[0].text)


def rasterise_svg(svg: bytes, tmp_path: Path, width_px: int) -> Image.Image:
    """Render SVG with librsvg (Debian package librsvg2-bin), not with our own code."""
    tool = shutil.which("rsvg-convert")
    if tool is None:
        pytest.fail("rsvg-convert missing: apt-get install librsvg2-bin")
    src, out = tmp_path / "in.svg", tmp_path / "out.png"
    src.write_bytes(svg)
    subprocess.run(
        [tool, "-w", str(width_px), "-b", "white", "-o", str(out), str(src)],
        check=True,
        timeout=60,
    )
    return Image.open(out)


# --------------------------------------------------------------------------------------------
# Matrix
# --------------------------------------------------------------------------------------------


def _reference(payload: str, level: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=qr._EC_LEVELS[level], border=0)
    code.add_data(payload)
    code.make(fit=True)
    return tuple(tuple(bool(v) for v in row) for row in code.get_matrix())


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_matrix_equals_plain_qrcode(payload: str, level: qr.ErrorCorrection) -> None:
    """Our fast mask choice gives bit-for-bit what qrcode's own make(fit=True) gives."""
    m = qr_matrix(payload, error_correction=level)
    assert m.modules == _reference(payload, level)
    assert m.size == 4 * m.version + 17 == len(m.rows)
    assert m.error_correction == level


@settings(max_examples=60, deadline=None, database=None)
@given(
    payload=st.text(
        alphabet=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:abcxyzăđưẠ~{}\\\n"),
        min_size=1,
        max_size=400,
    ),
    level=st.sampled_from(["L", "M", "Q", "H"]),
)
def test_matrix_equals_plain_qrcode_property(payload: str, level: qr.ErrorCorrection) -> None:
    """Across versions 1-15 and all four levels (exercises version-info and alignment cells)."""
    assert qr_matrix(payload, error_correction=level).modules == _reference(payload, level)


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), version=st.sampled_from([1, 2, 5, 6, 7, 8, 12]))
def test_penalty_equals_qrcode_lost_point(data: st.DataObject, version: int) -> None:
    """The bit-parallel mask penalty equals qrcode.util.lost_point on arbitrary grids."""
    n = 4 * version + 17
    density = data.draw(st.sampled_from([0.2, 0.5, 0.8]))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rnd = random.Random(seed)
    grid = [[rnd.random() < density for _ in range(n)] for _ in range(n)]
    assert qr._penalty(qr._pack(grid), qr._grid(version)) == qrcode.util.lost_point(grid)


def test_default_error_correction_is_q_and_decodes() -> None:
    img = Image.open(io.BytesIO(qr_png(PAYLOADS[0])))
    (code,) = decode_all(img)
    assert code.text == PAYLOADS[0]
    assert code.ec_level == "Q"
    assert qr.DEFAULT_ERROR_CORRECTION == "Q"


def test_rectangles_cover_exactly_the_dark_modules() -> None:
    for payload in PAYLOADS:
        m = qr_matrix(payload)
        painted = [[0] * m.size for _ in range(m.size)]
        for x, y, w, h in m.rectangles:
            assert w > 0 and h > 0
            for r in range(y, y + h):
                for c in range(x, x + w):
                    painted[r][c] += 1
        assert all(v <= 1 for row in painted for v in row), "rectangles overlap"
        assert tuple(tuple(bool(v) for v in row) for row in painted) == m.modules
        dark = sum(map(sum, m.modules))
        assert len(m.rectangles) < dark / 2, "runs are not being merged"


def test_is_dark_and_bounds() -> None:
    m = qr_matrix(PAYLOADS[1])
    assert all(m.is_dark(r, c) == m.modules[r][c] for r in range(m.size) for c in range(m.size))
    # Finder pattern corners are dark, separators light.
    assert m.is_dark(0, 0) and not m.is_dark(7, 7)
    with pytest.raises(IndexError):
        m.is_dark(m.size, 0)


def test_invalid_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        qr_matrix("")
    with pytest.raises(ValueError, match="error_correction"):
        qr_matrix("x", error_correction="X")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="too long"):
        qr_matrix("x" * 3000, error_correction="H")


def test_matrix_is_immutable() -> None:
    m = qr_matrix(PAYLOADS[0])
    with pytest.raises(AttributeError):
        m.size = 3  # type: ignore[misc]
    assert isinstance(m, QrMatrix)
    assert isinstance(m.rows, tuple)


# --------------------------------------------------------------------------------------------
# PNG / SVG
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_qr_png_decodes(payload: str) -> None:
    data = qr_png(payload, scale=6)
    assert data.startswith(b"\x89PNG")
    img = Image.open(io.BytesIO(data))
    size = qr_matrix(payload).size
    assert img.size == ((size + 2 * QUIET_ZONE) * 6,) * 2
    assert decode_one(img) == payload


def test_qr_png_quiet_zone_is_white_and_modules_match() -> None:
    m = qr_matrix(PAYLOADS[2])
    img = Image.open(io.BytesIO(qr_png(PAYLOADS[2], scale=3, border=4))).convert("L")
    px = img.load()
    assert px is not None
    total = (m.size + 8) * 3
    for i in range(total):
        for j in (0, 11, total - 1):
            assert px[i, j] == 255 and px[j, i] == 255
    for r in range(m.size):
        for c in range(m.size):
            assert (px[(c + 4) * 3 + 1, (r + 4) * 3 + 1] == 0) == m.modules[r][c]


def test_qr_png_without_border_and_bad_scale() -> None:
    img = Image.open(io.BytesIO(qr_png(PAYLOADS[0], scale=1, border=0)))
    assert img.size == (qr_matrix(PAYLOADS[0]).size,) * 2
    with pytest.raises(ValueError, match="scale"):
        qr_png(PAYLOADS[0], scale=0)


@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_qr_svg_is_one_compact_path_and_decodes(payload: str, tmp_path: Path) -> None:
    svg = qr_svg(payload, size_mm=40)
    text = svg.decode()
    assert text.count("<path") == 1
    assert text.count("<rect") == 1  # the white background only
    assert 'width="40mm"' in text
    m = qr_matrix(payload)
    subpaths = re.findall(r"M\d+ \d+h\d+v\d+h-\d+z", text)
    assert len(subpaths) == len(m.rectangles) < sum(map(sum, m.modules)) / 2
    assert decode_one(rasterise_svg(svg, tmp_path, 600)) == payload
