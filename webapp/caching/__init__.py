"""Every cache Pulse keeps, in one place: what each holds, its setting, and what it may
serve stale and for how long.

Two mechanisms, one clock (:mod:`webapp.caching.clock`):

- :class:`~webapp.caching.worker.WorkerCache`, a dict per worker process with a lifetime
  per entry; ``changed()`` drops this worker's copy at once and again at commit;
- :mod:`webapp.caching.results`, the poll results cache, shared through Redis when
  ``REDIS_URL`` is set (else per worker), whose tallies never go backwards.

Each cache has its own setting, in seconds; 0 turns that cache off (webapp/config.py,
also read from the environment). What each may serve stale, and for how long:

=========================  ===============================  ===========================
cache (setting)            holds                            may be stale
=========================  ===============================  ===========================
``results``                each poll's options and tallies  up to RESULTS_CACHE_SECONDS
(RESULTS_CACHE_SECONDS)    (API poll/results, the page's    (1 s) behind another
                           poll)                            worker's vote; never lower
                                                            than a figure already shown;
                                                            a vote shows at once on the
                                                            worker (or Redis) that took
                                                            it; withdrawals and edits
                                                            drop the entry everywhere
``RULES``                  moderation settings and word     up to MODERATION_CACHE_SECONDS
(MODERATION_CACHE_SECONDS) lists                            (3 s) on other workers; the
                                                            worker that changed them at
                                                            once
``THREADS``                the thread signed-out readers    a comment published or
(THREAD_CACHE_SECONDS)     get (API list, page section),    removed shows at once (the
                           the sides section, and the       count is in the key; the
                           whole article page readers       whole page's key is the
                           without Pulse's cookies share    article's state); an edit,
                                                            reaction or featuring up to
                                                            THREAD_CACHE_SECONDS (1 s)
                                                            on other workers
``POSTING_ARTICLES``       what posting a comment reads of  never decides alone: the
(POSTING_ARTICLE_CACHE_    its article (id, slug, comment   comment's INSERT checks the
SECONDS)                   mode)                            article is still as read
``NEIGHBOURS``             an article page's previous and   up to NEIGHBOURS_CACHE_SECONDS
(NEIGHBOURS_CACHE_SECONDS) next links                       (1 s) on other workers; the
                                                            editing worker at once
``QUEUE_COUNTS``           the moderators' navigation       up to QUEUE_COUNTS_CACHE_SECONDS
(QUEUE_COUNTS_CACHE_       counts (each queue's size, on    (2 s) on every worker; a
SECONDS)                   every page a moderator views)    decision made from a moderation
                                                            page shows at once in the worker
                                                            that made it; the queues and the
                                                            API's counts are never cached
``TOPIC_WORDS``            each article's topic words       up to TOPIC_WORDS_CACHE_SECONDS
(TOPIC_WORDS_CACHE_        (title, poll, labels and the     (5 s) after an article's edit;
SECONDS)                   site-wide list), which comment   a change to the site-wide list
                           tone is scored without           shows at once in the worker
                                                            that made it
=========================  ===============================  ===========================

Signed-in readers are never served a cached thread (they see their own pending
comments and forms). Nothing here is a source of truth: every write goes to the
database, and each cache is only a copy of what a read found.
"""

from __future__ import annotations

from webapp.caching import results
from webapp.caching.worker import WorkerCache

RULES = WorkerCache("MODERATION_CACHE_SECONDS", 3.0)
THREADS = WorkerCache("THREAD_CACHE_SECONDS", 1.0)
POSTING_ARTICLES = WorkerCache("POSTING_ARTICLE_CACHE_SECONDS", 1.0)
NEIGHBOURS = WorkerCache("NEIGHBOURS_CACHE_SECONDS", 1.0)
QUEUE_COUNTS = WorkerCache("QUEUE_COUNTS_CACHE_SECONDS", 2.0)
TOPIC_WORDS = WorkerCache("TOPIC_WORDS_CACHE_SECONDS", 5.0)

WORKER_CACHES = (RULES, THREADS, POSTING_ARTICLES, NEIGHBOURS, QUEUE_COUNTS, TOPIC_WORDS)


def clear_all() -> None:
    """Drop every cache this worker holds (tests; a worker's copy of Redis stays)."""
    for cache in WORKER_CACHES:
        cache.clear()
    results.clear()


__all__ = [
    "NEIGHBOURS",
    "POSTING_ARTICLES",
    "QUEUE_COUNTS",
    "RULES",
    "THREADS",
    "TOPIC_WORDS",
    "WORKER_CACHES",
    "WorkerCache",
    "clear_all",
    "results",
]
