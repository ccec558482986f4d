"""The tone of an article's comments, overall, by vote and over time."""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import ANYONE, operation, param
from webapp.api.openapi.primitives import INTEGER, NUMBER, Schema, nullable, obj, ref

SCHEMAS: dict[str, Schema] = {
    "Tone": obj(
        {
            "count": INTEGER,
            "mean": {"type": "number", "minimum": -1, "maximum": 1},
            "positive": INTEGER,
            "neutral": INTEGER,
            "negative": INTEGER,
            # Issue 17: the mean's 95 % interval (null below two scored comments), and
            # for a poll answer's group whether it is too small to show its tone.
            "interval": nullable(
                {
                    "type": "array",
                    "items": {"type": "number", "minimum": -1, "maximum": 1},
                    "minItems": 2,
                    "maxItems": 2,
                }
            ),
            "suppressed": {"type": "boolean"},
        },
        ["count", "mean", "positive", "neutral", "negative"],
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

PATHS: dict[str, Any] = {
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
}
