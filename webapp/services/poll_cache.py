"""A short-lived cache of each poll's tallies, so results pages don't hit the database
on every read.

With REDIS_URL set the cache is shared by every worker and a vote clears it for all of
them at once; without Redis each worker keeps its own and another worker's vote shows
once the entry expires (RESULTS_CACHE_SECONDS, 1 s by default). A vote shows at once
in the cache it went through (the shared one with Redis): it replaces the entry with
the poll it read and its own vote, or, made on the cached poll, adds itself to the
entry without extending its life, so a cached answer is never older than the
setting (webapp.services.polls.vote_committed).

A worker's own cache keeps the value as given (an immutable poll state, ready to use);
Redis keeps it as JSON, through the ``encode`` and ``decode`` the caller passes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

_local: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}
_redis_down_until = 0.0


def _ttl() -> float:
    return float(current_app.config.get("RESULTS_CACHE_SECONDS", 1.0))


def _redis() -> Any | None:
    global _redis_down_until
    url = current_app.config.get("REDIS_URL")
    if not url or time.monotonic() < _redis_down_until:
        return None
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
        _redis_clients[url] = client
    return client


def _redis_failed(exc: Exception) -> None:
    global _redis_down_until
    # Try again in a few seconds; meanwhile the per-worker cache carries on.
    _redis_down_until = time.monotonic() + 5
    log.warning("results cache: Redis unavailable (%s); caching per worker", exc)


def _key(slug: str) -> str:
    return f"pulse:poll:{slug}"


Encode = Callable[[Any], Any]  # value -> JSON-able
Decode = Callable[[Any], Any]  # JSON-able -> value


def get(slug: str, decode: Decode) -> Any | None:
    """The value cached for ``slug``, or None."""
    ttl = _ttl()
    if ttl <= 0:
        return None
    client = _redis()
    if client is not None:
        try:
            raw = client.get(_key(slug))
        except Exception as exc:
            _redis_failed(exc)
        else:
            return decode(json.loads(raw)) if raw is not None else None
    with _lock:
        entry = _local.get(slug)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def put(slug: str, value: Any, encode: Encode) -> None:
    ttl = _ttl()
    if ttl <= 0:
        return
    client = _redis()
    if client is not None:
        try:
            client.set(_key(slug), json.dumps(encode(value)), px=max(1, int(ttl * 1000)))
            return
        except Exception as exc:
            _redis_failed(exc)
    with _lock:
        if len(_local) > 10_000:
            _local.clear()
        _local[slug] = (time.monotonic() + ttl, value)


def replace(slug: str, value: Any, encode: Encode) -> None:
    """Change the value cached for ``slug``, keeping the time it expires; nothing when
    nothing is cached (a value that never expired could drift from the database)."""
    if _ttl() <= 0:
        return
    client = _redis()
    if client is not None:
        try:
            # XX: only an existing key, which always has an expiry; KEEPTTL keeps it.
            client.set(_key(slug), json.dumps(encode(value)), xx=True, keepttl=True)
            return
        except Exception as exc:
            _redis_failed(exc)
    with _lock:
        entry = _local.get(slug)
        if entry is not None and entry[0] >= time.monotonic():
            _local[slug] = (entry[0], value)


def forget(slug: str) -> None:
    with _lock:
        _local.pop(slug, None)
    client = _redis()
    if client is not None:
        try:
            client.delete(_key(slug))
        except Exception as exc:
            _redis_failed(exc)


def clear() -> None:
    with _lock:
        _local.clear()
