"""Poll integrity (issue 16): a poll's integrity report (editors, admins and
moderators) and editors' decisions on its groups of votes (editors and admins).

The decisions and their names are the integrity service's (``ACTIONS``), the groups'
kinds and statuses the model's, so the document and the service cannot disagree.
"""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import SIGNED_IN, UNSAFE, UNSAFE_SIGNED_IN, operation, param
from webapp.api.openapi.primitives import (
    BOOLEAN,
    NUMBER,
    STRING,
    TIME,
    Schema,
    enum_of,
    nullable,
    obj,
    ref,
)
from webapp.models.integrity import GroupKind, GroupStatus
from webapp.services.integrity import ACTIONS
from webapp.services.moderation import MAX_REASON

COUNT: Schema = {"type": "integer", "minimum": 0}

SCHEMAS: dict[str, Schema] = {
    "IntegrityGroup": obj(
        {
            "id": {**STRING, "description": "The group's id, as a string."},
            "status": enum_of(GroupStatus),
            "reason": {**STRING, "description": "One sentence a person can check."},
            "signals": {"type": "array", "items": STRING},
            "votes": COUNT,
            "by_option": {
                "type": "object",
                "additionalProperties": COUNT,
                "description": "The group's votes by option id.",
            },
            "first_at": TIME,
            "last_at": TIME,
            "kind": enum_of(GroupKind),
            "z_score": {
                **NUMBER,
                "description": "Two-proportion z of the group's leading answer against "
                "the rest of the poll.",
            },
            "automatic": {
                **BOOLEAN,
                "description": "Whether the integrity pass set it aside by itself.",
            },
            "decided_at": nullable(TIME),
            "decision_reason": nullable(STRING),
        },
        description="Votes of one poll that share an origin (an address, a network, a "
        "burst of fresh voter cookies, a cohort of new accounts, a burst far above the "
        "poll's own rate).",
    ),
    "IntegrityReport": obj(
        {
            "total": {**COUNT, "description": "Every stored vote."},
            "counted": {**COUNT, "description": "Votes in the public results."},
            "set_aside": {**COUNT, "description": "Votes set aside (kept, not counted)."},
            "groups": {"type": "array", "items": ref("IntegrityGroup")},
            "clean": {**ref("Results"), "description": "Results over counted votes."},
            "raw": {**ref("Results"), "description": "Results over every stored vote."},
            "scanned_at": nullable(TIME),
            "under_attack_since": nullable(TIME),
        },
        description="Groups are listed largest first. `clean` is what the public sees; "
        "`raw` counts the set-aside votes too.",
    ),
    "IntegrityDecision": obj(
        {
            "action": enum_of(ACTIONS),
            "reason": nullable({"type": "string", "maxLength": MAX_REASON}),
        },
        ["action"],
    ),
}

PATHS: dict[str, Any] = {
    "/articles/{slug}/poll/integrity": {
        "parameters": [param("slug")],
        "get": operation(
            "get_integrity",
            "The poll's integrity report (editors, admins, moderators)",
            "polls",
            {200: ref("IntegrityReport")},
            [401, 403, 404],
            security=SIGNED_IN,
            description="All stored votes, counted and set-aside votes, each group of "
            "votes sharing an origin with its reason, and the results with and without "
            "the set-aside votes. Suspect groups are found within 60 seconds of the "
            "votes that make them.",
        ),
    },
    "/articles/{slug}/poll/integrity/groups/{group_id}": {
        "parameters": [param("slug"), param("group_id")],
        "post": operation(
            "decide_integrity_group",
            "Set aside, restore or clear a group of votes (editors, admins)",
            "polls",
            {200: ref("IntegrityGroup")},
            [*UNSAFE, 401, 404, 422],
            security=UNSAFE_SIGNED_IN,
            body="IntegrityDecision",
            description="`set_aside` excludes the group's votes from every public answer "
            "(they are kept); `restore` counts them again; `clear` marks the group as "
            "reviewed and honest. Recorded in the audit log. 404 for a group not of "
            "this poll.",
        ),
    },
}
