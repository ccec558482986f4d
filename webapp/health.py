"""Liveness and readiness for load balancers: GET /healthz checks the database."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from webapp.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    healthy = True
    started = time.perf_counter()
    try:
        # Straight through the pool's connection, not the ORM session: the check is
        # "can a connection be had and answer", and the session's transaction
        # machinery cost more than the round trip. Returned to the pool (and rolled
        # back there) at once.
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        finally:
            connection.close()
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready", never a 500
        log.warning("health check: database unavailable: %s", exc)
        checks["database"] = "unavailable"
        healthy = False
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            # Rate limits fall back to per-process memory: degraded, still serving.
            log.warning("health check: redis unavailable: %s", exc)
            checks["redis"] = "degraded"
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return jsonify(body), 200 if healthy else 503
