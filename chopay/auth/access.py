"""Authentication gate: every endpoint needs a logged-in user unless marked ``public``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, redirect, request, url_for
from flask_login import current_user

from chopay.audit.services import Origin
from chopay.errors import AuthenticationError
from chopay.extensions import csrf, limiter

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints of Flask itself and extensions that need no login.
PUBLIC_ENDPOINTS = {"static", "api-docs.openapi_json"}


def public(view: F) -> F:
    """Mark a view (function or MethodView class) as reachable without logging in."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def unmetered(view: F) -> F:
    """Mark a view as taking no per-client rate limit. For the ledger's write endpoints:
    authenticated reporters and signed providers send payments at volume there, and the
    rate limiter's bookkeeping on every request cost 5 % of their capacity."""
    view.unmetered = True  # type: ignore[attr-defined]
    return view


def signed(view: F) -> F:
    """Mark a view whose request body is signed by its sender and checked by the view
    itself, byte for byte, before anything in it is read. The NUL guard
    (``wiring.reject_nul_characters``) leaves such a body to the view: a request that is
    not the sender's is refused as such (401), whatever it holds."""
    view.signed = True  # type: ignore[attr-defined]
    return view


def is_unmetered(endpoint: str | None) -> bool:
    """Whether the endpoint's view was marked ``unmetered``."""
    return _marked(endpoint, "unmetered")


def is_signed(endpoint: str | None) -> bool:
    """Whether the endpoint's view was marked ``signed``."""
    return _marked(endpoint, "signed")


def _marked(endpoint: str | None, mark: str) -> bool:
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, mark, False))


def meter_unless_unmetered(app: Flask) -> None:
    """Run Flask-Limiter's per-request check only for views not marked ``unmetered``.

    A request filter would skip the limits but not the check's own bookkeeping (resolving
    the view's limits, meta limits, the request context): so the limiter's before-request
    hook, registered by ``init_app``, is swapped for one that asks first."""
    check = limiter._check_request_limit  # the hook init_app registered
    hooks = app.before_request_funcs.setdefault(None, [])
    if check not in hooks:
        if not limiter.enabled:
            return  # RATELIMIT_ENABLED off: init_app registered nothing
        raise RuntimeError("Flask-Limiter's before-request hook not found: was it renamed?")

    def check_unless_unmetered() -> None:
        if not is_unmetered(request.endpoint):
            check()

    hooks[hooks.index(check)] = check_unless_unmetered


def is_public(endpoint: str | None) -> bool:
    """Whether the endpoint was marked public."""
    if endpoint is None:
        return True  # 404s and the like: let the error handlers answer
    if endpoint in PUBLIC_ENDPOINTS:
        return True
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return True
    if getattr(view, "is_public", False):
        return True
    view_class = getattr(view, "view_class", None)
    return bool(getattr(view_class, "is_public", False))


def request_origin() -> Origin:
    """Where the current request came from, for audit events."""
    return Origin(
        ip_address=request.remote_addr, user_agent=request.headers.get("User-Agent", "")[:200]
    )


def load_user_from_request(req: Any) -> Any:
    """Flask-Login request loader: the owner of a valid bearer token on an API call."""
    from chopay.auth.services import bearer_token, user_for_token

    if not req.path.startswith("/api/"):
        return None
    token = bearer_token(req.headers.get("Authorization"))
    if token is None:
        return None
    user = user_for_token(token)
    if user is not None:
        g.auth_via_token = True
    return user


def authenticate_request() -> Any:
    """before_request: require a logged-in user (session or token) on non-public endpoints."""
    if is_public(request.endpoint):
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            raise AuthenticationError()
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    token_auth = getattr(g, "auth_via_token", False)
    if request.path.startswith("/api/") and not token_auth and request.method not in SAFE:
        # API writes from a browser session still need the CSRF token (header X-CSRFToken).
        csrf.protect()
    return None


SAFE = ("GET", "HEAD", "OPTIONS")
