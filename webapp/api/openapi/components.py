"""What every operation shares: the error body and responses, the path and paging
parameters, and the security schemes (cookie session, CSRF header).

``ERRORS`` maps each error status to its named response and what it means; the
operations refer to these by status (``operations.operation``).
"""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.primitives import ID, INTEGER, JSON, STRING, Schema, obj, ref
from webapp.pagination import DEFAULT_LIMIT, MAX_LIMIT

SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        {
            "error": obj(
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
}

ERRORS = {
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
    name: {"description": text, "content": {JSON: {"schema": ref("Error")}}}
    for name, text in ERRORS.values()
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
    "group_id": {"name": "group_id", "in": "path", "required": True, "schema": ID},
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
