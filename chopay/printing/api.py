"""``/api/v1`` QR codes, printable stands, stand verification and re-scan audits."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, current_app, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from chopay.auth.access import public, request_origin
from chopay.auth.policy import Action
from chopay.errors import InvalidInputError
from chopay.extensions import db, limiter
from chopay.markets.services import get_market
from chopay.printing import services
from chopay.printing.schemas import (
    MarketStandsQuerySchema,
    QrQuerySchema,
    QrSchema,
    RescanReportSchema,
    RescanRequestSchema,
    StandQuerySchema,
    VerifyRequestSchema,
    VerifyResultSchema,
)
from chopay.vendors.models import QrCode, Vendor
from chopay.vendors.services import get_vendor

blp = Blueprint(
    "printing_api", __name__, description="VietQR codes, printable stands, stand verification"
)

VERIFY_RATE_LIMIT = "30 per minute"
BINARY = {"type": "string", "format": "binary"}  # OpenAPI schema of a file download


def base_url() -> str:
    """Public address printed in verification links (config ``PUBLIC_BASE_URL``)."""
    return str(current_app.config["PUBLIC_BASE_URL"])


def code_for(vendor: Vendor, args: dict[str, Any]) -> QrCode:
    """The stand's static code, or with ``amount`` a dynamic one for a single sale."""
    amount, purpose = args.get("amount"), args.get("purpose")
    if amount is None:
        if purpose:
            raise InvalidInputError.for_field(
                "purpose", _l("Nội dung chuyển khoản chỉ dùng cùng với số tiền (amount).")
            )
        return services.get_stand_code(vendor)
    return services.issue_dynamic_code(
        vendor, amount, purpose=purpose, actor=current_user, origin=request_origin()
    )


def _sale_args(code: QrCode) -> dict[str, Any]:
    if not code.is_dynamic:
        return {}
    args: dict[str, Any] = {"amount": code.amount_vnd}
    note = services.user_note(code)
    if note:
        args["purpose"] = note
    return args


def qr_body(code: QrCode) -> dict[str, Any]:
    """The JSON description of a code (QrSchema)."""
    account = code.account
    sale = _sale_args(code)
    links = {
        f"stand_{fmt}": url_for(
            f"printing_api.vendor_stand_{fmt}", vendor_id=code.vendor_id, **sale
        )
        for fmt in ("png", "svg", "pdf")
    }
    links["verify"] = url_for("printing.verify_code_page", code=code.verify_code)
    return {
        "vendor_id": code.vendor_id,
        "payload": code.payload,
        "verify_code": services.format_verify_code(code.verify_code),
        "verify_url": services.verify_url(code, base_url=base_url()),
        "bank": {
            "bin": account.bank_bin,
            "short_name": services.bank_short_name(account.bank_bin),
        },
        "account_name": account.account_name,
        "account_number_masked": services.mask_account(account.account_number),
        "is_dynamic": code.is_dynamic,
        "amount": code.amount_vnd,
        "note": code.purpose or code.vendor.reference,
        "issued_at": code.issued_at,
        "links": links,
    }


@blp.route("/vendors/<int:vendor_id>/qr", methods=["GET"])
@blp.arguments(QrQuerySchema, location="query")
@blp.response(200, QrSchema)
def get_vendor_qr(args: dict[str, Any], vendor_id: int) -> Any:
    """The vendor's VietQR code: the stand's static code, or with ``amount`` one for a sale.

    The static code belongs to the vendor's primary approved account; 404 says why when
    there is none. ``amount`` (whole đồng, 1..499,999,999) issues a dynamic code whose
    transfer note starts with the vendor reference (asking again for the same amount and
    note within 12 hours returns the same code).
    """
    vendor = get_vendor(vendor_id, actor=current_user, action=Action.PRINT)
    body = qr_body(code_for(vendor, args))
    db.session.commit()  # a new dynamic code; the body is built first (commit expires objects)
    return body


def _stand_response(vendor_id: int, args: dict[str, Any], fmt: str) -> Response:
    vendor = get_vendor(vendor_id, actor=current_user, action=Action.PRINT)
    code = code_for(vendor, args)
    stand = services.build_stand(code, base_url=base_url())
    filename = services.stand_filename(code, fmt)
    db.session.commit()  # a new dynamic code; the stand holds plain values, not ORM objects
    return _attachment(services.render_stand(stand, fmt), services.STAND_FORMATS[fmt], filename)


def _attachment(data: bytes, mimetype: str, filename: str) -> Response:
    """A download; never cached (stands carry names and account details)."""
    resp = send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


STAND_DOC = (
    "A6 stand: QR, vendor name, stall, market, bank, holder, account masked to its last 4 "
    "digits, verification code. Same arguments as `/vendors/<id>/qr`."
)


@blp.route("/vendors/<int:vendor_id>/stand.png", methods=["GET"])
@blp.arguments(StandQuerySchema, location="query")
@blp.response(200, BINARY, content_type="image/png", description="PNG, 300 dpi (1240×1748 px)")
@blp.doc(description=STAND_DOC)
def vendor_stand_png(args: dict[str, Any], vendor_id: int) -> Any:
    """The vendor's printable stand as a PNG."""
    return _stand_response(vendor_id, args, "png")


@blp.route("/vendors/<int:vendor_id>/stand.svg", methods=["GET"])
@blp.arguments(StandQuerySchema, location="query")
@blp.response(200, BINARY, content_type="image/svg+xml", description="SVG in millimetres")
@blp.doc(description=STAND_DOC)
def vendor_stand_svg(args: dict[str, Any], vendor_id: int) -> Any:
    """The vendor's printable stand as an SVG."""
    return _stand_response(vendor_id, args, "svg")


@blp.route("/vendors/<int:vendor_id>/stand.pdf", methods=["GET"])
@blp.arguments(StandQuerySchema, location="query")
@blp.response(200, BINARY, content_type="application/pdf", description="One A6 page")
@blp.doc(description=STAND_DOC)
def vendor_stand_pdf(args: dict[str, Any], vendor_id: int) -> Any:
    """The vendor's printable stand as a one-page A6 PDF with selectable text."""
    return _stand_response(vendor_id, args, "pdf")


@blp.route("/markets/<int:market_id>/stands.pdf", methods=["GET"])
@blp.arguments(MarketStandsQuerySchema, location="query")
@blp.response(200, BINARY, content_type="application/pdf", description="All stands, stall order")
def market_stands_pdf(args: dict[str, Any], market_id: int) -> Any:
    """Every active vendor's stand in one PDF, in natural stall order (A-2 before A-10).

    ``layout=a6``: one stand per A6 page; ``a4x4``: four per A4 page with cut marks. The
    number of stands is in the ``X-Stand-Count`` header.
    """
    market = get_market(market_id, actor=current_user, action=Action.PRINT)
    pdf, count = services.market_stands_pdf(market, layout_name=args["layout"], base_url=base_url())
    resp = _attachment(pdf, "application/pdf", services.market_filename(market, args["layout"]))
    resp.headers["X-Stand-Count"] = str(count)
    return resp


@blp.route("/verify", methods=["POST"])
@limiter.limit(VERIFY_RATE_LIMIT)
@public
@blp.doc(security=[])
@blp.arguments(VerifyRequestSchema)
@blp.response(200, VerifyResultSchema)
def verify_payload(data: dict[str, Any]) -> Any:
    """Whose current account does a scanned VietQR payload pay into? (public, rate-limited)

    `status`: `ok` (registered to a current vendor, and where given, at that `stall` /
    `vendor_id` / `market_id`), `mismatch` (registered to another stall), `unknown_account`
    (registered to nobody: possible sticker swap), `revoked` (the code was revoked or the
    account replaced), `suspended` (vendor suspended by the board). Only what the stand
    itself prints is returned. An unparseable payload or a wrong CRC is a 422 on `payload`.
    """
    expected = services.Expectation(
        stall=data.get("stall"), vendor_id=data.get("vendor_id"), market_id=data.get("market_id")
    )
    result = services.verify_payload(data["payload"], expected=expected)
    return services.public_answer(result)


def rescan_body(report: services.RescanReport) -> dict[str, Any]:
    """The JSON of a re-scan audit (RescanReportSchema)."""
    items = []
    for line in report.lines:
        result = line.result
        reg = result.registration
        scanned = result.scanned
        items.append(
            {
                "line": line.item.line,
                "stall": line.item.stall,
                "status": str(line.status),
                "message": str(result.message),
                "reason": result.reason,
                "registered": None
                if reg is None
                else {
                    "vendor_id": reg.vendor.id,
                    "name": reg.vendor.full_name,
                    "stall": reg.vendor.stall,
                    "market_id": reg.market.id,
                    "market_name": reg.market.name,
                },
                "account_number_masked": services.mask_account(scanned.account_number)
                if scanned
                else None,
                "bank": {
                    "bin": scanned.bank_bin,
                    "short_name": services.bank_short_name(scanned.bank_bin),
                }
                if scanned
                else None,
            }
        )
    return {
        "market_id": report.market.id,
        "counts": report.counts,
        "items": items,
        "not_scanned": [
            {"vendor_id": v.id, "name": v.full_name, "stall": v.stall} for v in report.not_scanned
        ],
    }


@blp.route("/markets/<int:market_id>/rescan", methods=["POST"])
@blp.arguments(RescanRequestSchema)
@blp.response(200, RescanReportSchema)
def rescan_market(data: dict[str, Any], market_id: int) -> Any:
    """Re-scan audit: check each stand's scanned payload against the register; logged.

    Each item's `status` is `ok`, `mismatch` (registered to another stall or market),
    `unknown_account`, `revoked`, `suspended` or `invalid` (not a VietQR payload; `reason`
    says why). `not_scanned` lists the market's stands no `ok` line covered. Needs the
    right to audit or edit the market (board, officer, admin).
    """
    market = services.get_rescan_market(market_id, actor=current_user)
    items = [
        services.RescanItem(i, item.get("stall"), item["payload"])
        for i, item in enumerate(data["items"], start=1)
    ]
    report = services.rescan_market(market, items, actor=current_user, origin=request_origin())
    db.session.commit()
    return rescan_body(report)
