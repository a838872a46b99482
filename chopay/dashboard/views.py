"""Dashboard and health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from chopay.auth.access import public
from chopay.auth.services import describe
from chopay.dashboard.services import overview
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
    """The dashboard for the logged-in user's role."""
    return render_template(
        "dashboard/index.html", me=describe(current_user), figures=overview(current_user)
    )


@bp.route("/healthz")
@public
def healthz() -> Any:
    """Liveness and database reachability for load balancers."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
