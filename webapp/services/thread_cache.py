"""TEMPORARY during the issue 14 move: use webapp.caching (THREADS, POSTING_ARTICLES)."""

from __future__ import annotations

from webapp.caching import POSTING_ARTICLES as ARTICLES
from webapp.caching import THREADS as CACHE

cached = CACHE.get_or_build


def clear() -> None:
    CACHE.clear()
    ARTICLES.clear()


def thread_changed() -> None:
    CACHE.changed()
