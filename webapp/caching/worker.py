"""The per-worker cache: what every request reads and rarely changes, kept a moment.

A ``WorkerCache`` keeps each value for as many seconds as its setting says (0 turns it
off), keyed by the database in use and the caller's key. ``changed()`` drops this
worker's entries at once and again when the session commits, so a request of this
worker reading in between cannot keep the old value; other workers see a change once
their copy expires. Nothing is shared between workers (the results cache, which is,
is webapp.caching.results). The caches themselves are listed in webapp.caching.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.caching import clock
from webapp.extensions import db

T = TypeVar("T")

_CHANGED = "pulse_worker_caches_changed"


class WorkerCache:
    def __init__(self, setting: str, default_seconds: float, max_entries: int = 500) -> None:
        self.setting = setting
        self.default_seconds = default_seconds
        #: When full, the expired entries go, and if that is not enough the oldest half.
        self.max_entries = max_entries
        self.entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def seconds(self) -> float:
        return float(current_app.config.get(self.setting, self.default_seconds))

    def _full_key(self, key: Hashable) -> tuple[str, Hashable]:
        """``key`` in the database in use: tests and tools run several apps at once."""
        return (str(current_app.config.get("SQLALCHEMY_DATABASE_URI")), key)

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value kept for ``key``, or ``build()``'s, kept for the next requests."""
        seconds = self.seconds()
        if seconds <= 0:
            return build()
        full_key = self._full_key(key)
        now = clock.now()
        entry = self.entries.get(full_key)
        if entry is not None and entry[0] > now:
            return cast(T, entry[1])
        value = build()
        with self._lock:
            if len(self.entries) >= self.max_entries:
                self._make_room(now)
            self.entries[full_key] = (now + seconds, value)
        return value

    def peek(self, key: Hashable) -> Any | None:
        """The value kept for ``key`` if it has not expired, else None; builds nothing
        (for a caller that can answer without it, webapp.shared_pages)."""
        if self.seconds() <= 0:
            return None
        entry = self.entries.get(self._full_key(key))
        if entry is None or entry[0] <= clock.now():
            return None
        return entry[1]

    def _make_room(self, now: float) -> None:
        """Called with the lock held and the cache full."""
        for expired in [key for key, (until, _) in self.entries.items() if until <= now]:
            del self.entries[expired]
        if len(self.entries) >= self.max_entries:
            oldest = sorted(self.entries, key=lambda k: self.entries[k][0])
            for old in oldest[: self.max_entries // 2]:
                del self.entries[old]

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()

    def changed(self) -> None:
        """What this cache holds changed: drop it now and when the session commits."""
        self.clear()
        db.session.info.setdefault(_CHANGED, set()).add(self)


@event.listens_for(Session, "after_commit")
def _clear_changed_on_commit(session: Session) -> None:
    for cache in session.info.pop(_CHANGED, ()):
        cache.clear()
