"""Requests that read, then work a while without the database, then write.

On SQLite a request that may write takes the write lock at its first query (see
``webapp._sqlite_begin``), so whatever it does after that, however slow, runs while
every other writer waits. Posting a comment reads (the reader, the article, the
author's record), then renders and scores the text, then writes. ``reads_first()``
at the top of such a view makes its reads a plain (deferred) transaction, and
``begin_writes()`` ends that transaction before the writes and begins the write
transaction (``BEGIN IMMEDIATE``), which holds the lock only while it writes; the
writes are still one transaction.

On PostgreSQL both calls do nothing: a transaction there locks nothing until it
writes, and the request stays one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from sqlalchemy import Connection

from webapp.connections import SINGLE_READ_BIND
from webapp.extensions import db

_READS_FIRST = "pulse_reads_first"
#: An execution option on a connection that asks one question and writes nothing:
#: ``webapp._sqlite_begin`` sends no BEGIN for it (see ``single_read``).
SINGLE_READ = "pulse_single_read"


def reads_first() -> None:
    """Call before the request's first query: its reads take no write lock (SQLite)."""
    g.setdefault(_READS_FIRST, True)


def deferred_begin() -> bool:
    """Whether the transaction about to begin is the read part of such a request."""
    return bool(g.get(_READS_FIRST))


def begin_writes() -> None:
    """End the read transaction and begin the write transaction on the same connection
    (SQLite: ``COMMIT`` then ``BEGIN IMMEDIATE``), so what follows is written in one
    transaction holding the lock only while it writes. The session stays in its
    transaction and its objects stay loaded as read; its commit or rollback ends the
    write transaction. Only after reads: a request that already changed something
    would split its writes, and is refused."""
    if not g.pop(_READS_FIRST, False):
        return
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_writes() after changes: they would be committed apart")
    if not session.in_transaction():
        return
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    # The driver leaves transactions to us (webapp._sqlite_pragmas), so these two
    # statements are all there is to it; the session's commit ends this one.
    connection.exec_driver_sql("COMMIT")
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def single_read() -> Iterator[Connection]:
    """A pooled connection for one SELECT outside any transaction: one statement is
    consistent on its own, so a BEGIN before it and a ROLLBACK after it are two round
    trips (PostgreSQL) or two statements (SQLite) that buy nothing.

    PostgreSQL runs it on a connection of the autocommit engine
    (``webapp.connections.SINGLE_READ_BIND``). SQLite's driver already leaves
    transactions to us (``webapp._sqlite_pragmas``), so there it is enough that
    ``_sqlite_begin`` sends no BEGIN; its isolation level is left alone, since putting
    it back when the connection returns to the pool would undo that setting. Only for
    a request whose session holds no transaction: one that wrote must be asked through
    its session."""
    autocommit = db.engines.get(SINGLE_READ_BIND)
    if autocommit is not None:
        with autocommit.connect() as connection:
            yield connection
        return
    with db.engine.connect() as connection:
        yield connection.execution_options(**{SINGLE_READ: True})
