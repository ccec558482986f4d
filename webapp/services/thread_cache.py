"""What anonymous readers get of a thread, kept a moment per worker.

Every signed-out reader of an article sees the same thread: the API's list of its
comments, and the comments section of its page (without forms or anything of a
reader's own). So each worker keeps what it answered them for a moment
(``THREAD_CACHE_SECONDS``, 1 s by default; 0 turns it off), keyed by the article, its
published-comment count and comment mode (read with the article on every request
anyway) and the request's sort, page and size:

- a comment published or removed anywhere changes the count, so every worker shows it
  at once;
- any other change to a thread (an edit, a reaction, a moderator featuring a comment)
  clears the cache of the worker that made it at once (and again when it commits), and
  shows on the other workers once their copy expires, within that moment.

Signed-in readers, who see their own pending comments and the forms under every
comment, are never served from it. Each worker keeps its own copy (nothing is shared
through Redis: the count in the key already carries the change readers wait for).

``ARTICLES`` keeps, for the same moment, what posting a comment needs of the article a
slug names (``webapp.services.comments.article_for_posting``). It never decides
anything alone: the comment's INSERT checks that the article is still as read, and a
comment to an article changed meanwhile is prepared again from a fresh read.
"""

from __future__ import annotations

from webapp.services.worker_cache import WorkerCache

CACHE = WorkerCache("THREAD_CACHE_SECONDS", 1.0)
ARTICLES = WorkerCache("THREAD_CACHE_SECONDS", 1.0)

#: The value kept for a key, or the builder's, kept for the next signed-out readers.
cached = CACHE.get_or_build


def clear() -> None:
    CACHE.clear()
    ARTICLES.clear()


def thread_changed() -> None:
    """A comment changed: drop this worker's threads now, and again when the session
    commits (so a read in between cannot keep the old thread)."""
    CACHE.changed()
