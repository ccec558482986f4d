"""Comments: the thread, posting and replying, editing, deleting, reporting and
voting on a comment.
"""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import (
    ANYONE,
    LIST,
    UNSAFE,
    UNSAFE_SIGNED_IN,
    operation,
    param,
    query,
)
from webapp.api.openapi.primitives import (
    BOOLEAN,
    INTEGER,
    STRING,
    TIME,
    Schema,
    enum_of,
    nullable,
    obj,
    ref,
)
from webapp.models import CommentStatus, FlagReason, Role
from webapp.services.comments import EDIT_MINUTES, MAX_NOTE, SORTS
from webapp.services.comments import MAX_BODY as MAX_COMMENT

SCHEMAS: dict[str, Schema] = {
    "Comment": obj(
        {
            "id": INTEGER,
            "parent_id": nullable(INTEGER),
            "thread_parent_id": nullable(INTEGER),
            "author": obj(
                {
                    "id": nullable(INTEGER),
                    "display_name": STRING,
                    "role": {
                        "type": ["string", "null"],
                        "enum": [*(role.value for role in Role), None],
                        "description": "The author's role (staff show a badge); "
                        "null for a deleted comment.",
                    },
                }
            ),
            "html": STRING,
            "created_at": TIME,
            "edited_at": nullable(TIME),
            "featured": BOOLEAN,
            "score": INTEGER,
            "status": enum_of(CommentStatus),
            "deleted": BOOLEAN,
            "in_reply_to": nullable(obj({"id": INTEGER, "display_name": STRING})),
        }
    ),
    "ThreadComment": {
        "allOf": [
            ref("Comment"),
            obj(
                {
                    "author_vote": {
                        "type": ["string", "null"],
                        "description": "The label of the option its author voted for; "
                        "null when they did not vote, or while the poll's results are "
                        "hidden from this reader (an answer would give them away).",
                    },
                    "my_reaction": {"type": "integer", "enum": [-1, 0, 1]},
                    "can_edit": BOOLEAN,
                    "common_ground": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "How readers of different poll answers value it: "
                        "above 0 only when readers of two or more answers approve "
                        "(webapp/services/comments/common_ground.py has the formula).",
                    },
                    "replies": {"type": "array", "items": ref("ThreadComment")},
                }
            ),
        ]
    },
    "CommentPage": obj(
        {
            "items": {"type": "array", "items": ref("ThreadComment")},
            "next_cursor": nullable(STRING),
        }
    ),
    "NewComment": obj(
        {
            "body": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT},
            "parent_id": nullable(INTEGER),
            "notify_replies": {
                "type": "boolean",
                "description": "Mail me when someone replies to this comment; absent: "
                "the account's default (/account/notifications).",
            },
        },
        ["body"],
    ),
    "PostedComment": {
        "allOf": [
            ref("Comment"),
            obj({"reasons_held": {"type": "array", "items": STRING}}),
        ]
    },
    "CommentEdit": obj({"body": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT}}),
    "Flag": obj(
        {
            "reason": enum_of(FlagReason),
            "note": nullable(
                {"type": "string", "description": f"Kept to its first {MAX_NOTE} characters."}
            ),
        },
        ["reason"],
    ),
    "Flagged": obj({"flagged": BOOLEAN, "created": BOOLEAN}),
    "Reaction": obj({"value": {"type": "integer", "enum": [-1, 0, 1]}}),
    "Score": obj({"score": INTEGER, "my_reaction": {"type": "integer", "enum": [-1, 0, 1]}}),
}

# A retried POST (a dropped connection, a double submit) finds the comment the first
# one stored: keys are per author, kept a day (webapp/services/comments/undo.py,
# POST_KEY_DAYS).
IDEMPOTENCY_KEY: Schema = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string per comment the client means to post (a UUID, "
    "say); 8 to 80 letters, digits, '-', '_', '.' or ':'. A malformed key is ignored.",
    "schema": {"type": "string", "minLength": 8, "maxLength": 80},
}

PATHS: dict[str, Any] = {
    "/articles/{slug}/comments": {
        "parameters": [param("slug")],
        "get": operation(
            "list_comments",
            "Published comments, top-level ones paginated, replies nested",
            "comments",
            {200: ref("CommentPage")},
            [400, 404, 422],
            security=ANYONE,
            parameters=[
                query("sort", {"type": "string", "enum": list(SORTS), "default": "oldest"}),
                query("featured", BOOLEAN, "Only featured comments."),
                *LIST,
            ],
        ),
        "post": operation(
            "post_comment",
            "Comment, or reply",
            "comments",
            {201: ref("PostedComment")},
            [*UNSAFE, 401, 404, 409, 422],
            security=UNSAFE_SIGNED_IN,
            body="NewComment",
            parameters=[IDEMPOTENCY_KEY],
            description="409 `comments_closed`; 422 for an empty body, one over "
            f"{MAX_COMMENT} characters, a banned word, or a parent not on this article. "
            "Sent again with the same `Idempotency-Key`, the POST answers 201 with the "
            "comment the first one stored, stores nothing and costs no rate limit.",
        ),
    },
    "/comments/{comment_id}": {
        "parameters": [param("comment_id")],
        "patch": operation(
            "edit_comment",
            f"Edit one's comment within {EDIT_MINUTES} minutes",
            "comments",
            {200: ref("Comment")},
            [*UNSAFE, 401, 404, 422],
            security=UNSAFE_SIGNED_IN,
            body="CommentEdit",
            description="403 after the window (`edit_window_over`) or for others.",
        ),
        "delete": operation(
            "delete_comment",
            "Delete a comment (its author or a moderator)",
            "comments",
            {204: None},
            [*UNSAFE, 401, 404],
            security=UNSAFE_SIGNED_IN,
        ),
    },
    "/comments/{comment_id}/flags": {
        "parameters": [param("comment_id")],
        "post": operation(
            "flag_comment",
            "Report a comment",
            "comments",
            {201: ref("Flagged"), 200: ref("Flagged")},
            [*UNSAFE, 401, 404, 422],
            security=UNSAFE_SIGNED_IN,
            body="Flag",
            description="201 for a new report; 200 when this user already reported it "
            "(counted once).",
        ),
    },
    "/comments/{comment_id}/votes": {
        "parameters": [param("comment_id")],
        "post": operation(
            "react_to_comment",
            "Vote a comment up (1), down (-1), or take the vote back (0)",
            "comments",
            {200: ref("Score")},
            [*UNSAFE, 401, 404, 422],
            security=UNSAFE_SIGNED_IN,
            body="Reaction",
        ),
    },
}
