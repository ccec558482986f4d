"""Purging the HTTP cache in front of Pulse (Varnish with xkey) when a change must show
at once.

Signed-out pages are cached for ``HTTP_CACHE_SECONDS`` (``webapp.http_cache``): new
comments and results may wait that long. What a moderator or author takes away (a
rejected, deleted or edited comment, an unpublished or edited article, votes set
aside) must not: the service making the change calls ``purge_after_commit`` with the
surrogate keys of the pages that show it, and once the transaction commits, each cache
named in ``HTTP_CACHE_PURGE_URLS`` gets one request::

    PURGE / HTTP/1.1
    xkey-purge: article-12 articles

which drops every cached response carrying one of the keys (deploy/varnish/pulse.vcl).

- After the commit, never before: a reader arriving between the purge and the commit
  would put the old page back in the cache. A rolled-back transaction sends nothing.
- Before the response: the moderator's next page, and everyone's, is fetched afresh.
  The purges are sent in the request that committed, with ``HTTP_CACHE_PURGE_TIMEOUT``
  seconds per cache; a cache that is down or slow is logged (warning) and never fails
  the action, whose change is already stored.
- Nothing is sent, nor recorded, when ``HTTP_CACHE_PURGE_URLS`` is empty.

The listeners are attached to SQLAlchemy's ``Session`` class when this module is
imported, as ``webapp.caching.worker`` and ``webapp.services.integrity.decisions``
do: every session Pulse opens (requests, the CLI, the integrity pass) is one, the
services that call ``purge_after_commit`` import this module, so no ``init_app`` is
needed, and a session that recorded nothing costs one dict lookup per commit.
Savepoints (``begin_nested``) also fire ``after_commit`` and ``after_rollback``: those
are told apart by the session's open savepoint, and only the outermost transaction's
end sends or discards.
"""

from __future__ import annotations

import http.client
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from webapp.extensions import db

logger = logging.getLogger(__name__)

_PENDING = "pulse_http_cache_purges"


@dataclass
class PendingPurge:
    """The keys a transaction will purge, and where to send them (read from the app's
    settings when recorded: the commit may run where there is no app context)."""

    cache_urls: tuple[str, ...]
    timeout: float
    keys: set[str] = field(default_factory=set)


def purge_after_commit(*keys: str) -> None:
    """Purge the cached responses carrying any of ``keys`` once the current database
    transaction commits (nothing if it rolls back, or if no cache is configured)."""
    if not keys or not has_app_context():
        return
    cache_urls = tuple(str(current_app.config.get("HTTP_CACHE_PURGE_URLS") or "").split())
    if not cache_urls:
        return
    session = db.session()
    pending = session.info.get(_PENDING)
    if pending is None:
        timeout = float(current_app.config.get("HTTP_CACHE_PURGE_TIMEOUT") or 2.0)
        pending = session.info[_PENDING] = PendingPurge(cache_urls, timeout)
    pending.keys.update(keys)


def purge_article_after_commit(article_id: int | None, *, lists: bool = False) -> None:
    """Purge the pages showing the article (its page, comments, poll and results, in
    HTML and the API) after the commit; ``lists`` also the lists of articles, for a
    change to what they show of it (published, unpublished, retitled). An article not
    yet flushed has no id and no page of its own in any cache."""
    # Imported here: webapp.http_cache imports webapp.voters, which imports the poll
    # and integrity services, which import this module.
    from webapp.http_cache import ARTICLES_KEY, article_key

    keys = [ARTICLES_KEY] if lists else []
    if article_id is not None:
        keys.append(article_key(article_id))
    purge_after_commit(*keys)


def send_purge(cache_url: str, keys: set[str] | frozenset[str], timeout: float) -> bool:
    """One ``PURGE /`` with ``xkey-purge`` to the cache at ``cache_url``. True when the
    cache answered 2xx; a failure is logged, never raised."""
    header = " ".join(sorted(keys))
    try:
        parts = urlsplit(cache_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) address")
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request("PURGE", "/", headers={"xkey-purge": header})
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
    except (OSError, ValueError, http.client.HTTPException) as exc:
        logger.warning("cache purge of %r at %s failed: %s", header, cache_url, exc)
        return False
    if not 200 <= response.status < 300:
        logger.warning(
            "cache purge of %r at %s answered %s %s",
            header,
            cache_url,
            response.status,
            response.reason,
        )
        return False
    logger.debug("cache purge of %r at %s: %s", header, cache_url, response.status)
    return True


def _in_savepoint(session: Session) -> bool:
    """Whether the commit or rollback being reported is a savepoint's, inside the
    transaction that decides (SQLAlchemy reports both through the same events)."""
    return session.get_nested_transaction() is not None


@event.listens_for(Session, "after_commit")
def _send_purges_after_commit(session: Session) -> None:
    if _PENDING not in session.info or _in_savepoint(session):
        return
    pending: PendingPurge = session.info.pop(_PENDING)
    keys = frozenset(pending.keys)
    for cache_url in pending.cache_urls:
        send_purge(cache_url, keys, pending.timeout)


@event.listens_for(Session, "after_rollback")
def _discard_purges_after_rollback(session: Session) -> None:
    # A savepoint rolled back keeps the keys: the transaction may still commit other
    # changes to the same pages, and a purge too many only costs a cache miss.
    if not _in_savepoint(session):
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _discard_purges_at_end(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without commit or rollback (its connection rolls back) must not
    # carry the keys into its next transaction.
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)
