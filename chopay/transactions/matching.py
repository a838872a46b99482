"""Matching bank lines and provider notifications to vendors.

A transfer reaches a vendor's account, and its note starts with the vendor's reference
(``CP7K3QF9 …``; banks often prepend their own codes, so the reference is looked for
anywhere in the note). The rules, in order:

1. The account number is an approved account of exactly one vendor: that vendor, unless
   the note carries another vendor's reference (then it is held: ``reference_mismatch``).
2. The account is shared by several vendors: the one whose reference is in the note
   (none or several: ``ambiguous``).
3. The account belongs to no vendor (e.g. a market's collection account): the vendor
   whose reference is in the note (none: ``unknown_account``; several: ``ambiguous``).

A matched vendor who has left is not credited: the line is held (``vendor_left``).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, text

from chopay.extensions import db
from chopay.transactions import bulk
from chopay.vendors.models import AccountStatus, PaymentAccount, Vendor, VendorStatus

_TOKEN = re.compile(r"[A-Z0-9]{6,12}")
# One notification's lookups in one round trip: the vendors behind its account and
# behind the references in its note, its line if already held (kind 'held'), and the
# other held copies of its bank transfer (kind 'copy': same bank_ref, another key).
_ONE_LOOKUP = text(
    "SELECT 'account', pa.account_number, v.id, v.market_id, v.status, v.reference "
    "FROM payment_accounts pa JOIN vendors v ON v.id = pa.vendor_id "
    "WHERE pa.account_number IN :accounts AND pa.status = :approved "
    "UNION ALL "
    "SELECT 'reference', NULL, v.id, v.market_id, v.status, v.reference FROM vendors v "
    "WHERE v.reference IN :tokens "
    "UNION ALL "
    "SELECT CASE WHEN i.source = :held_source AND i.external_ref = :held_ref "
    "THEN 'held' ELSE 'copy' END, i.source, i.id, NULL, i.status, i.external_ref "
    "FROM inbound_payments i "
    "WHERE (i.source = :held_source AND i.external_ref = :held_ref) OR i.bank_ref = :bank_ref"
).bindparams(bindparam("accounts", expanding=True), bindparam("tokens", expanding=True))


@functools.cache
def _pg_one_lookup(tokens: int) -> str:
    """``_ONE_LOOKUP`` for the driver on PostgreSQL (see ``bulk.single_payment``), for a
    note with this many candidate references. Scalar parameters, not arrays: psycopg
    prepares a statement after a few runs, and the generic plan of ``= ANY(array)``
    expects ten values and reads the whole table when it is small (400 vendors: 80 µs
    of 170), where ``=`` on each value probes the index."""
    refs = ", ".join(f"%(t{i})s" for i in range(tokens)) or "NULL"
    return (
        "SELECT 'account', pa.account_number, v.id, v.market_id, v.status, v.reference "  # noqa: S608 - placeholders only
        "FROM payment_accounts pa JOIN vendors v ON v.id = pa.vendor_id "
        "WHERE pa.account_number = %(account)s AND pa.status = %(approved)s "
        "UNION ALL "
        "SELECT 'reference', NULL, v.id, v.market_id, v.status, v.reference FROM vendors v "
        f"WHERE v.reference IN ({refs}) "
        "UNION ALL "
        "SELECT CASE WHEN i.source = %(held_source)s AND i.external_ref = %(held_ref)s "
        "THEN 'held' ELSE 'copy' END, i.source, i.id, NULL, i.status, i.external_ref "
        "FROM inbound_payments i WHERE (i.source = %(held_source)s "
        "AND i.external_ref = %(held_ref)s) OR i.bank_ref = %(bank_ref)s"
    )


_CHUNK = 2000


class UnmatchedReason(enum.StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"
    AMBIGUOUS = "ambiguous"
    REFERENCE_MISMATCH = "reference_mismatch"
    VENDOR_LEFT = "vendor_left"
    OUT_OF_SCOPE = "out_of_scope"
    UNKNOWN_VENDOR = "unknown_vendor"


@dataclass(frozen=True, slots=True)
class VendorRef:
    id: int
    market_id: int
    status: str
    reference: str


@dataclass(frozen=True, slots=True)
class HeldCopy:
    """A line held for a board that carries a given bank transfer (same bank_ref)."""

    id: int
    status: str
    source: str
    external_ref: str


@dataclass(frozen=True, slots=True)
class Match:
    vendor: VendorRef | None
    reason: UnmatchedReason | None = None
    # The market the line most likely belongs to, for the board that will assign it.
    market_id: int | None = None


def normalise_account(value: str | None) -> str:
    """Account numbers as banks print them, without spaces, dots or dashes."""
    if not value:
        return ""
    if value.isalnum():
        return value.upper()
    return "".join(ch for ch in value if ch.isalnum()).upper()


def bank_transfer_ref(account: str | None, reference: str | None) -> str | None:
    """The key of one bank transfer whichever way it reaches chopay (provider notification
    or statement line): ``"<receiving account, normalised>:<bank's reference>"``, at most
    120 characters; None unless both parts are known. The statement import keys its lines
    with it too, so the two always agree."""
    account = normalise_account(account)
    reference = (reference or "").strip()
    if not account or not reference:
        return None
    return f"{account}:{reference}"[:120]


def note_tokens(content: str | None) -> list[str]:
    """Candidate vendor references in a transfer note (upper-case, 6-12 letters/digits,
    with at least one digit and one letter)."""
    if not content:
        return []
    found = _TOKEN.findall(content.upper())
    return [t for t in found if not t.isdigit() and not t.isalpha()]


@dataclass
class MatchIndex:
    """Vendors reachable from a batch of lines, loaded with a few queries."""

    by_account: dict[str, list[VendorRef]] = field(default_factory=dict)
    by_reference: dict[str, VendorRef] = field(default_factory=dict)
    # external_ref -> (inbound id, status) of the line already held, when loaded for one
    # notification (see ``load_notification``).
    held: dict[str, tuple[int, str]] = field(default_factory=dict)
    # the other held copies of its bank transfer (``load_notification`` with a bank_ref)
    copies: list[HeldCopy] = field(default_factory=list)

    @classmethod
    def load(cls, accounts: Iterable[str], contents: Iterable[str | None]) -> MatchIndex:
        """Load the vendors whose approved accounts or references appear in the lines."""
        contents = list(contents)
        wanted = sorted({a for a in accounts if a})
        if len(wanted) <= 1 and len(contents) <= 1:
            return cls._load_one(wanted, note_tokens(contents[0] if contents else None))
        tokens: set[str] = set()
        for content in contents:
            tokens.update(note_tokens(content))
        return cls.load_tokens(wanted, tokens)

    @classmethod
    def load_tokens(cls, accounts: Iterable[str], tokens: Iterable[str]) -> MatchIndex:
        """Like ``load``, with the notes already cut into tokens (see ``note_tokens``)."""
        index = cls()
        wanted_accounts = sorted({a for a in accounts if a})
        tokens = set(tokens)
        for start in range(0, len(wanted_accounts), _CHUNK):
            chunk = wanted_accounts[start : start + _CHUNK]
            rows = db.session.execute(
                select(
                    PaymentAccount.account_number,
                    Vendor.id,
                    Vendor.market_id,
                    Vendor.status,
                    Vendor.reference,
                )
                .join(Vendor, Vendor.id == PaymentAccount.vendor_id)
                .where(
                    PaymentAccount.account_number.in_(chunk),
                    PaymentAccount.status == AccountStatus.APPROVED,
                )
            )
            for account, vid, market_id, status, reference in rows:
                ref = VendorRef(vid, market_id, status, reference)
                vendors = index.by_account.setdefault(normalise_account(account), [])
                if all(v.id != vid for v in vendors):
                    vendors.append(ref)
                index.by_reference[reference.upper()] = ref
        tokens -= set(index.by_reference)
        wanted_tokens = sorted(tokens)
        for start in range(0, len(wanted_tokens), _CHUNK):
            chunk = wanted_tokens[start : start + _CHUNK]
            found = db.session.execute(
                select(Vendor.id, Vendor.market_id, Vendor.status, Vendor.reference).where(
                    Vendor.reference.in_(chunk)
                )
            )
            for vid, market_id, status, reference in found:
                index.by_reference[reference.upper()] = VendorRef(vid, market_id, status, reference)
        return index

    @classmethod
    def _load_one(cls, accounts: list[str], tokens: list[str]) -> MatchIndex:
        """One line: both lookups in one round trip, with a statement built once."""
        if not accounts and not tokens:
            return cls()
        return cls._run_one(accounts, tokens, "", "")

    @classmethod
    def load_notification(
        cls,
        account_number: str | None,
        content: str | None,
        source: str,
        external_ref: str,
        bank_ref: str | None = None,
    ) -> MatchIndex:
        """One provider notification: the vendors it may belong to and, in ``held``, its
        line if a board holds it already, all in one round trip."""
        account = normalise_account(account_number)
        return cls._run_one(
            [account] if account else [], note_tokens(content), source, external_ref, bank_ref
        )

    @classmethod
    def _run_one(
        cls,
        accounts: list[str],
        tokens: list[str],
        held_source: str,
        held_ref: str,
        bank_ref: str | None = None,
    ) -> MatchIndex:
        index = cls()
        params = {
            "accounts": accounts or [""],
            "tokens": tokens or [""],
            "approved": AccountStatus.APPROVED.value,
            "held_source": held_source,
            "held_ref": held_ref,
            "bank_ref": bank_ref,
        }
        rows: Iterable[Any]
        if bulk.in_lane() and len(accounts) <= 1:
            named = {f"t{i}": token for i, token in enumerate(tokens)}
            named.update(
                account=accounts[0] if accounts else "",
                approved=params["approved"],
                held_source=held_source,
                held_ref=held_ref,
                bank_ref=bank_ref,
            )
            rows = bulk.lane_rows(_pg_one_lookup(len(tokens)), named)
        else:
            rows = db.session.connection().execute(_ONE_LOOKUP, params)
        for kind, account, row_id, market_id, status, reference in rows:
            if kind == "held":
                index.held[held_ref] = (row_id, status)
                continue
            if kind == "copy":  # account: its source, reference: its external_ref
                index.copies.append(HeldCopy(row_id, status, account, reference))
                continue
            ref = VendorRef(row_id, market_id, status, reference)
            if kind == "account":
                vendors = index.by_account.setdefault(normalise_account(account), [])
                if all(v.id != row_id for v in vendors):
                    vendors.append(ref)
            index.by_reference[reference.upper()] = ref
        return index

    def match(self, account_number: str | None, content: str | None) -> Match:
        """The vendor a line belongs to, or why none could be chosen."""
        return self.match_tokens(normalise_account(account_number), note_tokens(content))

    def match_tokens(self, account: str, tokens: list[str]) -> Match:
        """``match`` for a normalised account and the note's tokens."""
        by_note: list[VendorRef] = []
        for token in tokens:
            ref = self.by_reference.get(token)
            if ref is not None and ref not in by_note:
                by_note.append(ref)
        owners = self.by_account.get(account, []) if account else []
        if len(owners) == 1:
            owner = owners[0]
            if by_note and owner not in by_note:
                return Match(None, UnmatchedReason.REFERENCE_MISMATCH, owner.market_id)
            return _checked(owner)
        if len(owners) > 1:
            chosen = [r for r in by_note if any(o.id == r.id for o in owners)]
            if len(chosen) == 1:
                return _checked(chosen[0])
            markets = {o.market_id for o in owners}
            market = markets.pop() if len(markets) == 1 else None
            return Match(None, UnmatchedReason.AMBIGUOUS, market)
        if len(by_note) == 1:
            return _checked(by_note[0])
        if len(by_note) > 1:
            markets = {r.market_id for r in by_note}
            market = markets.pop() if len(markets) == 1 else None
            return Match(None, UnmatchedReason.AMBIGUOUS, market)
        return Match(None, UnmatchedReason.UNKNOWN_ACCOUNT, None)


def _checked(ref: VendorRef) -> Match:
    if ref.status == VendorStatus.LEFT:
        return Match(None, UnmatchedReason.VENDOR_LEFT, ref.market_id)
    return Match(ref, None, ref.market_id)
