"""``/api/v1/markets``."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from chopay.auth.access import request_origin
from chopay.extensions import db
from chopay.markets import services
from chopay.markets.schemas import (
    MarketCreateSchema,
    MarketQuerySchema,
    MarketSchema,
    MarketUpdateSchema,
)

blp = Blueprint("markets_api", __name__, description="Markets (chợ) and their size and place")


@blp.route("/markets", methods=["GET"])
@blp.arguments(MarketQuerySchema, location="query")
@blp.response(200, MarketSchema(many=True))
def list_markets(args: dict[str, Any]) -> Any:
    """Markets the caller may see: officers those under their unit, boards their own."""
    return services.list_markets(actor=current_user, query=args.get("q"))


@blp.route("/markets", methods=["POST"])
@blp.arguments(MarketCreateSchema)
@blp.response(201, MarketSchema)
def create_market(data: dict[str, Any]) -> Any:
    """Create a market in a commune (either scheme); the other scheme's commune is derived."""
    market = services.create_market(data, actor=current_user, origin=request_origin())
    db.session.commit()
    return market


@blp.route("/markets/<int:market_id>", methods=["GET"])
@blp.response(200, MarketSchema)
def get_market(market_id: int) -> Any:
    """One market."""
    return services.get_market(market_id, actor=current_user)


@blp.route("/markets/<int:market_id>", methods=["PATCH"])
@blp.arguments(MarketUpdateSchema)
@blp.response(200, MarketSchema)
def update_market(data: dict[str, Any], market_id: int) -> Any:
    """Change a market's fields or location."""
    market = services.get_market(market_id, actor=current_user)
    services.update_market(market, data, actor=current_user, origin=request_origin())
    db.session.commit()
    return market
