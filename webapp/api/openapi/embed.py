"""Embedding Pulse in other sites (issue 22): the comment counts of a site's threads."""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import ANYONE, operation, query
from webapp.api.openapi.primitives import INTEGER, STRING, Schema, obj
from webapp.services.embed import MAX_THREADS

SCHEMAS: dict[str, Schema] = {
    "EmbedCounts": obj(
        {
            "counts": {
                "type": "object",
                "description": "Published comments per thread key, keyed as asked; "
                "0 for a page without a thread.",
                "additionalProperties": INTEGER,
            }
        }
    ),
}

PATHS: dict[str, Any] = {
    "/embed/counts": {
        "get": operation(
            "get_embed_counts",
            "Comment counts of an embedding site's threads",
            "comments",
            {200: {"$ref": "#/components/schemas/EmbedCounts"}},
            [404, 422],
            security=ANYONE,
            parameters=[
                query("site", STRING, "The embedding site's id."),
                query(
                    "threads",
                    STRING,
                    f"Up to {MAX_THREADS} thread keys (page ids or URLs), comma-separated.",
                ),
            ],
            description="For the comment count widget in a host's article lists. "
            "`Access-Control-Allow-Origin` names the asking origin only when it is one "
            "of the site's allowed origins (with `Vary: Origin`); no credentials. "
            "404 for an unknown site, 422 without threads or with too many.",
        ),
    },
}
