"""Access-control matrix, generated from the route table.

``TABLE`` holds, for every endpoint of ``app.url_map``, the cases to try: method, how to
build the URL (and body) for an object inside or outside a scope, and which roles may.
An endpoint (or method) without a case fails ``test_every_route_has_a_rule``, so a new
endpoint cannot ship without deciding who may use it.

Scopes (see tests/security/world.py): ``in`` is market M / vendor V, where the officer
(unit: M's district), the board and helper (M) and the vendor user (V) all work; ``sib``
is V2, V's neighbour at M (a vendor must not reach a neighbour's records); ``out`` is
market N / vendor W in another district, which only the admin may reach. Objects are
addressed by id, so every ``out`` and ``sib`` case is an IDOR attempt: another vendor's
id, another market's account approval, another market's transaction, another market's
held payment, another source's webhook signature.

Each role is tried with a session cookie, and on ``/api/`` also with its bearer token.
Allowed: a 2xx/3xx, or a 409/422 on a minimal body (authorization passed, the input did
not: the denied roles get 403/404 for the very same request), never a 400 (that would be
CSRF or a malformed request), a 5xx or the login redirect. Denied: 403 or 404, nothing written
(counts of audit events, ledger rows, vendors, accounts and codes unchanged).
Anonymous: 401 JSON on ``/api/``, a redirect to the login page for pages. Public
endpoints answer everyone. Every answer an allowed non-admin gets is searched for the
names, phones and account numbers of vendors they may not see.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from chopay.audit.models import AuditEvent
from chopay.extensions import db as _db
from chopay.transactions.models import InboundPayment, Transaction
from chopay.transactions.webhooks import SIGNATURE_HEADER, sign
from chopay.vendors.models import PaymentAccount, QrCode, Vendor
from tests.security.world import (
    ROLES,
    VN,
    Scope,
    World,
    build_world,
    isolated,
    module_session,
)

ALL = frozenset(ROLES)
STAFF = frozenset({"admin", "board", "helper"})  # onboarding: register, accounts, approve
AUDITORS = frozenset({"admin", "officer", "board"})  # change history, re-scan, reports
PRINTERS = frozenset({"admin", "officer", "board", "helper", "vendor"})
LEDGER = frozenset({"admin", "board", "vendor"})  # individual payments
BOARD = frozenset({"admin", "board"})  # voids, held lines

RECENT = (dt.datetime.now(VN) - dt.timedelta(hours=1)).isoformat(timespec="seconds")
ALLOWED_STATUSES = {200, 201, 204, 302, 303, 409, 422}
DENIED_STATUSES = {403, 404}

Url = Callable[[Scope, World, str], str]  # (scope objects, world, role) -> URL
Body = Callable[[Scope, World], dict[str, Any]]  # -> keyword arguments of client.open


@dataclass(frozen=True)
class Case:
    """One way of calling an endpoint, and who may.

    ``keyed`` says what the URL addresses: ``market`` (scopes in/out), ``vendor`` (in, and
    V2 for the vendor user, and out), ``self`` (the caller's own object vs someone
    else's), ``reference`` (the same answer everywhere: public reference data), ``global``
    (no object: tried once, and the answer searched for what the role may not see), or
    ``public`` (reachable without login: ``expect`` lists the statuses everyone gets,
    ``expect_out`` those for the ``out`` URL if there is one).
    """

    method: str
    url: Url
    allowed: frozenset[str] = frozenset()
    keyed: str = "global"
    body: Body | None = None
    expect: frozenset[int] = frozenset()
    expect_out: frozenset[int] = frozenset()


def get(url: Url, allowed: frozenset[str] = ALL, keyed: str = "global", **kw: Any) -> Case:
    return Case("GET", url, allowed, keyed, **kw)


def post(url: Url, allowed: frozenset[str], keyed: str, body: Body | None = None) -> Case:
    return Case("POST", url, allowed, keyed, body)


def public(method: str, url: Url, expect: set[int], body: Body | None = None, **kw: Any) -> Case:
    return Case(method, url, ALL, "public", body, frozenset(expect), **kw)


def fixed(path: str) -> Url:
    return lambda s, w, r: path


# --- bodies --------------------------------------------------------------------------------


def form(**values: Any) -> Body:
    return lambda s, w: {"data": dict(values)}


def as_json(value: Any) -> Body:
    return lambda s, w: {"json": value}


def vendor_form(s: Scope, w: World) -> dict[str, Any]:
    return {"data": {"full_name": "Pham Van Moi", "stall": "Z-99"}}


def vendor_edit_form(s: Scope, w: World) -> dict[str, Any]:
    return {"data": {"full_name": s.vendor_name, "stall": s.vendor_stall, "phone": s.vendor_phone}}


NEW_ACCOUNT = {
    "kind": "bank",
    "bank_bin": "970436",
    "account_number": "0123456789012",
    "account_name": "PHAM VAN MOI",
}


def market_form(s: Scope, w: World) -> dict[str, Any]:
    return {
        "data": {
            "name": "Cho Moi Mo",
            "stall_count": "40",
            "scheme": "legacy",
            "commune_code": s.commune_code,
        }
    }


def market_edit_form(s: Scope, w: World) -> dict[str, Any]:
    return {
        "data": {
            "name": s.market_name,
            "code": s.market_code,
            "stall_count": "100",
            "scheme": "legacy",
            "commune_code": s.commune_code,
        }
    }


def payment_json(s: Scope, w: World) -> dict[str, Any]:
    return {
        "json": {
            "vendor_id": s.vendor_id,
            "amount": 25_000,
            "method": "cash",
            "external_ref": f"matrix-{uuid.uuid4().hex[:12]}",
            "occurred_at": RECENT,
        }
    }


def payment_form(s: Scope, w: World) -> dict[str, Any]:
    return {
        "data": {
            "vendor_id": str(s.vendor_id),
            "amount": "25000",
            "method": "cash",
            "token": uuid.uuid4().hex,
        }
    }


def vendor_csv(s: Scope, w: World) -> dict[str, Any]:
    csv = "Họ và tên,Số quầy,Số điện thoại\nPham Van Nhap,Z-1,0911000111\n".encode()
    return {
        "data": {"file": (io.BytesIO(csv), "danh-sach.csv")},
        "content_type": "multipart/form-data",
    }


def statement_csv(s: Scope, w: World) -> dict[str, Any]:
    return {"data": b"date,amount,account_number,content\n", "content_type": "text/csv"}


def rescan_json(s: Scope, w: World) -> dict[str, Any]:
    return {"json": {"items": [{"payload": s.payload, "stall": s.vendor_stall}]}}


def webhook_body(s: Scope) -> bytes:
    return json.dumps(
        {
            "id": f"evt-{uuid.uuid4().hex[:12]}",
            "amount": 42_000,
            "occurred_at": RECENT,
            "account_number": s.account_number,
            "content": "thanh toan",
        }
    ).encode()


def webhook_signed(s: Scope, w: World) -> dict[str, Any]:
    """Signed with the secret of ``bank-a`` (the source posted to)."""
    body = webhook_body(s)
    headers = {SIGNATURE_HEADER: sign(w.webhook_secrets["bank-a"], body)}
    return {"data": body, "headers": headers, "content_type": "application/json"}


def webhook_other_source(s: Scope, w: World) -> dict[str, Any]:
    """Posted to ``bank-a`` but signed with ``bank-b``'s secret: another source's hook."""
    body = webhook_body(s)
    headers = {SIGNATURE_HEADER: sign(w.webhook_secrets["bank-b"], body)}
    return {"data": body, "headers": headers, "content_type": "application/json"}


def webhook_case(s: Scope, w: World) -> dict[str, Any]:
    """In scope: a correctly signed notification; out: signed by another source."""
    return webhook_signed(s, w) if s is w.scopes["in"] else webhook_other_source(s, w)


# --- URLs ----------------------------------------------------------------------------------


def m(path: str) -> Url:
    """A market URL: ``{m}`` is the scope's market id."""
    return lambda s, w, r: path.format(m=s.market_id)


def v(path: str) -> Url:
    """A vendor-side URL: {v} vendor, {a} approved account, {p} pending account, {t}
    transaction, {i} held line, {c} verification code, {d} district, {m} market."""
    return lambda s, w, r: path.format(
        v=s.vendor_id,
        a=s.account_id,
        p=s.pending_account_id,
        t=s.transaction_id,
        i=s.inbound_id,
        c=s.verify_code,
        d=s.district,
        m=s.market_id,
    )


def own_token(s: Scope, w: World, role: str) -> str:
    """Revoke the caller's own token (in) or another user's token (out)."""
    token_id = w.token_ids[role] if s is w.scopes["in"] else w.spare_token_id
    return f"/api/v1/tokens/{token_id}/revoke"


A = "/api/v1"

# Every endpoint of the app: the cases tried for it.
TABLE: dict[str, tuple[Case, ...]] = {
    # --- framework and public ------------------------------------------------------------
    "static": (public("GET", fixed("/static/css/app.css"), {200}),),
    "api-docs.openapi_json": (public("GET", fixed(f"{A}/openapi.json"), {200}),),
    "dashboard.home": (public("GET", fixed("/"), {302}),),
    "dashboard.healthz": (public("GET", fixed("/healthz"), {200}),),
    "dashboard.index": (get(fixed("/dashboard")),),
    "auth.login": (
        public("GET", fixed("/login"), {200, 302}),
        public("POST", fixed("/login"), {401}, form(username="sec.nobody", password="wrong")),
    ),
    "auth.logout": (post(fixed("/logout"), ALL, "global"),),
    "auth.set_language": (public("POST", fixed("/lang/vi"), {302}),),
    "printing.verify_form": (
        public("GET", fixed("/verify"), {200}),
        public("POST", fixed("/verify"), {200}, lambda s, w: {"data": {"payload": s.payload}}),
    ),
    "printing.verify_code_page": (public("GET", v("/verify/{c}"), {200}),),
    "printing_api.verify_payload": (
        public("POST", fixed(f"{A}/verify"), {200}, lambda s, w: {"json": {"payload": s.payload}}),
    ),
    "transactions_api.receive_webhook": (
        public(
            "POST",
            fixed(f"{A}/webhooks/bank-a"),
            {200, 201},
            webhook_case,
            expect_out=frozenset({401}),
        ),
    ),
    "reports.open_data_page": (public("GET", fixed("/open-data"), {200}),),
    "reports.open_data_json": (public("GET", fixed("/open-data/adoption.json"), {200}),),
    "reports.open_data_csv": (public("GET", fixed("/open-data/adoption.csv"), {200}),),
    # --- markets -------------------------------------------------------------------------
    "markets.list_markets": (get(fixed("/markets")),),
    "markets.new_market": (
        get(fixed("/markets/new"), frozenset({"admin", "officer"})),
        post(fixed("/markets/new"), frozenset({"admin", "officer"}), "market", market_form),
    ),
    "markets.show_market": (get(m("/markets/{m}"), ALL, "market"),),
    "markets.edit_market": (
        get(m("/markets/{m}/edit"), AUDITORS, "market"),
        post(m("/markets/{m}/edit"), AUDITORS, "market", market_edit_form),
    ),
    "markets_api.list_markets": (get(fixed(f"{A}/markets")),),
    "markets_api.create_market": (
        post(
            fixed(f"{A}/markets"),
            frozenset({"admin", "officer"}),
            "market",
            lambda s, w: {"json": market_form(s, w)["data"] | {"stall_count": 40}},
        ),
    ),
    "markets_api.get_market": (get(m(A + "/markets/{m}"), ALL, "market"),),
    "markets_api.update_market": (
        Case(
            "PATCH",
            m(A + "/markets/{m}"),
            AUDITORS,
            "market",
            lambda s, w: {"json": {"name": s.market_name}},
        ),
    ),
    "admin_units_api.list_admin_units": (get(fixed(f"{A}/admin-units?scheme=legacy&q=Dai")),),
    "admin_units_api.load_admin_units": (
        post(
            fixed(f"{A}/admin-units"), frozenset({"admin"}), "global", as_json({"province": "19"})
        ),
    ),
    "admin_units_api.get_admin_unit": (get(v(A + "/admin-units/legacy/{d}"), ALL, "reference"),),
    # --- vendors and accounts ------------------------------------------------------------
    "vendors.list_vendors": (get(fixed("/vendors")), get(m("/vendors?market={m}"), ALL, "market")),
    "vendors.new_vendor": (
        get(m("/markets/{m}/vendors/new"), STAFF, "market"),
        post(m("/markets/{m}/vendors/new"), STAFF, "market", vendor_form),
    ),
    "vendors.import_vendors": (
        get(m("/markets/{m}/vendors/import"), STAFF, "market"),
        post(m("/markets/{m}/vendors/import"), STAFF, "market", form(dry_run="1")),
    ),
    "vendors.import_template": (get(fixed("/vendors/import-template.xlsx")),),
    "vendors.show_vendor": (get(v("/vendors/{v}"), ALL, "vendor"),),
    "vendors.edit_vendor": (
        get(v("/vendors/{v}/edit"), STAFF, "vendor"),
        post(v("/vendors/{v}/edit"), STAFF, "vendor", vendor_edit_form),
    ),
    "vendors.new_account": (
        get(v("/vendors/{v}/accounts/new"), STAFF, "vendor"),
        post(v("/vendors/{v}/accounts/new"), STAFF, "vendor", form(**NEW_ACCOUNT)),
    ),
    "vendors.approve_account": (post(v("/accounts/{p}/approve"), STAFF, "vendor"),),
    "vendors.reject_account": (
        post(v("/accounts/{p}/reject"), STAFF, "vendor", form(reason="sai ten chu tai khoan")),
    ),
    "vendors.pending_accounts": (
        get(fixed("/vendors/pending")),
        get(m("/vendors/pending?market={m}"), ALL, "market"),
        post(
            fixed("/vendors/pending"),
            STAFF,
            "vendor",
            lambda s, w: {"data": {"only": str(s.pending_account_id), "decision": "approve"}},
        ),
    ),
    "vendors_api.list_vendors": (get(fixed(f"{A}/vendors")),),
    "vendors_api.list_market_vendors": (get(m(A + "/markets/{m}/vendors"), ALL, "market"),),
    "vendors_api.create_vendor": (
        post(
            m(A + "/markets/{m}/vendors"),
            STAFF,
            "market",
            as_json({"full_name": "Pham Van Moi", "stall": "Z-99"}),
        ),
    ),
    "vendors_api.import_vendors": (
        post(m(A + "/markets/{m}/vendors/import?dry_run=1"), STAFF, "market", vendor_csv),
    ),
    "vendors_api.get_vendor": (get(v(A + "/vendors/{v}"), ALL, "vendor"),),
    "vendors_api.update_vendor": (
        Case("PATCH", v(A + "/vendors/{v}"), STAFF, "vendor", as_json({})),
    ),
    "vendors_api.create_account": (
        post(v(A + "/vendors/{v}/accounts"), STAFF, "vendor", as_json(NEW_ACCOUNT)),
    ),
    "vendors_api.approve_account": (post(v(A + "/accounts/{p}/approve"), STAFF, "vendor"),),
    "vendors_api.reject_account": (
        post(v(A + "/accounts/{p}/reject"), STAFF, "vendor", as_json({"reason": "sai ten"})),
    ),
    # --- personal data: export and erasure on request ------------------------------------
    "vendors.export_vendor": (get(v("/vendors/{v}/export.json"), BOARD | {"vendor"}, "vendor"),),
    "vendors.erase_vendor": (
        get(v("/vendors/{v}/erase"), BOARD, "vendor"),
        post(v("/vendors/{v}/erase"), BOARD, "vendor", form(confirm="")),
    ),
    "vendors_api.export_vendor": (get(v(A + "/vendors/{v}/export"), BOARD | {"vendor"}, "vendor"),),
    "vendors_api.erase_vendor": (
        post(v(A + "/vendors/{v}/erase"), BOARD, "vendor", as_json({"confirm": "no"})),
    ),
    # --- audit history -------------------------------------------------------------------
    "audit.market_history": (get(m("/markets/{m}/history"), AUDITORS, "market"),),
    "audit.vendor_history": (get(v("/vendors/{v}/history"), AUDITORS, "vendor"),),
    "audit_api.market_history": (get(m(A + "/markets/{m}/history"), AUDITORS, "market"),),
    "audit_api.vendor_history": (get(v(A + "/vendors/{v}/history"), AUDITORS, "vendor"),),
    # --- QR codes and stands -------------------------------------------------------------
    "printing.vendor_qr": (get(v("/vendors/{v}/qr"), PRINTERS, "vendor"),),
    "printing.sell": (
        get(fixed("/sell"), frozenset({"vendor"})),
        post(fixed("/sell"), frozenset({"vendor"}), "global", form(amount="50000")),
    ),
    "printing.sell_for_vendor": (
        get(v("/vendors/{v}/sell"), PRINTERS, "vendor"),
        post(v("/vendors/{v}/sell"), PRINTERS, "vendor", form(amount="50000")),
    ),
    "printing.market_stands": (get(m("/markets/{m}/stands"), AUDITORS | {"helper"}, "market"),),
    "printing.rescan_market": (
        get(m("/markets/{m}/rescan"), AUDITORS, "market"),
        post(m("/markets/{m}/rescan"), AUDITORS, "market", form(lines="")),
    ),
    "printing_api.get_vendor_qr": (get(v(A + "/vendors/{v}/qr"), PRINTERS, "vendor"),),
    "printing_api.vendor_stand_png": (get(v(A + "/vendors/{v}/stand.png"), PRINTERS, "vendor"),),
    "printing_api.vendor_stand_svg": (get(v(A + "/vendors/{v}/stand.svg"), PRINTERS, "vendor"),),
    "printing_api.vendor_stand_pdf": (get(v(A + "/vendors/{v}/stand.pdf"), PRINTERS, "vendor"),),
    "printing_api.market_stands_pdf": (
        get(m(A + "/markets/{m}/stands.pdf"), AUDITORS | {"helper"}, "market"),
    ),
    "printing_api.rescan_market": (
        post(m(A + "/markets/{m}/rescan"), AUDITORS, "market", rescan_json),
    ),
    # --- payments ------------------------------------------------------------------------
    "transactions.list_transactions": (
        get(fixed("/transactions"), LEDGER),
        get(v("/transactions?vendor={v}"), LEDGER, "vendor"),
    ),
    "transactions.export_transactions": (
        get(fixed("/transactions/export.csv"), LEDGER),
        get(v("/transactions/export.csv?vendor={v}"), LEDGER, "vendor"),
        get(m("/transactions/export.csv?market={m}"), BOARD, "market"),
    ),
    "transactions.report_transaction": (
        get(fixed("/transactions/new"), LEDGER),
        post(fixed("/transactions/new"), LEDGER, "vendor", payment_form),
    ),
    "transactions.void_transaction": (
        get(v("/transactions/{t}/void"), LEDGER, "vendor"),
        post(v("/transactions/{t}/void"), BOARD, "vendor", form(reason="nhap nham")),
    ),
    "transactions.import_statement": (
        get(fixed("/transactions/import"), LEDGER),
        post(fixed("/transactions/import"), LEDGER, "global"),
    ),
    "transactions.list_inbound": (get(fixed("/transactions/inbound"), BOARD),),
    "transactions.assign_inbound": (
        post(
            v("/transactions/inbound/{i}/assign"),
            BOARD,
            "market",
            lambda s, w: {"data": {"vendor_id": str(s.vendor_id)}},
        ),
    ),
    "transactions.ignore_inbound": (
        post(v("/transactions/inbound/{i}/ignore"), BOARD, "market", form(note="hoan tien")),
    ),
    "transactions_api.post_transactions": (
        post(fixed(f"{A}/transactions"), LEDGER, "vendor", payment_json),
    ),
    "transactions_api.list_transactions": (
        get(fixed(f"{A}/transactions"), LEDGER),
        get(v(A + "/transactions?vendor={v}"), LEDGER, "vendor"),
        get(m(A + "/transactions?market={m}"), BOARD, "market"),
        get(v(A + "/transactions?vendor={v}&format=csv"), LEDGER, "vendor"),
    ),
    "transactions_api.get_transaction": (get(v(A + "/transactions/{t}"), LEDGER, "vendor"),),
    "transactions_api.void_transaction": (
        post(v(A + "/transactions/{t}/void"), BOARD, "vendor", as_json({"reason": "nhap nham"})),
    ),
    "transactions_api.import_transactions": (
        post(fixed(f"{A}/transactions/import"), LEDGER, "global", statement_csv),
        post(m(A + "/transactions/import?market={m}"), BOARD, "market", statement_csv),
    ),
    "transactions_api.list_inbound": (
        get(fixed(f"{A}/inbound-payments"), BOARD),
        get(m(A + "/inbound-payments?market={m}"), BOARD, "market"),
    ),
    "transactions_api.assign_inbound": (
        post(
            v(A + "/inbound-payments/{i}/assign"),
            BOARD,
            "market",
            lambda s, w: {"json": {"vendor_id": s.vendor_id}},
        ),
    ),
    "transactions_api.ignore_inbound": (
        post(v(A + "/inbound-payments/{i}/ignore"), BOARD, "market", as_json({"note": "hoan"})),
    ),
    # --- reports (aggregates: officers, boards) -------------------------------------------
    "reports.adoption_page": (get(v("/reports?scheme=legacy&unit={d}"), AUDITORS, "market"),),
    "reports.market_page": (get(m("/reports/markets/{m}"), AUDITORS, "market"),),
    "reports.summary_pdf_page": (
        get(v("/reports/summary.pdf?scheme=legacy&unit={d}"), AUDITORS, "market"),
    ),
    "reports_api.adoption": (
        get(v(A + "/reports/adoption?scheme=legacy&unit={d}"), AUDITORS, "market"),
    ),
    "reports_api.adoption_csv": (
        get(v(A + "/reports/adoption.csv?scheme=legacy&unit={d}"), AUDITORS, "market"),
    ),
    "reports_api.adoption_xlsx": (
        get(v(A + "/reports/adoption.xlsx?scheme=legacy&unit={d}"), AUDITORS, "market"),
    ),
    # --- the caller and their tokens -----------------------------------------------------
    "auth_api.me": (get(fixed(f"{A}/me")),),
    "auth_api.list_tokens": (get(fixed(f"{A}/tokens")),),
    "auth_api.revoke_token": (post(own_token, ALL, "self"),),
}


# --- running the cases ------------------------------------------------------------------


@dataclass
class Matrix:
    app: Flask
    connection: Any
    world: World
    checked: dict[str, set[str]] = field(default_factory=dict)  # endpoint -> principals
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    # (endpoint, method, role, via, scope, status) of every request, for the report
    records: list[tuple[str, str, str, str, str, int]] = field(default_factory=list)


@pytest.fixture(scope="module")
def matrix(app: Flask) -> Iterator[Matrix]:
    with module_session(app) as connection:
        world = build_world()
        _db.session.commit()
        _db.session.remove()
        yield Matrix(app, connection, world)


def _writes() -> tuple[int, ...]:
    """Row counts that no refused request may change."""
    counted = (AuditEvent, Transaction, Vendor, PaymentAccount, QrCode)
    counts = [select(func.count()).select_from(model).scalar_subquery() for model in counted]
    unmatched = (
        select(func.count())
        .select_from(InboundPayment)
        .where(InboundPayment.status == "unmatched")
        .scalar_subquery()
    )
    return tuple(_db.session.execute(select(*counts, unmatched)).one())


CSRF_RAW = "0123456789abcdef0123456789abcdef01234567"  # the session's CSRF secret


def csrf_header(app: Flask) -> dict[str, str]:
    """The X-CSRFToken a page would hold for a session whose secret is CSRF_RAW."""
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    return {"X-CSRFToken": str(serializer.dumps(CSRF_RAW))}


def _client(mx: Matrix, role: str | None) -> FlaskClient:
    """A client logged in as ``role`` (a session cookie, as after /login), or anonymous."""
    client = mx.app.test_client()
    if role is not None:
        with client.session_transaction() as session:
            session["_user_id"] = str(mx.world.users[role])
            session["_fresh"] = True
            session["csrf_token"] = CSRF_RAW
    return client


def _text(resp: Any) -> str:
    """The body as text, JSON decoded (so that escaped non-ASCII cannot hide a leak)."""
    if resp.mimetype == "application/json":
        return json.dumps(resp.get_json(silent=True), ensure_ascii=False)
    if resp.mimetype.startswith("text/") or resp.mimetype.endswith(("+xml", "xml")):
        return resp.get_data(as_text=True)
    return ""


def _expected_allowed(case: Case, role: str, scope: str) -> bool:
    if role not in case.allowed:
        return False
    if case.keyed == "reference" or scope == "in":
        return True
    if scope == "sib":  # V2 is in everyone's scope but the vendor user's
        return role != "vendor"
    return role == "admin"  # out


def _scopes(case: Case, role: str | None) -> list[str]:
    if case.keyed == "global":
        return ["in"]
    if case.keyed == "public":
        return ["in", "out"] if case.expect_out else ["in"]
    if role is None:
        return ["in"]
    if case.keyed == "vendor" and role == "vendor":
        return ["in", "sib", "out"]
    return ["in", "out"]


def _run(mx: Matrix, endpoint: str, case: Case, role: str | None, via: str, scope: str) -> None:
    world = mx.world
    objects = world.scopes[scope]
    url = case.url(objects, world, role or "admin")
    kwargs = case.body(objects, world) if case.body else {}
    headers = dict(kwargs.pop("headers", {}))
    if via == "token" and role is not None:
        headers["Authorization"] = f"Bearer {world.tokens[role]}"
    elif via == "session" and url.startswith("/api/"):
        headers.update(csrf_header(mx.app))  # browser API writes send the page's token
    client = _client(mx, role if via == "session" else None)
    label = f"{case.method} {url} [{endpoint}] as {role or 'anonymous'} ({via}, {scope})"
    with isolated(mx.connection):
        before = _writes()
        resp = client.open(url, method=case.method, headers=headers, **kwargs)
        resp.get_data()  # a streamed body (CSV export) reads the database: finish it here
        resp.close()
        after = _writes()
    mx.cases += 1
    mx.records.append((endpoint, case.method, role or "anonymous", via, scope, resp.status_code))
    mx.checked.setdefault(endpoint, set()).add(f"{role or 'anonymous'}/{via}")
    status = resp.status_code
    location = resp.headers.get("Location", "")
    problem = None
    if status >= 500:
        problem = f"server error {status}"
    elif case.keyed == "public":
        want = case.expect_out if scope == "out" else case.expect
        if status not in want:
            problem = f"public endpoint answered {status}, expected {sorted(want)}"
    elif role is None:
        if url.startswith("/api/"):
            body = resp.get_json(silent=True) or {}
            if status != 401 or body.get("error", {}).get("code") != "unauthorized":
                problem = f"anonymous API call answered {status}, expected 401 JSON"
        elif status != 302 or not location.startswith("/login?next="):
            problem = f"anonymous page answered {status} {location!r}, expected login redirect"
        if before != after:
            problem = f"anonymous request wrote something: {before} -> {after}"
    elif _expected_allowed(case, role, scope):
        if status not in ALLOWED_STATUSES or "/login?next=" in location:
            problem = f"allowed but answered {status} {location}"
        else:
            leaked = [s for s in world.hidden_from(role) if s in _text(resp)]
            if leaked:
                problem = f"answer shows data outside the caller's scope: {leaked}"
    else:
        if status not in DENIED_STATUSES:
            problem = f"should be refused but answered {status}"
        elif before != after:
            problem = f"refused but wrote something: {before} -> {after}"
    if problem:
        mx.failures.append(f"{label}: {problem}")


def _principals(endpoint_url: str) -> list[tuple[str, str]]:
    """(role, how) pairs: every role by session, and by bearer token on the API."""
    pairs = [(role, "session") for role in ROLES]
    if endpoint_url.startswith("/api/"):
        pairs += [(role, "token") for role in ROLES]
    return pairs


def _methods(rule: Any) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def test_every_route_has_a_rule(app: Flask) -> None:
    """A new endpoint (or a new method on one) fails here until TABLE says who may use it."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(rule.endpoint, set()).update(_methods(rule))
    missing = {
        endpoint: sorted(methods - {case.method for case in TABLE.get(endpoint, ())})
        for endpoint, methods in routes.items()
    }
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"endpoints without an access rule in TABLE: {missing}"
    stale = sorted(set(TABLE) - set(routes))
    assert not stale, f"TABLE has rules for endpoints that no longer exist: {stale}"


# Where reading a user's role is allowed: the policy itself, the user model, and creating
# users (each role needs its own scope); nowhere else decides by role.
ROLE_READERS = {"auth/policy.py", "auth/models.py", "auth/services.py", "auth/cli.py", "demo.py"}
ROLE_CHECK = re.compile(r"\.role\s*(==|!=|\bin\b|\bnot in\b)|\bRole\.[A-Z]+")


def test_authorization_stays_in_the_policy_layer() -> None:
    """Views and services ask chopay.auth.policy (can/authorize/scopes), never the role."""
    root = Path(__file__).resolve().parents[2] / "chopay"
    offenders = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        if str(path.relative_to(root)) not in ROLE_READERS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ROLE_CHECK.search(line)
    ]
    assert not offenders, "role checks outside chopay/auth/policy.py:\n" + "\n".join(offenders)


def test_public_endpoints_are_exactly_the_marked_ones(app: Flask) -> None:
    """Only the endpoints TABLE calls public skip the login gate, and vice versa."""
    from chopay.auth.access import is_public

    with app.test_request_context():
        marked = {rule.endpoint for rule in app.url_map.iter_rules() if is_public(rule.endpoint)}
    declared = {e for e, cases in TABLE.items() if any(c.keyed == "public" for c in cases)}
    assert marked == declared


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_access(matrix: Matrix, endpoint: str) -> None:
    for case in TABLE[endpoint]:
        url = case.url(matrix.world.scopes["in"], matrix.world, "admin")
        if case.keyed != "public":
            _run(matrix, endpoint, case, None, "anonymous", "in")
        for role, via in _principals(url):
            for scope in _scopes(case, role):
                _run(matrix, endpoint, case, role, via, scope)
        if case.keyed == "public":
            for scope in _scopes(case, None):
                _run(matrix, endpoint, case, None, "anonymous", scope)
    failures, matrix.failures = matrix.failures, []
    assert not failures, "\n".join(failures)


def test_matrix_size(matrix: Matrix, app: Flask) -> None:
    """Runs last in the module: every endpoint was tried by every role and anonymously."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    if set(matrix.checked) != endpoints:
        pytest.skip("only part of the matrix ran (test selection)")
    principals = {p for seen in matrix.checked.values() for p in seen}
    print(  # the figure the issue note quotes
        f"\naccess matrix: {matrix.cases} requests over {len(endpoints)} endpoints × "
        f"{len(principals)} principals (5 roles by session, 5 by token on /api/, "
        f"anonymous) × scopes in/sib/out"
    )
    report = os.environ.get("CHOPAY_MATRIX_REPORT")
    if report:  # a TSV of every request and its answer, for reading the matrix by hand
        lines = ["\t".join(map(str, r)) for r in matrix.records]
        Path(report).write_text("endpoint\tmethod\trole\tvia\tscope\tstatus\n" + "\n".join(lines))
    assert len(endpoints) >= 85
    assert matrix.cases >= 1500


# --- explicit IDOR attempts ---------------------------------------------------------------


def _as(mx: Matrix, role: str) -> tuple[FlaskClient, dict[str, str]]:
    return _client(mx, None), {"Authorization": f"Bearer {mx.world.tokens[role]}"}


def test_board_cannot_assign_own_held_line_to_another_markets_vendor(matrix: Matrix) -> None:
    inside, outside = matrix.world.scopes["in"], matrix.world.scopes["out"]
    client, headers = _as(matrix, "board")
    with isolated(matrix.connection):
        resp = client.post(
            f"{A}/inbound-payments/{inside.inbound_id}/assign",
            json={"vendor_id": outside.vendor_id},
            headers=headers,
        )
        assert resp.status_code in DENIED_STATUSES
        row = _db.session.get(InboundPayment, inside.inbound_id)
        assert row is not None and row.status == "unmatched"


def test_guessed_vendor_ids_look_the_same_as_missing_ones(matrix: Matrix) -> None:
    """Another vendor's record, QR and stand answer exactly like an id that does not exist."""
    outside = matrix.world.scopes["out"]
    client, headers = _as(matrix, "vendor")
    with isolated(matrix.connection):
        missing = 10_000_000
        for path in ("/vendors/{}", "/vendors/{}/qr", "/vendors/{}/stand.png"):
            theirs = client.get(A + path.format(outside.vendor_id), headers=headers)
            none = client.get(A + path.format(missing), headers=headers)
            assert (theirs.status_code, none.status_code) == (404, 404), path
        before = _writes()
        body = {
            "amount": 10_000,
            "method": "cash",
            "external_ref": "guess-1",
            "occurred_at": RECENT,
        }
        theirs = client.post(
            f"{A}/transactions", json={**body, "vendor_id": outside.vendor_id}, headers=headers
        )
        assert theirs.status_code in DENIED_STATUSES  # the ledger says 403: rights, not secrecy
        assert _writes() == before


def test_vendor_cannot_read_a_neighbours_payments_through_filters(matrix: Matrix) -> None:
    sibling = matrix.world.scopes["sib"]
    client, headers = _as(matrix, "vendor")
    with isolated(matrix.connection):
        for query in (f"vendor={sibling.vendor_id}", f"market={sibling.market_id}"):
            resp = client.get(f"{A}/transactions?{query}", headers=headers)
            assert resp.status_code in DENIED_STATUSES, query
        resp = client.get(f"{A}/transactions", headers=headers)
        ids = {item["vendor_id"] for item in resp.get_json()["items"]}
        assert ids == {matrix.world.scopes["in"].vendor_id}


def test_batch_approval_with_one_foreign_account_changes_nothing(matrix: Matrix) -> None:
    inside, outside = matrix.world.scopes["in"], matrix.world.scopes["out"]
    client = _client(matrix, "board")
    with isolated(matrix.connection):
        resp = client.post(
            "/vendors/pending",
            data={
                "account_ids": [str(inside.pending_account_id), str(outside.pending_account_id)],
                "decision": "approve",
            },
        )
        assert resp.status_code in DENIED_STATUSES
        ours = _db.session.get(PaymentAccount, inside.pending_account_id)
        assert ours is not None and ours.status == "pending"


def test_webhook_for_an_unknown_source_or_replayed_signature_is_refused(matrix: Matrix) -> None:
    world, inside = matrix.world, matrix.world.scopes["in"]
    client = _client(matrix, None)
    with isolated(matrix.connection):
        before = _writes()
        body = webhook_body(inside)
        good = sign(world.webhook_secrets["bank-a"], body)
        assert (
            client.post(
                f"{A}/webhooks/bank-zz", data=body, headers={SIGNATURE_HEADER: good}
            ).status_code
            == 401
        )
        old = sign(world.webhook_secrets["bank-a"], body, timestamp=int(time.time()) - 3600)
        assert (
            client.post(
                f"{A}/webhooks/bank-a", data=body, headers={SIGNATURE_HEADER: old}
            ).status_code
            == 401
        )
        assert _writes() == before


def test_bearer_tokens_do_not_open_pages(matrix: Matrix) -> None:
    """A token is for the API only: a page asked with one still wants a login."""
    client, headers = _as(matrix, "admin")
    with isolated(matrix.connection):
        resp = client.get("/vendors", headers=headers)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
