"""TEMPORARY during the issue 14 move: use webapp.caching.RULES."""

from __future__ import annotations

from webapp.caching import RULES as RULES_CACHE


def forget_rules() -> None:
    RULES_CACHE.changed()
