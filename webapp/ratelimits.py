"""Rate limits checked inside a view, where the page must keep what the person typed.

Decorators answer a breach before the view runs, which suits the API but would
throw away a half-written comment; this helper raises a DomainError instead, so
the page re-renders the form with "try again in N seconds".
"""

from __future__ import annotations

import logging
import time

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from webapp.errors import DomainError
from webapp.extensions import limiter

log = logging.getLogger(__name__)

# Used when the shared store (Redis) is unreachable: limits then count per process,
# like Flask-Limiter's own in-memory fallback for the decorated routes.
_fallback = FixedWindowRateLimiter(MemoryStorage())


class RateLimited(DomainError):
    code, status = "rate_limited", 429


def _hit(strategy: RateLimiter, item, name: str, identity: tuple[str, ...]) -> float | None:  # type: ignore[no-untyped-def]
    """None when allowed, else the time the window resets."""
    if strategy.hit(item, name, *identity):
        return None
    reset_at, _remaining = strategy.get_window_stats(item, name, *identity)
    return reset_at


def enforce(name: str, limits: str, *identity: str, action: str = "doing that") -> None:
    """Count one hit against each of ``limits`` for this identity; raise when one is spent."""
    if not limiter.enabled:
        return
    for item in parse_many(limits):
        try:
            reset_at = _hit(limiter.limiter, item, name, identity)
        except Exception:
            log.warning("rate limit store unavailable; counting %s in this process", name)
            reset_at = _hit(_fallback, item, name, identity)
        if reset_at is None:
            continue
        wait = max(1, int(reset_at - time.time()) + 1)
        raise RateLimited(
            f"You are {action} too fast; please try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
