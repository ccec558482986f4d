"""The domain-error family and every error handler.

Under ``/api`` every error answers the contract's body
``{"error": {"code", "message", "fields"?}}``; elsewhere people get a page.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
from flask import Flask, Response, flash, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, ExceptionContext
from werkzeug.exceptions import HTTPException

from webapp.extensions import db
from webapp.redirects import redirect_back

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


class AlreadySignedIn(Conflict):
    code, message = (
        "already_signed_in",
        "You are already signed in. Sign out first to create another account.",
    )


class WrongPassword(Forbidden):
    code, message = "wrong_password", "That is not your current password."


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


def _page(status: int, title: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error page. Its navigation may load the signed-in user: should the database
    fail right then, the visitor gets the 503 page rather than a bare 500."""
    try:
        body = render_template("errors/error.html", status=status, title=title, message=message)
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        return database_unavailable_response(error)
    return Response(body, status=status, headers=headers, mimetype="text/html")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> ResponseReturnValue:
        _safe_rollback()
        if wants_json():
            return json_error(error.status, error.code, error.message, error.fields, error.headers)
        if error.status in (401, 403, 404):
            return _page(error.status, _TITLES[error.status], error.message)
        if error.status == 400 and request.method == "GET":
            # A page asked for with a bad address (a forged cursor, say): sending
            # the reader back where they came from would only repeat the request.
            return _page(400, _TITLES[400], error.message)
        flash(error.message, "error")
        # Only ever a page of this site: the Referer header is whatever the browser says.
        return redirect_back("/")

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError) -> ResponseReturnValue:
        message = "The form expired or its security token is missing; please try again."
        if wants_json():
            return json_error(403, "csrf_failed", "Missing or invalid CSRF token.")
        return _page(403, "Security check failed", message)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        code, message = HTTP_CODES.get(status, ("http_error", error.description or ""))
        if status == 429:
            message = f"Too many requests: {error.description}. Please try again later."
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        if wants_json():
            return json_error(status, code, message, headers=headers)
        title = _TITLES.get(status, "Something went wrong")
        return _page(status, title, message, headers)

    # Wherever the failure surfaces (a view, Flask-Login's user loader, a before-request
    # hook, a context processor while a template renders) it arrives here: SQLAlchemy's
    # errors, and the drivers' own from code that uses a raw connection.
    @app.errorhandler(sa_exc.SQLAlchemyError)
    @app.errorhandler(psycopg.Error)
    @app.errorhandler(sqlite3.Error)
    def handle_database_error(error: Exception) -> ResponseReturnValue:
        if is_database_unavailable(error):
            return database_unavailable_response(error)
        if app.testing:
            raise error  # a test sees the real failure
        return _internal_error(error)

    if not app.testing:
        app.register_error_handler(Exception, _internal_error)

    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask runs them
    # in reverse) and leaves that one nothing to do.
    app.teardown_appcontext(_end_session)


def _end_session(exc: BaseException | None) -> None:
    """End the request's session even when its connection died after the response was
    made (the server shut down or terminated it between the view's last query and the
    closing rollback). That rollback's error would escape Flask after every handler
    and replace a finished page with the server's bare 500; the connection is
    discarded instead, and the response goes out."""
    try:
        db.session.remove()
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        log.warning("database unavailable while ending the request: %s", _describe(error))
        db.session().invalidate()  # the scoped session's own Session
        db.session.remove()


def _internal_error(error: Exception) -> Response:
    """The 500: logged with its traceback; the page says nothing of the cause."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    _safe_rollback()
    if wants_json():
        return json_error(500, *HTTP_CODES[500])
    return _page_without_database(500, _TITLES[500], HTTP_CODES[500][1])


_TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    413: "Too large",
    429: "Slow down",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


# --- the database going away ---------------------------------------------------------------

DATABASE_UNAVAILABLE = "The database is unreachable right now; please try again in a moment."
RETRY_AFTER_SECONDS = 5

# SQLSTATEs (PostgreSQL's appendix A) that say the server cannot serve this connection,
# whatever the statement: class 08 connection exceptions; 57P01 admin shutdown, 57P02
# crash shutdown, 57P03 cannot connect now (starting or stopping), 57P04 database
# dropped, 57P05 idle session timeout; 53300 too many connections. The other
# OperationalErrors (57014 statement timeout, 55P03 lock not available, 40001
# serialization failure, 40P01 deadlock, 53100 disk full) are about the statement or
# need an operator: they stay errors.
_UNAVAILABLE_SQLSTATES = ("08", "57P0", "53300")

# SQLite primary result codes (an extended code keeps its primary in the low byte) that
# say the file cannot be used now, not that the statement is wrong: SQLITE_BUSY and
# SQLITE_LOCKED (another writer held it past busy_timeout), SQLITE_IOERR (the disk failed
# under it), SQLITE_CANTOPEN (the file or its folder is gone or unreadable).
_SQLITE_UNAVAILABLE = {
    5: "SQLITE_BUSY",
    6: "SQLITE_LOCKED",
    10: "SQLITE_IOERR",
    14: "SQLITE_CANTOPEN",
}


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot serve this request now (a 503 that
    clears by itself) rather than that the request or the data is at fault.

    Judged by exception class, SQLSTATE and SQLite result code, never by message text,
    which changes with the server's version and its lc_messages language.
    """
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        # The pool: no connection free within pool_timeout, or none that would work.
        return True
    if isinstance(error, sa_exc.StatementError):
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True  # SQLAlchemy saw the connection break and discarded it
        return error.orig is not None and _driver_error_is_unavailable(error.orig)
    return _driver_error_is_unavailable(error)


def _driver_error_is_unavailable(error: BaseException) -> bool:
    if isinstance(error, psycopg.Error):
        if error.sqlstate is None:
            # No SQLSTATE: the server never answered. libpq could not connect (refused,
            # unreachable, or turned away at login: "not accepting connections", "too
            # many clients") or lost the connection; psycopg says so with its own
            # OperationalError. Its other SQLSTATE-less errors are the program's.
            return isinstance(error, psycopg.OperationalError)
        return error.sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    if isinstance(error, sqlite3.OperationalError):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_UNAVAILABLE
    return False


def _breaks_connection(error: BaseException) -> bool:
    """Whether a driver error leaves its connection unusable: the server or the file is
    gone (not merely busy), so the pool must not hand the connection out again."""
    if isinstance(error, psycopg.Error):
        return _driver_error_is_unavailable(error) and error.sqlstate != "53300"
    if isinstance(error, sqlite3.OperationalError):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in (10, 14)  # SQLITE_IOERR, SQLITE_CANTOPEN
    return False


@event.listens_for(Engine, "handle_error")
def _discard_broken_connections(context: ExceptionContext) -> None:
    """Tell SQLAlchemy a connection is broken when the error says so, even where its
    dialect did not notice (psycopg's dialect asks only whether the socket is closed):
    it then invalidates that connection and every older one in the pool, so once the
    database is back, requests get fresh connections instead of dead ones. On a
    pre-ping it means "reconnect" rather than "fail"."""
    if not context.is_disconnect and _breaks_connection(context.original_exception):
        context.is_disconnect = True


def _describe(error: BaseException) -> str:
    """The driver's error with its class and code, for the log."""
    original = getattr(error, "orig", None) or error
    code = getattr(original, "sqlstate", None) or _SQLITE_UNAVAILABLE.get(
        (getattr(original, "sqlite_errorcode", None) or 0) & 0xFF
    )
    kind = type(original).__name__ + (f" {code}" if code else "")
    return f"{kind}: {str(original).strip()}"


class UnloadedUser(AnonymousUserMixin):
    """Stands for whoever the session names once the database has failed: never
    loaded, so nothing in the rest of the request (templates, context processors,
    after-request hooks) asks the database for them or refreshes them after the
    rollback. Everything treats them as signed out, except the request log, which still
    records the id the session names."""


def database_unavailable_response(error: BaseException) -> Response:
    """The 503 for a database that cannot be reached: the contract's body under /api,
    the HTML page elsewhere, both with Retry-After; made without another query."""
    log.error("database unavailable: %s", _describe(error))
    _safe_rollback()
    g._login_user = UnloadedUser()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        return json_error(503, "database_unavailable", DATABASE_UNAVAILABLE, headers=headers)
    return _page_without_database(503, _TITLES[503], DATABASE_UNAVAILABLE, headers)


_PLAIN_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
    "<h1>{title}</h1><p>{message}</p></html>"
)


def _page_without_database(
    status: int, title: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """An error page rendered without asking the database anything: the 500 and 503
    pages, whose cause may be the database itself. The user is not loaded, and the
    navigation leaves out the account links and queue counts (``without_database``,
    read by webapp.templating). Should the template fail all the same, a plain page
    says the same thing rather than the server's bare 500."""
    g._login_user = UnloadedUser()
    g.without_database = True
    try:
        body = render_template("errors/error.html", status=status, title=title, message=message)
    except Exception:
        log.exception("the %s page could not be rendered; answered a plain one", status)
        body = _PLAIN_PAGE.format(title=escape(title), message=escape(message))
    return Response(body, status=status, headers=headers, mimetype="text/html")


def _safe_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone
        log.debug("rollback after database failure failed", exc_info=True)
