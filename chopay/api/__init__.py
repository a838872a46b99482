"""The flask-smorest Api object behind ``/api/v1`` and its error format."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException


class Api(SmorestApi):  # type: ignore[misc]
    """flask-smorest Api whose errors use chopay's ``{"error": {...}}`` body."""

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
