"""Moderation: the checks every comment goes through, the word lists and settings they
read, the moderators' decisions and the queues and log they work from.

- ``rules``: ``assess`` (held, published or refused, and why) and the cached rules;
- ``wordfilter``, ``toxicity``: the text checks ``assess`` uses (pure, no database);
- ``terms``, ``settings``: the word lists and site settings moderators change;
- ``actions``: decisions on comments, bans and unbans;
- ``audit``: the append-only log every change above writes in its own operation;
- ``queues``: what moderators read to decide.

Import what you use from here; ``toxicity`` (the module) is imported by its path.
"""

from __future__ import annotations

from webapp.services.moderation.actions import (
    COMMENT_ACTIONS,
    MAX_BULK,
    MAX_REASON,
    ban,
    decide,
    decide_many,
    may_unban,
    offered_actions,
    unban,
)
from webapp.services.moderation.audit import audit_log, moderators, record
from webapp.services.moderation.queues import (
    MAX_SEARCH,
    QUEUES,
    REASON_FILTERS,
    SEARCH_WINDOW,
    AgeKey,
    AuthorHistory,
    QueueFilters,
    QueueItem,
    QueueKey,
    QueuePage,
    ReportedKey,
    author_histories,
    counter_drift,
    in_queue,
    navigation_counts,
    open_report_counts,
    queue,
    queue_counts,
    queue_filters,
    queue_items,
    queue_page,
    recent_articles,
    recent_comments,
    recount_queues,
    reset_counters,
)
from webapp.services.moderation.rules import (
    Assessment,
    BannedWordUsed,
    Rules,
    assess,
    current_rules,
    is_staff,
    load_rules,
    rejected_since,
)
from webapp.services.moderation.settings import (
    LIMITS,
    SETTING_KINDS,
    ModerationSettings,
    SettingValue,
    check_settings,
    moderation_settings,
    update_moderation_settings,
)
from webapp.services.moderation.terms import MAX_TERM, TERM_KINDS, add_term, remove_term, word_list
from webapp.services.moderation.wordfilter import count_links, find_terms

__all__ = [
    "COMMENT_ACTIONS",
    "LIMITS",
    "MAX_BULK",
    "MAX_REASON",
    "MAX_SEARCH",
    "MAX_TERM",
    "QUEUES",
    "REASON_FILTERS",
    "SEARCH_WINDOW",
    "SETTING_KINDS",
    "TERM_KINDS",
    "AgeKey",
    "Assessment",
    "AuthorHistory",
    "BannedWordUsed",
    "ModerationSettings",
    "QueueFilters",
    "QueueItem",
    "QueueKey",
    "QueuePage",
    "ReportedKey",
    "Rules",
    "SettingValue",
    "add_term",
    "assess",
    "audit_log",
    "author_histories",
    "ban",
    "check_settings",
    "count_links",
    "counter_drift",
    "current_rules",
    "decide",
    "decide_many",
    "find_terms",
    "in_queue",
    "is_staff",
    "load_rules",
    "may_unban",
    "moderation_settings",
    "moderators",
    "navigation_counts",
    "offered_actions",
    "open_report_counts",
    "queue",
    "queue_counts",
    "queue_filters",
    "queue_items",
    "queue_page",
    "recent_articles",
    "recent_comments",
    "record",
    "recount_queues",
    "rejected_since",
    "remove_term",
    "reset_counters",
    "unban",
    "update_moderation_settings",
    "word_list",
]
