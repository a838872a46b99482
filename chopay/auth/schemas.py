"""Shapes of user and token data in the API."""

from marshmallow import Schema, fields


class MeSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    full_name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    market_id = fields.Integer(allow_none=True)
    vendor_id = fields.Integer(allow_none=True)
    helper_market_ids = fields.List(fields.Integer())


class TokenSchema(Schema):
    id = fields.Integer()
    prefix = fields.String()
    name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
