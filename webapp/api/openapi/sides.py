"""What each side is saying (issue 20): each poll answer's most valued comments by the
readers who chose it, and the comments readers of several answers value."""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import ANYONE, operation, param
from webapp.api.openapi.primitives import BOOLEAN, INTEGER, STRING, Schema, obj, ref

SCHEMAS: dict[str, Schema] = {
    "SideComment": {
        "allOf": [
            ref("Comment"),
            obj(
                {
                    "author_vote": {
                        "type": ["string", "null"],
                        "description": "The label of the option its author voted for; "
                        "null when they did not vote.",
                    },
                    "my_reaction": {"type": "integer", "enum": [-1, 0, 1]},
                    "can_edit": BOOLEAN,
                    "common_ground": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "Its common-ground score: above 0 only when "
                        "readers of two or more answers approve of it.",
                    },
                }
            ),
        ]
    },
    "Sides": obj(
        {
            "options": {
                "type": "array",
                "description": "Each poll option in the poll's order, with the top-level "
                "comments and replies by its voters that its own voters value most "
                "(smoothed approval, best first; only comments they approve of).",
                "items": obj(
                    {
                        "id": INTEGER,
                        "label": STRING,
                        "comments": {"type": "array", "items": ref("SideComment")},
                    }
                ),
            },
            "common_ground": {
                "type": "array",
                "description": "The top-level comments readers of two or more answers "
                "approve of, as `?sort=common_ground` orders them.",
                "items": ref("SideComment"),
            },
        }
    ),
}

PATHS: dict[str, Any] = {
    "/articles/{slug}/sides": {
        "parameters": [param("slug")],
        "get": operation(
            "get_sides",
            "What each side is saying",
            "comments",
            {200: ref("Sides")},
            [403, 404],
            security=ANYONE,
            description="Visible when the poll's results are visible to this visitor, "
            "else 403 `results_hidden` (the commenters' answers are part of the results). "
            "404 for an unknown or unpublished article, and for an article without a poll.",
        ),
    },
}
