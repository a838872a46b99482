"""``/api/v1`` vendors, payment accounts (maker-checker) and bulk import."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import func, select

from chopay.auth.access import request_origin
from chopay.auth.policy import Action
from chopay.extensions import db
from chopay.markets.services import get_market
from chopay.vendors import importer, privacy, services
from chopay.vendors.schemas import (
    AccountCreateSchema,
    AccountRejectSchema,
    AccountSchema,
    ErasureResultSchema,
    ImportFileSchema,
    ImportQuerySchema,
    ImportReportSchema,
    VendorCreateSchema,
    VendorDetailSchema,
    VendorEraseSchema,
    VendorExportSchema,
    VendorQuerySchema,
    VendorSchema,
    VendorUpdateSchema,
)

blp = Blueprint("vendors_api", __name__, description="Vendors, payment accounts, bulk import")

PAGE = {"page": 1, "page_size": 100, "max_page_size": 1000}


def _page(stmt: Any, pagination: Any) -> list[Any]:
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pagination.item_count = count
    if pagination.first_item >= count:
        return []  # past the end (also: no OFFSET too large for the database's integers)
    return list(db.session.scalars(stmt.limit(pagination.page_size).offset(pagination.first_item)))


@blp.route("/vendors", methods=["GET"])
@blp.arguments(VendorQuerySchema, location="query")
@blp.response(200, VendorSchema(many=True))
@blp.paginate(**PAGE)
def list_vendors(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """Vendors the caller may see; ``q`` searches name (accents optional), stall, phone."""
    stmt = services.vendors_query(
        actor=current_user, query=args.get("q"), status=args.get("status")
    )
    return _page(stmt, pagination_parameters)


@blp.route("/markets/<int:market_id>/vendors", methods=["GET"])
@blp.arguments(VendorQuerySchema, location="query")
@blp.response(200, VendorSchema(many=True))
@blp.paginate(**PAGE)
def list_market_vendors(args: dict[str, Any], market_id: int, pagination_parameters: Any) -> Any:
    """Vendors of one market."""
    market = get_market(market_id, actor=current_user)
    stmt = services.vendors_query(
        actor=current_user, market=market, query=args.get("q"), status=args.get("status")
    )
    return _page(stmt, pagination_parameters)


@blp.route("/markets/<int:market_id>/vendors", methods=["POST"])
@blp.arguments(VendorCreateSchema)
@blp.response(201, VendorDetailSchema)
@blp.alt_response(409, description="Already registered here: `details.duplicate_of` is its id")
def create_vendor(data: dict[str, Any], market_id: int) -> Any:
    """Register a vendor, optionally with a first payment account (pending approval)."""
    market = get_market(market_id, actor=current_user, action=Action.ONBOARD)
    vendor = services.register_vendor(market, data, actor=current_user, origin=request_origin())
    db.session.commit()
    return services.vendor_detail(vendor)


@blp.route("/vendors/<int:vendor_id>", methods=["GET"])
@blp.response(200, VendorDetailSchema)
def get_vendor(vendor_id: int) -> Any:
    """One vendor with its payment accounts and live QR code."""
    return services.vendor_detail(services.get_vendor(vendor_id, actor=current_user))


@blp.route("/vendors/<int:vendor_id>", methods=["PATCH"])
@blp.arguments(VendorUpdateSchema)
@blp.response(200, VendorDetailSchema)
def update_vendor(data: dict[str, Any], vendor_id: int) -> Any:
    """Change a vendor's fields or status (e.g. ``{"status": "left"}``)."""
    vendor = services.get_vendor(vendor_id, actor=current_user)
    services.update_vendor(vendor, data, actor=current_user, origin=request_origin())
    db.session.commit()
    return services.vendor_detail(vendor)


@blp.route("/vendors/<int:vendor_id>/accounts", methods=["POST"])
@blp.arguments(AccountCreateSchema)
@blp.response(201, AccountSchema)
def create_account(data: dict[str, Any], vendor_id: int) -> Any:
    """Add a payment account; it stays pending until a second person approves it."""
    vendor = services.get_vendor(vendor_id, actor=current_user)
    account = services.add_account(vendor, data, actor=current_user, origin=request_origin())
    db.session.commit()
    return account


@blp.route("/accounts/<int:account_id>/approve", methods=["POST"])
@blp.response(200, AccountSchema)
def approve_account(account_id: int) -> Any:
    """Approve a pending account (never one you entered); issues the vendor's QR code."""
    account = services.get_account(account_id, actor=current_user)
    services.approve_account(account, actor=current_user, origin=request_origin())
    db.session.commit()
    return account


@blp.route("/accounts/<int:account_id>/reject", methods=["POST"])
@blp.arguments(AccountRejectSchema)
@blp.response(200, AccountSchema)
def reject_account(data: dict[str, Any], account_id: int) -> Any:
    """Reject a pending account with a reason."""
    account = services.get_account(account_id, actor=current_user)
    services.reject_account(
        account, reason=data["reason"], actor=current_user, origin=request_origin()
    )
    db.session.commit()
    return account


@blp.route("/markets/<int:market_id>/vendors/import", methods=["POST"])
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportReportSchema)
def import_vendors(query: dict[str, Any], files: dict[str, Any], market_id: int) -> Any:
    """Import a CSV or XLSX list; ``?dry_run=1`` reports row by row and writes nothing."""
    market = get_market(market_id, actor=current_user, action=Action.ONBOARD)
    upload = files["file"]
    report = importer.import_vendors(
        market,
        upload.read(),
        filename=upload.filename,
        dry_run=query["dry_run"],
        actor=current_user,
        origin=request_origin(),
    )
    if not report.dry_run:
        db.session.commit()
    return report


@blp.route("/vendors/<int:vendor_id>/export", methods=["GET"])
@blp.response(200, VendorExportSchema)
def export_vendor(vendor_id: int) -> Any:
    """Everything held about a vendor, for their own request (Personal Data Protection Law
    91/2025): record, payment accounts, QR codes, payments, logins. Admins, the vendor's
    board and the vendor themself; audited."""
    vendor = services.get_vendor(vendor_id, actor=current_user, action=Action.EXPORT_DATA)
    data = privacy.export_vendor_data(vendor, actor=current_user, origin=request_origin())
    body = jsonify(VendorExportSchema().dump(data))  # before the commit expires the rows
    db.session.commit()
    return body


@blp.route("/vendors/<int:vendor_id>/erase", methods=["POST"])
@blp.arguments(VendorEraseSchema)
@blp.response(200, ErasureResultSchema)
@blp.alt_response(409, description="Already erased")
def erase_vendor(data: dict[str, Any], vendor_id: int) -> Any:
    """Erase a vendor's personal data on their request; irreversible. ``confirm`` must be
    the vendor's reference code. Name, phone, ID number, account numbers and holder names
    become placeholders, QR codes are revoked, the vendor is marked ``left``; payments
    and every total stay. Admins and the vendor's board; audited."""
    vendor = services.get_vendor(vendor_id, actor=current_user, action=Action.ERASE_DATA)
    privacy.check_confirmation(vendor, data["confirm"])
    result = privacy.erase_vendor(vendor, actor=current_user, origin=request_origin())
    db.session.commit()
    return result
