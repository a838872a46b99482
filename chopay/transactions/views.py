"""Pages: the transaction list, the two-tap report form, statement import, held lines, voids."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError

from chopay.auth.access import request_origin
from chopay.db import utcnow
from chopay.errors import ConflictError, InvalidInputError
from chopay.extensions import db
from chopay.formatting import format_vnd
from chopay.query_args import ignored_args, int_arg, parse_id
from chopay.transactions import export, importer, pages, services
from chopay.transactions.schemas import TransactionQuerySchema, payment_from_form

bp = Blueprint("transactions", __name__, url_prefix="/transactions")

_QUERY = TransactionQuerySchema()


def _query_args(given: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The list filters from the query arguments, and the errors by argument.

    A blank argument is no filter (the form's "all" choices send ``vendor=&method=``), an
    invalid one is left out while the others still apply, and arguments of no filter
    (``lang``, ``next``) are not errors."""
    given = {k: v for k, v in given.items() if v.strip()}
    try:
        return _QUERY.load(given, unknown=EXCLUDE), {}
    except ValidationError as exc:
        errors = exc.messages_dict
    valid = {k: v for k, v in given.items() if k not in errors}
    try:
        return _QUERY.load(valid, unknown=EXCLUDE), errors
    except ValidationError:
        return _QUERY.load({}), errors


@bp.route("")
def list_transactions() -> Any:
    """Payments the user may see, with filters, voids and CSV export."""
    given = request.args.to_dict()
    # a page past the end shows an empty page (not page 1 and a warning)
    given["page"] = str(int_arg("page", 1, high=pages.MAX_PAGE, clamp=True))
    args, errors = _query_args(given)
    ignored_args([name for name in errors if name != "to"])  # "to" is explained in the form
    context = pages.list_context(current_user, args)
    return render_template("transactions/list.html", errors=errors, **context)


@bp.route("/export.csv")
def export_transactions() -> Any:
    """The filtered list as CSV; an invalid filter is refused (422), not left out: the file
    must hold what was asked for, and a download has no page to say what was ignored."""
    args, errors = _query_args(request.args.to_dict())
    if errors:
        raise InvalidInputError(details=errors)
    return export.csv_response(services.transactions_query(current_user, pages.filters(args)))


@bp.route("/new", methods=["GET", "POST"])
def report_transaction() -> Any:
    """Report a sale in two taps: amount, then the method button."""
    if request.method == "GET":
        return _report_form(int_arg("vendor"))
    try:
        raw = payment_from_form(request.form)
        row, created = services.record_transaction(raw, actor=current_user, default_time=utcnow())
    except (InvalidInputError, ConflictError) as exc:
        db.session.rollback()
        vendor_id = request.form.get("vendor_id", type=int)
        return _report_form(vendor_id, error=exc, form=request.form), exc.status_code
    db.session.commit()
    label = pages.METHOD_LABELS[row.method]
    if created:
        flash(_("Đã ghi %(amount)s – %(method)s.", amount=format_vnd(row.amount_vnd), method=label))
    else:
        flash(_("Giao dịch này đã được ghi trước đó (không ghi lại)."), "warning")
    return redirect(url_for("transactions.report_transaction", vendor=row.vendor_id))


def _report_form(vendor_id: int | None, error: Any = None, form: Any = None) -> Any:
    context = pages.report_context(current_user, vendor_id)
    token = (form or {}).get("token") or uuid.uuid4().hex
    return render_template(
        "transactions/report.html", token=token, error=error, form=form or {}, **context
    )


@bp.route("/import", methods=["GET", "POST"])
def import_statement() -> Any:
    """Upload a bank statement CSV; show what was recorded, held and refused."""
    context = pages.import_context(current_user)
    if request.method == "GET":
        return render_template("transactions/import.html", report=None, **context)
    upload = request.files.get("file")
    try:
        market = pages.chosen_market(current_user, request.form.get("market", type=int))
        report = importer.import_statement(
            upload.read() if upload else b"",
            actor=current_user,
            market=market,
            account_number=(request.form.get("account_number") or "").strip() or None,
        )
    except InvalidInputError as exc:
        db.session.rollback()
        return render_template("transactions/import.html", report=None, error=exc, **context), 422
    db.session.commit()
    return render_template("transactions/import.html", report=report, **context)


@bp.route("/inbound")
def list_inbound() -> Any:
    """Lines no vendor matched, to assign or set aside."""
    status = request.args.get("status", "unmatched")
    if status not in pages.INBOUND_STATUS_LABELS:
        abort(404)
    page = int_arg("page", 1, high=pages.MAX_PAGE, clamp=True)
    context = pages.inbound_context(current_user, status=status, page=page or 1)
    return render_template("transactions/inbound.html", **context)


@bp.route("/inbound/<bigid:inbound_id>/assign", methods=["POST"])
def assign_inbound(inbound_id: int) -> Any:
    """Credit a held line to the chosen vendor."""
    vendor_id = parse_id(request.form.get("vendor_id"))  # 2**31 failed in PostgreSQL: a 500
    if vendor_id is None:
        raise InvalidInputError.for_field("vendor_id", _l("Chọn tiểu thương."))
    row = services.assign_inbound(
        inbound_id,
        actor=current_user,
        vendor_id=vendor_id,
        method=request.form.get("method") or "vietqr",
        origin=request_origin(),
    )
    db.session.commit()
    flash(_("Đã ghi %(amount)s cho tiểu thương.", amount=format_vnd(row.amount_vnd)))
    return redirect(url_for("transactions.list_inbound"))


@bp.route("/inbound/<bigid:inbound_id>/ignore", methods=["POST"])
def ignore_inbound(inbound_id: int) -> Any:
    """Set a held line aside with a note."""
    services.ignore_inbound(
        inbound_id, actor=current_user, note=request.form.get("note", ""), origin=request_origin()
    )
    db.session.commit()
    flash(_("Đã để riêng dòng này."))
    return redirect(url_for("transactions.list_inbound"))


@bp.route("/<bigid:transaction_id>/void", methods=["GET", "POST"])
def void_transaction(transaction_id: int) -> Any:
    """Confirm and void a payment with a reason."""
    row = services.get_transaction(transaction_id, actor=current_user)
    if request.method == "GET":
        return render_template("transactions/void.html", tx=row, **pages.labels())
    try:
        services.void_transaction(
            row.id,
            actor=current_user,
            reason=request.form.get("reason", ""),
            origin=request_origin(),
        )
    except InvalidInputError as exc:
        db.session.rollback()
        return render_template("transactions/void.html", tx=row, error=exc, **pages.labels()), 422
    db.session.commit()
    flash(_("Đã hủy giao dịch %(id)s.", id=row.id))
    return redirect(url_for("transactions.list_transactions"))
