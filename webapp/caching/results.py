"""The results cache: each poll's tallies kept a moment, so results pages don't hit
the database on every read, with totals that never go backwards.

With REDIS_URL set the cache is shared by every worker; without Redis each worker
keeps its own (and another worker's vote shows there once its entry goes stale).
An entry is served for RESULTS_CACHE_SECONDS (1 s by default) after the database
read that filled it; a vote shows in it at once without making it any younger.

What makes the totals monotonic: a database read or a vote never *replaces* the
entry with what it saw. It *offers* it (:func:`offer`), and the entry takes, per
option, the higher of what it holds and what is offered, atomically (a Lua script in
Redis, a lock per worker). Every tally offered is a count of committed votes, so
never above the truth, and every answer shows the entry as it is after its own
offer; so an answer never shows less than one that finished before it started.
Two concurrent voters can no longer each write back "what I read, plus me" over
the other's vote: the vote offers its option's tally as the database counted it
with that vote in (webapp.services.polls), and the higher one stays.

Taking the higher tally is only right while tallies only grow. What lowers one (a
vote moved or withdrawn, a poll edited, closed or unpublished) calls :func:`forget`,
which leaves a tombstone: offers of anything read before it are refused, so a slow
request cannot bring back the old figures. An offer whose read started after the
entry's last change replaces the tallies outright (it has seen everything the entry
holds), which is how a worker's own cache catches up with a vote withdrawn through
another worker. Entries are kept (not served) for KEEP after their last change, so
that an old read that arrives after an entry went stale is still merged, not
taken as is; a read older than that with nothing held is not cached at all.

``read`` gives the value together with a token (when it looked, in the store's
clock); the caller offers what it reads next with that token. A worker's own cache
keeps the value as given (an immutable poll state, ready to use); Redis keeps it as
a hash: the value as JSON (``encode``/``decode``) and one field per option's tally.
The value must have ``tallies() -> {option id: count}`` and
``with_tallies(tallies) -> value``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from webapp.caching import clock

log = logging.getLogger(__name__)

Encode = Callable[[Any], Any]  # value -> JSON-able
Decode = Callable[[Any], Any]  # JSON-able -> value


def _ttl() -> float:
    return float(current_app.config.get("RESULTS_CACHE_SECONDS", 1.0))


def _keep(ttl: float) -> float:
    """How long an entry is kept after its last change: far longer than any read takes."""
    return max(30.0, 2 * ttl)


def enabled() -> bool:
    return _ttl() > 0


@dataclass(frozen=True)
class Token:
    """When a request looked at the cache, in the clock of the store it looked in
    (Redis's, in ms, or this worker's, in µs): what its later offer is ordered by."""

    store: str
    at: int


@dataclass(frozen=True)
class Lookup:
    #: What is cached and may be served, or None.
    value: Any | None
    #: For the offer of what the request reads next; None when the cache is off.
    token: Token | None


# --- this worker's own cache ------------------------------------------------------


@dataclass(frozen=True)
class _Held:
    value: Any | None  # None: nothing held (a tombstone, or only ever offered stale)
    fresh_until: int  # µs; served until then
    changed_at: int  # µs; the last offer taken
    forgotten_at: int  # µs; offers of reads from before this are refused


_LOCAL = "local"
_local: dict[str, _Held] = {}
_lock = threading.Lock()
_MAX_LOCAL = 10_000


def _now_us() -> int:
    return round(clock.now() * 1_000_000)


def _local_read(slug: str) -> Lookup:
    now = _now_us()
    held = _local.get(slug)  # a dict read is atomic; entries are never changed in place
    if held is not None and held.value is not None and held.fresh_until > now:
        return Lookup(held.value, Token(_LOCAL, now))
    return Lookup(None, Token(_LOCAL, now))


def _merged(held: Any, offered: Any) -> Any:
    """``offered`` with each tally raised to what ``held`` has for that option."""
    holds = held.tallies()
    tallies = offered.tallies()
    raised = {
        option: holds[option]
        for option, count in tallies.items()
        if holds.get(option, count) > count
    }
    return offered.with_tallies(raised) if raised else offered


def _local_offer(slug: str, at: int, value: Any, ttl: float, fresh: bool) -> Any | None:
    ttl_us, keep_us = int(ttl * 1e6), int(_keep(ttl) * 1e6)
    with _lock:
        now = _now_us()
        held = _local.get(slug)
        if held is None:
            if at < now - keep_us:
                return None  # read before anything held now could say it was stale
            held = _Held(None, 0, 0, 0)
        if at <= held.forgotten_at:
            return None
        # Read after the last change, it saw all that is held: taken as is.
        saw_all = held.value is None or at > held.changed_at
        taken = value if saw_all else _merged(held.value, value)
        fresh_until = max(held.fresh_until, at + ttl_us) if fresh else held.fresh_until
        if len(_local) >= _MAX_LOCAL and slug not in _local:
            _make_room(now - keep_us)
        _local[slug] = _Held(taken, fresh_until, now, held.forgotten_at)
        return taken


def _make_room(unchanged_since: int) -> None:
    """Called with the lock held: drop what is no longer kept, else everything."""
    for slug in [s for s, held in _local.items() if held.changed_at < unchanged_since]:
        del _local[slug]
    if len(_local) >= _MAX_LOCAL:
        _local.clear()


def _local_forget(slug: str) -> None:
    with _lock:
        now = _now_us()
        if len(_local) >= _MAX_LOCAL and slug not in _local:
            _make_room(now - int(_keep(_ttl()) * 1e6))
        _local[slug] = _Held(None, 0, now, now)


# --- Redis, shared by every worker ---------------------------------------------------

_redis_clients: dict[str, Any] = {}
_scripts: dict[str, tuple[Any, Any, Any]] = {}
_redis_down_until = 0.0

# The hash: "value" (the caller's JSON), "c:<option id>" (tallies), "fresh" (served
# until), "changed" (the last offer taken), "forgotten" (the tombstone); times in ms
# of Redis's clock, which every worker shares.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_READ = (
    _NOW
    + """
return {now, redis.call('HGETALL', KEYS[1])}
"""
)

# ARGV: token (ms), ttl (ms; 0 when the offer is not a database read), keep (ms),
# the value's JSON, then option id and tally pairs.
_OFFER = (
    _NOW
    + """
local function num(v) if v then return tonumber(v) end return 0 end
local key, token, keep = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'forgotten', 'changed', 'fresh', 'value')
local forgotten, changed, fresh = num(state[1]), num(state[2]), num(state[3])
if token <= forgotten then return false end
if changed == 0 and token < now - keep then return false end
local replace = (not state[4]) or token > changed
local fields = {'changed', now, 'value', ARGV[4]}
for i = 5, #ARGV, 2 do
  local field, count = 'c:' .. ARGV[i], tonumber(ARGV[i + 1])
  if not replace then
    local held = tonumber(redis.call('HGET', key, field) or '-1')
    if held > count then count = held end
  end
  fields[#fields + 1] = field
  fields[#fields + 1] = count
end
local ttl = tonumber(ARGV[2])
if ttl > 0 and token + ttl > fresh then
  fields[#fields + 1] = 'fresh'
  fields[#fields + 1] = token + ttl
end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIRE', key, keep)
return redis.call('HGETALL', key)
"""
)

_FORGET = (
    _NOW
    + """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'forgotten', now, 'changed', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
"""
)


def _redis() -> tuple[str, Any, tuple[Any, Any, Any]] | None:
    global _redis_down_until
    url = current_app.config.get("REDIS_URL")
    if not url or time.monotonic() < _redis_down_until:
        return None
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
        _redis_clients[url] = client
        _scripts[url] = tuple(client.register_script(s) for s in (_READ, _OFFER, _FORGET))  # type: ignore[assignment]
    return url, client, _scripts[url]


def _redis_failed(exc: Exception) -> None:
    global _redis_down_until
    # Try again in a few seconds; meanwhile the per-worker cache carries on.
    _redis_down_until = time.monotonic() + 5
    log.warning("results cache: Redis unavailable (%s); caching per worker", exc)


def _key(slug: str) -> str:
    # Not the old "pulse:poll:" string entries: a hash under that name would be
    # WRONGTYPE to a worker of the previous release during a deploy.
    return f"pulse:results:{slug}"


def _from_hash(flat: list[bytes], decode: Decode) -> tuple[Any | None, int]:
    """(the value with its tallies, served until) from HGETALL's answer."""
    fields = {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
    raw = fields.get(b"value")
    if raw is None:
        return None, 0
    tallies = {int(k[2:]): int(v) for k, v in fields.items() if k.startswith(b"c:")}
    value = decode(json.loads(raw))
    return value.with_tallies(tallies) if tallies else value, int(fields.get(b"fresh", 0))


# --- what callers use ------------------------------------------------------------------


def read(slug: str, decode: Decode) -> Lookup:
    """What is cached for ``slug`` (or None), and the token to offer the next read with."""
    if _ttl() <= 0:
        return Lookup(None, None)
    redis = _redis()
    if redis is not None:
        url, _client, (read_script, _, _) = redis
        try:
            now, flat = read_script(keys=[_key(slug)])
        except Exception as exc:
            _redis_failed(exc)
        else:
            value, fresh_until = _from_hash(flat, decode)
            token = Token(url, int(now))
            return Lookup(value if fresh_until > int(now) else None, token)
    return _local_read(slug)


def offer(
    slug: str, token: Token | None, value: Any, encode: Encode, decode: Decode, *, fresh: bool
) -> Any | None:
    """Offer what was read (or counted) after ``token`` was taken: returns the entry as
    it is now, never lower than ``value``'s tallies nor than what it held, to show as
    is; None when the offer was refused (read before a change that lowered
    tallies, or the cache is off) and the caller shows ``value``.

    ``fresh``: the value was read from the database after the token was taken, so the
    entry may be served RESULTS_CACHE_SECONDS from then; otherwise (a vote counted on
    a cached poll) the entry is served no longer than it already was.
    """
    ttl = _ttl()
    if token is None or ttl <= 0:
        return None
    if token.store == _LOCAL:
        return _local_offer(slug, token.at, value, ttl, fresh)
    redis = _redis()
    if redis is None or redis[0] != token.store:
        return None  # Redis went away meanwhile: the token means nothing to this worker
    _url, _client, (_, offer_script, _) = redis
    args: list[Any] = [
        token.at,
        int(ttl * 1000) if fresh else 0,
        int(_keep(ttl) * 1000),
        json.dumps(encode(value)),
    ]
    for option, count in value.tallies().items():
        args += [option, count]
    try:
        flat = offer_script(keys=[_key(slug)], args=args)
    except Exception as exc:
        _redis_failed(exc)
        return None
    if not flat:
        return None
    return _from_hash(flat, decode)[0]


def forget(slug: str) -> None:
    """Something lowered a tally or changed the poll: stop serving the entry, and
    refuse offers of anything read before now."""
    if _ttl() <= 0:
        return
    _local_forget(slug)
    redis = _redis()
    if redis is not None:
        _url, _client, (_, _, forget_script) = redis
        try:
            forget_script(keys=[_key(slug)], args=[int(_keep(_ttl()) * 1000)])
        except Exception as exc:
            _redis_failed(exc)


def clear() -> None:
    with _lock:
        _local.clear()
