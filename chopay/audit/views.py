"""Change history pages for boards and officers (who did what, when, from where)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from chopay.audit.models import AuditEvent
from chopay.auth.models import User
from chopay.auth.policy import Action
from chopay.extensions import db
from chopay.markets import services as market_services
from chopay.vendors import services as vendor_services

bp = Blueprint("audit", __name__)

ACTION_LABELS = {
    "market.create": _l("Tạo chợ"),
    "market.update": _l("Sửa thông tin chợ"),
    "vendor.create": _l("Đăng ký tiểu thương"),
    "vendor.update": _l("Sửa thông tin tiểu thương"),
    "vendor.status": _l("Đổi trạng thái"),
    "vendor.import": _l("Nhập danh sách"),
    "vendor.export": _l("Tải dữ liệu cá nhân"),
    "vendor.erase": _l("Xóa dữ liệu cá nhân"),
    "account.create": _l("Thêm tài khoản (chờ duyệt)"),
    "account.approve": _l("Duyệt tài khoản"),
    "account.reject": _l("Từ chối tài khoản"),
    "account.replace": _l("Thay thế tài khoản cũ"),
    "qr.issue": _l("Cấp mã QR"),
    "qr.revoke": _l("Thu hồi mã QR"),
}
FIELD_LABELS = {
    "name": _l("Tên"),
    "code": _l("Mã"),
    "address": _l("Địa chỉ"),
    "market_class": _l("Hạng"),
    "stall_count": _l("Số quầy"),
    "legacy_commune_code": _l("Xã (hệ cũ)"),
    "new_commune_code": _l("Xã (hệ mới)"),
    "needs_location_review": _l("Cần xác nhận vị trí"),
    "is_active": _l("Đang hoạt động"),
    "full_name": _l("Họ và tên"),
    "stall": _l("Số quầy"),
    "zone": _l("Khu/dãy"),
    "goods_category": _l("Ngành hàng"),
    "phone": _l("Số điện thoại"),
    "id_number_masked": _l("Số CCCD"),
    "has_smartphone": _l("Điện thoại thông minh"),
    "has_payment_speaker": _l("Loa thanh toán"),
    "onboarding_org": _l("Đơn vị hỗ trợ"),
    "onboarding_org_name": _l("Tên đơn vị hỗ trợ"),
    "status": _l("Trạng thái"),
    "reference": _l("Mã tiểu thương"),
    "bank_bin": _l("Ngân hàng (BIN)"),
    "account_number": _l("Số tài khoản"),
    "account_name": _l("Chủ tài khoản"),
    "kind": _l("Loại"),
    "is_primary": _l("Tài khoản chính"),
    "reason": _l("Lý do"),
    "verify_code": _l("Mã kiểm tra"),
}


def _render(title: Any, events: list[AuditEvent], **context: Any) -> Any:
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    actors = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    return render_template(
        "audit/history.html",
        title=title,
        events=events,
        actors=actors,
        action_labels=ACTION_LABELS,
        field_labels=FIELD_LABELS,
        **context,
    )


@bp.route("/vendors/<int:vendor_id>/history")
def vendor_history(vendor_id: int) -> Any:
    """Every change to one vendor, their accounts and QR codes."""
    vendor = vendor_services.get_vendor(vendor_id, actor=current_user, action=Action.AUDIT)
    events = vendor_services.vendor_history(vendor, actor=current_user)
    return _render(
        _l("Lịch sử thay đổi: %(name)s", name=vendor.full_name),
        events,
        vendor=vendor,
        market=vendor.market,
    )


@bp.route("/markets/<int:market_id>/history")
def market_history(market_id: int) -> Any:
    """Changes to a market and its list imports."""
    market = market_services.get_market(market_id, actor=current_user, action=Action.AUDIT)
    events = market_services.market_history(market, actor=current_user)
    return _render(_l("Lịch sử thay đổi: %(name)s", name=market.name), events, market=market)
