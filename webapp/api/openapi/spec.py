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
from webapp.pagination import DEFAULT_LIMIT, MAX_LIMIT
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

JSON = "application/json"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    nullable = copy.deepcopy(schema)
    nullable["type"] = [schema["type"], "null"]
    if "enum" in nullable:
        nullable["enum"] = [*nullable["enum"], None]
    return nullable


def _object(
    properties: dict[str, Schema], required: list[str] | None = None, **extra: Any
) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required is None:
        required = list(properties)
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def _enum(values: Any) -> Schema:
    return {"type": "string", "enum": [str(getattr(v, "value", v)) for v in values]}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
ID: Schema = {"type": "integer", "minimum": 1}
PERSON = _object({"id": INTEGER, "display_name": STRING})


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
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "message": STRING,
                    "fields": {
                        "type": "object",
                        "additionalProperties": STRING,
                        "description": "What is wrong with each field; validation errors only.",
                    },
                },
                ["code", "message"],
            )
        },
        description="The body of every error, whatever the status.",
    ),
    "CsrfToken": _object({"csrf_token": STRING}),
    "User": _object({"id": INTEGER, "email": STRING, "display_name": STRING, "role": _enum(Role)}),
    "BannedUser": {
        "allOf": [
            _ref("User"),
            _object(
                {
                    "banned": BOOLEAN,
                    "banned_at": _nullable(TIME),
                    "banned_until": _nullable(TIME),
                    "ban_reason": _nullable(STRING),
                }
            ),
        ]
    },
    "Registration": _object(
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
    "Credentials": _object({"email": STRING, "password": STRING}),
    "PasswordChange": _object(
        {
            "current_password": STRING,
            "new_password": {
                "type": "string",
                "minLength": MIN_PASSWORD_LENGTH,
                "maxLength": MAX_PASSWORD_LENGTH,
            },
        }
    ),
    "ArticleLink": _object({"slug": STRING, "title": STRING}),
    "PollOption": _object({"id": INTEGER, "label": STRING}),
    "Poll": _object(
        {
            "id": INTEGER,
            "question": STRING,
            "options": {"type": "array", "items": _ref("PollOption")},
            "closes_at": _nullable(TIME),
            "closed": BOOLEAN,
            "results_visibility": _enum(ResultsVisibility),
            "allow_anonymous": BOOLEAN,
            "my_vote": _nullable(INTEGER),
        }
    ),
    "OptionResult": _object(
        {
            "id": INTEGER,
            "label": STRING,
            "votes": {"type": "integer", "minimum": 0},
            "share": {"type": "number", "minimum": 0, "maximum": 1},
            "ci_low": {"type": "number", "minimum": 0, "maximum": 1},
            "ci_high": {"type": "number", "minimum": 0, "maximum": 1},
        }
    ),
    "Results": _object(
        {
            "total": {"type": "integer", "minimum": 0},
            "options": {"type": "array", "items": _ref("OptionResult")},
            "closed": BOOLEAN,
        },
        description="Votes per option; `share` is votes/total, `ci_low`/`ci_high` its 95 % "
        "Wilson score interval.",
    ),
    "VoteAnswer": {
        "description": "The results with `my_vote` when they are visible to this voter, "
        "else only `my_vote`.",
        "anyOf": [
            {"allOf": [_ref("Results"), _object({"my_vote": INTEGER})]},
            _object({"my_vote": INTEGER}),
        ],
    },
    "Vote": _object({"option_id": INTEGER}),
    "PollInput": _object(
        {
            "question": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION},
            "options": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_OPTION},
                "minItems": MIN_OPTIONS,
                "maxItems": MAX_OPTIONS,
            },
            "closes_at": _nullable(TIME),
            "results_visibility": _nullable(
                {**_enum(ResultsVisibility), "description": "`always` when absent or null."}
            ),
            "allow_anonymous": _nullable(BOOLEAN),
        },
        ["question", "options"],
    ),
    "ArticleInput": _object(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
            "body": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_ARTICLE,
                "description": "Markdown.",
            },
            "slug": _nullable(
                {
                    "type": "string",
                    "maxLength": MAX_SLUG,
                    "description": "Lower-case letters, digits and single hyphens "
                    "(trimmed and lower-cased first; 422 otherwise). Made from the title "
                    "when absent.",
                }
            ),
            "summary": _nullable({"type": "string", "maxLength": MAX_SUMMARY}),
            "labels": _nullable({"type": "array", "items": STRING, "maxItems": MAX_LABELS}),
            "status": _nullable(_enum(ArticleStatus)),
            "comments": _nullable(_enum(CommentMode)),
            "poll": {"anyOf": [_ref("PollInput"), {"type": "null"}]},
        },
        [],
        description="An edit sends only what changes (`poll: null` removes a poll "
        "without votes); null leaves the other fields as they are.",
    ),
    "NewArticle": {
        "allOf": [_ref("ArticleInput"), {"required": ["title", "body"]}],
        "description": "An article to create: `title` and `body` at least.",
    },
    "Article": _object(
        {
            "id": INTEGER,
            "slug": STRING,
            "title": STRING,
            "summary": STRING,
            "labels": {"type": "array", "items": STRING},
            "status": _enum(ArticleStatus),
            "comments": _enum(CommentMode),
            "published_at": _nullable(TIME),
            "updated_at": _nullable(TIME),
            "author": PERSON,
            "comment_count": {"type": "integer", "minimum": 0},
            "url": STRING,
            "body": STRING,
            "html": {"type": "string", "description": "Sanitised render of the body."},
            "previous": _nullable(_ref("ArticleLink")),
            "next": _nullable(_ref("ArticleLink")),
            "poll": _nullable(_ref("Poll")),
        }
    ),
    "ArticlePage": _object(
        {"items": {"type": "array", "items": _ref("Article")}, "next_cursor": _nullable(STRING)}
    ),
    "Comment": _object(
        {
            "id": INTEGER,
            "parent_id": _nullable(INTEGER),
            "thread_parent_id": _nullable(INTEGER),
            "author": _object(
                {
                    "id": _nullable(INTEGER),
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
            "edited_at": _nullable(TIME),
            "featured": BOOLEAN,
            "score": INTEGER,
            "status": _enum(CommentStatus),
            "deleted": BOOLEAN,
            "in_reply_to": _nullable(_object({"id": INTEGER, "display_name": STRING})),
        }
    ),
    "ThreadComment": {
        "allOf": [
            _ref("Comment"),
            _object(
                {
                    "author_vote": {
                        "type": ["string", "null"],
                        "description": "The label of the option its author voted for; "
                        "null when they did not vote, or while the poll's results are "
                        "hidden from this reader (an answer would give them away).",
                    },
                    "my_reaction": {"type": "integer", "enum": [-1, 0, 1]},
                    "can_edit": BOOLEAN,
                    "replies": {"type": "array", "items": _ref("ThreadComment")},
                }
            ),
        ]
    },
    "CommentPage": _object(
        {
            "items": {"type": "array", "items": _ref("ThreadComment")},
            "next_cursor": _nullable(STRING),
        }
    ),
    "NewComment": _object(
        {
            "body": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT},
            "parent_id": _nullable(INTEGER),
        },
        ["body"],
    ),
    "PostedComment": {
        "allOf": [
            _ref("Comment"),
            _object({"reasons_held": {"type": "array", "items": STRING}}),
        ]
    },
    "CommentEdit": _object({"body": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT}}),
    "Flag": _object(
        {
            "reason": _enum(FlagReason),
            "note": _nullable(
                {"type": "string", "description": f"Kept to its first {MAX_NOTE} characters."}
            ),
        },
        ["reason"],
    ),
    "Flagged": _object({"flagged": BOOLEAN, "created": BOOLEAN}),
    "Reaction": _object({"value": {"type": "integer", "enum": [-1, 0, 1]}}),
    "Score": _object({"score": INTEGER, "my_reaction": {"type": "integer", "enum": [-1, 0, 1]}}),
    "QueueItem": {
        "allOf": [
            _ref("Comment"),
            _object(
                {
                    "body": STRING,
                    "article": _ref("ArticleLink"),
                    "flags": {
                        "type": "array",
                        "items": _object({"reason": _enum(FlagReason), "count": INTEGER}),
                    },
                    "flag_count": INTEGER,
                    # Readers who reported it since a moderator last decided on it.
                    "open_reports": INTEGER,
                    "report_notes": {
                        "type": "array",
                        "items": _object({"reason": _enum(FlagReason), "note": STRING}),
                    },
                    "reasons_held": {"type": "array", "items": STRING},
                    "toxicity": _nullable(NUMBER),
                    "sentiment": _nullable(NUMBER),
                    "sentiment_label": _nullable(STRING),
                    "rejection_reason": _nullable(STRING),
                    "reported_at": _nullable(TIME),
                    "moderated_at": _nullable(TIME),
                    "parent": _nullable(_object({"id": INTEGER, "author": STRING, "html": STRING})),
                    "author_history": _object(
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
    "QueuePage": _object(
        {
            "items": {"type": "array", "items": _ref("QueueItem")},
            "next_cursor": _nullable(STRING),
            "counts": _object({name: INTEGER for name in QUEUES}),
        }
    ),
    "Decision": _object(
        {
            "action": _enum(COMMENT_ACTIONS),
            "reason": _nullable({"type": "string", "maxLength": MAX_REASON}),
        },
        ["action"],
    ),
    "BulkDecision": _object(
        {
            "ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": MAX_BULK},
            "action": _enum(COMMENT_ACTIONS),
            "reason": _nullable({"type": "string", "maxLength": MAX_REASON}),
        },
        ["ids", "action"],
    ),
    "BulkDecided": _object({"items": {"type": "array", "items": _ref("QueueItem")}}),
    "Ban": _object(
        {
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON},
            "until": _nullable(TIME),
        },
        ["reason"],
    ),
    "Unban": _object({"reason": _nullable({"type": "string", "maxLength": MAX_REASON})}, []),
    "LogEntry": _object(
        {
            "id": INTEGER,
            "action": _enum(ModerationActionKind),
            "moderator": PERSON,
            "comment_id": _nullable(INTEGER),
            "user": _nullable(PERSON),
            "reason": _nullable(STRING),
            "details": {"type": ["object", "null"]},
            "created_at": TIME,
        }
    ),
    "LogPage": _object(
        {"items": {"type": "array", "items": _ref("LogEntry")}, "next_cursor": _nullable(STRING)}
    ),
    "Settings": _object({name: _setting(name, kind) for name, kind in SETTING_KINDS.items()}),
    "Term": _object({"id": INTEGER, "term": STRING, "kind": _enum(TermKind)}),
    "TermList": _object({"items": {"type": "array", "items": _ref("Term")}}),
    "NewTerm": _object(
        {"term": {"type": "string", "minLength": 1, "maxLength": MAX_TERM}, "kind": _enum(TermKind)}
    ),
    "Tone": _object(
        {
            "count": INTEGER,
            "mean": {"type": "number", "minimum": -1, "maximum": 1},
            "positive": INTEGER,
            "neutral": INTEGER,
            "negative": INTEGER,
        }
    ),
    "Sentiment": _object(
        {
            "poll": _nullable(_ref("Results")),
            "comments": _ref("Tone"),
            "by_vote": {
                "type": "object",
                "additionalProperties": _ref("Tone"),
                "description": "Keyed by poll option id.",
            },
            "no_vote": _nullable(_ref("Tone")),
            "timeline": {
                "type": "array",
                "items": _object(
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

_ERRORS = {
    400: (
        "MalformedRequest",
        "Malformed request: not JSON, not an object, a value of the wrong JSON type "
        "(`fields` says which), or a cursor the service did not issue.",
    ),
    401: ("Unauthorized", "Not signed in."),
    403: ("Forbidden", "Not allowed, banned, or a missing or invalid CSRF token (`csrf_failed`)."),
    404: ("NotFound", "Unknown, or unpublished, thing."),
    409: ("Conflict", "Conflicts with the current state."),
    413: ("PayloadTooLarge", "The body is over 1 MiB (`payload_too_large`)."),
    422: (
        "Invalid",
        "Values of the right type that are not allowed (missing, not one of the choices, "
        "too long or short, out of range); `fields` says which.",
    ),
    429: ("RateLimited", "Rate limited; retry after `Retry-After` seconds."),
    503: ("Unavailable", "A dependency (the database) is down; retry shortly."),
}

RESPONSES: dict[str, Any] = {
    name: {"description": text, "content": {JSON: {"schema": _ref("Error")}}}
    for name, text in _ERRORS.values()
}
RESPONSES["RateLimited"]["headers"] = {
    "Retry-After": {"description": "Seconds to wait.", "schema": INTEGER}
}
RESPONSES["Unavailable"]["headers"] = RESPONSES["RateLimited"]["headers"]

SECURITY_SCHEMES = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The browser session cookie (Flask-Login), set by `GET /csrf`, "
        "`POST /auth/login` and `POST /auth/register`.",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": "Every unsafe request (POST, PATCH, PUT, DELETE), signed in or not, "
        "sends the token from `GET /csrf`, which is bound to the session cookie. A missing "
        "or wrong token is 403 `csrf_failed`.",
    },
}

PARAMETERS: dict[str, Any] = {
    "slug": {
        "name": "slug",
        "in": "path",
        "required": True,
        "description": "The article's slug.",
        "schema": STRING,
    },
    "comment_id": {"name": "comment_id", "in": "path", "required": True, "schema": ID},
    "user_id": {"name": "user_id", "in": "path", "required": True, "schema": ID},
    "term_id": {"name": "term_id", "in": "path", "required": True, "schema": ID},
    "limit": {
        "name": "limit",
        "in": "query",
        "description": "Page size.",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },
    },
    "cursor": {
        "name": "cursor",
        "in": "query",
        "description": "Opaque; the `next_cursor` of the previous page of the same list. "
        "Cursors are signed: any other value is 400.",
        "schema": STRING,
    },
}


def _param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    parameter: Schema = {"name": name, "in": "query", "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


# Who may call: the contract's "who" column, as security requirements.
ANYONE: list[dict[str, list[str]]] = [{}, {"session": []}]
SIGNED_IN: list[dict[str, list[str]]] = [{"session": []}]
UNSAFE_ANYONE: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
UNSAFE_SIGNED_IN = UNSAFE_ANYONE


def _operation(
    operation_id: str,
    summary: str,
    tag: str,
    ok: dict[int, Schema | None],
    errors: list[int],
    *,
    security: list[dict[str, list[str]]],
    body: str | None = None,
    body_required: bool = True,
    parameters: list[Schema] | None = None,
    description: str = "",
) -> Schema:
    responses: dict[str, Any] = {}
    for status, schema in ok.items():
        answer: dict[str, Any] = {"description": summary}
        if schema is not None:
            answer["content"] = {JSON: {"schema": schema}}
        responses[str(status)] = answer
    for status in sorted({*errors, 503}):
        responses[str(status)] = {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security,
        "responses": responses,
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": body_required,
            "content": {JSON: {"schema": _ref(body)}},
        }
    return operation


# Errors every unsafe operation can answer: bad JSON, CSRF (403), too large, too fast.
_UNSAFE = [400, 403, 413, 429]
_LIST = [_param("limit"), _param("cursor")]


def _paths() -> dict[str, Any]:
    return {
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "This document",
                "meta",
                {200: {"type": "object"}},
                [],
                security=ANYONE,
            )
        },
        "/csrf": {
            "get": _operation(
                "csrf_token",
                "The CSRF token, bound to the session cookie it sets",
                "auth",
                {200: _ref("CsrfToken")},
                [],
                security=ANYONE,
            )
        },
        "/auth/register": {
            "post": _operation(
                "register",
                "Create a reader account and sign in",
                "auth",
                {201: _ref("User")},
                [*_UNSAFE, 409, 422],
                security=UNSAFE_ANYONE,
                body="Registration",
                description="409 `email_taken`, or `already_signed_in` when the caller is "
                "signed in (sign out first: registering never switches accounts); 422 for a "
                "password under 10 characters or a bad email.",
            )
        },
        "/auth/login": {
            "post": _operation(
                "login",
                "Sign in",
                "auth",
                {200: _ref("User")},
                [*_UNSAFE, 401],
                security=UNSAFE_ANYONE,
                body="Credentials",
                description="401 `invalid_credentials`, the same for an unknown email and a "
                "wrong password.",
            )
        },
        "/auth/logout": {
            "post": _operation(
                "logout",
                "Sign out",
                "auth",
                {204: None},
                [*_UNSAFE, 401],
                security=UNSAFE_SIGNED_IN,
                description="Ends the session for good: a copy of its session or remember-me "
                "cookie no longer signs in. Every other session of this user ends too.",
            )
        },
        "/auth/sessions/revoke": {
            "post": _operation(
                "revoke_sessions",
                "Sign out everywhere",
                "auth",
                {204: None},
                [*_UNSAFE, 401],
                security=UNSAFE_SIGNED_IN,
                description="Ends every session of this user on every device, this one included.",
            )
        },
        "/auth/password": {
            "post": _operation(
                "change_password",
                "Change the password",
                "auth",
                {204: None},
                [*_UNSAFE, 401, 422],
                security=UNSAFE_SIGNED_IN,
                body="PasswordChange",
                description="Every other session of this user ends; this one stays signed "
                "in (with a new session cookie, and a new remember-me cookie if it had one). "
                "403 `wrong_password` for a wrong current password; 422 for a new password "
                f"under {MIN_PASSWORD_LENGTH} characters (`fields.new_password`).",
            )
        },
        "/auth/me": {
            "get": _operation(
                "me",
                "The signed-in user",
                "auth",
                {200: _ref("User")},
                [401],
                security=ANYONE,
            )
        },
        "/articles": {
            "get": _operation(
                "list_articles",
                "Published articles, newest first",
                "articles",
                {200: _ref("ArticlePage")},
                [400, 422],
                security=ANYONE,
                parameters=[_query("label", STRING, "A label's slug."), *_LIST],
            ),
            "post": _operation(
                "create_article",
                "Write an article (editors)",
                "articles",
                {201: _ref("Article")},
                [*_UNSAFE, 401, 409, 422],
                security=UNSAFE_SIGNED_IN,
                body="NewArticle",
                description="409 `slug_taken`; 422 with `fields` for invalid values.",
            ),
        },
        "/articles/{slug}": {
            "parameters": [_param("slug")],
            "get": _operation(
                "get_article",
                "One article (editors also see drafts)",
                "articles",
                {200: _ref("Article")},
                [404],
                security=ANYONE,
            ),
            "patch": _operation(
                "update_article",
                "Change an article (editors)",
                "articles",
                {200: _ref("Article")},
                [*_UNSAFE, 401, 404, 409, 422],
                security=UNSAFE_SIGNED_IN,
                body="ArticleInput",
            ),
        },
        "/articles/{slug}/poll": {
            "parameters": [_param("slug")],
            "get": _operation(
                "get_poll",
                "The article's poll",
                "polls",
                {200: _ref("Poll")},
                [404],
                security=ANYONE,
            ),
        },
        "/articles/{slug}/poll/votes": {
            "parameters": [_param("slug")],
            "post": _operation(
                "cast_vote",
                "Vote, or move one's vote",
                "polls",
                {201: _ref("VoteAnswer"), 200: _ref("VoteAnswer")},
                [*_UNSAFE, 401, 404, 409, 422],
                security=UNSAFE_ANYONE,
                body="Vote",
                description="Readers, or anyone when the poll allows anonymous votes (kept in "
                "a signed cookie). 201 for a first vote, 200 for a changed one; 409 "
                "`poll_closed`, or `poll_not_published` for an editor voting on a draft "
                "(its poll takes no votes); 422 for an option not in this poll.",
            ),
        },
        "/articles/{slug}/poll/votes/mine": {
            "parameters": [_param("slug")],
            "delete": _operation(
                "withdraw_vote",
                "Withdraw one's vote",
                "polls",
                {204: None},
                [*_UNSAFE, 404],
                security=UNSAFE_ANYONE,
            ),
        },
        "/articles/{slug}/poll/results": {
            "parameters": [_param("slug")],
            "get": _operation(
                "get_results",
                "The poll's results",
                "polls",
                {200: _ref("Results")},
                [403, 404],
                security=ANYONE,
                description="403 `results_hidden` unless `results_visibility` allows this "
                "visitor; editors and moderators always see them.",
            ),
        },
        "/articles/{slug}/sentiment": {
            "parameters": [_param("slug")],
            "get": _operation(
                "get_sentiment",
                "The poll, the comments' tone, and the two together",
                "sentiment",
                {200: _ref("Sentiment")},
                [403, 404],
                security=ANYONE,
                description="Visible when the poll's results are visible to this visitor "
                "(always without a poll), else 403 `results_hidden`.",
            ),
        },
        "/articles/{slug}/comments": {
            "parameters": [_param("slug")],
            "get": _operation(
                "list_comments",
                "Published comments, top-level ones paginated, replies nested",
                "comments",
                {200: _ref("CommentPage")},
                [400, 404, 422],
                security=ANYONE,
                parameters=[
                    _query("sort", {"type": "string", "enum": list(SORTS), "default": "oldest"}),
                    _query("featured", BOOLEAN, "Only featured comments."),
                    *_LIST,
                ],
            ),
            "post": _operation(
                "post_comment",
                "Comment, or reply",
                "comments",
                {201: _ref("PostedComment")},
                [*_UNSAFE, 401, 404, 409, 422],
                security=UNSAFE_SIGNED_IN,
                body="NewComment",
                description="409 `comments_closed`; 422 for an empty body, one over "
                f"{MAX_COMMENT} characters, a banned word, or a parent not on this article.",
            ),
        },
        "/comments/{comment_id}": {
            "parameters": [_param("comment_id")],
            "patch": _operation(
                "edit_comment",
                f"Edit one's comment within {EDIT_MINUTES} minutes",
                "comments",
                {200: _ref("Comment")},
                [*_UNSAFE, 401, 404, 422],
                security=UNSAFE_SIGNED_IN,
                body="CommentEdit",
                description="403 after the window (`edit_window_over`) or for others.",
            ),
            "delete": _operation(
                "delete_comment",
                "Delete a comment (its author or a moderator)",
                "comments",
                {204: None},
                [*_UNSAFE, 401, 404],
                security=UNSAFE_SIGNED_IN,
            ),
        },
        "/comments/{comment_id}/flags": {
            "parameters": [_param("comment_id")],
            "post": _operation(
                "flag_comment",
                "Report a comment",
                "comments",
                {201: _ref("Flagged"), 200: _ref("Flagged")},
                [*_UNSAFE, 401, 404, 422],
                security=UNSAFE_SIGNED_IN,
                body="Flag",
                description="201 for a new report; 200 when this user already reported it "
                "(counted once).",
            ),
        },
        "/comments/{comment_id}/votes": {
            "parameters": [_param("comment_id")],
            "post": _operation(
                "react_to_comment",
                "Vote a comment up (1), down (-1), or take the vote back (0)",
                "comments",
                {200: _ref("Score")},
                [*_UNSAFE, 401, 404, 422],
                security=UNSAFE_SIGNED_IN,
                body="Reaction",
            ),
        },
        "/moderation/queue": {
            "get": _operation(
                "moderation_queue_list",
                "A moderation queue, oldest first (moderators)",
                "moderation",
                {200: _ref("QueuePage")},
                [400, 401, 403, 422],
                security=SIGNED_IN,
                parameters=[
                    _query("status", {**_enum(QUEUES), "default": "pending"}),
                    *_LIST,
                ],
            ),
        },
        "/moderation/comments": {
            "post": _operation(
                "moderate_comments",
                "One decision on several comments, all or none (moderators)",
                "moderation",
                {200: _ref("BulkDecided")},
                [*_UNSAFE, 401, 404, 409, 422],
                security=UNSAFE_SIGNED_IN,
                body="BulkDecision",
            ),
        },
        "/moderation/comments/{comment_id}": {
            "parameters": [_param("comment_id")],
            "post": _operation(
                "moderate_comment",
                "Approve, reject, feature or unfeature a comment (moderators)",
                "moderation",
                {200: _ref("QueueItem")},
                [*_UNSAFE, 401, 404, 409, 422],
                security=UNSAFE_SIGNED_IN,
                body="Decision",
            ),
        },
        "/moderation/users/{user_id}/ban": {
            "parameters": [_param("user_id")],
            "post": _operation(
                "ban_user",
                "Ban a reader from writing, until a time or for good (moderators)",
                "moderation",
                {200: _ref("BannedUser")},
                [*_UNSAFE, 401, 404, 422],
                security=UNSAFE_SIGNED_IN,
                body="Ban",
                description="A banned user can read but gets 403 `banned` on every write. "
                "Only admins ban staff; nobody bans an admin or themselves (403).",
            ),
        },
        "/moderation/users/{user_id}/unban": {
            "parameters": [_param("user_id")],
            "post": _operation(
                "unban_user",
                "Lift a ban (moderators)",
                "moderation",
                {200: _ref("BannedUser")},
                [*_UNSAFE, 401, 404, 409, 422],
                security=UNSAFE_SIGNED_IN,
                body="Unban",
                body_required=False,
            ),
        },
        "/moderation/log": {
            "get": _operation(
                "moderation_log",
                "The audit log, newest first (moderators)",
                "moderation",
                {200: _ref("LogPage")},
                [400, 401, 403, 422],
                security=SIGNED_IN,
                parameters=[
                    _query("action", _enum(ModerationActionKind)),
                    _query("moderator_id", ID),
                    _query("user_id", ID),
                    _query("comment_id", ID),
                    *_LIST,
                ],
            ),
        },
        "/moderation/settings": {
            "get": _operation(
                "get_settings",
                "The moderation settings (moderators)",
                "moderation",
                {200: _ref("Settings")},
                [401, 403],
                security=SIGNED_IN,
            ),
            "patch": _operation(
                "patch_settings",
                "Change some moderation settings (moderators)",
                "moderation",
                {200: _ref("Settings")},
                [*_UNSAFE, 401, 422],
                security=UNSAFE_SIGNED_IN,
                body="SettingsPatch",
            ),
        },
        "/moderation/terms": {
            "get": _operation(
                "list_terms",
                "The banned and suspect word lists (moderators)",
                "moderation",
                {200: _ref("TermList")},
                [401, 403],
                security=SIGNED_IN,
            ),
            "post": _operation(
                "add_term",
                "Add a word, or change its kind (moderators)",
                "moderation",
                {201: _ref("Term")},
                [*_UNSAFE, 401, 422],
                security=UNSAFE_SIGNED_IN,
                body="NewTerm",
            ),
        },
        "/moderation/terms/{term_id}": {
            "parameters": [_param("term_id")],
            "delete": _operation(
                "delete_term",
                "Remove a word (moderators)",
                "moderation",
                {204: None},
                [*_UNSAFE, 401, 404],
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
