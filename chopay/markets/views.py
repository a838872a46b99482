"""Market pages: list, create, edit, detail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from chopay.admin_units.models import Scheme
from chopay.auth.access import request_origin
from chopay.auth.policy import Action, can
from chopay.errors import ConflictError, InvalidInputError, PermissionDeniedError
from chopay.extensions import db
from chopay.markets import services
from chopay.markets.schemas import MARKET_CLASSES, MarketCreateSchema, MarketUpdateSchema
from chopay.vendors.forms import field_errors, form_input, load_form

bp = Blueprint("markets", __name__)

FIELDS = ("name", "code", "address", "market_class", "stall_count", "scheme", "commune_code")
LABELS = {
    "name": _l("Tên chợ"),
    "code": _l("Mã chợ"),
    "address": _l("Địa chỉ"),
    "market_class": _l("Hạng chợ"),
    "stall_count": _l("Số quầy/hộ kinh doanh"),
    "scheme": _l("Hệ đơn vị hành chính"),
    "commune_code": _l("Xã/phường"),
}
SCHEME_OPTIONS = (
    (str(Scheme.LEGACY), _l("Trước 1/7/2025 (tỉnh → huyện → xã)")),
    (str(Scheme.NEW), _l("Từ 1/7/2025 (tỉnh → xã)")),
)
CLASS_OPTIONS = tuple((c, _l("Hạng %(c)s", c=c)) for c in MARKET_CLASSES)


def _form_page(template: str, status: int = 200, **context: Any) -> Any:
    return render_template(
        template,
        labels=LABELS,
        scheme_options=SCHEME_OPTIONS,
        class_options=CLASS_OPTIONS,
        **context,
    ), status


def _commune_input(form: Any) -> dict[str, Any]:
    """Form input with the commune typed as a code or a name resolved to a code."""
    data = form_input(form, fields=FIELDS)
    if data.get("commune_code") and data.get("scheme") in (Scheme.LEGACY, Scheme.NEW):
        data["commune_code"] = services.resolve_commune(
            current_user, data["scheme"], data["commune_code"]
        )
    return data


@bp.route("/markets")
def list_markets() -> Any:
    """Markets in the user's scope with their onboarding progress."""
    query = request.args.get("q", "").strip()[:100]
    markets = services.list_markets(actor=current_user, query=query or None)
    figures = services.market_figures([m.id for m in markets])
    return render_template(
        "markets/list.html",
        markets=markets,
        figures=figures,
        query=query,
        can_create=can(current_user, Action.CREATE_MARKET),
    )


@bp.route("/markets/new", methods=["GET", "POST"])
def new_market() -> Any:
    """Create a market."""
    if not can(current_user, Action.CREATE_MARKET):
        raise PermissionDeniedError()
    if request.method == "GET":
        return _form_page("markets/form.html", form={"scheme": Scheme.LEGACY}, errors={})
    try:
        data = load_form(MarketCreateSchema(), _commune_input(request.form))
        market = services.create_market(data, actor=current_user, origin=request_origin())
    except (InvalidInputError, ConflictError, PermissionDeniedError) as exc:
        db.session.rollback()
        return _form_page(
            "markets/form.html",
            403 if isinstance(exc, PermissionDeniedError) else 422,
            form=request.form,
            errors=field_errors(exc),
            message=exc.message,
        )
    db.session.commit()
    flash(_("Đã tạo chợ %(name)s (mã %(code)s).", name=market.name, code=market.code))
    return redirect(url_for("markets.show_market", market_id=market.id))


@bp.route("/markets/<int:market_id>")
def show_market(market_id: int) -> Any:
    """One market: place, size, onboarding progress and what the user can do there."""
    market = services.get_market(market_id, actor=current_user)
    figures = services.market_figures([market.id])[market.id]
    return render_template(
        "markets/show.html",
        market=market,
        figures=figures,
        can_edit=can(current_user, Action.EDIT, market),
        can_onboard=can(current_user, Action.ONBOARD, market),
        can_approve=can(current_user, Action.APPROVE, market),
        can_audit=can(current_user, Action.AUDIT, market),
    )


@bp.route("/markets/<int:market_id>/edit", methods=["GET", "POST"])
def edit_market(market_id: int) -> Any:
    """Edit a market; moving it needs the commune again, confirming clears the review flag."""
    market = services.get_market(market_id, actor=current_user, action=Action.EDIT)
    if request.method == "GET":
        commune = market.legacy_commune or market.new_commune
        form = {
            "name": market.name,
            "code": market.code,
            "address": market.address or "",
            "market_class": market.market_class or "",
            "stall_count": market.stall_count,
            "scheme": commune.scheme if commune else Scheme.LEGACY,
            "commune_code": commune.code if commune else "",
        }
        return _form_page("markets/form.html", market=market, form=form, errors={})
    try:
        data = _commune_input(request.form)
        data["location_confirmed"] = request.form.get("location_confirmed") == "on"
        data = load_form(MarketUpdateSchema(), data)
        services.update_market(market, data, actor=current_user, origin=request_origin())
    except (InvalidInputError, ConflictError, PermissionDeniedError) as exc:
        db.session.rollback()
        return _form_page(
            "markets/form.html",
            403 if isinstance(exc, PermissionDeniedError) else 422,
            market=market,
            form=request.form,
            errors=field_errors(exc),
            message=exc.message,
        )
    db.session.commit()
    flash(_("Đã lưu thay đổi của chợ."))
    return redirect(url_for("markets.show_market", market_id=market.id))
