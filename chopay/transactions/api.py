"""``/api/v1/transactions``, statement import, held lines and provider webhooks."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from chopay.auth.access import public, request_origin, signed, unmetered
from chopay.db import commit_if_needed
from chopay.errors import InvalidInputError
from chopay.extensions import db
from chopay.transactions import bulk, export, importer, pages, services, webhooks
from chopay.transactions.schemas import (
    MAX_BATCH,
    AssignSchema,
    BatchResultSchema,
    IgnoreSchema,
    ImportArgsSchema,
    ImportResultSchema,
    InboundPageSchema,
    InboundPaymentSchema,
    InboundQuerySchema,
    SingleResultSchema,
    TransactionCreateSchema,
    TransactionPageSchema,
    TransactionQuerySchema,
    TransactionSchema,
    VoidSchema,
    WebhookResultSchema,
    dump_transaction,
)

blp = Blueprint(
    "transactions_api",
    __name__,
    description="Payment ledger: report, list, void; bank-statement import; held lines; "
    "signed provider webhooks.",
)


def _json(body: Any, status: int) -> Response:
    """A JSON answer built from plain values (str, int, None, lists, dicts) only: without
    Flask's provider, its key sorting and its fallbacks for other types, which cost the
    ledger's endpoints more than writing the JSON."""
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )


@blp.route("/transactions", methods=["POST"])
@unmetered
@blp.doc(
    requestBody={
        "required": True,
        "description": "One payment, or a list of up to 1,000. Items are checked one by one: "
        "valid items are stored even when others are rejected.",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        TransactionCreateSchema,
                        {"type": "array", "items": TransactionCreateSchema, "maxItems": MAX_BATCH},
                    ]
                }
            }
        },
    }
)
@blp.response(201, SingleResultSchema, description="One payment, stored now")
@blp.alt_response(
    200,
    # one response per status code in OpenAPI: both shapes under one schema
    schema={"oneOf": [SingleResultSchema, BatchResultSchema]},
    description="One payment, already stored (a result); or a list (one result per item)",
)
def post_transactions() -> Any:
    """Report payments. The same ``external_ref`` again answers ``duplicate``, never stores twice.

    A single object answers 201 (created), 200 (duplicate) or the error (422 invalid field,
    403 vendor outside your rights, 404 unknown vendor, 409 reference used for another
    payment). A list answers 200 with ``results[i].status`` = created / duplicate /
    rejected (with ``error``)."""
    body = request.get_json(silent=True)
    if isinstance(body, list):
        if not body or len(body) > MAX_BATCH:
            raise InvalidInputError.for_field(
                "_schema", _l("Danh sách cần từ 1 đến %(n)d giao dịch.", n=MAX_BATCH)
            )
        results = services.record_payments(body, actor=current_user)
        db.session.commit()
        # Built by hand (the shape of BatchResultSchema): dumping 1,000 nested results
        # through marshmallow would cost more than storing them.
        summary = {
            "created": sum(r.status == services.CREATED for r in results),
            "duplicates": sum(r.status == services.DUPLICATE for r in results),
            "rejected": sum(r.status == services.REJECTED for r in results),
            "results": [
                {
                    "index": r.index,
                    "status": r.status,
                    "id": r.id,
                    "external_ref": r.external_ref,
                    "error": r.error,
                }
                for r in results
            ],
        }
        return _json(summary, 200)
    if body is None:
        raise InvalidInputError.for_field(
            "_schema", _l("Cần một đối tượng JSON hoặc một danh sách các đối tượng.")
        )
    with bulk.single_payment():
        row, created = services.record_transaction(body, actor=current_user)
    payload = {  # SingleResultSchema's shape
        "index": 0,
        "status": services.CREATED if created else services.DUPLICATE,
        "id": row.id,
        "external_ref": row.external_ref,
        "error": None,
        "transaction": dump_transaction(row),
    }
    commit_if_needed(db.session)
    return _json(payload, 201 if created else 200)


@blp.route("/transactions", methods=["GET"])
@blp.arguments(TransactionQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
@blp.alt_response(
    200,
    schema={"type": "string", "format": "binary"},
    content_type="text/csv",
    description="With format=csv: every match",
)
def list_transactions(args: dict[str, Any]) -> Any:
    """Payments you may see (vendors: their own; boards: their market's; admins: all),
    newest first. Officers get 403: they see aggregates in reports. ``from``/``to`` are
    Vietnam days, both included. ``format=csv`` exports every match."""
    stmt = services.transactions_query(current_user, pages.filters(args))
    if args["format"] == "csv":
        return export.csv_response(stmt)
    page = services.paginate_rows(stmt, page=args["page"], per_page=args["per_page"])
    return {
        "items": [row[0] for row in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


@blp.route("/transactions/<bigid:transaction_id>", methods=["GET"])
@blp.response(200, TransactionSchema)
def get_transaction(transaction_id: int) -> Any:
    """One payment you may see."""
    return services.get_transaction(transaction_id, actor=current_user)


@blp.route("/transactions/<bigid:transaction_id>/void", methods=["POST"])
@blp.arguments(VoidSchema)
@blp.response(200, TransactionSchema)
def void_transaction(args: dict[str, Any], transaction_id: int) -> Any:
    """Void a payment with a reason (needs void rights on the vendor; audited). It leaves
    every total at once. Voiding it again answers 409."""
    row = services.void_transaction(
        transaction_id, actor=current_user, reason=args["reason"], origin=request_origin()
    )
    db.session.commit()
    return row


IMPORT_DESCRIPTION = """Import a bank statement (CSV, UTF-8, comma or semicolon separated,
header row required; send it as multipart field `file` or as the raw `text/csv` body).

Columns (English or Vietnamese names, accents and case ignored):
`date` (ngay): `dd/mm/yyyy hh:mm`, Vietnam time ·
`amount` (so_tien): `1.250.000`, `1,250,000` or `1250000`, negative = outgoing; or
`credit`/`debit` (ghi_co/ghi_no) columns instead ·
`account_number` (so_tai_khoan): receiving account, or give `account_number` for the whole
file · `content` (noi_dung): transfer note, holding the vendor's reference ·
`reference` (ma_giao_dich): the bank's transaction id (optional) ·
`type` (loai): in/out, C/D (optional).

Credit lines are matched to vendors by approved account number and the vendor reference in
the note; outgoing lines are skipped; unmatched lines are listed and held for the board
(`GET /inbound-payments`). Importing the same statement again records nothing twice."""


@blp.route("/transactions/import", methods=["POST"])
@blp.arguments(ImportArgsSchema, location="query")
@blp.doc(
    description=IMPORT_DESCRIPTION,
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "text/csv": {"schema": {"type": "string"}},
        }
    },
)
@blp.response(200, ImportResultSchema)
def import_transactions(args: dict[str, Any]) -> Any:
    """Import a bank statement CSV (idempotent)."""
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise InvalidInputError.for_field("file", _l("Cần tệp CSV (trường file)."))
    market = pages.chosen_market(current_user, args.get("market"))
    report = importer.import_statement(
        data, actor=current_user, market=market, account_number=args.get("account_number")
    )
    db.session.commit()
    return report


@blp.route("/inbound-payments", methods=["GET"])
@blp.arguments(InboundQuerySchema, location="query")
@blp.response(200, InboundPageSchema)
def list_inbound(args: dict[str, Any]) -> Any:
    """Statement lines and notifications no vendor matched, for a board to assign."""
    stmt = services.inbound_query(current_user, market_id=args["market"], status=args["status"])
    page = services.paginate_rows(stmt, page=args["page"], per_page=args["per_page"])
    return {
        "items": [row[0] for row in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


@blp.route("/inbound-payments/<bigid:inbound_id>/assign", methods=["POST"])
@blp.arguments(AssignSchema)
@blp.response(200, InboundPaymentSchema)
def assign_inbound(args: dict[str, Any], inbound_id: int) -> Any:
    """Credit a held line to a vendor (creates the ledger row; audited)."""
    row = services.assign_inbound(
        inbound_id,
        actor=current_user,
        vendor_id=args["vendor_id"],
        method=args["method"],
        origin=request_origin(),
    )
    db.session.commit()
    return row


@blp.route("/inbound-payments/<bigid:inbound_id>/ignore", methods=["POST"])
@blp.arguments(IgnoreSchema)
@blp.response(200, InboundPaymentSchema)
def ignore_inbound(args: dict[str, Any], inbound_id: int) -> Any:
    """Set a held line aside with a note (not a sale)."""
    row = services.ignore_inbound(
        inbound_id, actor=current_user, note=args["note"], origin=request_origin()
    )
    db.session.commit()
    return row


WEBHOOK_DESCRIPTION = """Payment-provider notification (public, signed).

Header `X-Chopay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with
the source's secret (`flask --app wsgi chopay create-webhook-source NAME --format
sepay|chopay`). Wrong signature or a `t` more than 300 s off: 401, nothing stored.

`sepay` sources take SePay's bank-transfer webhook body (`id`, `gateway`,
`transactionDate` "YYYY-MM-DD HH:MM:SS" Vietnam time, `accountNumber`, `content`,
`transferType` in/out, `transferAmount`, `referenceCode`, …): incoming transfers are
matched by account number and the vendor reference in `content`; outgoing ones are
ignored; `id` is the idempotency key. `chopay` sources take
`{"id", "direction", "amount", "occurred_at", "method", "account_number", "content",
"vendor_id", "bank_reference"}` (`bank_reference` optional: the bank's own reference of
the transfer). Unmatched notifications are kept for a board to assign (`unmatched`).

A notification delivered again answers `duplicate` with the `id` of its ledger row. So
does a transfer the ledger holds already from another source, the bank-statement import:
the same receiving account (`subAccount` or `accountNumber`; `account_number`) and the
same bank reference (`referenceCode`; `bank_reference`) is the same transfer, recorded
once whichever arrives first."""


@blp.route("/webhooks/<source>", methods=["POST"])
@public
@unmetered
@signed
@blp.doc(description=WEBHOOK_DESCRIPTION, security=[])
@blp.response(200, WebhookResultSchema)
@blp.alt_response(201, schema=WebhookResultSchema, description="Recorded now")
def receive_webhook(source: str) -> Any:
    """Receive a signed payment notification."""
    if (request.content_length or 0) > webhooks.MAX_BODY:
        abort(413)
    body = request.get_data(cache=False)
    row = webhooks.verify_signature(
        webhooks.find_source(source), request.headers.get(webhooks.SIGNATURE_HEADER), body
    )
    with bulk.single_payment():
        outcome = webhooks.handle_notification(row, body)
    commit_if_needed(db.session)
    if outcome.status == "created":
        current_app.logger.info("webhook %s recorded transaction %s", source, outcome.id)
    result = {  # WebhookResultSchema's shape, without marshmallow on every notification
        "success": True,
        "status": outcome.status,
        "id": outcome.id,
        "inbound_id": outcome.inbound_id,
    }
    return _json(result, 201 if outcome.status == "created" else 200)
