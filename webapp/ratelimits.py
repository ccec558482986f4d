"""Rate limits: on a route (``route_limit``), or counted inside a view per action
(``limit_action``, built on ``enforce``).

A route's limit answers a breach before the view runs and counts each route apart,
which suits sign-in and registration. What readers do (vote, react, report, comment)
has two doors, an API route and an HTML form: ``limit_action`` counts both in one
bucket per action, so offering both does not double the limit, and raises a
DomainError, so a page can re-render the form with what the reader typed and "try
again in N seconds". Both cost nothing while rate limits are off (RATELIMIT_ENABLED).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import ParamSpec, TypeVar

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from webapp.errors import DomainError
from webapp.extensions import limiter

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_FALLBACK_KEY = "pulse_ratelimit_fallback"
# The limits are settings read on every request: parsed once per distinct string.
_parsed = lru_cache(maxsize=32)(parse_many)


def route_limit(
    setting: str, *, methods: list[str] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Flask-Limiter's limit on a route (``limiter.limit``), read from the config key
    ``setting`` on each request; ``methods`` limits only those methods.

    While rate limits are off the route runs without Flask-Limiter's wrapper, which
    even then works out the route's exemptions on every request (some 40 µs of a
    vote's few hundred in Python).
    """

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        limited = limiter.limit(lambda: current_app.config[setting], methods=methods)(view)

        @wraps(view)
        def route(*args: P.args, **kwargs: P.kwargs) -> R:
            if limiter.enabled:
                return limited(*args, **kwargs)
            return view(*args, **kwargs)

        return route

    return decorator


class RateLimited(DomainError):
    code, status = "rate_limited", 429


#: The actions readers repeat: the setting holding each one's limits, and what the
#: refusal says the reader is doing. Withdrawing a vote counts as voting: vote,
#: withdraw, vote again is how a tally is churned, so it is one budget.
ACTIONS: dict[str, tuple[str, str]] = {
    "vote": ("RATELIMIT_VOTE", "voting"),
    "react": ("RATELIMIT_REACT", "voting on comments"),
    "report": ("RATELIMIT_REPORT", "reporting comments"),
    "comment": ("RATELIMIT_COMMENT", "posting"),
}


def limit_action(action: str, *, account: int | None = None, client: str | None = None) -> None:
    """Count one ``action`` (a key of ACTIONS) against its limits, for the account and
    for the client address given (each its own count); raise RateLimited when one is
    spent. The bucket is the action's, not the route's: the API and the HTML form
    for the same action share it."""
    if not limiter.enabled:
        return
    setting, doing = ACTIONS[action]
    limits = current_app.config[setting]
    if account is not None:
        enforce(f"{action}-account", limits, str(account), action=doing)
    if client is not None:
        enforce(f"{action}-client", limits, client, action=doing)


def limit_anonymous_poll_votes(poll_id: int, client: str) -> None:
    """Count one anonymous vote (cast or changed) in the poll ``poll_id`` from one
    client address against RATELIMIT_ANONYMOUS_POLL_VOTES, whichever
    door it came by (the API or the page's form: one count); raise RateLimited when
    spent. On top of the vote budget (limit_action): a script that drops its voter
    cookie to vote again and again gets this many votes an hour into one poll from
    one address, however slowly it goes."""
    if not limiter.enabled:
        return
    enforce(
        "anonymous-poll-votes",
        current_app.config["RATELIMIT_ANONYMOUS_POLL_VOTES"],
        str(poll_id),
        client,
        action="voting in this poll",
    )


def _fallback() -> RateLimiter:
    """Used when the shared store (Redis) is unreachable: limits then count in this
    worker, like Flask-Limiter's own in-memory fallback for the decorated routes. One
    per app (a worker runs one), so counts never leak from one app into another."""
    extensions = current_app.extensions
    strategy: RateLimiter | None = extensions.get(_FALLBACK_KEY)
    if strategy is None:
        strategy = extensions.setdefault(_FALLBACK_KEY, FixedWindowRateLimiter(MemoryStorage()))
    return strategy


def _hit(
    strategy: RateLimiter, item: RateLimitItem, name: str, identity: tuple[str, ...]
) -> float | None:
    """None when allowed, else the time the window resets."""
    if strategy.hit(item, name, *identity):
        return None
    reset_at, _remaining = strategy.get_window_stats(item, name, *identity)
    return reset_at


def enforce(name: str, limits: str, *identity: str, action: str = "doing that") -> None:
    """Count one hit against each of ``limits`` for this identity; raise when one is spent."""
    if not limiter.enabled:
        return
    for item in _parsed(limits):
        try:
            reset_at = _hit(limiter.limiter, item, name, identity)
        except Exception:
            log.warning("rate limit store unavailable; counting %s in this process", name)
            reset_at = _hit(_fallback(), item, name, identity)
        if reset_at is None:
            continue
        wait = max(1, int(reset_at - time.time()) + 1)
        raise RateLimited(
            f"You are {action} too fast; please try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
