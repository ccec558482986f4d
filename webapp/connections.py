"""Pooled database connections are checked before use only after they sat idle.

A pooled connection can be dead when it is handed out: the database restarted, or
something on the way dropped an idle connection. SQLAlchemy's ``pool_pre_ping`` finds
out by sending ``SELECT 1`` at every checkout, which on PostgreSQL is one more round
trip on every request, as long as the request's own query on a busy site. Instead, a
connection is pinged when it comes out of the pool after more than
DATABASE_PING_IDLE_SECONDS there (the same trade HikariCP makes with its
``aliveBypassWindowMs``): a connection used a moment ago was alive a moment ago.

What that leaves: a connection that dies in the window between two close requests is
found by the request that uses it; SQLAlchemy then takes the error for a disconnect,
empties the pool and the request answers 503 (``webapp.errors``), and the next one
gets a fresh connection. 0 pings at every checkout, as ``pool_pre_ping`` did.

A second engine on the same database, ``SINGLE_READ_BIND``, runs each statement as a
transaction of its own: on PostgreSQL its connections are opened in autocommit; on
SQLite (a database file) its connections never send a BEGIN (``SINGLE_READ``, read by
``webapp._sqlite_begin``), and the driver leaves transactions to us
(``webapp._sqlite_pragmas``). It serves the lone SELECTs of
``webapp.transactions.single_read`` (the served article page's state read): asking one
of the main engine's connections for autocommit and putting it back after every read
cost about 20 µs a read of SQLAlchemy's bookkeeping (195 against 173 µs a state read,
measured in process), and a connection opened in autocommit never switches. A sync
worker holds one more connection for it.

The same engine takes, through ``RoutingSession``, the reads a request makes before
it writes (``webapp.transactions.reads_first``) and a write that is all the request
writes, in one statement (``webapp.transactions.lone_write``): no BEGIN and no
COMMIT around them (round trips on PostgreSQL, statements on SQLite), and on SQLite
the reads take no lock.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from time import monotonic
from typing import Any

from flask import has_request_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import ConnectionPoolEntry

#: In the pool entry's ``info``, which SQLAlchemy clears when it replaces the DBAPI
#: connection: a fresh connection has not been idle.
_RETURNED_AT = "pulse_returned_at"

#: Flask-SQLAlchemy's bind key of the autocommit engine.
SINGLE_READ_BIND = "pulse_single_read"
#: An execution option on a SQLite connection (or engine) whose statements each run on
#: their own: ``webapp._sqlite_begin`` sends no BEGIN for it.
SINGLE_READ = "pulse_single_read"

#: An execution option on a SQLite connection whose transaction only reads: BEGIN, not
#: BEGIN IMMEDIATE (``webapp._sqlite_begin``; ``transactions.reads_before_writes``).
READ_TRANSACTION = "pulse_read_transaction"

#: In the request's WSGI environ (one request's own, where ``g`` may be shared with a
#: test's app context): the request reads before it writes (``transactions.reads_first``).
READS_FIRST_ENVIRON = "pulse.reads_first"
#: In the session's ``info``: the engines its transaction holds a connection of.
_BEGUN_ON = "pulse_begun_on"


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session, which sends a request's reads before its writes to
    the autocommit engine when there is one (always but for an in-memory SQLite).

    Under READ COMMITTED every statement reads what was committed when it started, in
    a transaction or not, so such a read sees what it would have seen after a BEGIN;
    in autocommit it goes without the BEGIN round trip, and a request whose writes are
    one statement (``transactions.lone_write``) needs no COMMIT either. A flush
    always goes to the main engine: what the unit of work writes stays in the
    request's transaction."""

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Engine | Connection | None = None,
        **kwargs: Any,
    ) -> Engine | Connection:
        if (
            bind is None
            and has_request_context()
            and request.environ.get(READS_FIRST_ENVIRON)
            and not self._flushing
        ):
            engines = self._db.engines
            autocommit = engines.get(SINGLE_READ_BIND)
            # Once the request's transaction has begun, it reads there too: it may have
            # written, and a read elsewhere would not see that.
            if autocommit is not None and not has_begun_on(self, engines[None]):
                return autocommit
        return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)


@event.listens_for(RoutingSession, "after_begin")
def _note_begun(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    session.info.setdefault(_BEGUN_ON, set()).add(connection.engine)


@event.listens_for(RoutingSession, "after_transaction_end")
def _forget_begun(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_BEGUN_ON, None)


def has_begun_on(session: Session, engine: Engine) -> bool:
    """Whether ``session``'s transaction already holds a connection of ``engine``."""
    return engine in session.info.get(_BEGUN_ON, ())


def add_single_read_bind(config: MutableMapping[str, Any]) -> None:
    """Before ``db.init_app``: bind ``SINGLE_READ_BIND`` to the same database, each
    statement a transaction of its own. Not for an in-memory SQLite database, where
    another engine would open another, empty database: there the main engine does it
    all, as a transaction of the request (``transactions.single_read`` still skips the
    BEGIN of a lone read)."""
    url = config["SQLALCHEMY_DATABASE_URI"]
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    binds = dict(config.get("SQLALCHEMY_BINDS") or {})
    if backend == "postgresql":
        # Nothing to roll back on return: a connection in autocommit holds no transaction.
        binds[SINGLE_READ_BIND] = {
            "url": url,
            "isolation_level": "AUTOCOMMIT",
            "pool_reset_on_return": None,
        }
    elif backend == "sqlite" and _is_sqlite_file(parsed.database, parsed.query):
        binds[SINGLE_READ_BIND] = {"url": url, "execution_options": {SINGLE_READ: True}}
    else:
        return
    config["SQLALCHEMY_BINDS"] = binds


def _is_sqlite_file(database: str | None, query: Mapping[str, Any]) -> bool:
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return False
    return query.get("mode") != "memory"


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping ``engine``'s pooled connections that were idle over ``idle_seconds``."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def note_return(dbapi_connection: DBAPIConnection | None, entry: ConnectionPoolEntry) -> None:
        entry.info[_RETURNED_AT] = monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: DBAPIConnection, entry: ConnectionPoolEntry, _: Any) -> None:
        returned_at = entry.info.get(_RETURNED_AT)
        if returned_at is None or monotonic() - returned_at <= idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool replaces the connection and tries again (up to three times).
            raise DisconnectionError(f"idle connection failed its ping: {error}") from error
