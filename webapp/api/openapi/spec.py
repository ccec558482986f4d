"""The OpenAPI 3.1 description of /api/v1, served at ``GET /api/v1/openapi.json``.

Built as a plain dict so it can be read, diffed and tested like code: a test checks it
is a valid OpenAPI document and that it names exactly the routes the app registers, so
the two cannot drift apart. Paths are relative to the server URL ``/api/v1``; path
parameters carry the Flask rule's names (``{comment_id}`` where the contract says
``{id}``), which changes nothing for a client.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from webapp.api.openapi import components
from webapp.api.openapi.components import PARAMETERS, RESPONSES, SECURITY_SCHEMES
from webapp.api.openapi.operations import (
    ANYONE,
    LIST,
    SIGNED_IN,
    UNSAFE,
    UNSAFE_ANYONE,
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
from webapp.models import (
    ArticleStatus,
    CommentMode,
    CommentStatus,
    FlagReason,
    ModerationActionKind,
    ResultsVisibility,
    Role,
    TermKind,
)
from webapp.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from webapp.services.articles import MAX_BODY as MAX_ARTICLE
from webapp.services.articles import (
    MAX_LABELS,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MAX_SLUG,
    MAX_SUMMARY,
    MAX_TITLE,
    MIN_OPTIONS,
)
from webapp.services.comments import EDIT_MINUTES, MAX_NOTE, SORTS
from webapp.services.comments import MAX_BODY as MAX_COMMENT
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
    **components.SCHEMAS,
    "CsrfToken": obj({"csrf_token": STRING}),
    "User": obj({"id": INTEGER, "email": STRING, "display_name": STRING, "role": enum_of(Role)}),
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
    "Registration": obj(
        {
            "email": {"type": "string", "format": "email"},
            "password": {
                "type": "string",
                "minLength": MIN_PASSWORD_LENGTH,
                "maxLength": MAX_PASSWORD_LENGTH,
            },
            "display_name": {"type": "string", "minLength": 1, "maxLength": 80},
        }
    ),
    "Credentials": obj({"email": STRING, "password": STRING}),
    "PasswordChange": obj(
        {
            "current_password": STRING,
            "new_password": {
                "type": "string",
                "minLength": MIN_PASSWORD_LENGTH,
                "maxLength": MAX_PASSWORD_LENGTH,
            },
        }
    ),
    "ArticleLink": obj({"slug": STRING, "title": STRING}),
    "PollOption": obj({"id": INTEGER, "label": STRING}),
    "Poll": obj(
        {
            "id": INTEGER,
            "question": STRING,
            "options": {"type": "array", "items": ref("PollOption")},
            "closes_at": nullable(TIME),
            "closed": BOOLEAN,
            "results_visibility": enum_of(ResultsVisibility),
            "allow_anonymous": BOOLEAN,
            "my_vote": nullable(INTEGER),
        }
    ),
    "OptionResult": obj(
        {
            "id": INTEGER,
            "label": STRING,
            "votes": {"type": "integer", "minimum": 0},
            "share": {"type": "number", "minimum": 0, "maximum": 1},
            "ci_low": {"type": "number", "minimum": 0, "maximum": 1},
            "ci_high": {"type": "number", "minimum": 0, "maximum": 1},
        }
    ),
    "Results": obj(
        {
            "total": {"type": "integer", "minimum": 0},
            "options": {"type": "array", "items": ref("OptionResult")},
            "closed": BOOLEAN,
        },
        description="Votes per option; `share` is votes/total, `ci_low`/`ci_high` its 95 % "
        "Wilson score interval.",
    ),
    "VoteAnswer": {
        "description": "The results with `my_vote` when they are visible to this voter, "
        "else only `my_vote`.",
        "anyOf": [
            {"allOf": [ref("Results"), obj({"my_vote": INTEGER})]},
            obj({"my_vote": INTEGER}),
        ],
    },
    "Vote": obj({"option_id": INTEGER}),
    "PollInput": obj(
        {
            "question": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION},
            "options": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_OPTION},
                "minItems": MIN_OPTIONS,
                "maxItems": MAX_OPTIONS,
            },
            "closes_at": nullable(TIME),
            "results_visibility": nullable(
                {**enum_of(ResultsVisibility), "description": "`always` when absent or null."}
            ),
            "allow_anonymous": nullable(BOOLEAN),
        },
        ["question", "options"],
    ),
    "ArticleInput": obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
            "body": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_ARTICLE,
                "description": "Markdown.",
            },
            "slug": nullable(
                {
                    "type": "string",
                    "maxLength": MAX_SLUG,
                    "description": "Lower-case letters, digits and single hyphens "
                    "(trimmed and lower-cased first; 422 otherwise). Made from the title "
                    "when absent.",
                }
            ),
            "summary": nullable({"type": "string", "maxLength": MAX_SUMMARY}),
            "labels": nullable({"type": "array", "items": STRING, "maxItems": MAX_LABELS}),
            "status": nullable(enum_of(ArticleStatus)),
            "comments": nullable(enum_of(CommentMode)),
            "poll": {"anyOf": [ref("PollInput"), {"type": "null"}]},
        },
        [],
        description="An edit sends only what changes (`poll: null` removes a poll "
        "without votes); null leaves the other fields as they are.",
    ),
    "NewArticle": {
        "allOf": [ref("ArticleInput"), {"required": ["title", "body"]}],
        "description": "An article to create: `title` and `body` at least.",
    },
    "Article": obj(
        {
            "id": INTEGER,
            "slug": STRING,
            "title": STRING,
            "summary": STRING,
            "labels": {"type": "array", "items": STRING},
            "status": enum_of(ArticleStatus),
            "comments": enum_of(CommentMode),
            "published_at": nullable(TIME),
            "updated_at": nullable(TIME),
            "author": PERSON,
            "comment_count": {"type": "integer", "minimum": 0},
            "url": STRING,
            "body": STRING,
            "html": {"type": "string", "description": "Sanitised render of the body."},
            "previous": nullable(ref("ArticleLink")),
            "next": nullable(ref("ArticleLink")),
            "poll": nullable(ref("Poll")),
        }
    ),
    "ArticlePage": obj(
        {"items": {"type": "array", "items": ref("Article")}, "next_cursor": nullable(STRING)}
    ),
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
    "Tone": obj(
        {
            "count": INTEGER,
            "mean": {"type": "number", "minimum": -1, "maximum": 1},
            "positive": INTEGER,
            "neutral": INTEGER,
            "negative": INTEGER,
        }
    ),
    "Sentiment": obj(
        {
            "poll": nullable(ref("Results")),
            "comments": ref("Tone"),
            "by_vote": {
                "type": "object",
                "additionalProperties": ref("Tone"),
                "description": "Keyed by poll option id.",
            },
            "no_vote": nullable(ref("Tone")),
            "timeline": {
                "type": "array",
                "items": obj(
                    {
                        "date": {"type": "string", "format": "date"},
                        "votes": {"type": "object", "additionalProperties": INTEGER},
                        "comments": INTEGER,
                        "mean": NUMBER,
                    }
                ),
            },
        },
        ["poll", "comments", "by_vote", "timeline"],
    ),
}
# Settings are sent as a partial object: any of the fields above, nothing else.
SCHEMAS["SettingsPatch"] = {
    **SCHEMAS["Settings"],
    "required": [],
    "additionalProperties": False,
}


def _paths() -> dict[str, Any]:
    return {
        "/openapi.json": {
            "get": operation(
                "openapi",
                "This document",
                "meta",
                {200: {"type": "object"}},
                [],
                security=ANYONE,
            )
        },
        "/csrf": {
            "get": operation(
                "csrf_token",
                "The CSRF token, bound to the session cookie it sets",
                "auth",
                {200: ref("CsrfToken")},
                [],
                security=ANYONE,
            )
        },
        "/auth/register": {
            "post": operation(
                "register",
                "Create a reader account and sign in",
                "auth",
                {201: ref("User")},
                [*UNSAFE, 409, 422],
                security=UNSAFE_ANYONE,
                body="Registration",
                description="409 `email_taken`, or `already_signed_in` when the caller is "
                "signed in (sign out first: registering never switches accounts); 422 for a "
                "password under 10 characters or a bad email.",
            )
        },
        "/auth/login": {
            "post": operation(
                "login",
                "Sign in",
                "auth",
                {200: ref("User")},
                [*UNSAFE, 401],
                security=UNSAFE_ANYONE,
                body="Credentials",
                description="401 `invalid_credentials`, the same for an unknown email and a "
                "wrong password.",
            )
        },
        "/auth/logout": {
            "post": operation(
                "logout",
                "Sign out",
                "auth",
                {204: None},
                [*UNSAFE, 401],
                security=UNSAFE_SIGNED_IN,
                description="Ends the session for good: a copy of its session or remember-me "
                "cookie no longer signs in. Every other session of this user ends too.",
            )
        },
        "/auth/sessions/revoke": {
            "post": operation(
                "revoke_sessions",
                "Sign out everywhere",
                "auth",
                {204: None},
                [*UNSAFE, 401],
                security=UNSAFE_SIGNED_IN,
                description="Ends every session of this user on every device, this one included.",
            )
        },
        "/auth/password": {
            "post": operation(
                "change_password",
                "Change the password",
                "auth",
                {204: None},
                [*UNSAFE, 401, 422],
                security=UNSAFE_SIGNED_IN,
                body="PasswordChange",
                description="Every other session of this user ends; this one stays signed "
                "in (with a new session cookie, and a new remember-me cookie if it had one). "
                "403 `wrong_password` for a wrong current password; 422 for a new password "
                f"under {MIN_PASSWORD_LENGTH} characters (`fields.new_password`).",
            )
        },
        "/auth/me": {
            "get": operation(
                "me",
                "The signed-in user",
                "auth",
                {200: ref("User")},
                [401],
                security=ANYONE,
            )
        },
        "/articles": {
            "get": operation(
                "list_articles",
                "Published articles, newest first",
                "articles",
                {200: ref("ArticlePage")},
                [400, 422],
                security=ANYONE,
                parameters=[query("label", STRING, "A label's slug."), *LIST],
            ),
            "post": operation(
                "create_article",
                "Write an article (editors)",
                "articles",
                {201: ref("Article")},
                [*UNSAFE, 401, 409, 422],
                security=UNSAFE_SIGNED_IN,
                body="NewArticle",
                description="409 `slug_taken`; 422 with `fields` for invalid values.",
            ),
        },
        "/articles/{slug}": {
            "parameters": [param("slug")],
            "get": operation(
                "get_article",
                "One article (editors also see drafts)",
                "articles",
                {200: ref("Article")},
                [404],
                security=ANYONE,
            ),
            "patch": operation(
                "update_article",
                "Change an article (editors)",
                "articles",
                {200: ref("Article")},
                [*UNSAFE, 401, 404, 409, 422],
                security=UNSAFE_SIGNED_IN,
                body="ArticleInput",
            ),
        },
        "/articles/{slug}/poll": {
            "parameters": [param("slug")],
            "get": operation(
                "get_poll",
                "The article's poll",
                "polls",
                {200: ref("Poll")},
                [404],
                security=ANYONE,
            ),
        },
        "/articles/{slug}/poll/votes": {
            "parameters": [param("slug")],
            "post": operation(
                "cast_vote",
                "Vote, or move one's vote",
                "polls",
                {201: ref("VoteAnswer"), 200: ref("VoteAnswer")},
                [*UNSAFE, 401, 404, 409, 422],
                security=UNSAFE_ANYONE,
                body="Vote",
                description="Readers, or anyone when the poll allows anonymous votes (kept in "
                "a signed cookie). 201 for a first vote, 200 for a changed one; 409 "
                "`poll_closed`, or `poll_not_published` for an editor voting on a draft "
                "(its poll takes no votes); 422 for an option not in this poll.",
            ),
        },
        "/articles/{slug}/poll/votes/mine": {
            "parameters": [param("slug")],
            "delete": operation(
                "withdraw_vote",
                "Withdraw one's vote",
                "polls",
                {204: None},
                [*UNSAFE, 404],
                security=UNSAFE_ANYONE,
            ),
        },
        "/articles/{slug}/poll/results": {
            "parameters": [param("slug")],
            "get": operation(
                "get_results",
                "The poll's results",
                "polls",
                {200: ref("Results")},
                [403, 404],
                security=ANYONE,
                description="403 `results_hidden` unless `results_visibility` allows this "
                "visitor; editors and moderators always see them.",
            ),
        },
        "/articles/{slug}/sentiment": {
            "parameters": [param("slug")],
            "get": operation(
                "get_sentiment",
                "The poll, the comments' tone, and the two together",
                "sentiment",
                {200: ref("Sentiment")},
                [403, 404],
                security=ANYONE,
                description="Visible when the poll's results are visible to this visitor "
                "(always without a poll), else 403 `results_hidden`.",
            ),
        },
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
                description="409 `comments_closed`; 422 for an empty body, one over "
                f"{MAX_COMMENT} characters, a banned word, or a parent not on this article.",
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


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Pulse API",
            "version": "1",
            "description": "Closing polls, comments, moderation and sentiment for news "
            "sites. JSON in, JSON out, UTF-8; times are ISO 8601 in UTC. Every error has "
            "the body `Error`. Lists take `?limit=` (default 20, max 100) and an opaque "
            "`?cursor=`, and answer `{items, next_cursor}`.",
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": name}
            for name in ("auth", "articles", "polls", "comments", "sentiment", "moderation")
        ]
        + [{"name": "meta"}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "parameters": PARAMETERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def document() -> dict[str, Any]:
    """A fresh copy of the document, safe for the caller to change."""
    return copy.deepcopy(_document())
