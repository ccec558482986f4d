"""Which function runs each kind of job: a handler registers itself with ``@handler``;
and which chores the worker runs now and then between jobs (``@periodic``).

A handler module registers its kinds when imported; the worker imports the modules in
``HANDLER_MODULES`` before it claims anything, so a kind whose module is listed there
always has its handler in the worker (add a feature's module here when it gets jobs).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The modules whose handlers the worker runs.
HANDLER_MODULES: tuple[str, ...] = (
    "webapp.services.insights.refine",
    "webapp.services.comments.undo",  # finishing deletions whose undo window is over
    "webapp.services.notifications.chores",  # reply mails in batches, staff alerts (issue 21)
    "webapp.services.mail.delivery",  # sending the mail outbox
)


@dataclass(frozen=True)
class RunningJob:
    """What a handler is given: the job as claimed (``attempts`` counts this try)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


Handler = Callable[[RunningJob], None]

_handlers: dict[str, Handler] = {}


class UnknownJobKind(LookupError):
    """A job whose kind has no handler: it fails (and is retried, in case a worker
    with the handler's module takes it)."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``kind`` jobs.

    It runs in the worker in an app context, with no transaction open. What it writes
    is committed together with the job's "done" mark, or rolled back when it raises.
    A slow handler may end its reads with ``db.session.commit()`` before the slow part
    (on SQLite every worker transaction holds the write lock), then write; a handler
    may run more than once for one job (a worker killed after the work, before the
    mark), so it must be safe to repeat.
    """
    if not kind or len(kind) > 64:
        raise ValueError("a job kind is 1 to 64 characters")

    def register(function: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and existing is not function:
            raise ValueError(f"job kind {kind!r} already has a handler: {existing.__qualname__}")
        _handlers[kind] = function
        return function

    return register


def handler_for(kind: str) -> Handler:
    found = _handlers.get(kind)
    if found is None:
        raise UnknownJobKind(f"no handler for job kind {kind!r}")
    return found


def kinds() -> list[str]:
    return sorted(_handlers)


@dataclass(frozen=True)
class Periodic:
    """A chore the worker runs every ``every_seconds`` between jobs."""

    name: str
    every_seconds: float
    function: Callable[[], object]


_periodic: dict[str, Periodic] = {}


def periodic(
    name: str, every_seconds: float
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register the decorated function as a chore every worker runs about every
    ``every_seconds`` between jobs, in an app context; it commits what it writes.

    Several workers may run it at once (one per process): it must be safe to, e.g.
    working in small batches whose rows another worker may have taken (the worker
    logs the failure of one run, rolls back and runs it again next time)."""

    def register(function: Callable[[], object]) -> Callable[[], object]:
        _periodic[name] = Periodic(name, every_seconds, function)
        return function

    return register


def periodic_chores() -> list[Periodic]:
    return [_periodic[name] for name in sorted(_periodic)]


def load_handlers(modules: tuple[str, ...] = HANDLER_MODULES) -> None:
    """Import every handler module (the worker, before it claims a job)."""
    for name in modules:
        importlib.import_module(name)
