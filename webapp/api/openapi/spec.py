"""The OpenAPI 3.1 description of /api/v1 as one document, assembled from its parts.

Built as a plain dict so it can be read, diffed and tested like code: a test checks it
is a valid OpenAPI document and that it names exactly the routes the app registers, so
the two cannot drift apart. Paths are relative to the server URL ``/api/v1``; path
parameters carry the Flask rule's names (``{comment_id}`` where the contract says
``{id}``), which changes nothing for a client.

Each resource group's module holds its schemas and paths (``auth``, ``articles``,
``polls``, ``sentiment``, ``comments``, ``moderation``); ``components`` holds what they
share (the error body and responses, parameters, security schemes), ``operations`` how
an operation is written and ``primitives`` the small schema builders.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from webapp.api.openapi import (
    articles,
    auth,
    comments,
    components,
    embed,
    integrity,
    moderation,
    polls,
    sentiment,
    sides,
)
from webapp.api.openapi.components import PARAMETERS, RESPONSES, SECURITY_SCHEMES
from webapp.api.openapi.operations import ANYONE, operation
from webapp.api.openapi.primitives import Schema
from webapp.pagination import DEFAULT_LIMIT, MAX_LIMIT

SCHEMAS: dict[str, Schema] = {
    **components.SCHEMAS,
    **auth.SCHEMAS,
    **articles.SCHEMAS,
    **polls.SCHEMAS,
    **comments.SCHEMAS,
    **moderation.SCHEMAS,
    **sentiment.SCHEMAS,
    **integrity.SCHEMAS,
    **sides.SCHEMAS,
    **embed.SCHEMAS,
}

# The document describes itself too.
META_PATHS: dict[str, Any] = {
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
            f"the body `Error`. Lists take `?limit=` (default {DEFAULT_LIMIT}, max {MAX_LIMIT}) "
            "and an opaque `?cursor=`, and answer `{items, next_cursor}`.",
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": name}
            for name in ("auth", "articles", "polls", "comments", "sentiment", "moderation")
        ]
        + [{"name": "meta"}],
        # In this order: the paths of the served document keep the order they had.
        "paths": {
            **META_PATHS,
            **auth.PATHS,
            **articles.PATHS,
            **polls.PATHS,
            **integrity.PATHS,
            **sentiment.PATHS,
            **comments.PATHS,
            **sides.PATHS,
            **embed.PATHS,
            **moderation.PATHS,
        },
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
