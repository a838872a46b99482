"""Users, passwords, logins and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from chopay.admin_units.models import AdminUnit
from chopay.audit.models import AuditEvent
from chopay.audit.services import Origin, record_event
from chopay.auth.models import ApiToken, Role, User
from chopay.auth.policy import Action, can
from chopay.db import adopt, own_transaction, utcnow
from chopay.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.vendors.models import Vendor

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "cp_"  # noqa: S105 - a visible prefix, not a secret
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
# A dummy hash so that a login for an unknown username costs the same as a real check.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


# The passwords tried first by anyone guessing (global lists and their Vietnamese
# favourites), compared after dropping trailing digits and punctuation ("Password1!").
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "passw0rd",
        "matkhau",
        "admin",
        "administrator",
        "chopay",
        "iloveyou",
        "anhyeuem",
        "emyeuanh",
        "toiyeuban",
        "qwerty",
        "qwertyui",
        "qwertyuiop",
        "asdfghjk",
        "asdfghjkl",
        "zxcvbnm",
        "letmein",
        "welcome",
        "abc",
        "abcd",
        "abcdef",
        "football",
        "baseball",
        "dragon",
        "monkey",
        "sunshine",
        "princess",
        "vietnam",
    }
)


def _is_run(text: str) -> bool:
    """Whether the text steps by one each time: '12345678', 'abcdefgh', '87654321'."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return len(steps) == 1 and steps <= {1, -1}


def validate_password(password: str, *, username: str = "") -> None:
    """Raise InvalidInputError unless the password meets the rules.

    At least 8 characters (no upper limit below the form's, no composition rules, as
    NIST SP 800-63B advises), not the username, not one of the most common passwords,
    not a repeated character or pair, not a run like 12345678 or abcdefgh."""
    reasons = []
    if len(password) < MIN_PASSWORD_LENGTH:
        reasons.append(_l("Mật khẩu phải có ít nhất %(n)d ký tự.", n=MIN_PASSWORD_LENGTH))
    lowered = password.lower()
    if username and lowered == username.lower():
        reasons.append(_l("Mật khẩu không được trùng tên đăng nhập."))
    core = lowered.rstrip("0123456789!@#$%^&*.,-_ ")
    if (
        len(set(password)) <= 2
        or _is_run(lowered)
        or lowered in COMMON_PASSWORDS
        or core in COMMON_PASSWORDS
    ):
        reasons.append(_l("Mật khẩu quá dễ đoán."))
    if reasons:
        raise InvalidInputError(_l("Mật khẩu chưa đạt yêu cầu."), details={"password": reasons})


def hash_password(password: str) -> str:
    """A salted hash of the password (werkzeug's scrypt)."""
    return generate_password_hash(password)


def parse_unit_key(key: str) -> AdminUnit:
    """Find a unit from ``SCHEME:CODE`` (e.g. ``legacy:19``)."""
    scheme, sep, code = key.partition(":")
    if not sep or scheme not in ("legacy", "2025") or not code:
        raise InvalidInputError.for_field(
            "unit", _l("Đơn vị phải có dạng SCHEME:MÃ, ví dụ legacy:19 hoặc 2025:19.")
        )
    unit = db.session.scalar(
        select(AdminUnit).where(AdminUnit.scheme == scheme, AdminUnit.code == code)
    )
    if unit is None:
        raise InvalidInputError.for_field(
            "unit", _l("Không có đơn vị hành chính %(key)s.", key=key)
        )
    return unit


def create_user(
    *,
    username: str,
    role: str,
    password: str,
    unit: AdminUnit | None = None,
    market_ids: list[int] | None = None,
    vendor_id: int | None = None,
    full_name: str | None = None,
    organisation: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Create a user whose role comes with the scope it needs."""
    username = username.strip().lower()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        raise InvalidInputError.for_field(
            "username", _l("Tên đăng nhập chỉ gồm chữ, số và . _ - (tối đa 64 ký tự).")
        )
    try:
        role_enum = Role(role)
    except ValueError:
        raise InvalidInputError.for_field(
            "role", _l("Vai trò phải là một trong: %(roles)s.", roles=", ".join(Role))
        ) from None
    validate_password(password, username=username)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(_l("Tên đăng nhập %(u)s đã có.", u=username))

    market_ids = market_ids or []
    markets = [_get_market(mid) for mid in market_ids]
    vendor = None
    if vendor_id is not None:
        vendor = db.session.get(Vendor, vendor_id)
        if vendor is None:
            raise InvalidInputError.for_field(
                "vendor", _l("Không có tiểu thương số %(id)s.", id=vendor_id)
            )
    _check_scope(role_enum, unit, markets, vendor)

    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role_enum,
        unit_id=unit.id if unit is not None and role_enum == Role.OFFICER else None,
        market_id=markets[0].id if role_enum == Role.BOARD else None,
        vendor_id=vendor.id if vendor is not None else None,
        full_name=full_name,
        organisation=organisation,
    )
    if role_enum == Role.HELPER:
        user.helper_markets = markets
    db.session.add(user)
    db.session.flush()
    record_event(
        actor_id=actor_id,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        new={"username": username, "role": role_enum, "market_ids": market_ids},
    )
    logger.info("created user %s (%s) id=%s", username, role_enum, user.id)
    return user


def _get_market(market_id: int) -> Market:
    market = db.session.get(Market, market_id)
    if market is None:
        raise InvalidInputError.for_field("market", _l("Không có chợ số %(id)s.", id=market_id))
    return market


def _check_scope(
    role: Role, unit: AdminUnit | None, markets: list[Market], vendor: Vendor | None
) -> None:
    if role == Role.OFFICER and unit is None:
        raise InvalidInputError.for_field(
            "unit", _l("Cán bộ (officer) cần một đơn vị hành chính: --unit SCHEME:MÃ.")
        )
    if role == Role.BOARD and len(markets) != 1:
        raise InvalidInputError.for_field(
            "market", _l("Ban quản lý (board) cần đúng một chợ: --market MÃ_CHỢ.")
        )
    if role == Role.HELPER and not markets:
        raise InvalidInputError.for_field(
            "market", _l("Người hỗ trợ (helper) cần ít nhất một chợ: --market MÃ_CHỢ.")
        )
    if role == Role.VENDOR and vendor is None:
        raise InvalidInputError.for_field(
            "vendor", _l("Tài khoản tiểu thương (vendor) cần --vendor MÃ_TIỂU_THƯƠNG.")
        )


def get_user_by_username(username: str) -> User:
    """The user with this username; NotFoundError if none."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFoundError(_l("Không có người dùng %(u)s.", u=username))
    return user


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the active user with this id, else None."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.is_active else None


def _recent_failures(user: User, origin: Origin | None, since: dt.datetime) -> int:
    """Failed logins to ``user`` from the address of ``origin`` after ``since`` (audit trail).

    The lock-out is per account *and* address: failures sent from one place must not lock
    the owner out everywhere (anyone who knows a username could otherwise keep its owner
    out for good). Guessing from many addresses is slowed by the per-address rate limit."""
    address = origin.ip_address if origin is not None else None
    return (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.entity_type == "user",
                AuditEvent.entity_id == str(user.id),
                AuditEvent.action == "login.failed",
                AuditEvent.created_at > since,
                AuditEvent.ip_address == address
                if address is not None
                else AuditEvent.ip_address.is_(None),
            )
        )
        or 0
    )


def authenticate(username: str, password: str, *, origin: Origin | None = None) -> User:
    """Check a username and password; after MAX_FAILED_LOGINS failures from one address
    within LOCKOUT, refuse that account from that address until they age out.

    Every refusal has the same message and costs one password hash, so neither the answer
    nor its timing tells whether the username exists or is locked."""
    now = utcnow()
    user = db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower())
    )
    if user is None or not user.is_active:
        check_password_hash(_DUMMY_HASH, password)
        record_event(
            actor_id=None,
            action="login.failed",
            entity_type="user",
            new={"username": username[:64]},
            origin=origin,
        )
        raise AuthenticationError(_l("Tên đăng nhập hoặc mật khẩu không đúng."))
    password_ok = check_password_hash(user.password_hash, password)  # also when locked
    since = now - LOCKOUT
    if user.last_login_at is not None and user.last_login_at > since:
        since = user.last_login_at  # a successful login starts the count again
    if _recent_failures(user, origin, since) >= MAX_FAILED_LOGINS:
        record_event(
            actor_id=user.id,
            action="login.locked",
            entity_type="user",
            entity_id=user.id,
            origin=origin,
        )
        raise AuthenticationError(_l("Tên đăng nhập hoặc mật khẩu không đúng."))
    if not password_ok:
        record_event(
            actor_id=user.id,
            action="login.failed",
            entity_type="user",
            entity_id=user.id,
            origin=origin,
        )
        raise AuthenticationError(_l("Tên đăng nhập hoặc mật khẩu không đúng."))
    user.last_login_at = now
    record_event(
        actor_id=user.id, action="login", entity_type="user", entity_id=user.id, origin=origin
    )
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, *, name: str | None = None) -> tuple[ApiToken, str]:
    """A new API token for the user: the row and the token text (shown once)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_hash_token(token), prefix=token[:10], name=name)
    db.session.add(row)
    db.session.flush()
    record_event(actor_id=user.id, action="token.create", entity_type="api_token", entity_id=row.id)
    return row, token


def revoke_token(token_id: int, *, actor: User) -> ApiToken:
    """Revoke one of the actor's tokens (admins: anyone's)."""
    row = db.session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.id and not can(actor, Action.MANAGE_USERS)):
        raise NotFoundError()
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_event(
            actor_id=actor.id, action="token.revoke", entity_type="api_token", entity_id=row.id
        )
    return row


# ---- bearer tokens on the hot path -------------------------------------------------------
#
# Every API call presents a token. Reading the token and its user through the ORM cost
# more CPU than recording a payment, so a process keeps, for CREDENTIALS_CACHE_SECONDS, the
# user's column values per token digest. A change to any user or token made through
# this process clears the whole cache at once (see ``_forget_on_change``); other worker
# processes see it within CREDENTIALS_CACHE_SECONDS (default 5 s: a revoked token, a
# deactivated user or a changed role take effect everywhere within that time).


@dataclass(frozen=True, slots=True)
class _KnownToken:
    user: dict[str, Any]  # the user's column values
    expires: float  # time.monotonic()


_TOKENS: dict[str, _KnownToken] = {}
_TOKENS_MAX = 10_000
_USER_COLUMNS = tuple(User.__table__.c)
_USER_KEYS = tuple(sa_inspect(User).get_property_by_column(c).key for c in _USER_COLUMNS)
_TOKEN_LOOKUP = (
    select(ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at, *_USER_COLUMNS)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def forget_tokens() -> None:
    """Drop this process's cached token owners (the next request reads them again)."""
    _TOKENS.clear()


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, flush_context: Any) -> None:
    """A user or token written through this process: forget every cached owner."""
    if not _TOKENS:
        return
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, User | ApiToken):
            _TOKENS.clear()
            return


def user_for_token(token: str) -> User | None:
    """The active user owning this unrevoked token, else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _hash_token(token)
    clock = time.monotonic()
    known = _TOKENS.get(digest)
    if known is not None and known.expires > clock:
        return adopt(db.session, User, known.user)
    # One Core query for the token and its user's columns, and the touch, committed at
    # once on a connection of their own (see own_transaction).
    with own_transaction(db.session) as conn:
        row = conn.execute(_TOKEN_LOOKUP, {"digest": digest}).first()
        if row is None or row.revoked_at is not None or not row.is_active:
            _TOKENS.pop(digest, None)
            return None
        now = utcnow()
        # Writing on every request would serialise API traffic on one row; once a minute
        # is enough.
        if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
            conn.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    values = dict(zip(_USER_KEYS, row[3:], strict=True))
    seconds = current_app.config.get("CREDENTIALS_CACHE_SECONDS", 0)
    if seconds > 0:
        if len(_TOKENS) >= _TOKENS_MAX:
            _TOKENS.clear()
        _TOKENS[digest] = _KnownToken(values, clock + seconds)
    return adopt(db.session, User, values)


def bearer_token(header: str | None) -> str | None:
    """The token in an ``Authorization: Bearer …`` header, if any."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def describe(user: User) -> dict[str, Any]:
    """A small public description of a user (for /api/v1/me and the dashboard)."""
    return {
        "id": user.id,
        "username": user.username,
        "role": str(user.role),
        "full_name": user.full_name,
        "unit": user.unit.key if user.unit else None,
        "market_id": user.market_id,
        "vendor_id": user.vendor_id,
        "helper_market_ids": [m.id for m in user.helper_markets],
    }
