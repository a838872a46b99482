"""What the transaction pages show: labels and the data each page needs (read-only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from chopay.auth.policy import Action, authorize, can, vendor_scope
from chopay.db import MAX_ID
from chopay.errors import InvalidInputError, PermissionDeniedError
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.transactions import services
from chopay.transactions.models import InboundPayment, Transaction
from chopay.transactions.schemas import VN_TZ
from chopay.vendors.models import Vendor

METHOD_LABELS: dict[str, Any] = {
    "vietqr": _l("Mã QR / chuyển khoản"),
    "ewallet": _l("Ví điện tử"),
    "card": _l("Thẻ"),
    "cash": _l("Tiền mặt"),
}
SOURCE_LABELS: dict[str, Any] = {
    "vendor": _l("Tiểu thương báo"),
    "board": _l("Ban quản lý báo"),
    "import": _l("Sao kê ngân hàng"),
    "webhook": _l("Ngân hàng/ví báo tự động"),
}
REASON_LABELS: dict[str, Any] = {
    "unknown_account": _l("Tài khoản nhận chưa đăng ký, ghi chú không có mã tiểu thương"),
    "ambiguous": _l("Không rõ của tiểu thương nào (nhiều người khớp)"),
    "reference_mismatch": _l("Mã trong ghi chú là của tiểu thương khác chủ tài khoản"),
    "vendor_left": _l("Tiểu thương đã rời chợ"),
    "out_of_scope": _l("Tiểu thương ngoài phạm vi của bạn"),
    "unknown_vendor": _l("Không có tiểu thương này"),
}
INBOUND_STATUS_LABELS: dict[str, Any] = {
    "unmatched": _l("Chờ gán"),
    "assigned": _l("Đã gán"),
    "ignored": _l("Để riêng"),
}
QUICK_AMOUNTS = (10_000, 20_000, 50_000, 100_000, 200_000, 500_000)
PER_PAGE = 50
MAX_PAGE = 100_000  # as TransactionQuerySchema: far past any real list


def labels() -> dict[str, Any]:
    """Label tables every transaction template uses."""
    return {
        "method_labels": METHOD_LABELS,
        "source_labels": SOURCE_LABELS,
        "reason_labels": REASON_LABELS,
        "inbound_status_labels": INBOUND_STATUS_LABELS,
    }


def filters(args: dict[str, Any]) -> services.TransactionFilter:
    """The service filter from loaded TransactionQuerySchema arguments."""
    return services.TransactionFilter(
        vendor_id=args.get("vendor"),
        market_id=args.get("market"),
        start=args.get("from_"),
        end=args.get("to"),
        method=args.get("method"),
        voided=args.get("voided"),
    )


def _scoped_vendors(actor: Any, limit: int = 2000) -> list[Vendor]:
    return list(
        db.session.scalars(
            select(Vendor)
            .options(joinedload(Vendor.market))
            .where(vendor_scope(actor))
            .order_by(Vendor.market_id, Vendor.stall, Vendor.id)
            .limit(limit)
        )
    )


def list_context(actor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Rows, totals and filter choices of the list page."""
    stmt = services.transactions_query(actor, filters(args))
    page = services.paginate_rows(stmt, page=args["page"], per_page=PER_PAGE)
    vendor_ids = {tx.vendor_id for tx, _, _ in page.items}
    vendors = (
        db.session.scalars(
            select(Vendor).options(joinedload(Vendor.market)).where(Vendor.id.in_(vendor_ids))
        ).all()
        if vendor_ids
        else []
    )
    choices = _scoped_vendors(actor)
    return {
        "page": page,
        "args": args,
        "voidable": {v.id for v in vendors if can(actor, Action.VOID_PAYMENT, v)},
        "vendor_choices": choices if len(choices) > 1 else [],
        "can_report": services.may_record_payments(actor),
        "can_assign": services.may_record_payments(actor)
        and services.assignable_market_ids(actor) != [],
        "query": {
            k: v
            for k, v in {
                "vendor": args.get("vendor"),
                "market": args.get("market"),
                "from": args.get("from_"),
                "to": args.get("to"),
                "method": args.get("method"),
            }.items()
            if v is not None
        },
        **labels(),
    }


def report_context(actor: Any, vendor_id: int | None) -> dict[str, Any]:
    """Vendors to report for, the chosen one and its sales today."""
    vendors = services.vendors_for_reporting(actor)
    if not vendors:
        raise PermissionDeniedError(_l("Bạn không được báo giao dịch."))
    chosen = next((v for v in vendors if v.id == vendor_id), None)
    if chosen is None and len(vendors) == 1:
        chosen = vendors[0]
    today: list[Transaction] = []
    total = 0
    if chosen is not None and can(actor, Action.VIEW_PAYMENTS, chosen):
        day = dt.datetime.now(VN_TZ).date()
        stmt = services.transactions_query(
            actor,
            services.TransactionFilter(vendor_id=chosen.id, start=day, end=day, voided=False),
        )
        today = list(db.session.scalars(stmt.limit(200)))
        total = sum(t.amount_vnd for t in today)
    return {
        "vendors": vendors,
        "chosen": chosen,
        "today": today[:8],
        "today_count": len(today),
        "today_total": total,
        "quick_amounts": QUICK_AMOUNTS,
        **labels(),
    }


def _assignable_markets(actor: Any) -> list[Market]:
    ids = services.assignable_market_ids(actor)
    stmt = select(Market).where(Market.is_active).order_by(Market.name).limit(1000)
    if ids is not None:
        stmt = stmt.where(Market.id.in_(ids))
    return list(db.session.scalars(stmt))


def import_context(actor: Any) -> dict[str, Any]:
    """Market choices of the import page; refuses people who cannot record payments."""
    if not services.may_record_payments(actor):
        raise PermissionDeniedError(_l("Bạn không được nhập giao dịch."))
    markets = _assignable_markets(actor)
    return {"markets": markets if len(markets) > 1 else [], **labels()}


def chosen_market(actor: Any, market_id: int | None) -> Market | None:
    """The market unmatched lines go to: the one chosen, else the user's own."""
    market_id = market_id or getattr(actor, "market_id", None)
    if market_id is None:
        return None
    market = db.session.get(Market, market_id) if 0 < market_id <= MAX_ID else None
    if market is None:
        raise InvalidInputError.for_field("market", _l("Không có chợ này."))
    authorize(actor, Action.RECORD_PAYMENT, market)
    return market


def inbound_context(actor: Any, *, status: str, page: int) -> dict[str, Any]:
    """Held lines and, per market, the vendors they can be assigned to."""
    stmt = services.inbound_query(actor, market_id=None, status=status)
    rows = services.paginate_rows(stmt, page=max(1, page), per_page=PER_PAGE)
    by_market: dict[int, list[Vendor]] = {}
    for vendor in services.vendors_for_reporting(actor):
        by_market.setdefault(vendor.market_id, []).append(vendor)
    items: list[InboundPayment] = [row[0] for row in rows.items]
    return {
        "page": rows,
        "items": items,
        "status": status,
        "vendors_by_market": by_market,
        **labels(),
    }
