"""Each worker's copy of the moderation rules (settings and word lists).

Its own module because both sides of the rules change them: ``site_settings`` (the
settings) and ``moderation`` (the word lists, and the checks that read the copy).
Here, below both, neither has to import the other to drop it.
"""

from __future__ import annotations

from webapp.services.worker_cache import WorkerCache

RULES_CACHE = WorkerCache("MODERATION_CACHE_SECONDS", 3.0)


def forget_rules() -> None:
    """Drop this worker's cached rules now and again when the session commits (so a
    request of this worker reading meanwhile cannot keep the old ones)."""
    RULES_CACHE.changed()
