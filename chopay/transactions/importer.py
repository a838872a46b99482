"""Bank-statement CSV import: parse, match each credit line to a vendor, record in bulk.

Columns (header row required; names are matched without accents or case, English or
Vietnamese; comma or semicolon separated; UTF-8, with or without BOM):

===============  =========================================  ======================================
column           also accepted                              content
===============  =========================================  ======================================
date             ngay, ngay_giao_dich, thoi_gian            ``dd/mm/yyyy hh:mm`` (``:ss`` and the
                                                            time optional), Vietnam time
amount           so_tien                                    ``1.250.000``, ``1,250,000`` or
                                                            ``1250000``; negative = outgoing
credit / debit   ghi_co / ghi_no, so_tien_ghi_co / …no      instead of ``amount``: money in / out
account_number   so_tai_khoan, tai_khoan, stk               receiving account (or pass
                                                            ``account_number`` for the whole file)
content          noi_dung, dien_giai, mo_ta, description    transfer note (vendor reference)
reference        ma_giao_dich, so_tham_chieu, so_but_toan   bank's transaction id (optional)
type             loai, direction                            ``in``/``out`` (``C``/``D``, ``có``/
                                                            ``nợ``) (optional)
===============  =========================================  ======================================

Idempotency: each line's key is ``<account>:<reference>``, or without a reference column
``<account>:<hash of time, amount, note>#<n>`` (n counts identical lines in the file), so
importing the same statement again (or an overlapping one) records nothing twice. A line
with a reference also carries it as its ``bank_ref`` (the same ``<account>:<reference>``):
a transfer a provider notified already (webhook with the bank's reference) is counted as
a duplicate, not recorded again, and a later notification of it answers ``duplicate``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from chopay.auth.policy import Action, can
from chopay.db import utcnow
from chopay.errors import InvalidInputError, PermissionDeniedError
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.text import fold
from chopay.transactions import services
from chopay.transactions.matching import (
    MatchIndex,
    UnmatchedReason,
    bank_transfer_ref,
    normalise_account,
    note_tokens,
)
from chopay.transactions.models import MAX_AMOUNT_VND, InboundStatus, Method, Source
from chopay.transactions.schemas import parse_statement_time, parse_vnd_text
from chopay.vendors.models import Vendor

logger = logging.getLogger(__name__)

MAX_LISTED = 1000  # lines listed back per category; totals are always complete
MAX_ACCOUNT_LENGTH = 40  # inbound_payments.account_number

COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "ngay", "ngay_giao_dich", "thoi_gian", "ngay_gd", "transaction_date"),
    "amount": ("amount", "so_tien", "so_tien_giao_dich"),
    "credit": ("credit", "ghi_co", "so_tien_ghi_co", "tien_vao"),
    "debit": ("debit", "ghi_no", "so_tien_ghi_no", "tien_ra"),
    "account_number": ("account_number", "so_tai_khoan", "tai_khoan", "stk", "account"),
    "content": ("content", "noi_dung", "dien_giai", "mo_ta", "description", "noi_dung_ck"),
    "reference": (
        "reference",
        "ma_giao_dich",
        "so_tham_chieu",
        "so_but_toan",
        "ref",
        "reference_code",
        "ma_gd",
    ),
    "type": ("type", "loai", "direction", "loai_giao_dich"),
}
_ALIASES = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
_OUT = {"out", "d", "debit", "no", "ghi_no", "chi", "-"}
_IN = {"in", "c", "credit", "co", "ghi_co", "thu", "+", ""}


@dataclass
class ImportReport:
    """What an import did; ``unmatched`` and ``rejected`` list at most MAX_LISTED lines."""

    lines: int = 0
    created: int = 0
    duplicates: int = 0
    ignored: int = 0
    unmatched_total: int = 0
    rejected_total: int = 0
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def reject(self, line: int, reason: Any, details: dict[str, Any] | None = None) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_LISTED:
            self.rejected.append(
                {"line": line, "status": "rejected", "reason": str(reason), "details": details}
            )


def _header_key(name: str) -> str:
    return "_".join(fold(name).replace("-", " ").replace("/", " ").split())


def decode(data: bytes) -> str:
    """The file as text (UTF-8, BOM allowed, no NUL character); InvalidInputError
    otherwise. A NUL (which PostgreSQL cannot store) means a damaged file or not a CSV
    at all: refused with its line, not dropped, since it may sit inside a bank reference."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError.for_field(
            "file", _l("Tệp phải là CSV mã UTF-8 (Excel: Lưu thành → CSV UTF-8).")
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise InvalidInputError.for_field(
            "file",
            _l(
                "Dòng %(line)d có ký tự không hợp lệ (NUL, mã 0): tệp bị hỏng hoặc không phải CSV.",
                line=text.count("\n", 0, nul) + 1,
            ),
        )
    return text


def _reader(text: str) -> Any:
    first = text[: text.find("\n")] if "\n" in text else text
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _checked(reader: Any) -> Iterator[list[str]]:
    """The reader's rows; a file the csv module cannot read (a cell over its 128 KB limit,
    say) is refused as a whole, before anything is written."""
    try:
        yield from reader
    except csv.Error:
        raise InvalidInputError.for_field(
            "file", _l("Tệp CSV sai định dạng ở dòng %(n)d.", n=reader.line_num)
        ) from None


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for position, name in enumerate(header):
        key = _ALIASES.get(_header_key(name))
        if key is not None and key not in found:
            found[key] = position
    problems = []
    if "date" not in found:
        problems.append(_l("Thiếu cột ngày (date / ngay)."))
    if "amount" not in found and "credit" not in found:
        problems.append(_l("Thiếu cột số tiền (amount / so_tien, hoặc credit / ghi_co)."))
    if problems:
        raise InvalidInputError(_l("Tệp sao kê thiếu cột bắt buộc."), details={"file": problems})
    return found


def import_statement(
    data: bytes,
    *,
    actor: Any,
    market: Market | None = None,
    account_number: str | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Import a bank statement: credit lines matched to vendors are recorded (source
    ``import``), unmatched ones held for ``market``'s board (or the matched market), lines
    for vendors outside the actor's rights refused. Idempotent. Flushes, never commits."""
    actor = services.unwrap(actor)
    if not services.may_record_payments(actor):
        raise PermissionDeniedError(_l("Bạn không được nhập giao dịch."))
    started = time.perf_counter()
    now = now or utcnow()
    latest = now + services.MAX_SKEW
    report = ImportReport()
    reader = _reader(decode(data))
    rows = _checked(reader)
    header = next(rows, None)
    if not header:
        raise InvalidInputError.for_field("file", _l("Tệp trống."))
    cols = _columns(header)
    default_account = normalise_account(account_number)
    c_date = cols["date"]
    c_amount = cols.get("amount")
    c_credit = cols.get("credit")
    c_debit = cols.get("debit")
    c_account = cols.get("account_number")
    c_content = cols.get("content")
    c_ref = cols.get("reference")
    c_type = cols.get("type")
    width = max(cols.values()) + 1

    # pass 1: parse (statement lines repeat minutes and amounts: parse each text once)
    parsed: list[tuple[int, dt.datetime, int, str, str, str, str | None, list[str]]] = []
    occurrences: dict[str, int] = {}
    times: dict[str, dt.datetime | str] = {}
    amounts: dict[str, int | str] = {}
    for line_no, cells in enumerate(rows, start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        report.lines += 1
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        errors: dict[str, list[Any]] = {}
        occurred = times.get(cells[c_date])
        if occurred is None:
            try:
                occurred = times[cells[c_date]] = parse_statement_time(cells[c_date])
            except ValueError as exc:
                occurred = times[cells[c_date]] = exc.args[0]
        if not isinstance(occurred, dt.datetime):
            errors["date"] = [occurred]
            occurred = None
        direction = fold(cells[c_type]).replace(" ", "_") if c_type is not None else ""
        amount_text = ""
        if c_amount is not None:
            amount_text = cells[c_amount].strip()
            if amount_text.startswith("-"):
                direction, amount_text = "out", amount_text[1:]
        if c_credit is not None and not amount_text:
            amount_text = cells[c_credit].strip()
            if not amount_text and c_debit is not None and cells[c_debit].strip():
                direction = "out"
        if direction in _OUT:
            report.ignored += 1
            continue
        if direction not in _IN:
            errors["type"] = [_l("Loại phải là in/out (C/D, có/nợ).")]
        amount = amounts.get(amount_text)
        if amount is None:
            try:
                amount = amounts[amount_text] = parse_vnd_text(amount_text)
            except ValueError as exc:
                amount = amounts[amount_text] = exc.args[0]
        if not isinstance(amount, int):
            errors["amount"] = [amount]
            amount = 0
        account = normalise_account(cells[c_account]) if c_account is not None else ""
        account = account or default_account
        if not account:
            errors["account_number"] = [_l("Thiếu số tài khoản nhận.")]
        elif len(account) > MAX_ACCOUNT_LENGTH:
            errors["account_number"] = [_l("Số tài khoản quá dài.")]
        if errors or occurred is None:
            report.reject(line_no, _l("Dòng không hợp lệ."), errors)
            continue
        if occurred > latest:
            report.reject(line_no, _l("Thời gian ở tương lai."), {"date": [_l("Ở tương lai.")]})
            continue
        content = cells[c_content].strip() if c_content is not None else ""
        ref = cells[c_ref] if c_ref is not None else ""
        bank_ref = bank_transfer_ref(account, ref)
        if bank_ref is not None:
            key = bank_ref  # f"{account}:{ref}"[:120], as the ledger has always keyed it
        else:
            digest = hashlib.sha256(
                f"{occurred.isoformat()}|{amount}|{content}".encode()
            ).hexdigest()[:24]
            base = f"{account}:{digest}"
            n = occurrences.get(base, 0) + 1
            occurrences[base] = n
            key = f"{base}#{n}"[:120]
        parsed.append(
            (line_no, occurred, amount, account, content, key, bank_ref, note_tokens(content))
        )

    # pass 2: match and check rights
    tokens: set[str] = set()
    for p in parsed:
        tokens.update(p[7])
    index = MatchIndex.load_tokens((p[3] for p in parsed), tokens)
    matches = [index.match_tokens(p[3], p[7]) for p in parsed]
    vendor_ids = sorted({m.vendor.id for m in matches if m.vendor is not None})
    allowed: dict[int, bool] = {}
    for start in range(0, len(vendor_ids), 1000):
        for vendor in db.session.scalars(
            select(Vendor)
            .options(joinedload(Vendor.market))
            .where(Vendor.id.in_(vendor_ids[start : start + 1000]))
        ):
            allowed[vendor.id] = can(actor, Action.RECORD_PAYMENT, vendor)
    market_ok: dict[int | None, bool] = {None: False}
    default_market = market.id if market is not None else None

    source = Source.IMPORT.value
    held = services.held_refs(source, (p[5] for p in parsed))
    # Copies of the same bank transfers held from a provider's notifications.
    copies = services.same_transfer(p[6] for p in parsed)
    to_insert: list[dict[str, Any]] = []
    to_hold: list[dict[str, Any]] = []
    hold_lines: list[tuple[int, dict[str, Any]]] = []
    reporter_id = getattr(actor, "id", None)
    vietqr = Method.VIETQR.value
    for (line_no, occurred, amount, account, content, key, bank_ref, _tokens), found in zip(
        parsed, matches, strict=True
    ):
        match = found.vendor
        if match is not None and not allowed.get(match.id, False):
            report.reject(
                line_no,
                _l("Tài khoản thuộc tiểu thương ngoài phạm vi của bạn."),
                {"account_number": [str(UnmatchedReason.OUT_OF_SCOPE)]},
            )
            continue
        if amount > MAX_AMOUNT_VND:
            report.reject(line_no, _l("Số tiền vượt mức tối đa."), {"amount": ["> 499.999.999"]})
            continue
        if match is not None:
            if held.get(key, (0, ""))[1] == "ignored" or (
                bank_ref is not None and services.set_aside_copy(copies.get(bank_ref, ()))
            ):
                report.duplicates += 1  # a board already set this line (transfer) aside
                continue
            to_insert.append(
                {
                    "vendor_id": match.id,
                    "market_id": match.market_id,
                    "amount_vnd": amount,
                    "occurred_at": occurred,
                    "method": vietqr,
                    "source": source,
                    "external_ref": key,
                    "reporter_id": reporter_id,
                    "note": content[:255] or None,
                    "bank_ref": bank_ref,
                }
            )
            continue
        guess = found.market_id
        if guess not in market_ok:
            guess_market = db.session.get(Market, guess)
            market_ok[guess] = can(actor, Action.RECORD_PAYMENT, guess_market)
        hold: dict[str, Any] = {
            "source": source,
            "external_ref": key,
            "amount_vnd": amount,
            "occurred_at": occurred,
            "account_number": account,
            "content": content,
            "bank_ref": bank_ref,
            "reason": str(found.reason),
            "market_id": guess if market_ok[guess] else default_market,
            "raw": {"line": line_no},
        }
        to_hold.append(hold)
        hold_lines.append((line_no, hold))

    counts = services.insert_transactions(to_insert)
    report.created = counts.inserted
    report.duplicates += len(to_insert) - counts.inserted
    services.settle_held(source, counts.ids, held, actor_id=reporter_id)
    services.settle_lines(
        (
            (copy.id, counts.ids[(source, row["external_ref"])])
            for row in to_insert
            if (source, row["external_ref"]) in counts.ids
            for copy in copies.get(row["bank_ref"] or "", ())
            if copy.status == InboundStatus.UNMATCHED
            and (copy.source, copy.external_ref) != (source, row["external_ref"])
        ),
        actor_id=reporter_id,
        note="same bank transfer recorded by the statement import",
    )
    inbound_ids = services.hold_inbound(to_hold)
    report.unmatched_total = len(hold_lines)
    for line_no, hold in hold_lines[:MAX_LISTED]:
        report.unmatched.append(
            {
                "line": line_no,
                "status": "unmatched",
                "reason": hold["reason"],
                "amount": hold["amount_vnd"],
                "occurred_at": hold["occurred_at"],
                "account_number": hold["account_number"],
                "content": hold["content"],
                "inbound_id": inbound_ids.get(hold["external_ref"]),
            }
        )
    report.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "user %s imported a statement: %s lines, %s created, %s duplicates, %s unmatched, "
        "%s rejected in %.2fs",
        reporter_id,
        report.lines,
        report.created,
        report.duplicates,
        report.unmatched_total,
        report.rejected_total,
        report.seconds,
    )
    return report
