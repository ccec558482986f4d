"""An article's poll: the poll, voting and withdrawing a vote, and its results
(shares with their Wilson intervals).
"""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import ANYONE, UNSAFE, UNSAFE_ANYONE, operation, param
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
from webapp.models import ResultsVisibility
from webapp.services.articles import MAX_OPTION, MAX_OPTIONS, MAX_QUESTION, MIN_OPTIONS

SCHEMAS: dict[str, Schema] = {
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
    "Methodology": obj(
        {
            "counted": {
                "type": "integer",
                "minimum": 0,
                "description": "Votes counted (not set aside): `total`.",
            },
            "signed_in_share": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "Share of the counted votes from signed-in readers; 0 "
                "when none are counted.",
            },
            "margin_of_error": {
                "type": "number",
                "minimum": 0,
                "maximum": 0.5,
                "description": "The largest half-width of the options' 95 % Wilson "
                "intervals, as a share (0.028 for ±2.8 points); 0 without votes.",
            },
            "shares_shown": {
                "type": "boolean",
                "description": "Whether there are enough counted votes "
                "(POLL_MIN_VOTES_FOR_SHARES, 30 by default) for pages to show "
                "percentages and bars; below, they show counts only. The numeric "
                "fields are there either way.",
            },
        },
        description="What kind of number the results are: readers chose to take part, "
        "so they are not a scientific survey.",
    ),
    "Results": obj(
        {
            "total": {"type": "integer", "minimum": 0},
            "options": {"type": "array", "items": ref("OptionResult")},
            "closed": BOOLEAN,
            "set_aside": {
                "type": "integer",
                "minimum": 0,
                "description": "Votes set aside by the integrity checks (kept, not "
                "counted); 0 when none.",
            },
            "methodology": ref("Methodology"),
        },
        description="Counted votes per option (votes set aside by the integrity checks "
        "are in none of the figures but `set_aside`); `share` is votes/total, "
        "`ci_low`/`ci_high` its 95 % Wilson score interval.",
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
            "signed_in_only_under_attack": nullable(
                {
                    **BOOLEAN,
                    "description": "Take votes from signed-in readers only once the poll "
                    "is under attack (a group of its votes set aside); false when absent.",
                }
            ),
        },
        ["question", "options"],
    ),
}

PATHS: dict[str, Any] = {
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
            parameters=[
                {
                    "name": "X-Pulse-Page",
                    "in": "header",
                    "required": False,
                    "schema": STRING,
                    "description": "The article page's token (its vote form's `page_token`), "
                    "which the page's script sends: kept with the vote as a sign that the "
                    "voter loaded the article. A missing, expired or wrong one never refuses "
                    "the vote.",
                }
            ],
            description="Readers, or anyone when the poll allows anonymous votes (kept in "
            "a signed cookie). 201 for a first vote, 200 for a changed one; 409 "
            "`poll_closed`, or `poll_not_published` for an editor voting on a draft "
            "(its poll takes no votes); 422 for an option not in this poll; 401 for a "
            "signed-out voter where the poll takes accounts' votes only, or while it is "
            "under attack and takes signed-in readers' votes only then. 429 when the "
            "vote budget (shared with the page's vote form) or the hourly cap of "
            "anonymous votes in one poll from one address is spent.",
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
}
