"""Domain errors and the handlers that turn them (and HTTP errors) into pages or JSON."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from chopay.extensions import db

logger = logging.getLogger(__name__)


class ChopayError(Exception):
    """An error whose message is safe to show to the user."""

    status_code = 400
    code = "bad_request"
    default_message: Any = _l("Yêu cầu không hợp lệ.")

    def __init__(self, message: Any = None, *, details: Any = None) -> None:
        self.message = message if message is not None else self.default_message
        self.details = details
        super().__init__(str(self.message))


class NotFoundError(ChopayError):
    status_code = 404
    code = "not_found"
    default_message = _l("Không tìm thấy.")


class PermissionDeniedError(ChopayError):
    status_code = 403
    code = "forbidden"
    default_message = _l("Bạn không có quyền làm việc này.")


class AuthenticationError(ChopayError):
    status_code = 401
    code = "unauthorized"
    default_message = _l("Cần đăng nhập.")


class ConflictError(ChopayError):
    status_code = 409
    code = "conflict"
    default_message = _l("Dữ liệu xung đột với bản ghi đã có.")


class InvalidInputError(ChopayError):
    """Input failed validation; ``details`` maps field names to lists of reasons."""

    status_code = 422
    code = "invalid_input"
    default_message = _l("Dữ liệu nhập chưa đúng.")

    @classmethod
    def for_field(cls, field: str, reason: Any) -> InvalidInputError:
        """An error about one field."""
        return cls(_l("Dữ liệu nhập chưa đúng: %(field)s", field=field), details={field: [reason]})


def wants_json() -> bool:
    """Whether the current request should get a JSON error body."""
    if request.path.startswith(("/api/", "/open-data/")) and not request.path.endswith(".html"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def json_error(status: int, code: str, message: Any, details: Any = None) -> Response:
    """The JSON error body every API error uses."""
    resp = jsonify({"error": {"code": code, "message": str(message), "details": details or {}}})
    resp.status_code = status
    return resp


def _stringify(details: Any) -> Any:
    if isinstance(details, dict):
        return {str(k): _stringify(v) for k, v in details.items()}
    if isinstance(details, list | tuple):
        return [_stringify(v) for v in details]
    if details is None or isinstance(details, bool | int | float):
        return details
    return str(details)


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}

HTTP_MESSAGES = {
    400: _l("Yêu cầu không hợp lệ."),
    401: _l("Cần đăng nhập."),
    403: _l("Bạn không có quyền xem trang này."),
    404: _l("Không tìm thấy trang hoặc bản ghi này."),
    405: _l("Phương thức không được hỗ trợ ở địa chỉ này."),
    413: _l("Tệp gửi lên quá lớn."),
    415: _l("Định dạng dữ liệu không được hỗ trợ."),
    422: _l("Dữ liệu nhập chưa đúng."),
    429: _l("Quá nhiều yêu cầu. Vui lòng thử lại sau ít phút."),
    500: _l("Hệ thống gặp lỗi. Vui lòng thử lại; nếu vẫn lỗi, báo cho quản trị viên."),
    503: _l("Hệ thống tạm thời không kết nối được cơ sở dữ liệu. Vui lòng thử lại sau ít giây."),
}


def render_error(status: int, message: Any, details: Any = None, code: str | None = None) -> Any:
    """Answer an error as JSON for API clients, as a page for people."""
    code = code or HTTP_CODES.get(status, "error")
    details = _stringify(details)
    if wants_json():
        return json_error(status, code, message, details)
    template = f"errors/{status}.html" if status in (403, 404, 500, 503) else "errors/error.html"
    return render_template(template, status=status, message=message, details=details), status


def http_error_response(error: HTTPException) -> Any:
    """Answer a werkzeug HTTP error (including webargs' 422) in chopay's format."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    details = data.get("messages") if isinstance(data, dict) else None
    if isinstance(details, dict) and set(details) <= {"json", "query", "form", "files"}:
        # webargs nests messages by location; the caller wants field -> reasons
        # (a body that is not JSON at all comes as {"json": ["Invalid JSON body."]})
        flat: dict[str, Any] = {}
        for location, part in details.items():
            if isinstance(part, dict):
                flat.update(part)
            else:
                flat[location] = part
        details = flat
    message = data.get("message") if isinstance(data, dict) else None
    resp = render_error(status, message or HTTP_MESSAGES.get(status, error.description), details)
    if status == 429:
        return _with_retry_after(resp, error)
    return resp


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers that answer every error as a page or JSON."""

    @app.errorhandler(ChopayError)
    def handle_chopay_error(error: ChopayError) -> Any:
        _rollback()
        return render_error(error.status_code, error.message, error.details, error.code)

    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def handle_db_down(error: Exception) -> Any:
        logger.warning("database unavailable: %s", error.__class__.__name__)
        _rollback()
        resp = render_error(503, HTTP_MESSAGES[503])
        return _with_retry_after(resp, None, seconds=5)

    @app.errorhandler(DataError)
    def handle_data_error(error: DataError) -> Any:
        # A value the database refused to store (out of range, not valid for the column)
        # that validation let through: nothing was written (the statement failed, the
        # request's transaction is rolled back), and the client is told its input is at
        # fault, not the server. Logged: validation should have caught it.
        logger.warning("database refused a value: %s", str(error.orig).splitlines()[0])
        _rollback()
        return render_error(422, InvalidInputError.default_message, code=InvalidInputError.code)

    @app.errorhandler(500)
    def handle_500(error: Exception) -> Any:
        _rollback()
        return render_error(500, HTTP_MESSAGES[500])


def _rollback() -> None:
    """Roll the request's work back. If that fails too (the database went away mid-request),
    let go of the session: the error must still be answered, not turn into a bare 500."""
    try:
        db.session.rollback()
    except SQLAlchemyError as exc:
        logger.warning("rollback failed (%s); closing the session", exc.__class__.__name__)
        db.session.close()


def _with_retry_after(resp: Any, error: HTTPException | None, seconds: int = 60) -> Any:
    if isinstance(resp, tuple):
        body, status = resp
        response = Response(body, status=status, mimetype="text/html")
    else:
        response = resp
    retry = None
    if error is not None and getattr(error, "retry_after", None):
        retry = error.retry_after  # type: ignore[attr-defined]
    response.headers["Retry-After"] = str(retry or seconds)
    return response


__all__ = [
    "AuthenticationError",
    "ChopayError",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "register_error_handlers",
]
