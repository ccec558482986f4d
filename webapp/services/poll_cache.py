"""TEMPORARY during the issue 14 move: use webapp.caching.results."""

from webapp.caching.results import clear, enabled, forget, offer, read  # noqa: F401
