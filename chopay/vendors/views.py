"""Vendor pages: list/search, register, edit, accounts, approval queue, bulk import."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from chopay.auth.access import request_origin
from chopay.auth.policy import Action, can
from chopay.errors import ConflictError, InvalidInputError, PermissionDeniedError
from chopay.extensions import db
from chopay.markets.services import get_market, list_markets
from chopay.query_args import id_list, int_arg
from chopay.vendors import codes, importer, privacy, services, template
from chopay.vendors.forms import field_errors, form_input, load_form
from chopay.vendors.models import (
    VENDOR_TRANSITIONS,
    AccountKind,
    OnboardingOrg,
    QrCode,
    VendorStatus,
)
from chopay.vendors.schemas import (
    AccountCreateSchema,
    AccountRejectSchema,
    VendorCreateSchema,
    VendorExportSchema,
    VendorUpdateSchema,
)
from chopay.vietqr import BANKS

bp = Blueprint("vendors", __name__)

PER_PAGE = 50
MAX_PAGE = 100_000
VENDOR_FIELDS = (
    "full_name",
    "stall",
    "zone",
    "goods_category",
    "phone",
    "id_number",
    "onboarding_org",
    "onboarding_org_name",
)
VENDOR_FLAGS = ("has_smartphone", "has_payment_speaker")
ACCOUNT_FIELDS = ("kind", "bank_bin", "account_number", "account_name")
LABELS = {
    "full_name": _l("Họ và tên"),
    "stall": _l("Số quầy"),
    "zone": _l("Khu/dãy"),
    "goods_category": _l("Ngành hàng"),
    "phone": _l("Số điện thoại"),
    "id_number": _l("Số CCCD/CMND"),
    "has_smartphone": _l("Có điện thoại thông minh"),
    "has_payment_speaker": _l("Có loa thông báo thanh toán"),
    "onboarding_org": _l("Đơn vị hỗ trợ đăng ký"),
    "onboarding_org_name": _l("Tên đơn vị hỗ trợ"),
    "status": _l("Trạng thái"),
    "kind": _l("Loại tài khoản"),
    "bank_bin": _l("Ngân hàng / ví"),
    "account_number": _l("Số tài khoản"),
    "account_name": _l("Tên chủ tài khoản"),
    "reason": _l("Lý do"),
    "account": _l("Tài khoản"),
    "duplicate_of": _l("Trùng với"),
}
ORG_OPTIONS = (
    (OnboardingOrg.BANK, _l("Ngân hàng")),
    (OnboardingOrg.TELCO, _l("Nhà mạng viễn thông")),
    (OnboardingOrg.COMMUNITY, _l("Tổ công nghệ số cộng đồng")),
    (OnboardingOrg.BOARD, _l("Ban quản lý chợ")),
    (OnboardingOrg.OTHER, _l("Khác")),
)
KIND_OPTIONS = (
    (AccountKind.BANK, _l("Tài khoản ngân hàng")),
    (AccountKind.EWALLET, _l("Ví điện tử")),
)


def _bank_options() -> list[tuple[str, str]]:
    return sorted(
        ((b.bin, f"{b.short_name} – {b.name}") for b in BANKS), key=lambda o: o[1].lower()
    )


def _page(template_name: str, status: int = 200, **context: Any) -> Any:
    return render_template(
        template_name,
        labels=LABELS,
        org_options=ORG_OPTIONS,
        kind_options=KIND_OPTIONS,
        bank_options=_bank_options(),
        status_labels=services.STATUS_LABELS,
        account_status_labels=services.ACCOUNT_STATUS_LABELS,
        format_verify_code=codes.format_verify_code,
        **context,
    ), status


def _safe_next(default: str) -> str:
    target = request.form.get("next") or request.args.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return target
    return default


# --- list and search -----------------------------------------------------------------


@bp.route("/vendors")
def list_vendors() -> Any:
    """Vendors in the user's scope; search by name (accents optional), stall, phone, code."""
    market = None
    market_id = int_arg("market")
    if market_id:
        market = get_market(market_id, actor=current_user)
    query = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    if status not in tuple(VendorStatus):
        status = ""
    stmt = services.vendors_query(
        actor=current_user, market=market, query=query or None, status=status or None
    )
    pagination = db.paginate(
        stmt,
        # capped: a page number past any real list must not overflow the database's OFFSET
        page=int_arg("page", 1, high=MAX_PAGE, clamp=True),
        per_page=PER_PAGE,
        error_out=False,
    )
    ids = [v.id for v in pagination.items]
    with_qr = set(
        db.session.scalars(
            select(QrCode.vendor_id).where(
                QrCode.vendor_id.in_(ids), QrCode.revoked_at.is_(None), QrCode.is_dynamic.is_(False)
            )
        )
    )
    return _page(
        "vendors/list.html",
        pagination=pagination,
        vendors=pagination.items,
        with_qr=with_qr,
        market=market,
        markets=list_markets(actor=current_user),
        query=query,
        status_filter=status,
        can_onboard=market is not None and can(current_user, Action.ONBOARD, market),
    )


# --- register and edit ---------------------------------------------------------------


def _vendor_form_input() -> dict[str, Any]:
    return form_input(
        request.form,
        fields=VENDOR_FIELDS,
        flags=VENDOR_FLAGS,
        nested={"account": ACCOUNT_FIELDS[1:]},
    )


@bp.route("/markets/<int:market_id>/vendors/new", methods=["GET", "POST"])
def new_vendor(market_id: int) -> Any:
    """Register a vendor, with their first payment account if they have one."""
    market = get_market(market_id, actor=current_user, action=Action.ONBOARD)
    if request.method == "GET":
        return _page("vendors/form.html", market=market, vendor=None, form={}, errors={})
    try:
        data = load_form(VendorCreateSchema(), _vendor_form_input())
        vendor = services.register_vendor(market, data, actor=current_user, origin=request_origin())
    except services.DuplicateVendorError as exc:
        db.session.rollback()
        return _page(
            "vendors/form.html",
            409,
            market=market,
            vendor=None,
            form=request.form,
            errors=field_errors(exc),
            duplicate=exc.existing,
        )
    except (InvalidInputError, ConflictError) as exc:
        db.session.rollback()
        return _page(
            "vendors/form.html",
            422,
            market=market,
            vendor=None,
            form=request.form,
            errors=field_errors(exc),
        )
    db.session.commit()
    flash(_("Đã đăng ký %(name)s (mã %(ref)s).", name=vendor.full_name, ref=vendor.reference))
    return redirect(url_for("vendors.show_vendor", vendor_id=vendor.id))


@bp.route("/vendors/<int:vendor_id>")
def show_vendor(vendor_id: int) -> Any:
    """One vendor: details, accounts with their approval state, the live QR code."""
    vendor = services.get_vendor(vendor_id, actor=current_user)
    may_approve = can(current_user, Action.APPROVE, vendor)
    return _page(
        "vendors/show.html",
        vendor=vendor,
        market=vendor.market,
        detail=services.vendor_detail(vendor),
        can_edit=can(current_user, Action.EDIT, vendor),
        can_onboard=can(current_user, Action.ONBOARD, vendor)
        and vendor.status != VendorStatus.LEFT,
        can_approve=may_approve,
        can_audit=can(current_user, Action.AUDIT, vendor),
        can_export=can(current_user, Action.EXPORT_DATA, vendor),
        can_erase=can(current_user, Action.ERASE_DATA, vendor) and not privacy.is_erased(vendor),
    )


@bp.route("/vendors/<int:vendor_id>/edit", methods=["GET", "POST"])
def edit_vendor(vendor_id: int) -> Any:
    """Edit a vendor's details or move their status (e.g. mark them as left)."""
    vendor = services.get_vendor(vendor_id, actor=current_user, action=Action.EDIT)
    statuses = [vendor.status, *sorted(VENDOR_TRANSITIONS[VendorStatus(vendor.status)])]
    context = {"market": vendor.market, "vendor": vendor, "statuses": statuses}
    if request.method == "GET":
        form = {name: getattr(vendor, name) for name in VENDOR_FIELDS if name != "id_number"}
        form.update({name: getattr(vendor, name) for name in VENDOR_FLAGS})
        form["status"] = vendor.status
        return _page("vendors/form.html", form=form, errors={}, **context)
    fields = [n for n in VENDOR_FIELDS if n != "id_number" or request.form.get("id_number")]
    data = form_input(request.form, fields=(*fields, "status"), flags=VENDOR_FLAGS)
    try:
        services.update_vendor(
            vendor,
            load_form(VendorUpdateSchema(), data),
            actor=current_user,
            origin=request_origin(),
        )
    except (InvalidInputError, ConflictError) as exc:
        db.session.rollback()
        status = 409 if isinstance(exc, services.DuplicateVendorError) else 422
        return _page(
            "vendors/form.html", status, form=request.form, errors=field_errors(exc), **context
        )
    db.session.commit()
    flash(_("Đã lưu thông tin tiểu thương."))
    return redirect(url_for("vendors.show_vendor", vendor_id=vendor.id))


# --- personal data on the vendor's request ------------------------------------------


@bp.route("/vendors/<int:vendor_id>/export.json")
def export_vendor(vendor_id: int) -> Any:
    """Download everything held about the vendor as one JSON file (audited)."""
    vendor = services.get_vendor(vendor_id, actor=current_user, action=Action.EXPORT_DATA)
    data = privacy.export_vendor_data(vendor, actor=current_user, origin=request_origin())
    body = json.dumps(VendorExportSchema().dump(data), ensure_ascii=False, indent=1)
    db.session.commit()
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="du-lieu-tieu-thuong-{vendor.reference}.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/vendors/<int:vendor_id>/erase", methods=["GET", "POST"])
def erase_vendor(vendor_id: int) -> Any:
    """Confirm (by typing the vendor's code), then erase the vendor's personal data."""
    vendor = services.get_vendor(vendor_id, actor=current_user, action=Action.ERASE_DATA)
    context = {"vendor": vendor, "market": vendor.market, "erased": privacy.is_erased(vendor)}
    if request.method == "GET":
        return _page("vendors/erase.html", errors={}, **context)
    try:
        privacy.check_confirmation(vendor, request.form.get("confirm"))
        privacy.erase_vendor(vendor, actor=current_user, origin=request_origin())
    except (InvalidInputError, ConflictError) as exc:
        db.session.rollback()
        return _page(
            "vendors/erase.html",
            exc.status_code,
            errors=field_errors(exc),
            message=exc.message,
            **context,
        )
    db.session.commit()
    flash(_("Đã xóa dữ liệu cá nhân của tiểu thương. Số liệu tổng hợp được giữ nguyên."))
    return redirect(url_for("vendors.show_vendor", vendor_id=vendor.id))


# --- payment accounts ----------------------------------------------------------------


@bp.route("/vendors/<int:vendor_id>/accounts/new", methods=["GET", "POST"])
def new_account(vendor_id: int) -> Any:
    """Add (or change to) a payment account; a second person must approve it."""
    vendor = services.get_vendor(vendor_id, actor=current_user, action=Action.ONBOARD)
    context = {"vendor": vendor, "market": vendor.market}
    if request.method == "GET":
        form = {"account_name": "", "kind": AccountKind.BANK}
        return _page("vendors/account_form.html", form=form, errors={}, **context)
    try:
        data = load_form(AccountCreateSchema(), form_input(request.form, fields=ACCOUNT_FIELDS))
        services.add_account(vendor, data, actor=current_user, origin=request_origin())
    except (InvalidInputError, ConflictError) as exc:
        db.session.rollback()
        return _page(
            "vendors/account_form.html",
            422,
            form=request.form,
            errors=field_errors(exc),
            message=getattr(exc, "message", None),
            **context,
        )
    db.session.commit()
    flash(_("Đã thêm tài khoản. Tài khoản cần một người khác duyệt trước khi dùng."))
    return redirect(url_for("vendors.show_vendor", vendor_id=vendor.id))


@bp.route("/accounts/<int:account_id>/approve", methods=["POST"])
def approve_account(account_id: int) -> Any:
    """Approve one pending account (never one's own entry)."""
    account = services.get_account(account_id, actor=current_user)
    back = _safe_next(url_for("vendors.show_vendor", vendor_id=account.vendor_id))
    services.approve_account(account, actor=current_user, origin=request_origin())
    db.session.commit()
    flash(_("Đã duyệt tài khoản và cấp mã QR cho %(name)s.", name=account.vendor.full_name))
    return redirect(back)


@bp.route("/accounts/<int:account_id>/reject", methods=["POST"])
def reject_account(account_id: int) -> Any:
    """Reject one pending account with a reason."""
    account = services.get_account(account_id, actor=current_user)
    back = _safe_next(url_for("vendors.show_vendor", vendor_id=account.vendor_id))
    data = load_form(AccountRejectSchema(), form_input(request.form, fields=("reason",)))
    services.reject_account(
        account, reason=data["reason"], actor=current_user, origin=request_origin()
    )
    db.session.commit()
    flash(_("Đã từ chối tài khoản."), "warning")
    return redirect(back)


@bp.route("/vendors/pending", methods=["GET", "POST"])
def pending_accounts() -> Any:
    """The approval queue: approve or reject one account, or all the selected ones."""
    market = None
    market_id = int_arg("market", values=request.values)
    if market_id:
        market = get_market(market_id, actor=current_user)
    if request.method == "POST":
        return _decide_pending(market)
    return _pending_page(market)


def _pending_page(market: Any, status: int = 200, **context: Any) -> Any:
    rows = services.list_pending_accounts(actor=current_user, market=market)
    return _page(
        "vendors/pending.html",
        status,
        rows=rows,
        market=market,
        decidable=sum(1 for r in rows if r.can_decide),
        bank_names={b.bin: b.short_name for b in BANKS},
        **context,
    )


def _decide_pending(market: Any) -> Any:
    only = int_arg("only", values=request.form)
    ids = [only] if only else id_list(request.form.getlist("account_ids"))
    decision = request.form.get("decision", "approve")
    if not ids:
        return _pending_page(market, 422, message=_("Chưa chọn tài khoản nào."))
    try:
        if decision == "reject":
            data = load_form(AccountRejectSchema(), form_input(request.form, fields=("reason",)))
            done = services.reject_accounts(
                ids, reason=data["reason"], actor=current_user, origin=request_origin()
            )
        else:
            done = services.approve_accounts(ids, actor=current_user, origin=request_origin())
    except (InvalidInputError, ConflictError, PermissionDeniedError) as exc:
        db.session.rollback()
        return _pending_page(
            market,
            403 if type(exc) is PermissionDeniedError else 422,
            message=getattr(exc, "message", None) or _("Chưa nhập lý do từ chối."),
            errors=field_errors(exc),
        )
    db.session.commit()
    if decision == "reject":
        flash(_("Đã từ chối %(n)d tài khoản.", n=len(done)), "warning")
    else:
        flash(_("Đã duyệt %(n)d tài khoản và cấp mã QR.", n=len(done)))
    return redirect(url_for("vendors.pending_accounts", market=market.id if market else None))


# --- bulk import ---------------------------------------------------------------------


@bp.route("/markets/<int:market_id>/vendors/import", methods=["GET", "POST"])
def import_vendors(market_id: int) -> Any:
    """Upload a list, preview it row by row (dry run), then import the good rows."""
    market = get_market(market_id, actor=current_user, action=Action.ONBOARD)
    partial = request.headers.get("X-Requested-With") == "fetch"
    if request.method == "GET":
        return _page("vendors/import.html", market=market, report=None, errors={})
    upload = request.files.get("file")
    dry_run = request.form.get("dry_run", "1") == "1"
    org = request.form.get("onboarding_org") or None
    try:
        if upload is None or not upload.filename:
            raise InvalidInputError.for_field(
                "file", _l("Chưa chọn tệp danh sách (CSV hoặc XLSX).")
            )
        report = importer.import_vendors(
            market,
            upload.read(),
            filename=upload.filename,
            dry_run=dry_run,
            actor=current_user,
            origin=request_origin(),
            onboarding_org=OnboardingOrg(org) if org in tuple(OnboardingOrg) else None,
        )
    except InvalidInputError as exc:
        db.session.rollback()
        errors = field_errors(exc)
        if partial:
            return render_template(
                "vendors/_import_report.html",
                report=None,
                errors=errors,
                market=market,
                labels=LABELS,
            ), 422
        return _page("vendors/import.html", 422, market=market, report=None, errors=errors)
    if not report.dry_run:
        db.session.commit()
    context = {"market": market, "report": report, "errors": {}, "filename": upload.filename}
    if partial:
        return render_template("vendors/_import_report.html", labels=LABELS, **context)
    return _page("vendors/import.html", **context)


@bp.route("/vendors/import-template.xlsx")
def import_template() -> Any:
    """The Excel template for vendor lists."""
    return send_file(
        template.build_template(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="mau-danh-sach-tieu-thuong.xlsx",
    )
