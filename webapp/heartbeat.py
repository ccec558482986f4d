"""A long response tells the process manager that its worker is still alive.

Gunicorn's sync workers report that they are alive only between requests, and the
master kills a worker that has not reported for ``timeout`` seconds (30 in
production). A CSV export of a million-vote poll takes longer than that to send,
so the master killed it mid-file. The gunicorn ``post_fork`` hook hands each worker's
``notify`` to ``install``; a streamed response calls ``beat`` as it sends each piece
(``webapp.editor.exports``), at most once a second. Outside gunicorn (the development
server, tests) nothing is installed and ``beat`` does nothing.

A client that stops reading still blocks the worker on the socket, where it cannot
beat: production puts a buffering proxy in front of gunicorn for that
(scripts/serve-prod), as gunicorn's documentation advises.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

#: The least time between two reports to the master: notifying touches a file.
INTERVAL_SECONDS = 1.0

_notify: Callable[[], None] | None = None
_last = 0.0

T = TypeVar("T")


def install(notify: Callable[[], None] | None) -> None:
    """Report through ``notify`` from now on in this process (None: stop reporting)."""
    global _notify, _last
    _notify, _last = notify, 0.0


def beat() -> None:
    """Tell the master this worker is alive, unless it was told within the interval."""
    global _last
    if _notify is None:
        return
    now = time.monotonic()
    if now - _last >= INTERVAL_SECONDS:
        _last = now
        _notify()


def beating(pieces: Iterable[T]) -> Iterator[T]:
    """``pieces`` as they come, beating before each one is sent."""
    for piece in pieces:
        beat()
        yield piece
