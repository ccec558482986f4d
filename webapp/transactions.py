"""Requests that read, then work a while without the database, then write.

On SQLite a request that may write takes the write lock at its first query (see
``webapp._sqlite_begin``), so whatever it does after that, however slow, runs while
every other writer waits. Posting a comment reads (the reader, the article, the
author's record), then renders and scores the text, then writes. ``reads_first()`` at
the top of such a view sends its reads to the autocommit engine
(``webapp.connections.RoutingSession``), where each is a transaction of its own: on
SQLite they take no write lock, on PostgreSQL they need no BEGIN round trip (under
READ COMMITTED each reads what it would have read after a BEGIN). ``begin_writes()``
then marks where the writes start: they are one transaction, begun by the first of
them (``BEGIN IMMEDIATE`` on SQLite), which holds the lock only while it writes.

A request whose writes are a single statement, and which writes nothing after it,
can say so (``expect_lone_write``): that statement then runs on the autocommit engine
too (``lone_write``). One statement is atomic on its own: all of it is stored or
none of it, so it needs no BEGIN and no COMMIT around it (two round trips on
PostgreSQL, two statements on SQLite). A reader's first vote and a top-level comment
are such writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import request
from sqlalchemy import Connection

from webapp.connections import (
    READ_TRANSACTION,
    READS_FIRST_ENVIRON,
    SINGLE_READ,
    SINGLE_READ_BIND,
    has_begun_on,
)
from webapp.extensions import db

#: In the request's WSGI environ: the request said its writes are one statement.
_LONE_WRITE = "pulse.lone_write"


def reads_first() -> None:
    """Call before the request's first query: its reads take no write lock (SQLite)
    and need no BEGIN (PostgreSQL), until ``begin_writes``."""
    request.environ.setdefault(READS_FIRST_ENVIRON, True)


def deferred_begin() -> bool:
    """Whether the transaction about to begin is the read part of such a request."""
    return bool(request.environ.get(READS_FIRST_ENVIRON))


def begin_writes() -> None:
    """From here the request writes, in one transaction. Its reads ran in autocommit
    (``RoutingSession``), so there is nothing to end; where they could not (an
    in-memory SQLite database, or a transaction begun before ``reads_first``) the
    read transaction ends and the write transaction
    begins on the same connection (``COMMIT`` then ``BEGIN IMMEDIATE``), so what
    follows is written in one transaction holding the lock only while it writes. The
    session keeps its objects loaded as read; its commit or rollback ends the write
    transaction. Only after reads: a request that already changed something would
    split its writes, and is refused."""
    if not request.environ.pop(READS_FIRST_ENVIRON, False):
        return
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_writes() after changes: they would be committed apart")
    # Reads that went to the autocommit engine hold nothing: the first write begins the
    # write transaction (BEGIN IMMEDIATE on SQLite, webapp._sqlite_begin). Asked of the
    # engine, not of a connection: taking a connection of the main engine here would
    # begin the transaction a lone write must not follow.
    if not has_begun_on(session, db.engine) or session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection()
    # The driver leaves transactions to us (webapp._sqlite_pragmas), so these two
    # statements are all there is to it; the session's commit ends this one.
    connection.exec_driver_sql("COMMIT")
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def reads_before_writes() -> Iterator[None]:
    """Outside a request (the integrity pass): the statements in the block only read,
    in a transaction that ends with the block, so the writes after it begin their own.

    On SQLite anything outside a request begins with BEGIN IMMEDIATE, the write lock,
    and holds it to the commit: the integrity pass's reads of every vote of a poll
    held it for about a second on a busy poll, while every vote waited. Here they
    begin with BEGIN, which takes no lock under WAL; the block's end commits that read
    transaction (nothing was written in it), and the first write after it takes the
    lock, held only while the pass writes. On PostgreSQL the reads are what they were
    (READ COMMITTED: each statement sees what was committed when it began) and the
    writes are a transaction of their own. A session already in a transaction keeps
    the block's reads in it, as before: ending it would commit its caller's work."""
    session = db.session()
    if session.in_transaction():
        yield
        return
    session.connection(execution_options={READ_TRANSACTION: True})
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    if session.new or session.dirty or session.deleted:
        session.rollback()
        raise RuntimeError("reads_before_writes() is for reads: its changes were discarded")
    session.commit()


def expect_lone_write() -> None:
    """The request's writes from here on are one statement, and it writes nothing after
    it: that statement may run in autocommit (``lone_write``). After ``begin_writes``
    in a view that read first. Only the statement that asks ``lone_write`` is
    affected; if the request ends up writing otherwise (a vote that moves, a comment
    whose article changed), those writes go the usual way, in its transaction."""
    request.environ[_LONE_WRITE] = True


def commit() -> None:
    """Commit the request's transaction, when it has anything to commit.

    A request whose only write ran on its own (``lone_write``) and that read nothing
    in a transaction has begun none: SQLAlchemy's commit would still begin one, commit
    nothing and end it, running every commit listener (about 25 µs of a vote in
    process). Anything begun, changed, or noted for after the commit (the caches'
    and purges' marks in ``session.info``) is committed as always."""
    session = db.session()
    if session.in_transaction() or session.info or session.new or session.dirty or session.deleted:
        session.commit()


@contextmanager
def lone_write() -> Iterator[Connection | None]:
    """A connection of the autocommit engine for the write the request said is all it
    writes (``expect_lone_write``), when nothing else is to be written with it (no
    transaction begun on the main engine, no changes waiting in the session): the
    statement runs there on its own, and what it reads back after it (a vote's tally)
    too. None otherwise: the statement goes through the session, in the request's
    transaction. Asked once: the answer is for the statement about to run.

    A connection, not the session with that engine as its bind: for a request that
    read nothing (a vote) the session would wrap the statement in a transaction of its
    own (a connection checked out into it, its commit, its return), bookkeeping that
    cost about 60 µs of a vote's 700 in process, for a statement that needs none. A
    request whose reads before its writes went to that engine (a comment) already
    holds one of its connections in the session: that one is given."""
    if not _may_write_alone():
        yield None
        return
    session = db.session()
    autocommit = db.engines[SINGLE_READ_BIND]
    if has_begun_on(session, autocommit):
        # The request's reads before its writes hold a connection of that engine
        # (RoutingSession): the write goes there too, without a second checkout.
        yield session.connection(bind_arguments={"bind": autocommit})
        return
    with autocommit.connect() as connection:
        yield connection


def _may_write_alone() -> bool:
    if not request.environ.pop(_LONE_WRITE, False):
        return False
    session = db.session()
    engines = db.engines
    return not (
        SINGLE_READ_BIND not in engines
        or has_begun_on(session, engines[None])
        or session.new
        or session.dirty
        or session.deleted
    )


@contextmanager
def single_read() -> Iterator[Connection]:
    """A pooled connection for one SELECT outside any transaction: one statement is
    consistent on its own, so a BEGIN before it and a ROLLBACK after it are two round
    trips (PostgreSQL) or two statements (SQLite) that buy nothing.

    It runs on a connection of the autocommit engine
    (``webapp.connections.SINGLE_READ_BIND``). An in-memory SQLite database has none:
    there a connection of the main engine marked ``SINGLE_READ`` is enough, since the
    driver leaves transactions to us (``webapp._sqlite_pragmas``) and
    ``_sqlite_begin`` sends no BEGIN for it. Only for a request whose session holds no
    transaction: one that wrote must be asked through its session."""
    autocommit = db.engines.get(SINGLE_READ_BIND)
    if autocommit is not None:
        with autocommit.connect() as connection:
            yield connection
        return
    with db.engine.connect() as connection:
        yield connection.execution_options(**{SINGLE_READ: True})
