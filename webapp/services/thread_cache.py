"""What anonymous readers get of a thread, kept a moment per worker.

Every signed-out reader of an article sees the same thread: the API's list of its
comments, and the comments section of its page (without forms or anything of a
reader's own). So each worker keeps what it answered them for a moment
(``THREAD_CACHE_SECONDS``, 1 s by default; 0 turns it off), keyed by the article, its
published-comment count and comment mode (read with the article on every request
anyway) and the request's sort, page and size:

- a comment published or removed anywhere changes the count, so every worker shows it
  at once;
- any other change to a thread (an edit, a reaction, a moderator featuring a comment)
  clears the cache of the worker that made it at once (and again when it commits), and
  shows on the other workers once their copy expires, within that moment.

Signed-in readers, who see their own pending comments and the forms under every
comment, are never served from it. Each worker keeps its own copy (nothing is shared
through Redis: the count in the key already carries the change readers wait for).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db

T = TypeVar("T")

#: Entries kept per worker at most (a page's section is up to ~60 KB): when full, the
#: expired ones go, and if that is not enough the oldest half.
MAX_ENTRIES = 500
_entries: dict[Hashable, tuple[float, object]] = {}
_lock = threading.Lock()
_CHANGED = "pulse_thread_changed"


def ttl() -> float:
    return float(current_app.config.get("THREAD_CACHE_SECONDS", 1.0))


def cached(key: Hashable, build: Callable[[], T]) -> T:
    """The value kept for ``key``, or ``build()``'s, kept for the next readers."""
    seconds = ttl()
    if seconds <= 0:
        return build()
    full_key = (str(current_app.config.get("SQLALCHEMY_DATABASE_URI")), key)
    now = time.monotonic()
    entry = _entries.get(full_key)
    if entry is not None and entry[0] > now:
        return entry[1]  # type: ignore[return-value]
    value = build()
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _make_room(now)
        _entries[full_key] = (now + seconds, value)
    return value


def _make_room(now: float) -> None:
    """Called with the lock held and the cache full."""
    for expired in [key for key, (until, _) in _entries.items() if until <= now]:
        del _entries[expired]
    if len(_entries) >= MAX_ENTRIES:
        for old in sorted(_entries, key=lambda k: _entries[k][0])[: MAX_ENTRIES // 2]:
            del _entries[old]


def clear() -> None:
    with _lock:
        _entries.clear()


def thread_changed() -> None:
    """A comment changed: drop this worker's threads now, and again when the session
    commits (so a read in between cannot keep the old thread)."""
    clear()
    db.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _clear_on_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        clear()
