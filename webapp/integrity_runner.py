"""The integrity pass in the background, and its operator commands.

A daemon thread per worker process, started by the first request the worker serves
(so after gunicorn's fork: a thread started in the master would not survive it),
runs :func:`run_pass` every INTEGRITY_SCAN_SECONDS (20 s; the contract promises
suspect groups within 60 s of their votes) in an app context: ``scan_due`` (every
poll with a vote since its last pass) and ``drop_expired_signals`` (retention).

Only one pass runs at a time on the whole site, whichever worker or command starts
it: a lease. On PostgreSQL it is a session-level advisory lock
(``pg_try_advisory_lock``, per schema) held on a connection of its own for the pass (a
transaction-level one would end with the first poll's commit); a worker that
finds it taken skips its turn; a dead worker's lease goes with its connection. On
SQLite (one server process in practice) it is an exclusive, non-blocking ``flock``
on a file beside the database's, which also keeps two threads of one process apart.

Off under TESTING unless the config sets INTEGRITY_RUNNER = True; INTEGRITY_SCAN_SECONDS
<= 0 turns it off everywhere. Never on the vote path, and it runs whatever
RATELIMIT_ENABLED says.

Commands: ``flask --app wsgi integrity scan [--poll ID]`` and ``flask --app wsgi
integrity drop-signals``.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import Connection, select, text

from webapp.extensions import db
from webapp.models import IntegrityGroup, Poll, utcnow

log = logging.getLogger(__name__)

#: The advisory lock's first key on PostgreSQL ("puls" as a signed 32-bit int); the
#: second is the schema's name hashed, since advisory locks are database-wide and
#: sites (or test runs) in other schemas of the same database have passes of their own.
LEASE_KEY = 0x70756C73


@dataclass
class _Runner:
    thread: threading.Thread
    stop: threading.Event


_runners: dict[tuple[int, int], _Runner] = {}
_start_lock = threading.Lock()


def enabled(app: Flask) -> bool:
    """Whether this app runs the background pass."""
    if float(app.config.get("INTEGRITY_SCAN_SECONDS", 0) or 0) <= 0:
        return False
    setting = app.config.get("INTEGRITY_RUNNER")
    if setting is None:
        return not app.testing
    return bool(setting)


def init_app(app: Flask) -> None:
    """Start the runner with the first request this worker serves (when enabled).
    Safe to call twice."""
    if app.extensions.get("pulse_integrity_runner"):
        return
    app.extensions["pulse_integrity_runner"] = True

    def start_runner() -> None:
        ensure_started(app)

    app.before_request(start_runner)


def ensure_started(app: Flask) -> bool:
    """Start this process's runner for ``app`` unless it runs already; whether one runs."""
    if not enabled(app):
        return False
    key = (os.getpid(), id(app))
    runner = _runners.get(key)
    if runner is not None and runner.thread.is_alive():
        return True
    with _start_lock:
        runner = _runners.get(key)
        if runner is not None and runner.thread.is_alive():
            return True
        stop = threading.Event()
        thread = threading.Thread(
            target=_loop, args=(app, stop), name="pulse-integrity", daemon=True
        )
        _runners[key] = _Runner(thread, stop)
        thread.start()
        return True


def stop(app: Flask, timeout: float = 5.0) -> None:
    """Stop this process's runner for ``app`` (tests; a worker's exit needs nothing:
    the thread is a daemon)."""
    runner = _runners.pop((os.getpid(), id(app)), None)
    if runner is not None:
        runner.stop.set()
        runner.thread.join(timeout)


def _loop(app: Flask, stopped: threading.Event) -> None:
    interval = float(app.config["INTEGRITY_SCAN_SECONDS"])
    while not stopped.wait(interval):
        try:
            with app.app_context():
                try:
                    run_pass()
                finally:
                    db.session.remove()
        except Exception:
            log.exception("integrity: the background pass failed")


# --- the lease ------------------------------------------------------------------------


def _lease_file() -> Path:
    """Beside the SQLite database's file (every process using it sees it there), or in
    the instance folder for a database in memory."""
    database = db.engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return Path(database).with_name(Path(database).name + "-integrity.lock")
    url = str(current_app.config.get("SQLALCHEMY_DATABASE_URI"))
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(current_app.instance_path) / f"integrity-pass-{digest}.lock"


_LOCK = text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))")
_UNLOCK = text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))")


def _release(connection: Connection) -> None:
    """Unlock; a connection that cannot say it did is closed, not pooled, so no
    pooled connection keeps the lease (closing a session ends its advisory locks)."""
    try:
        released = bool(connection.execute(_UNLOCK, {"k": LEASE_KEY}).scalar())
        connection.commit()
    except Exception:
        released = False
    if not released:
        connection.invalidate()


@contextmanager
def lease() -> Iterator[bool]:
    """Hold the site-wide lease of the integrity pass while in the block; yields
    whether this caller got it (False: another pass is running)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            got = bool(connection.execute(_LOCK, {"k": LEASE_KEY}).scalar())
            connection.commit()
            try:
                yield got
            finally:
                if got:
                    _release(connection)
        return
    path = _lease_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def run_pass(moment: datetime | None = None) -> int | None:
    """One pass, under the site-wide lease (in an app context): scan every poll with
    new votes, then drop the signals retention says to drop. The number of polls
    scanned, or None when another pass holds the lease."""
    from webapp.services.integrity import scan_due
    from webapp.services.integrity.retention import drop_expired_signals

    with lease() as got:
        if not got:
            return None
        scanned = scan_due(moment)
        dropped = drop_expired_signals(moment or utcnow())
        db.session.commit()
        if scanned or dropped:
            log.info("integrity: scanned %s polls, dropped the signals of %s", scanned, dropped)
        return scanned


# --- commands -------------------------------------------------------------------------


@click.group("integrity")
def integrity() -> None:
    """Poll integrity: the pass that finds suspect groups of votes, and retention."""


@integrity.command("scan")
@click.option("--poll", "poll_id", type=int, default=None, help="Scan this poll only.")
def scan(poll_id: int | None) -> None:
    """Run the integrity pass now: every poll with votes since its last pass, or one
    poll (whatever its last pass), listing its groups."""
    from webapp.services.integrity import scan_poll

    if poll_id is None:
        scanned = run_pass()
        if scanned is None:
            raise click.ClickException("Another integrity pass is running; try again soon.")
        click.echo(f"Scanned {scanned} poll{'' if scanned == 1 else 's'} with new votes.")
        return
    if db.session.get(Poll, poll_id) is None:
        raise click.ClickException(f"There is no poll {poll_id}.")
    found = scan_poll(poll_id)
    db.session.commit()
    groups = list(
        db.session.scalars(
            select(IntegrityGroup)
            .where(IntegrityGroup.poll_id == poll_id)
            .order_by(IntegrityGroup.votes.desc(), IntegrityGroup.id)
        )
    )
    click.echo(
        f"Poll {poll_id}: {len(found)} group{'' if len(found) == 1 else 's'} found in this "
        f"pass, {len(groups)} in all."
    )
    for group in groups:
        click.echo(
            f"  #{group.id} {group.kind:<14} {group.status:<9} z={group.z_score:6.1f}  "
            f"{group.reason}"
        )


@integrity.command("drop-signals")
def drop_signals() -> None:
    """Drop the address, network and browser hashes of polls closed longer ago than
    INTEGRITY_SIGNAL_RETENTION_DAYS (safe to re-run)."""
    from webapp.services.integrity.retention import drop_expired_signals

    dropped = drop_expired_signals(utcnow())
    db.session.commit()
    click.echo(f"Dropped the signals of {dropped} poll{'' if dropped == 1 else 's'}.")
