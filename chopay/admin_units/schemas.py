"""Admin unit shapes for the API."""

from marshmallow import Schema, fields, validate


class AdminUnitSchema(Schema):
    scheme = fields.String()
    code = fields.String()
    level = fields.String()
    name = fields.String()
    short_name = fields.String()
    unit_type = fields.String()
    province_code = fields.String()
    district_code = fields.String(allow_none=True)
    parent_code = fields.Function(lambda u: u.parent.code if u.parent else None)


class AdminUnitDetailSchema(AdminUnitSchema):
    children = fields.List(fields.Nested(AdminUnitSchema))


class AdminUnitQuerySchema(Schema):
    scheme = fields.String(validate=validate.OneOf(["legacy", "2025"]))
    level = fields.String(validate=validate.OneOf(["province", "district", "commune"]))
    parent = fields.String(metadata={"description": "Parent unit code (same scheme)"})
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Name search"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AdminUnitLoadSchema(Schema):
    province = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^\d{2}$")
    )


class AdminUnitLoadResultSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    mappings_created = fields.Integer()
    mappings_updated = fields.Integer()
    total_units = fields.Integer()
