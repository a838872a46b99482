"""``/api/v1`` change history of a vendor or a market."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from chopay.auth.policy import Action
from chopay.markets import services as market_services
from chopay.vendors import services as vendor_services

blp = Blueprint("audit_api", __name__, description="Change history (boards, officers)")


class AuditEventSchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.String(allow_none=True)
    market_id = fields.Integer(allow_none=True)
    old_values = fields.Dict(allow_none=True)
    new_values = fields.Dict(allow_none=True)
    ip_address = fields.String(allow_none=True)


@blp.route("/vendors/<int:vendor_id>/history")
@blp.response(200, AuditEventSchema(many=True))
def vendor_history(vendor_id: int) -> Any:
    """Every change to a vendor, their accounts and QR codes, newest first."""
    vendor = vendor_services.get_vendor(vendor_id, actor=current_user, action=Action.AUDIT)
    return vendor_services.vendor_history(vendor, actor=current_user)


@blp.route("/markets/<int:market_id>/history")
@blp.response(200, AuditEventSchema(many=True))
def market_history(market_id: int) -> Any:
    """Changes to a market and its imports, newest first."""
    market = market_services.get_market(market_id, actor=current_user, action=Action.AUDIT)
    return market_services.market_history(market, actor=current_user)
