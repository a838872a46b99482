"""``/api/v1/me`` and the caller's own tokens."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from chopay.auth import services
from chopay.auth.models import ApiToken
from chopay.auth.schemas import MeSchema, TokenSchema
from chopay.extensions import db

blp = Blueprint("auth_api", __name__, description="The caller and their API tokens")


@blp.route("/me")
@blp.response(200, MeSchema)
def me() -> Any:
    """Who the caller is: role and scope."""
    return services.describe(current_user)


@blp.route("/tokens")
@blp.response(200, TokenSchema(many=True))
def list_tokens() -> Any:
    """The caller's API tokens (never the token text)."""
    return db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id)
    ).all()


@blp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@blp.response(200, TokenSchema)
def revoke_token(token_id: int) -> Any:
    """Revoke one of the caller's tokens."""
    row = services.revoke_token(token_id, actor=current_user)
    db.session.commit()
    return row
