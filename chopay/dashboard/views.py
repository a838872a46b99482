"""Dashboard and health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from chopay.auth.access import public
from chopay.auth.policy import own_vendor_id
from chopay.auth.services import describe
from chopay.dashboard import services
from chopay.extensions import db

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@public
def home() -> Any:
    """Send people to their dashboard, or to the login page."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("auth.login"))


@bp.route("/dashboard")
def index() -> Any:
    """The dashboard for the logged-in user's role: a vendor sees their own sales and
    their QR code; the others their scope's markets and vendors, and (those who read
    reports) its payments."""
    vendor_id = own_vendor_id(current_user)
    return render_template(
        "dashboard/index.html",
        me=describe(current_user),
        vendor_id=vendor_id,
        figures=services.overview(current_user) if vendor_id is None else None,
        sales=services.sales(current_user) if services.may_see_sales(current_user) else None,
        has_qr=services.has_qr(vendor_id) if vendor_id is not None else None,
        week_days=services.WEEK_DAYS,
        month_days=services.MONTH_DAYS,
    )


@bp.route("/healthz")
@public
def healthz() -> Any:
    """Liveness and database reachability for load balancers."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
