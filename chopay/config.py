"""Configuration from environment variables.

Every setting a deployer may change is read from a ``CHOPAY_*`` variable. With none set,
the app runs on SQLite in the instance folder and keeps a generated secret key there.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which variable to set."""


class Config:
    ENV_NAME = "development"
    TESTING = False
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}  # noqa: RUF012
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session: markets are slow places
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    API_TITLE = "chopay API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # Stated, not left to the extensions' defaults: Flask-Limiter's one shared object
    # otherwise carries a previous app's setting into the next app of the process.
    RATELIMIT_ENABLED = True
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    PUBLIC_BASE_URL = "http://localhost:5000"
    JSON_SORT_KEYS = False
    # How many reverse proxies (nginx, a load balancer) stand in front of the app and append
    # to X-Forwarded-For / X-Forwarded-Proto. 0: none, the headers are ignored (a client could
    # forge them); see wiring.register_proxy_fix.
    TRUSTED_PROXIES = 0
    # How long a worker process trusts what it read of an API token and its user, or of a
    # webhook source and its secret (chopay.auth.services.user_for_token,
    # chopay.transactions.webhooks.find_source): a revoked token, a deactivated user, a new
    # role or a rotated secret reach every worker within this many seconds. 0: read them
    # on every request.
    CREDENTIALS_CACHE_SECONDS = 5.0

    @classmethod
    def from_env(cls, instance_path: str) -> dict[str, Any]:
        """Settings for this class, completed from the environment and the instance folder."""
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        env = os.environ
        url = env.get("CHOPAY_DATABASE_URL") or values["SQLALCHEMY_DATABASE_URI"]
        if not url:
            url = "sqlite:///" + str(Path(instance_path) / "chopay.db")
        values["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
        values["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **engine_options(values["SQLALCHEMY_DATABASE_URI"]),
            **values["SQLALCHEMY_ENGINE_OPTIONS"],
        }
        if env.get("CHOPAY_REDIS_URL"):
            values["RATELIMIT_STORAGE_URI"] = env["CHOPAY_REDIS_URL"]
            values["REDIS_URL"] = env["CHOPAY_REDIS_URL"]
        if env.get("CHOPAY_PUBLIC_BASE_URL"):
            values["PUBLIC_BASE_URL"] = env["CHOPAY_PUBLIC_BASE_URL"].rstrip("/")
        if env.get("CHOPAY_TRUSTED_PROXIES"):
            values["TRUSTED_PROXIES"] = trusted_proxies(env["CHOPAY_TRUSTED_PROXIES"])
        if env.get("CHOPAY_CREDENTIALS_CACHE_SECONDS"):
            values["CREDENTIALS_CACHE_SECONDS"] = seconds_setting(
                "CHOPAY_CREDENTIALS_CACHE_SECONDS",
                env["CHOPAY_CREDENTIALS_CACHE_SECONDS"],
                maximum=300,
            )
        values["SECRET_KEY"] = cls.secret_key(instance_path)
        return values

    @classmethod
    def secret_key(cls, instance_path: str) -> str:
        """The secret key from CHOPAY_SECRET_KEY, else one made once and kept in the instance."""
        key = os.environ.get("CHOPAY_SECRET_KEY")
        if key:
            return key
        path = Path(instance_path) / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def secret_key(cls, instance_path: str) -> str:
        key = os.environ.get("CHOPAY_SECRET_KEY", "")
        if len(key) < 32:
            raise ConfigError(
                "CHOPAY_SECRET_KEY must be set to a random string of at least 32 characters "
                "in production (e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        return key


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"

    @classmethod
    def from_env(cls, instance_path: str) -> dict[str, Any]:
        values = super().from_env(instance_path)
        url = os.environ.get("CHOPAY_TEST_DATABASE_URL")
        values["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url or "sqlite://")
        values["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **engine_options(values["SQLALCHEMY_DATABASE_URI"]),
            **values["SQLALCHEMY_ENGINE_OPTIONS"],
        }
        return values

    @classmethod
    def secret_key(cls, instance_path: str) -> str:
        return "testing-secret-key-not-for-production"


CONFIGS: dict[str, type[Config]] = {
    "development": Config,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def trusted_proxies(text: str) -> int:
    """The number of proxy hops in CHOPAY_TRUSTED_PROXIES: a whole number from 0 to 10."""
    value = text.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 2 and int(value) <= 10):
        raise ConfigError(
            f"CHOPAY_TRUSTED_PROXIES={text!r} must be the number (0 to 10) of reverse proxies "
            "in front of the app: 0 (none, the default), 1 (nginx), 2 (a load balancer, nginx)."
        )
    return int(value)


def seconds_setting(name: str, text: str, *, maximum: float) -> float:
    """A number of seconds from the environment, 0 … maximum; ConfigError otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a number of seconds") from None
    if not 0 <= value <= maximum:
        raise ConfigError(f"{name}={text!r} must be between 0 and {maximum:g} seconds")
    return value


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict[str, Any]:
    """SQLAlchemy engine options for the database at ``url``.

    PostgreSQL: no ``pool_pre_ping`` (a round trip before every request, 4 % of the
    capacity of the payment endpoints). A connection that died with a server restart
    fails its first statement instead: that request answers 503 with Retry-After
    (chopay.errors), and SQLAlchemy, seeing a disconnect, discards every pooled
    connection opened before it, so the next requests get fresh ones and the app
    recovers without being restarted (benchmarks/stress_ledger.py restarts the server
    under load to prove it). ``pool_recycle`` replaces connections older than 30
    minutes, before a firewall or proxy drops them silently."""
    if url.startswith("postgresql"):
        return {"pool_recycle": 1800}
    return {}


def config_class(name: str | None) -> type[Config]:
    """The config class for CHOPAY_ENV (development, production, testing)."""
    name = name or os.environ.get("CHOPAY_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"CHOPAY_ENV={name!r} is not one of: {', '.join(sorted(CONFIGS))}"
        ) from None
