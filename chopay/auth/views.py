"""Login, logout and language choice."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from chopay.auth import services
from chopay.auth.access import public, request_origin
from chopay.errors import AuthenticationError
from chopay.extensions import db, limiter

bp = Blueprint("auth", __name__)

# The one answer to every failed login: unknown username, wrong password, deactivated or
# locked account. A different message for a locked account would tell anyone who tries
# a name six times whether that user exists (unknown names are never locked).
LOGIN_FAILED = _l(
    "Tên đăng nhập hoặc mật khẩu không đúng. Sau %(n)d lần nhập sai liên tiếp, "
    "đăng nhập bị tạm khóa %(m)d phút.",
    n=services.MAX_FAILED_LOGINS,
    m=int(services.LOCKOUT.total_seconds() // 60),
)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if not target:
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@public
def login() -> Any:
    """Log in with username and password."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("dashboard.index"))
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    try:
        user = services.authenticate(username, password, origin=request_origin())
    except AuthenticationError:
        db.session.commit()  # keep the failure count and the audit entry
        return render_template(
            "auth/login.html", error=LOGIN_FAILED, username=username, next=request.form.get("next")
        ), 401
    db.session.commit()
    lang = session.get("lang")
    session.clear()  # a new session on login (no fixation); keep only the chosen language
    if lang:
        session["lang"] = lang
    login_user(user)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """Log out (POST, so a link on another site cannot log people out)."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code: str) -> Any:
    """Switch the interface language (vi or en)."""
    if code in ("vi", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
