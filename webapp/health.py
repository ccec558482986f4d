"""Liveness and readiness for load balancers: GET /healthz checks the database.

Load balancers ask every few seconds, and a reader never sees the answer: it is
answered before Flask (``HealthCheck``, installed by ``webapp.hardening``), with no
session, CSRF check, request log or hooks, only the check and its headers. The route
stays registered (``url_for('health.healthz')``), and answers anything the early path
leaves to it: another method, or a Host header that cannot name the site (which
``webapp.site_address.RejectInvalidHost`` refuses with a 400, as for every page).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Engine

from webapp.extensions import db
from webapp.site_address import host_header_is_valid

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

PATH = "/healthz"


def check(engine: Engine, redis_url: str | None) -> tuple[bool, dict[str, Any]]:
    """(healthy, the answer's body): the database answers SELECT 1; Redis, when
    configured, answers a ping (without it rate limits count per process: degraded,
    still serving)."""
    checks: dict[str, str] = {}
    healthy = True
    started = time.perf_counter()
    try:
        # Straight through the pool's connection, not the ORM session: the check is
        # "can a connection be had and answer", and the session's transaction
        # machinery cost more than the round trip. The dialect's own ping (a SELECT 1
        # outside any transaction) opens no transaction, so PostgreSQL is asked once,
        # with no BEGIN before it nor ROLLBACK when the connection goes back.
        connection = engine.raw_connection()
        try:
            dbapi_connection = connection.dbapi_connection
            if dbapi_connection is None:
                raise RuntimeError("the pool gave a closed connection")
            engine.dialect.do_ping(dbapi_connection)
        finally:
            connection.close()
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready", never a 500
        log.warning("health check: database unavailable: %s", exc)
        checks["database"] = "unavailable"
        healthy = False
    if redis_url:
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            log.warning("health check: redis unavailable: %s", exc)
            checks["redis"] = "degraded"
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return healthy, body


@bp.get(PATH)
def healthz() -> ResponseReturnValue:
    healthy, body = check(db.engine, current_app.config.get("REDIS_URL"))
    return jsonify(body), 200 if healthy else 503


class HealthCheck:
    """WSGI middleware: GET or HEAD /healthz answered here, before Flask.

    Its headers are the ones Flask's hooks would have added that matter for a JSON
    answer nobody renders: never cached (``webapp.http_cache`` makes health private
    too), no sniffing, no framing, HSTS in production."""

    def __init__(self, app: WSGIApplication, flask_app: Flask, headers: list[tuple[str, str]]):
        self.app = app
        self.flask_app = flask_app
        self.headers = [
            ("Content-Type", "application/json"),
            ("Cache-Control", "private, no-store"),
            *headers,
        ]
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            with self.flask_app.app_context():
                self._engine = db.engine
        return self._engine

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            or not host_header_is_valid(environ.get("HTTP_HOST"))
            # A load balancer's check has no query; one with a query gets Flask's checks
            # of it (a query string that is not UTF-8 is a 400 on every route).
            or environ.get("QUERY_STRING")
        ):
            return self.app(environ, start_response)
        healthy, body = check(self.engine(), self.flask_app.config.get("REDIS_URL"))
        data = json.dumps(body).encode() + b"\n"
        headers = [*self.headers, ("Content-Length", str(len(data)))]
        start_response("200 OK" if healthy else "503 Service Unavailable", headers)
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [data]
