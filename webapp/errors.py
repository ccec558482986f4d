"""The domain-error family and every error handler.

Under ``/api`` every error answers the contract's body
``{"error": {"code", "message", "fields"?}}``; elsewhere people get a page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from webapp.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the product refused the request. Knows its contract code and status."""

    code = "invalid"
    status = 422
    message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = fields
        self.headers = headers or {}


class InvalidInput(DomainError):
    code, status, message = "invalid", 422, "Some values are not valid."


class MalformedRequest(DomainError):
    code, status, message = "malformed_request", 400, "The request body is not valid JSON."


class NotFound(DomainError):
    code, status, message = "not_found", 404, "Nothing here."


class Forbidden(DomainError):
    code, status, message = "forbidden", 403, "You are not allowed to do that."


class Unauthorized(DomainError):
    code, status, message = "unauthorized", 401, "Please sign in first."


class Conflict(DomainError):
    code, status, message = "conflict", 409, "That conflicts with the current state."


class SlugTaken(Conflict):
    code, message = "slug_taken", "Another article already uses this slug."


class EmailTaken(Conflict):
    code, message = "email_taken", "An account with this email already exists."


class InvalidCredentials(Unauthorized):
    code, message = "invalid_credentials", "Wrong email or password."


class ResultsHidden(Forbidden):
    code, message = "results_hidden", "Results are shown after you vote or when the poll closes."


class Banned(Forbidden):
    code, message = "banned", "Your account is banned from writing here."


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    response = jsonify(error_body(code, message, fields))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


HTTP_CODES = {
    400: ("malformed_request", "The request could not be understood."),
    401: ("unauthorized", "Please sign in first."),
    403: ("forbidden", "You are not allowed to do that."),
    404: ("not_found", "Nothing here."),
    405: ("method_not_allowed", "That method is not allowed here."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
    429: ("rate_limited", "Too many requests; please slow down."),
    500: ("internal_error", "Something went wrong on our side."),
    503: ("service_unavailable", "The service is unavailable; please try again shortly."),
}


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if wants_json():
            return json_error(error.status, error.code, error.message, error.fields, error.headers)
        if error.status in (401, 403, 404):
            return _page(error.status, _TITLES[error.status], error.message)
        flash(error.message, "error")
        return redirect(request.referrer or "/")

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        message = "The form expired or its security token is missing; please try again."
        if wants_json():
            return json_error(403, "csrf_failed", "Missing or invalid CSRF token.")
        return _page(403, "Security check failed", message)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):  # type: ignore[no-untyped-def]
        status = error.code or 500
        code, message = HTTP_CODES.get(status, ("http_error", error.description or ""))
        if status == 429:
            message = f"Too many requests: {error.description}. Please try again later."
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        if wants_json():
            return json_error(status, code, message, headers=headers)
        title = _TITLES.get(status, "Something went wrong")
        body, _ = _page(status, title, message)
        return Response(body, status=status, headers=headers, mimetype="text/html")

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def handle_database_down(error: DBAPIError):  # type: ignore[no-untyped-def]
        if not _is_connection_problem(error):
            raise error
        log.error("database unavailable: %s", error.orig)
        _safe_rollback()
        _forget_signed_in_user()
        message = "The database is unreachable right now; please try again in a moment."
        if wants_json():
            return json_error(503, "database_unavailable", message, headers={"Retry-After": "5"})
        body, _ = _page(503, "Temporarily unavailable", message)
        return Response(body, status=503, headers={"Retry-After": "5"}, mimetype="text/html")

    if not app.testing:

        @app.errorhandler(Exception)
        def handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
            log.exception("unhandled error on %s %s", request.method, request.path)
            _safe_rollback()
            if wants_json():
                return json_error(500, *HTTP_CODES[500])
            return _page(500, _TITLES[500], HTTP_CODES[500][1])


_TITLES = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    413: "Too large",
    429: "Slow down",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def _is_connection_problem(error: DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    text = str(error.orig).lower()
    return any(
        marker in text
        for marker in (
            "connection refused",
            "could not connect",
            "server closed the connection",
            "terminating connection",
            "connection is closed",
            "unable to open database",
            "database is locked",
            "the database system is",
            "connection timeout",
            "no such host",
        )
    )


def _forget_signed_in_user() -> None:
    """Treat the rest of this request as anonymous: rendering the 503 page (the
    navigation, the moderators' queue counts) and logging the request must not load
    the signed-in user (or refresh it after the rollback) from the database that is
    down, which would turn the 503 into a 500."""
    from flask import g

    from webapp.extensions import login_manager

    g._login_user = login_manager.anonymous_user()


def _safe_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone
        log.debug("rollback after database failure failed", exc_info=True)
