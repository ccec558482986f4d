"""Moderation (moderators): the queues, decisions on comments, bans, the audit log,
the settings and the word lists.

The settings' types and bounds are the moderation service's (``SETTING_KINDS``,
``LIMITS``), so the document and the service cannot disagree.
"""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import (
    LIST,
    SIGNED_IN,
    UNSAFE,
    UNSAFE_SIGNED_IN,
    operation,
    param,
    query,
)
from webapp.api.openapi.primitives import (
    BOOLEAN,
    ID,
    INTEGER,
    NUMBER,
    PERSON,
    STRING,
    TIME,
    Schema,
    enum_of,
    nullable,
    obj,
    ref,
)
from webapp.models import FlagReason, ModerationActionKind, TermKind
from webapp.services.moderation import (
    COMMENT_ACTIONS,
    LIMITS,
    MAX_BULK,
    MAX_REASON,
    MAX_TERM,
    QUEUES,
    SETTING_KINDS,
)


def _setting(name: str, kind: type) -> Schema:
    """A moderation setting's schema: its type, and for a number the bounds the service
    keeps (``LIMITS``), so the document and the service cannot disagree."""
    if kind is bool:
        return BOOLEAN
    low, high = LIMITS[name]
    return {
        "type": "integer" if kind is int else "number",
        "minimum": int(low) if float(low).is_integer() else low,
        "maximum": int(high) if float(high).is_integer() else high,
    }


SCHEMAS: dict[str, Schema] = {
    "BannedUser": {
        "allOf": [
            ref("User"),
            obj(
                {
                    "banned": BOOLEAN,
                    "banned_at": nullable(TIME),
                    "banned_until": nullable(TIME),
                    "ban_reason": nullable(STRING),
                }
            ),
        ]
    },
    "QueueItem": {
        "allOf": [
            ref("Comment"),
            obj(
                {
                    "body": STRING,
                    "article": ref("ArticleLink"),
                    "flags": {
                        "type": "array",
                        "items": obj({"reason": enum_of(FlagReason), "count": INTEGER}),
                    },
                    "flag_count": INTEGER,
                    # Readers who reported it since a moderator last decided on it.
                    "open_reports": INTEGER,
                    "report_notes": {
                        "type": "array",
                        "items": obj({"reason": enum_of(FlagReason), "note": STRING}),
                    },
                    "reasons_held": {"type": "array", "items": STRING},
                    "toxicity": nullable(NUMBER),
                    "sentiment": nullable(NUMBER),
                    "sentiment_label": nullable(STRING),
                    "rejection_reason": nullable(STRING),
                    "reported_at": nullable(TIME),
                    "moderated_at": nullable(TIME),
                    "parent": nullable(obj({"id": INTEGER, "author": STRING, "html": STRING})),
                    "author_history": obj(
                        {
                            "comments": INTEGER,
                            "published": INTEGER,
                            "rejected": INTEGER,
                            "flags_received": INTEGER,
                            "joined_at": TIME,
                            "account_age_days": INTEGER,
                            "banned": BOOLEAN,
                        }
                    ),
                }
            ),
        ]
    },
    "QueuePage": obj(
        {
            "items": {"type": "array", "items": ref("QueueItem")},
            "next_cursor": nullable(STRING),
            "counts": obj({name: INTEGER for name in QUEUES}),
        }
    ),
    "Decision": obj(
        {
            "action": enum_of(COMMENT_ACTIONS),
            "reason": nullable({"type": "string", "maxLength": MAX_REASON}),
        },
        ["action"],
    ),
    "BulkDecision": obj(
        {
            "ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": MAX_BULK},
            "action": enum_of(COMMENT_ACTIONS),
            "reason": nullable({"type": "string", "maxLength": MAX_REASON}),
        },
        ["ids", "action"],
    ),
    "BulkDecided": obj({"items": {"type": "array", "items": ref("QueueItem")}}),
    "Ban": obj(
        {
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON},
            "until": nullable(TIME),
        },
        ["reason"],
    ),
    "Unban": obj({"reason": nullable({"type": "string", "maxLength": MAX_REASON})}, []),
    "LogEntry": obj(
        {
            "id": INTEGER,
            "action": enum_of(ModerationActionKind),
            "moderator": PERSON,
            "comment_id": nullable(INTEGER),
            "user": nullable(PERSON),
            "reason": nullable(STRING),
            "details": {"type": ["object", "null"]},
            "created_at": TIME,
        }
    ),
    "LogPage": obj(
        {"items": {"type": "array", "items": ref("LogEntry")}, "next_cursor": nullable(STRING)}
    ),
    "Settings": obj({name: _setting(name, kind) for name, kind in SETTING_KINDS.items()}),
    "Term": obj({"id": INTEGER, "term": STRING, "kind": enum_of(TermKind)}),
    "TermList": obj({"items": {"type": "array", "items": ref("Term")}}),
    "NewTerm": obj(
        {
            "term": {"type": "string", "minLength": 1, "maxLength": MAX_TERM},
            "kind": enum_of(TermKind),
        }
    ),
}
# Settings are sent as a partial object: any of the fields above, nothing else.
SCHEMAS["SettingsPatch"] = {
    **SCHEMAS["Settings"],
    "required": [],
    "additionalProperties": False,
}

PATHS: dict[str, Any] = {
    "/moderation/queue": {
        "get": operation(
            "moderation_queue_list",
            "A moderation queue, oldest first (moderators)",
            "moderation",
            {200: ref("QueuePage")},
            [400, 401, 403, 422],
            security=SIGNED_IN,
            parameters=[
                query("status", {**enum_of(QUEUES), "default": "pending"}),
                *LIST,
            ],
        ),
    },
    "/moderation/comments": {
        "post": operation(
            "moderate_comments",
            "One decision on several comments, all or none (moderators)",
            "moderation",
            {200: ref("BulkDecided")},
            [*UNSAFE, 401, 404, 409, 422],
            security=UNSAFE_SIGNED_IN,
            body="BulkDecision",
        ),
    },
    "/moderation/comments/{comment_id}": {
        "parameters": [param("comment_id")],
        "post": operation(
            "moderate_comment",
            "Approve, reject, feature or unfeature a comment (moderators)",
            "moderation",
            {200: ref("QueueItem")},
            [*UNSAFE, 401, 404, 409, 422],
            security=UNSAFE_SIGNED_IN,
            body="Decision",
        ),
    },
    "/moderation/users/{user_id}/ban": {
        "parameters": [param("user_id")],
        "post": operation(
            "ban_user",
            "Ban a reader from writing, until a time or for good (moderators)",
            "moderation",
            {200: ref("BannedUser")},
            [*UNSAFE, 401, 404, 422],
            security=UNSAFE_SIGNED_IN,
            body="Ban",
            description="A banned user can read but gets 403 `banned` on every write. "
            "Only admins ban staff; nobody bans an admin or themselves (403).",
        ),
    },
    "/moderation/users/{user_id}/unban": {
        "parameters": [param("user_id")],
        "post": operation(
            "unban_user",
            "Lift a ban (moderators)",
            "moderation",
            {200: ref("BannedUser")},
            [*UNSAFE, 401, 404, 409, 422],
            security=UNSAFE_SIGNED_IN,
            body="Unban",
            body_required=False,
        ),
    },
    "/moderation/log": {
        "get": operation(
            "moderation_log",
            "The audit log, newest first (moderators)",
            "moderation",
            {200: ref("LogPage")},
            [400, 401, 403, 422],
            security=SIGNED_IN,
            parameters=[
                query("action", enum_of(ModerationActionKind)),
                query("moderator_id", ID),
                query("user_id", ID),
                query("comment_id", ID),
                *LIST,
            ],
        ),
    },
    "/moderation/settings": {
        "get": operation(
            "get_settings",
            "The moderation settings (moderators)",
            "moderation",
            {200: ref("Settings")},
            [401, 403],
            security=SIGNED_IN,
        ),
        "patch": operation(
            "patch_settings",
            "Change some moderation settings (moderators)",
            "moderation",
            {200: ref("Settings")},
            [*UNSAFE, 401, 422],
            security=UNSAFE_SIGNED_IN,
            body="SettingsPatch",
        ),
    },
    "/moderation/terms": {
        "get": operation(
            "list_terms",
            "The banned and suspect word lists (moderators)",
            "moderation",
            {200: ref("TermList")},
            [401, 403],
            security=SIGNED_IN,
        ),
        "post": operation(
            "add_term",
            "Add a word, or change its kind (moderators)",
            "moderation",
            {201: ref("Term")},
            [*UNSAFE, 401, 422],
            security=UNSAFE_SIGNED_IN,
            body="NewTerm",
        ),
    },
    "/moderation/terms/{term_id}": {
        "parameters": [param("term_id")],
        "delete": operation(
            "delete_term",
            "Remove a word (moderators)",
            "moderation",
            {204: None},
            [*UNSAFE, 401, 404],
            security=UNSAFE_SIGNED_IN,
        ),
    },
}
