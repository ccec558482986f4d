"""What every response carries in production: security headers, request logs,
static files served compressed with long cache lifetimes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask.wrappers import Response
from whitenoise import WhiteNoise

from webapp.auth_setup import parse_session_id
from webapp.errors import UnloadedUser

log = logging.getLogger("webapp.requests")

# No inline script anywhere: pulse.js and moderation.js are files. SVG chart
# attributes are not styles, so style-src needs no 'unsafe-inline' either.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


#: The headers every page and API answer carries (a view may set its own first), built
#: once: one pass over a response's headers instead of one case-blind search per name.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
STRICT_TRANSPORT_SECURITY = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(app: Flask) -> None:
    production = app.config["WEBAPP_ENV"] == "production"
    wanted = SECURITY_HEADERS + ((STRICT_TRANSPORT_SECURITY,) if production else ())

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name, _value in headers}
        if _frames_allowed_by(headers.get("Content-Security-Policy")):
            # The view let some origins frame it (the embedded frame, issue 22): DENY
            # would overrule that list in every browser that reads both.
            present.add("x-frame-options")
        headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
        # Cache-Control, API included, is webapp.http_cache's (issue 18).
        return response


def _frames_allowed_by(policy: str | None) -> bool:
    """Whether a view's own Content-Security-Policy names who may frame it (a
    ``frame-ancestors`` other than 'none')."""
    if not policy or "frame-ancestors" not in policy:
        return False
    return "frame-ancestors 'none'" not in policy


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            data.update(extra)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class _CountedBody:
    """A streamed body that counts the bytes it hands on and, when the server closes
    it (sent in full, or the client went away), closes the body it wraps and calls
    ``done`` with the count. It reads nothing ahead: each piece goes on as it comes."""

    def __init__(self, body: Iterable[str | bytes], done: Callable[[int], None]) -> None:
        self._body, self._done, self.sent = body, done, 0
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._body:
            data = piece.encode() if isinstance(piece, str) else piece
            self.sent += len(data)
            yield data

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done(self.sent)


def request_id_for(environ: Any) -> str:
    """The request's id: the one the proxy in front sent, else 16 new hex digits (as
    uuid4().hex[:16] gave, without building a UUID)."""
    return str(environ.get("HTTP_X_REQUEST_ID") or os.urandom(8).hex())


def log_request_line(
    request_id: str,
    method: str,
    path: str,
    status: int,
    started: float,
    user_id: int | None,
    remote_addr: str | None,
    size: int | None,
) -> None:
    """The request's one line (``duration_ms`` from ``started``, a perf_counter), for
    Flask's hook below and for the pages answered before Flask (webapp.shared_pages)."""
    if not log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "user_id": user_id,
        "remote_addr": remote_addr,
        "bytes": size,
    }
    log.info("%s %s %s", method, path, status, extra={"fields": fields})


def request_logging(app: Flask) -> None:
    """One structured line per request: who, what, how long, what came back.

    A streamed body (a CSV export) is never read here to learn its size: unless it
    declares a ``Content-Length``, its bytes are counted as the server sends them and
    the line is written when it has been sent (or the client went away), so
    ``duration_ms`` then covers the whole transfer and ``bytes`` is what was sent."""
    if app.config.get("LOG_FORMAT") == "json":
        root = logging.getLogger()
        # Only plain console handlers change format; others (a test's capture,
        # an operator's file handler) are left as they are.
        consoles = [h for h in root.handlers if type(h) is logging.StreamHandler]
        if not consoles:
            consoles = [logging.StreamHandler()]
            root.addHandler(consoles[0])
        for handler in consoles:
            handler.setFormatter(JsonFormatter())
    if not app.config.get("REQUEST_LOG", True):
        return

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request_id_for(request.environ)

    @app.after_request
    def log_request(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:
            return response
        response.headers.setdefault("X-Request-ID", g.request_id)
        # A healthy health check is not worth a line: load balancers ask every few
        # seconds. An unhealthy one is logged (and health.py says why).
        if not log.isEnabledFor(logging.INFO) or (
            response.status_code == 200 and request.blueprint == "health"
        ):
            return response
        # The id the session signs in with (the one Flask-Login loads the user by):
        # logging never loads or refreshes the user itself, a query the request may not
        # need (after a commit, the loaded user is expired) and one that fails, after the
        # response is made, when the database is down. None when the request found the
        # session's user gone (loaded as anonymous); the session's id when the database
        # failed before the user could be loaded (UnloadedUser).
        user = g.get("_login_user")
        signed_in = user is None or user.is_authenticated or isinstance(user, UnloadedUser)
        # The session names "<id>:<generation>" (User.get_id); the log wants the id.
        session_id = parse_session_id(session.get("_user_id")) if signed_in else None
        user_id = session_id[0] if session_id else None
        request_id, method, path = g.request_id, request.method, request.path
        status, remote_addr = response.status_code, request.remote_addr

        def write_line(size: int | None) -> None:
            log_request_line(request_id, method, path, status, started, user_id, remote_addr, size)

        if not response.is_streamed:
            write_line(response.calculate_content_length())
        elif response.content_length is not None or response.direct_passthrough:
            # A file (send_file) declares its size, and the server may send it without
            # iterating the body (so without closing it through Werkzeug): log it now.
            write_line(response.content_length)
        else:
            response.response = _CountedBody(response.response, write_line)
        return response


@lru_cache(maxsize=256)
def _file_version(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _static_version(file: Path) -> str | None:
    """The version of a static file (a hash of its content), None when it is not one."""
    try:
        found = file.stat()
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return _file_version(str(file), found.st_mtime)


#: A versioned URL (``?v=<hash>``, as ``url_for('static', ...)`` builds every one) names
#: one content for good: caches keep it a year and never revalidate it.
VERSIONED_CACHE_CONTROL = "public, max-age=31536000, immutable"
#: A bare /static/ URL (typed by hand, linked from elsewhere) may change under its
#: name: caches ask again each time, a 304 when it has not.
UNVERSIONED_CACHE_CONTROL = "public, no-cache"
STATIC_HEADERS = (("X-Content-Type-Options", "nosniff"),)


def _is_versioned(query_string: str) -> bool:
    return query_string.startswith("v=") or "&v=" in query_string


class StaticFiles(WhiteNoise):
    """WhiteNoise, answering /static/ before Flask builds a request (no session, hooks
    or request log: a static file costs a dictionary look-up and the file), with the
    cache lifetime the URL earns: a year and ``immutable`` when versioned, else
    revalidated each time. ETag, Last-Modified and 304s are WhiteNoise's."""

    def __init__(
        self, application: Any, *, extra_headers: tuple[tuple[str, str], ...], **kw: Any
    ) -> None:
        super().__init__(application, max_age=None, **kw)
        self.extra_headers = list(extra_headers)

    # An instance method here (a static method in WhiteNoise): it needs the headers.
    def serve(
        self, static_file: Any, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        cache_control = (
            VERSIONED_CACHE_CONTROL
            if _is_versioned(environ.get("QUERY_STRING", ""))
            else UNVERSIONED_CACHE_CONTROL
        )

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            headers = [*headers, ("Cache-Control", cache_control), *self.extra_headers]
            return start_response(status, headers, *exc_info)

        served: Iterable[bytes] = WhiteNoise.serve(static_file, environ, start)
        return served


def static_files(app: Flask) -> None:
    """Versioned static URLs (?v=hash), served by WhiteNoise in every mode: compressed
    where the .gz/.br copies exist (``python -m whitenoise.compress``, which
    scripts/serve-prod runs at every start) and cached for a year, ``immutable``,
    safe because the URL changes whenever the file does."""
    static_folder = Path(app.static_folder or "")
    production = app.config["WEBAPP_ENV"] == "production"

    # In production the files do not change while the app runs (scripts/serve-prod
    # compresses them before it starts): each version is worked out once. Elsewhere one
    # stat per link notices an edit.
    known: dict[str, str | None] = {}

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "filename" not in values or "v" in values:
            return
        filename = values["filename"]
        version = known.get(filename) if production else None
        if version is None:
            version = _static_version(static_folder / filename)
            if production:
                known[filename] = version
        if version is not None:
            values["v"] = version

    max_age = app.config.get("STATIC_MAX_AGE", 31536000)
    # Flask's own static route (a file WhiteNoise does not know) caches as long.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = max_age
    extra = STATIC_HEADERS + ((STRICT_TRANSPORT_SECURITY,) if production else ())
    # Outside production files change while the app runs: WhiteNoise looks each one up
    # as it is asked for (autorefresh) instead of listing the folder once.
    # Flask's documented way to add WSGI middleware; mypy refuses assigning to a method.
    app.wsgi_app = StaticFiles(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(static_folder),
        prefix="static/",
        autorefresh=not production,
        extra_headers=extra,
    )


def health_checks(app: Flask) -> None:
    """GET /healthz answered before Flask (``webapp.health.HealthCheck``)."""
    from webapp.health import HealthCheck

    production = app.config["WEBAPP_ENV"] == "production"
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        *((STRICT_TRANSPORT_SECURITY,) if production else ()),
    ]
    # Flask's documented way to add WSGI middleware; mypy refuses assigning to a method.
    app.wsgi_app = HealthCheck(app.wsgi_app, app, headers)  # type: ignore[method-assign]


def init_app(app: Flask) -> None:
    security_headers(app)
    request_logging(app)
    static_files(app)
    health_checks(app)
