"""Rate limits checked inside a view, where the page must keep what the person typed.

Decorators answer a breach before the view runs, which suits the API but would
throw away a half-written comment; this helper raises a DomainError instead, so
the page re-renders the form with "try again in N seconds".
"""

from __future__ import annotations

import logging
import time

from limits import parse_many

from webapp.errors import DomainError
from webapp.extensions import limiter

log = logging.getLogger(__name__)


class RateLimited(DomainError):
    code, status = "rate_limited", 429


def enforce(name: str, limits: str, *identity: str, action: str = "doing that") -> None:
    """Count one hit against each of ``limits`` for this identity; raise when one is spent."""
    if not limiter.enabled:
        return
    strategy = limiter.limiter
    for item in parse_many(limits):
        try:
            allowed = strategy.hit(item, name, *identity)
            if allowed:
                continue
            reset_at, _remaining = strategy.get_window_stats(item, name, *identity)
        except Exception:  # the shared store is down: let the person through, loudly
            log.warning("rate limit store unavailable; not limiting %s", name, exc_info=True)
            return
        wait = max(1, int(reset_at - time.time()) + 1)
        raise RateLimited(
            f"You are {action} too fast; please try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
