"""The flask-smorest Api object behind ``/api/v1`` and its error format."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api as SmorestApi
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException


class ErrorDetailSchema(Schema):
    code = fields.String(metadata={"description": "Machine-readable: not_found, invalid_input…"})
    message = fields.String(metadata={"description": "For people (Vietnamese or English)"})
    details = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Field name → list of reasons (may be empty)"},
    )


class ErrorSchema(Schema):
    """The body of every API error (4xx/5xx): ``{"error": {"code", "message", "details"}}``."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class Api(SmorestApi):  # type: ignore[misc]
    """flask-smorest Api whose errors use chopay's ``{"error": {...}}`` body."""

    # Documents the error body in the OpenAPI document (default and 422 responses).
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        from chopay.errors import http_error_response

        return http_error_response(error)


api = Api(
    spec_kwargs={
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            }
        },
        "security": [{"bearerAuth": []}],
        "info": {
            "description": (
                "chopay JSON API. Authenticate with `Authorization: Bearer <token>` "
                "(create one with `flask --app wsgi chopay create-token USERNAME`). "
                'Errors are `{"error": {"code", "message", "details"}}`.'
            )
        },
    }
)
