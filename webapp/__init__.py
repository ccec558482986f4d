"""Pulse: closing polls, comments, moderation and sentiment for news sites."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.config import build_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(
    dbapi_connection: DBAPIConnection, connection_record: ConnectionPoolEntry
) -> None:
    """SQLite enforces foreign keys only when asked; WAL lets readers and a writer overlap."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Connection) -> None:
    """On SQLite, a transaction that may write takes the write lock up front.

    A deferred transaction that read first and writes later fails at once with
    "database is locked" when another writer committed in between; taking the
    lock at BEGIN makes concurrent writers queue (busy_timeout) instead. Reads
    on safe HTTP methods stay deferred so they never wait for writers, and so do
    the reads a view does before it writes, and the integrity pass's long reads
    (``webapp.transactions``).
    """
    if connection.dialect.name != "sqlite":
        return
    from webapp.connections import READ_TRANSACTION, SINGLE_READ
    from webapp.transactions import deferred_begin

    options = connection.get_execution_options()
    if options.get(SINGLE_READ):
        return  # one SELECT on its own (webapp.transactions.single_read)

    if options.get(READ_TRANSACTION) or (
        has_request_context() and (request.method in SAFE_METHODS or deferred_begin())
    ):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(build_config(Path(app.instance_path), config))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("webapp").setLevel(logging.WARNING if app.testing else logging.INFO)

    from webapp.shared_pages import SharedArticlePages
    from webapp.site_address import RejectInvalidHost

    # Wrapping ``wsgi_app`` is how Flask documents adding WSGI middleware; mypy refuses
    # any assignment to a method (method-assign), so these lines say it is meant.
    # Innermost, so it sees the host and the client's address as Flask would.
    app.wsgi_app = SharedArticlePages(app.wsgi_app, app)  # type: ignore[method-assign]
    # Inside ProxyFix (when there is one), so it checks the host the app will use.
    app.wsgi_app = RejectInvalidHost(app.wsgi_app)  # type: ignore[method-assign]
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        proxied = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
        app.wsgi_app = proxied  # type: ignore[method-assign]

    from webapp.connections import add_single_read_bind, ping_after_idle
    from webapp.extensions import csrf, db, limiter, login_manager, migrate

    add_single_read_bind(app.config)
    db.init_app(app)

    with app.app_context():
        for engine in db.engines.values():
            ping_after_idle(engine, float(app.config["DATABASE_PING_IDLE_SECONDS"]))
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from webapp import auth_setup

    auth_setup.init_app(app)

    from webapp.ids import IdConverter
    from webapp.security import StrictTextRequest, refuse_unstorable_text

    # Before the blueprints, so every <int:...> in their routes is bounded.
    app.url_map.converters["int"] = IdConverter
    app.request_class = StrictTextRequest
    app.before_request(refuse_unstorable_text)

    from webapp.api import bp as api_bp
    from webapp.auth import bp as auth_bp
    from webapp.editor import bp as editor_bp
    from webapp.embed import bp as embed_bp
    from webapp.embed_admin import bp as embed_admin_bp
    from webapp.health import bp as health_bp
    from webapp.mail_admin import bp as mail_admin_bp
    from webapp.moderation import bp as moderation_bp
    from webapp.notifications import bp as notifications_bp
    from webapp.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(editor_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(notifications_bp)  # mail settings, unsubscribe (issue 21)
    app.register_blueprint(mail_admin_bp)  # the outbox's failed mail, for admins
    app.register_blueprint(embed_bp)  # the frame host sites embed, and embed.js (issue 22)
    app.register_blueprint(embed_admin_bp)  # the admins' embedding sites (issue 22)

    from webapp.errors import register_error_handlers

    register_error_handlers(app)

    from webapp import hardening, http_cache, templating

    templating.init_app(app)
    hardening.init_app(app)
    # Registered last, so its after_request runs first: the request log sees its 304s.
    http_cache.init_app(app)

    from webapp import integrity_runner

    # The integrity pass in the background, started by each worker's first request.
    integrity_runner.init_app(app)

    from webapp.cli import register_commands

    register_commands(app)
    return app
