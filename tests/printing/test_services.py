"""chopay.printing.services: codes per vendor, dynamic codes, stands, verification, re-scan."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from chopay.audit.models import AuditEvent
from chopay.errors import ConflictError, InvalidInputError, NotFoundError
from chopay.extensions import db
from chopay.markets.services import market_figures
from chopay.printing import services
from chopay.printing.services import Expectation, RescanItem, VerifyStatus
from chopay.vendors.codes import current_code
from chopay.vendors.models import AccountStatus, QrCode, VendorStatus
from chopay.vietqr import build_payload, parse_payload
from tests.factories import MarketFactory, PaymentAccountFactory, UserFactory
from tests.printing.conftest import Stands, add_vendor, issue_code, revoke, stand_code
from tests.printing.test_qr import vietqr_payload

BASE = "https://chopay.example.vn"


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


# --- small helpers -----------------------------------------------------------------------


def test_stall_sort_key_is_natural() -> None:
    stalls = ["A-10", "b-1", "A-2", "A-1", "Quầy A-3", "A-02b", "B-10", "B-2", "10", "9"]
    ordered = sorted(stalls, key=services.stall_sort_key)
    assert ordered.index("A-2") < ordered.index("A-10")
    assert ordered.index("B-2") < ordered.index("B-10")
    assert ordered.index("9") < ordered.index("10")
    assert ordered.index("b-1") < ordered.index("B-2")  # case-insensitive


@pytest.mark.parametrize(
    ("a", "b"), [("A-12", "a 12"), ("A-12", "Quầy A12"), ("Ki-ốt 5", "5"), ("B.3", "b3")]
)
def test_stall_match_key_ignores_case_separators_and_prefix(a: str, b: str) -> None:
    assert services.stall_match_key(a) == services.stall_match_key(b)


def test_stall_match_key_tells_stalls_apart() -> None:
    assert services.stall_match_key("A-12") != services.stall_match_key("A-13")


def test_stall_label() -> None:
    assert services.stall_label("A-12") == "Quầy A-12"
    assert services.stall_label("Quầy 7") == "Quầy 7"
    assert services.stall_label("Ki-ốt 3") == "Ki-ốt 3"


def test_file_slug_is_ascii() -> None:
    assert services.file_slug("Quầy Đ-12/3") == "Quay-D-12-3"
    assert services.file_slug("🙂") == "quay"


# --- the stand's static code -------------------------------------------------------------


def test_get_stand_code_returns_the_live_static_code(stands: Stands) -> None:
    code = services.get_stand_code(stands.vendor)
    assert code.verify_code == "ABCDEF"
    assert not code.is_dynamic


def test_get_stand_code_without_approved_account_is_not_found(stands: Stands) -> None:
    pending = add_vendor(stands.market, "C-1", account_status=AccountStatus.PENDING)
    with pytest.raises(NotFoundError, match="chưa có tài khoản thanh toán được duyệt"):
        services.get_stand_code(pending)
    nothing = add_vendor(stands.market, "C-2", with_code=False)
    with pytest.raises(NotFoundError, match="chưa được cấp mã QR"):
        services.get_stand_code(nothing)


def test_get_stand_code_after_revocation_is_not_found(stands: Stands) -> None:
    revoke(stand_code(stands.vendor))
    with pytest.raises(NotFoundError):
        services.get_stand_code(stands.vendor)


def test_get_stand_code_of_a_vendor_who_left_is_not_found(stands: Stands) -> None:
    stands.vendor.status = VendorStatus.LEFT
    with pytest.raises(NotFoundError, match="nghỉ bán"):
        services.get_stand_code(stands.vendor)


# --- dynamic codes -----------------------------------------------------------------------


def test_issue_dynamic_code_puts_amount_and_reference_first(stands: Stands) -> None:
    vendor = stands.vendor
    code = services.issue_dynamic_code(vendor, 125_000, purpose="Rau cải", actor=stands.vendor_user)
    parsed = parse_payload(code.payload)
    assert parsed.amount == 125_000
    assert parsed.is_dynamic
    assert parsed.purpose == f"{vendor.reference} Rau cai"
    assert parsed.bank_bin == "970436"
    assert parsed.account_number == "0011004123456"
    assert code.is_dynamic and code.amount_vnd == 125_000
    assert code.purpose == f"{vendor.reference} Rau cai"
    assert code.verify_code != "ABCDEF"
    assert len(code.verify_code) == 6
    assert code.issued_by_id == stands.vendor_user.id
    assert services.user_note(code) == "Rau cai"


def test_issue_dynamic_code_without_purpose_has_the_reference_as_note(stands: Stands) -> None:
    code = services.issue_dynamic_code(stands.vendor, 10_000, purpose=None, actor=None)
    assert parse_payload(code.payload).purpose == stands.vendor.reference
    assert services.user_note(code) is None


def test_issue_dynamic_code_reuses_the_same_sale(stands: Stands) -> None:
    first = services.issue_dynamic_code(stands.vendor, 50_000, purpose="ca", actor=None)
    again = services.issue_dynamic_code(stands.vendor, 50_000, purpose="cá", actor=None)
    other = services.issue_dynamic_code(stands.vendor, 60_000, purpose="ca", actor=None)
    assert again.id == first.id
    assert other.id != first.id


def test_dynamic_codes_do_not_count_as_having_a_qr(stands: Stands) -> None:
    before = market_figures([stands.market.id])[stands.market.id].with_qr
    services.issue_dynamic_code(stands.vendor, 20_000, purpose=None, actor=None)
    db.session.flush()
    assert market_figures([stands.market.id])[stands.market.id].with_qr == before
    assert current_code(stands.vendor).verify_code == "ABCDEF"  # type: ignore[union-attr]


@pytest.mark.parametrize("amount", [0, -5, 500_000_000, 1.5, "50000", True, None])
def test_issue_dynamic_code_refuses_bad_amounts(stands: Stands, amount: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        services.issue_dynamic_code(stands.vendor, amount, purpose=None, actor=None)
    assert "amount" in err.value.details


def test_issue_dynamic_code_amount_limits(stands: Stands) -> None:
    assert services.issue_dynamic_code(stands.vendor, 1, purpose=None, actor=None).amount_vnd == 1
    top = services.issue_dynamic_code(stands.vendor, 499_999_999, purpose=None, actor=None)
    assert parse_payload(top.payload).amount == 499_999_999


def test_issue_dynamic_code_refuses_long_or_empty_notes(stands: Stands) -> None:
    room = 25 - len(stands.vendor.reference) - 1
    ok = services.issue_dynamic_code(stands.vendor, 5_000, purpose="x" * room, actor=None)
    assert len(parse_payload(ok.payload).purpose or "") == 25
    with pytest.raises(InvalidInputError) as err:
        services.issue_dynamic_code(stands.vendor, 5_000, purpose="x" * (room + 1), actor=None)
    assert "purpose" in err.value.details
    with pytest.raises(InvalidInputError) as err:
        services.issue_dynamic_code(stands.vendor, 5_000, purpose="🙂🙂", actor=None)
    assert "purpose" in err.value.details


def test_issue_dynamic_code_keeps_only_letters_and_digits(stands: Stands) -> None:
    code = services.issue_dynamic_code(stands.vendor, 5_000, purpose="Đơn #12\t& gửi", actor=None)
    assert code.purpose == f"{stands.vendor.reference} Don 12 gui"


def test_issue_dynamic_code_needs_an_approved_account(stands: Stands) -> None:
    pending = add_vendor(stands.market, "C-1", account_status=AccountStatus.PENDING)
    with pytest.raises(NotFoundError):
        services.issue_dynamic_code(pending, 5_000, purpose=None, actor=None)


def test_issue_dynamic_code_refuses_suspended_vendor(stands: Stands) -> None:
    stands.vendor.status = VendorStatus.SUSPENDED
    with pytest.raises(ConflictError):
        services.issue_dynamic_code(stands.vendor, 5_000, purpose=None, actor=None)


def test_find_sale_code_only_finds_own_live_dynamic_codes(stands: Stands) -> None:
    code = services.issue_dynamic_code(stands.vendor, 5_000, purpose=None, actor=None)
    display = services.format_verify_code(code.verify_code).lower()
    assert services.find_sale_code(stands.vendor, display) is code
    assert services.find_sale_code(stands.neighbour, code.verify_code) is None
    assert services.find_sale_code(stands.vendor, "ABCDEF") is None  # the static code
    assert services.find_sale_code(stands.vendor, "nonsense!") is None
    revoke(code)
    assert services.find_sale_code(stands.vendor, code.verify_code) is None


# --- stands ------------------------------------------------------------------------------


def test_build_stand_prints_only_what_a_stand_shows(stands: Stands) -> None:
    code = stand_code(stands.vendor)
    stand = services.build_stand(code, base_url=BASE + "/")
    assert stand.payload == code.payload
    assert stand.vendor_name == "Nguyễn Thị Hường"
    assert stand.stall == "Quầy A-12"
    assert stand.market_name == "Chợ Trung tâm Đại Từ"
    assert stand.bank_short_name == "Vietcombank"
    assert stand.account_number_masked == "•••• 3456"
    assert stand.verify_code == "ABC-DEF"
    assert stand.verify_url == f"{BASE}/verify/ABCDEF"
    assert stand.amount is None and stand.note is None


def test_build_stand_for_a_sale_shows_amount_and_note(stands: Stands) -> None:
    code = services.issue_dynamic_code(stands.vendor, 45_000, purpose="thịt", actor=None)
    stand = services.build_stand(code, base_url=BASE)
    assert stand.amount == 45_000
    assert stand.note == "thit"


def test_build_stand_of_an_unlisted_bank_shows_the_bin(stands: Stands) -> None:
    vendor = add_vendor(stands.market, "Z-1", bank_bin="999999")
    assert services.build_stand(stand_code(vendor), base_url=BASE).bank_short_name == "999999"


def test_render_stand_formats_and_cache(stands: Stands) -> None:
    stand = services.build_stand(stand_code(stands.vendor), base_url=BASE)
    png = services.render_stand(stand, "png")
    assert png.startswith(b"\x89PNG")
    assert services.render_stand(stand, "png") is png  # cached: same input, same bytes
    assert services.render_stand(stand, "pdf").startswith(b"%PDF")
    assert b"<svg" in services.render_stand(stand, "svg")
    with pytest.raises(InvalidInputError):
        services.render_stand(stand, "gif")


def test_market_stand_codes_are_live_active_and_in_natural_order(stands: Stands) -> None:
    market = stands.market
    for stall in ("A-2", "A-10", "A-1", "B-1", "a-3"):
        add_vendor(market, stall)
    add_vendor(market, "A-4", status=VendorStatus.SUSPENDED)
    add_vendor(market, "A-5", status=VendorStatus.PENDING, account_status=AccountStatus.PENDING)
    add_vendor(market, "A-6", with_code=False)
    revoked = add_vendor(market, "A-7")
    revoke(stand_code(revoked))
    services.issue_dynamic_code(stands.vendor, 5_000, purpose=None, actor=None)
    stalls = [c.vendor.stall for c in services.market_stand_codes(market)]
    assert stalls == ["A-1", "A-2", "a-3", "A-10", "A-12", "A-13", "B-1"]
    missing = services.active_vendors_without_stand(market, services.market_stand_codes(market))
    assert [v.stall for v in missing] == ["A-6", "A-7"]


def test_market_stand_codes_takes_the_newest_code_per_vendor(stands: Stands) -> None:
    account = stand_code(stands.vendor).account
    newer = issue_code(account, verify_code="NEWER2")
    codes = services.market_stand_codes(stands.market)
    assert [c.id for c in codes if c.vendor_id == stands.vendor.id] == [newer.id]


def test_market_stand_codes_query_count_does_not_grow_with_vendors(stands: Stands) -> None:
    small = MarketFactory()
    big = MarketFactory()
    for i in range(3):
        add_vendor(small, f"S-{i}")
    for i in range(30):
        add_vendor(big, f"B-{i}")
    db.session.expire_all()
    small = db.session.get(type(small), small.id)
    big = db.session.get(type(big), big.id)
    with count_queries() as few:
        stands_small = [
            services.build_stand(c, base_url=BASE) for c in services.market_stand_codes(small)
        ]
    with count_queries() as many:
        stands_big = [
            services.build_stand(c, base_url=BASE) for c in services.market_stand_codes(big)
        ]
    assert len(stands_small) == 3 and len(stands_big) == 30
    assert len(many) == len(few) <= 2


def test_market_stands_pdf_refuses_unknown_layout(stands: Stands) -> None:
    with pytest.raises(InvalidInputError) as err:
        services.market_stands_pdf(stands.market, layout_name="a5", base_url=BASE)
    assert "layout" in err.value.details


# --- verification ------------------------------------------------------------------------


def test_verify_payload_of_the_stand_is_ok_and_exact(stands: Stands) -> None:
    result = services.verify_payload(stand_code(stands.vendor).payload)
    assert result.status == VerifyStatus.OK
    assert result.registration is not None
    assert result.registration.vendor.id == stands.vendor.id
    assert result.is_exact_payload


def test_verify_payload_of_another_qr_of_the_same_account_is_ok(stands: Stands) -> None:
    text = vietqr_payload("970436", "0011004123456", "tien hang", amount=30_000)
    result = services.verify_payload(text + "\r\n")
    assert result.status == VerifyStatus.OK
    assert not result.is_exact_payload


def test_verify_payload_of_an_unknown_account(stands: Stands) -> None:
    result = services.verify_payload(build_payload("970436", "999888777"))
    assert result.status == VerifyStatus.UNKNOWN_ACCOUNT
    assert result.registration is None


def test_verify_payload_of_a_pending_account_is_unknown(stands: Stands) -> None:
    vendor = add_vendor(stands.market, "C-1", account_status=AccountStatus.PENDING)
    account = vendor.accounts[0]
    result = services.verify_payload(build_payload(account.bank_bin, account.account_number))
    assert result.status == VerifyStatus.UNKNOWN_ACCOUNT


def test_verify_payload_of_a_replaced_account_is_revoked(stands: Stands) -> None:
    old = stand_code(stands.vendor)
    account = old.account
    account.status = AccountStatus.REPLACED
    account.is_primary = False
    revoke(old)
    new_account = PaymentAccountFactory(
        vendor=stands.vendor,
        status=AccountStatus.APPROVED,
        is_primary=True,
        decided_by_id=UserFactory().id,
    )
    issue_code(new_account)
    result = services.verify_payload(old.payload)
    assert result.status == VerifyStatus.REVOKED
    assert result.registration is None  # the former owner is not disclosed
    assert services.verify_payload(stand_code(stands.vendor).payload).status == VerifyStatus.OK


def test_verify_payload_of_a_vendor_who_left_is_revoked(stands: Stands) -> None:
    code = stand_code(stands.vendor)
    stands.vendor.status = VendorStatus.LEFT
    revoke(code)
    assert services.verify_payload(code.payload).status == VerifyStatus.REVOKED


def test_verify_payload_mismatch_on_stall_vendor_or_market(stands: Stands) -> None:
    payload = stand_code(stands.vendor).payload
    check = services.verify_payload
    assert check(payload, expected=Expectation(stall="A-13")).status == VerifyStatus.MISMATCH
    assert check(payload, expected=Expectation(stall="a 12")).status == VerifyStatus.OK
    wrong_vendor = Expectation(vendor_id=stands.neighbour.id)
    assert check(payload, expected=wrong_vendor).status == VerifyStatus.MISMATCH
    wrong_market = Expectation(market_id=stands.other_market.id)
    result = check(payload, expected=wrong_market)
    assert result.status == VerifyStatus.MISMATCH
    assert result.registration is not None and result.registration.vendor.stall == "A-12"
    right = Expectation(stall="A12", vendor_id=stands.vendor.id, market_id=stands.market.id)
    assert check(payload, expected=right).status == VerifyStatus.OK


def test_verify_payload_of_a_shared_account_picks_the_expected_stall(stands: Stands) -> None:
    twin = add_vendor(stands.market, "A-14", account_number="0011004123456")
    payload = stand_code(stands.vendor).payload
    result = services.verify_payload(payload, expected=Expectation(stall="A-14"))
    assert result.status == VerifyStatus.OK
    assert result.registration is not None and result.registration.vendor.id == twin.id


def test_verify_payload_of_a_suspended_vendor(stands: Stands) -> None:
    stands.vendor.status = VendorStatus.SUSPENDED
    result = services.verify_payload(stand_code(stands.vendor).payload)
    assert result.status == VerifyStatus.SUSPENDED
    assert not result.is_ok


def test_verify_payload_refuses_a_tampered_crc(stands: Stands) -> None:
    payload = stand_code(stands.vendor).payload
    tampered = payload[:-4] + ("0000" if payload[-4:] != "0000" else "FFFF")
    with pytest.raises(InvalidInputError) as err:
        services.verify_payload(tampered)
    assert list(err.value.details) == ["payload"]
    assert "63" in err.value.details["payload"][0]
    swapped = payload.replace("0011004123456", "0011004123457")
    with pytest.raises(InvalidInputError, match="không phải mã VietQR"):
        services.verify_payload(swapped)


@pytest.mark.parametrize("text", ["", "hello", "https://example.com", "000201" * 3])
def test_verify_payload_refuses_garbage(stands: Stands, text: str) -> None:
    with pytest.raises(InvalidInputError):
        services.verify_payload(text)


@pytest.mark.parametrize("typed", ["ABCDEF", "abc-def", "Abc Def", " abcdef "])
def test_verify_code_accepts_any_case_and_dash(stands: Stands, typed: str) -> None:
    result = services.verify_code(typed)
    assert result.status == VerifyStatus.OK
    assert result.registration is not None
    assert result.registration.vendor.id == stands.vendor.id


def test_verify_code_unknown_invalid_revoked(stands: Stands) -> None:
    assert services.verify_code("XYZ-XYZ").status == VerifyStatus.UNKNOWN_CODE
    bad = services.verify_code("ABC-DE0")  # 0 is not in the alphabet
    assert bad.status == VerifyStatus.INVALID
    assert "6 chữ và số" in str(bad.message)
    revoke(stand_code(stands.vendor))
    revoked = services.verify_code("abc-def")
    assert revoked.status == VerifyStatus.REVOKED
    assert str(revoked.message) == "Mã này đã bị thu hồi — không thanh toán."
    assert services.public_answer(revoked).keys() == {"status", "message"}


def test_verify_code_of_a_dynamic_code_shows_the_amount(stands: Stands) -> None:
    code = services.issue_dynamic_code(stands.vendor, 70_000, purpose=None, actor=None)
    answer = services.public_answer(services.verify_code(code.verify_code))
    assert answer["status"] == "ok"
    assert answer["amount"] == 70_000


def test_public_answer_shows_only_what_the_stand_prints(stands: Stands) -> None:
    vendor = stands.vendor
    vendor.phone = "0912345678"
    vendor.id_number_masked = "********2345"
    result = services.verify_payload(stand_code(vendor).payload)
    answer = services.public_answer(result)
    assert set(answer) == {
        "status",
        "message",
        "vendor",
        "bank",
        "account_name",
        "account_number_masked",
        "scanned",
        "is_exact_payload",
    }
    assert answer["vendor"] == {
        "id": vendor.id,
        "name": "Nguyễn Thị Hường",
        "stall": "A-12",
        "market": {"id": stands.market.id, "name": "Chợ Trung tâm Đại Từ"},
    }
    assert answer["bank"] == {"bin": "970436", "short_name": "Vietcombank"}
    assert answer["account_number_masked"] == "•••• 3456"
    flat = repr(answer)
    for secret in ("0011004123456", "0912345678", "2345", vendor.reference, "ABCDEF"):
        assert secret not in flat


def test_public_answer_for_unknown_account_reveals_nothing_registered(stands: Stands) -> None:
    answer = services.public_answer(services.verify_payload(build_payload("970422", "12345678")))
    assert "vendor" not in answer and "account_name" not in answer
    assert answer["scanned"]["account_number_masked"] == "•••• 5678"


# --- re-scan audit -----------------------------------------------------------------------


def test_parse_rescan_text() -> None:
    payload = build_payload("970436", "123456789")
    text = f"\n{payload}\nA-12\t{payload}\nA-13; {payload}\n  \nB-1,{payload}\ngarbage\n"
    items = services.parse_rescan_text(text)
    assert [(i.line, i.stall) for i in items] == [
        (2, None),
        (3, "A-12"),
        (4, "A-13"),
        (6, "B-1"),
        (7, None),
    ]
    assert all(i.payload == payload for i in items[:4])
    assert items[4].payload == "garbage"


def test_rescan_market_lists_and_logs_every_verdict(stands: Stands) -> None:
    market = stands.market
    a12 = stand_code(stands.vendor).payload
    a13 = stand_code(stands.neighbour).payload
    far = stand_code(stands.far_vendor).payload
    extra = add_vendor(market, "A-20")
    items = [
        RescanItem(1, "A-12", a12),  # ok
        RescanItem(2, "A-12", a13),  # A-13's account stuck on A-12: mismatch
        RescanItem(3, None, far),  # account of another market: mismatch
        RescanItem(4, "A-15", build_payload("970436", "55554444")),  # unknown
        RescanItem(5, "A-16", a12[:-1] + ("0" if a12[-1] != "0" else "1")),  # bad CRC
    ]
    report = services.rescan_market(market, items, actor=stands.board)
    statuses = [line.status for line in report.lines]
    assert statuses == ["ok", "mismatch", "mismatch", "unknown_account", "invalid"]
    assert report.counts == {
        "ok": 1,
        "revoked": 0,
        "unknown_account": 1,
        "mismatch": 2,
        "suspended": 0,
        "invalid": 1,
    }
    assert report.lines[1].result.registration.vendor.stall == "A-13"  # type: ignore[union-attr]
    assert "63" in (report.lines[4].result.reason or "")
    assert {v.stall for v in report.not_scanned} == {"A-13", extra.stall}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stand.rescan")).one()
    assert event.actor_id == stands.board.id
    assert event.market_id == market.id
    assert event.entity_type == "market" and event.entity_id == str(market.id)
    assert event.new_values["counts"]["mismatch"] == 2
    assert event.new_values["scanned"] == 5
    problems = event.new_values["problems"]
    assert [p["line"] for p in problems] == [2, 3, 4, 5]
    assert problems[0]["registered_stall"] == "A-13"
    assert "0011004123456" not in repr(event.new_values)  # masked, never the full number


def test_rescan_market_revoked_and_suspended(stands: Stands) -> None:
    code = stand_code(stands.vendor)
    revoke(code)
    stands.neighbour.status = VendorStatus.SUSPENDED
    items = [
        RescanItem(1, "A-12", code.payload),
        RescanItem(2, "A-13", stand_code(stands.neighbour).payload),
    ]
    report = services.rescan_market(stands.market, items, actor=stands.board)
    assert [line.status for line in report.lines] == ["revoked", "suspended"]


def test_rescan_market_refuses_empty_and_huge_batches(stands: Stands) -> None:
    with pytest.raises(InvalidInputError):
        services.rescan_market(stands.market, [], actor=stands.board)
    payload = stand_code(stands.vendor).payload
    many = [RescanItem(i, None, payload) for i in range(services.MAX_RESCAN_ITEMS + 1)]
    with pytest.raises(InvalidInputError):
        services.rescan_market(stands.market, many, actor=stands.board)
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "stand.rescan")
    ).all()


def test_get_rescan_market_uses_the_policy(stands: Stands) -> None:
    from chopay.errors import PermissionDeniedError

    assert services.get_rescan_market(stands.market.id, actor=stands.board) is stands.market
    assert services.get_rescan_market(stands.market.id, actor=stands.officer) is stands.market
    with pytest.raises(PermissionDeniedError):
        services.get_rescan_market(stands.market.id, actor=stands.helper)
    with pytest.raises(PermissionDeniedError):
        services.get_rescan_market(stands.market.id, actor=stands.vendor_user)
    with pytest.raises(NotFoundError):
        services.get_rescan_market(stands.market.id, actor=stands.other_board)


def test_dynamic_code_rows_are_not_stand_codes(stands: Stands) -> None:
    services.issue_dynamic_code(stands.vendor, 5_000, purpose=None, actor=None)
    live = db.session.scalars(
        select(QrCode).where(QrCode.vendor_id == stands.vendor.id, QrCode.revoked_at.is_(None))
    ).all()
    assert sorted(c.is_dynamic for c in live) == [False, True]
    assert services.get_stand_code(stands.vendor).verify_code == "ABCDEF"


def test_print_stands_command_writes_the_market_pdf(
    runner: Any, stands: Stands, tmp_path: Any
) -> None:
    out = tmp_path / "cho.pdf"
    result = runner.invoke(
        args=["chopay", "print-stands", str(stands.market.id), "--layout", "a4x4", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 bảng QR" in result.output
    assert out.read_bytes().startswith(b"%PDF")
    missing = runner.invoke(args=["chopay", "print-stands", "999999"])
    assert missing.exit_code != 0
    assert "999999" in missing.output
