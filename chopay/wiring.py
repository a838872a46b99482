"""Framework wiring: extensions, blueprints, CLI, template helpers, headers. No business logic."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from chopay.db import MAX_BIG_ID, MAX_ID, render_alembic_item
from chopay.errors import InvalidInputError
from chopay.extensions import babel, csrf, db, limiter, login_manager, migrate
from chopay.text import NUL_MESSAGE, may_hold_nul, nul_path

logger = logging.getLogger(__name__)

# Domains whose views.py (``bp``), api.py (``blp``) and cli.py are picked up when present.
DOMAINS = (
    "auth",
    "dashboard",
    "admin_units",
    "markets",
    "vendors",
    "printing",
    "transactions",
    "reports",
    "audit",
)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _optional_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Foreign keys on, WAL journal and a busy timeout for every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def select_locale() -> str:
    """Vietnamese unless the person chose English (``?lang=en``, kept in the session)."""
    if not has_request_context():
        return "vi"  # CLI and background work speak Vietnamese
    lang = request.args.get("lang")
    if lang in ("vi", "en"):
        session["lang"] = lang
        return lang
    chosen = session.get("lang")
    if chosen in ("vi", "en"):
        return str(chosen)
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(["vi", "en"])
        if best:
            return best
    return "vi"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the signing serializer for a
    request that carries no session cookie (API calls with a bearer token, provider
    webhooks): Flask builds it on every request, 3 % of a payment POST."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def register_extensions(app: Flask) -> None:
    """Initialise extensions on the app."""
    app.session_interface = CookieSessions()
    import chopay.models  # noqa: F401 - every table must be in the metadata
    from chopay.i18n import compiled_translations_dir

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS_DIR),
        render_as_batch=True,  # SQLite can only ALTER tables by copying them
        compare_type=True,
        render_item=render_alembic_item,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    from chopay.auth.access import meter_unless_unmetered

    meter_unless_unmetered(app)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled_translations_dir(app))
    babel.init_app(app, locale_selector=select_locale)

    from chopay.auth import access
    from chopay.auth import services as auth_services

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(auth_services.load_user)
    login_manager.request_loader(access.load_user_from_request)
    app.before_request(access.authenticate_request)
    app.before_request(reject_nul_characters)


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def reject_nul_characters() -> None:
    """before_request: refuse text holding a NUL character (code 0), naming the field.

    PostgreSQL cannot store NUL in text (SQLite would keep it), and no one types one: it
    comes from broken exports and probes. Refused here, every form, query and JSON body is
    answered 422 alike on both databases, before any work, instead of a 500 from the first
    INSERT that meets it. Raw bytes are looked at first (the query string for ``%00``, a
    JSON body for the escape): a payment POST pays a substring search, not a parse.

    A view marked ``signed`` checks its body itself, after the signature: a request that
    is not the provider's is 401 whatever its body holds."""
    from chopay.auth.access import is_signed

    if is_signed(request.endpoint):
        return
    field = _nul_field()
    if field is not None:
        raise InvalidInputError.for_field(field, NUL_MESSAGE)


def _nul_field() -> str | None:
    if b"%00" in request.query_string:
        for name, value in request.args.items(multi=True):
            if "\x00" in name or "\x00" in value:
                return name.replace("\x00", "")
    if request.mimetype in _FORMS:
        for name, value in request.form.items(multi=True):
            # (a multipart part without a usable name comes as None)
            if "\x00" in (name or "") or "\x00" in (value or ""):
                return (name or "").replace("\x00", "")
    elif request.is_json and may_hold_nul(request.get_data(cache=True)):
        return nul_path(request.get_json(silent=True))
    return None


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route, capped at MAX_ID: a larger number matches no route (404)
    instead of reaching the database as an out-of-range integer (a 500)."""

    limit = MAX_ID

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", self.limit)
        super().__init__(url_map, *args, **kwargs)


class BigIdConverter(IdConverter):
    """``<bigid:…>``: ids of the BIGINT tables (ledger rows, held lines)."""

    limit = MAX_BIG_ID


def register_blueprints(app: Flask) -> None:
    """Register each domain's HTML blueprint and its JSON API blueprint."""
    from chopay.api import api

    app.url_map.converters["int"] = IdConverter  # before any rule is added
    app.url_map.converters["bigid"] = BigIdConverter
    api.init_app(app)
    for domain in DOMAINS:
        views = _optional_module(f"chopay.{domain}.views")
        if views is not None:
            app.register_blueprint(views.bp)
        api_module = _optional_module(f"chopay.{domain}.api")
        if api_module is not None:
            api.register_blueprint(api_module.blp, url_prefix="/api/v1")
            csrf.exempt(api_module.blp)


def register_error_handlers(app: Flask) -> None:
    """Pages or JSON for every error."""
    from chopay.errors import register_error_handlers as register

    register(app)


def register_cli(app: Flask) -> None:
    """Attach the ``chopay`` command group with every domain's commands."""
    from chopay.cli import chopay_cli

    for domain in DOMAINS:
        _optional_module(f"chopay.{domain}.cli")
    _optional_module("chopay.demo")
    _optional_module("chopay.backup")
    app.cli.add_command(chopay_cli)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    from chopay import formatting

    app.jinja_env.filters["vnd"] = formatting.format_vnd
    app.jinja_env.filters["number"] = formatting.format_number
    app.jinja_env.filters["pct"] = formatting.format_pct
    app.jinja_env.filters["localtime"] = formatting.format_localtime
    app.jinja_env.filters["date_vn"] = formatting.format_date
    app.jinja_env.filters["field_label"] = formatting.field_label

    from flask_babel import get_locale

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        from flask_login import current_user

        from chopay.auth import policy

        def can(action: str, target: Any = None) -> bool:
            # Only decides which links to show; every endpoint still authorizes itself.
            return policy.can(current_user, policy.Action(action), target)

        return {
            "can": can,
            "has_endpoint": lambda name: name in app.view_functions,
            "current_locale": str(get_locale() or "vi"),
            "nav_items": policy.navigation(current_user),
        }


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register_security_headers(app: Flask) -> None:
    """Security headers on every response."""
    from chopay.auth.access import is_public

    always = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(self), geolocation=()"),
    ]
    if app.config.get("SESSION_COOKIE_SECURE"):
        always.append(("Strict-Transport-Security", "max-age=31536000"))

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        # One pass over the response's headers, not one per header we may add: the
        # ledger's endpoints answer hundreds of requests a second.
        present = {key.lower() for key in headers.keys()}  # noqa: SIM118 - Headers, not a dict
        for name, value in always:
            if name.lower() not in present:
                headers.add(name, value)
        if "cache-control" not in present and (
            getattr(g, "no_store", False)
            or request.path.startswith("/api/")
            or not is_public(request.endpoint)
        ):
            # Pages behind the login show personal data: never kept in a (shared) phone's
            # cache, nor shown again by the Back button after logging out.
            headers.add("Cache-Control", "no-store")
        return response


def register_proxy_fix(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address and scheme from
    X-Forwarded-For / X-Forwarded-Proto, so that rate limits (keyed on the address) and
    audit rows see the client instead of nginx. Only that many hops are trusted: with 0
    (the default) the headers are ignored, since any client could send them."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_prefix=0
        )
