"""Rate limits: on a route (``route_limit``), or checked inside a view (``enforce``).

A route's limit answers a breach before the view runs, which suits the API and
sign-in but would throw away a half-written comment; ``enforce`` raises a
DomainError instead, so the page re-renders the form with "try again in N seconds".
Both cost nothing while rate limits are off (RATELIMIT_ENABLED).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from webapp.errors import DomainError
from webapp.extensions import limiter

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# Used when the shared store (Redis) is unreachable: limits then count per process,
# like Flask-Limiter's own in-memory fallback for the decorated routes.
_fallback = FixedWindowRateLimiter(MemoryStorage())


def route_limit(setting: str, *, methods: list[str] | None = None) -> Callable[[F], F]:
    """Flask-Limiter's limit on a route (``limiter.limit``), read from the config key
    ``setting`` on each request; ``methods`` limits only those methods.

    While rate limits are off the route runs without Flask-Limiter's wrapper, which
    even then works out the route's exemptions on every request (some 40 µs of a
    vote's few hundred in Python).
    """

    def decorator(view: F) -> F:
        limited = limiter.limit(lambda: current_app.config[setting], methods=methods)(view)

        @wraps(view)
        def route(*args: Any, **kwargs: Any) -> Any:
            if limiter.enabled:
                return limited(*args, **kwargs)
            return view(*args, **kwargs)

        return route  # type: ignore[return-value]

    return decorator


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
