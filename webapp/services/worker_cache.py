"""TEMPORARY during the issue 14 move: use webapp.caching."""

from webapp.caching.worker import WorkerCache  # noqa: F401
