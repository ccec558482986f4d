"""An article's request body, turned into the typed values the articles service takes.

``json_object`` has already checked the body against its schema in the OpenAPI
document (``ArticleInput``/``NewArticle``, ``PollInput``): every value here has its
documented JSON type (a wrong one was a 400), and the enums and lengths the schema
states were a 422. What is left is the conversion: which fields were sent (an edit
changes only those), ``null`` meaning "none" for labels and "remove" for the poll,
and the closing time read from its ISO 8601 text (not a time: 422).
"""

from __future__ import annotations

from typing import Any

from webapp.models import ResultsVisibility
from webapp.services.articles import ArticleChanges, PollInput
from webapp.times import parse_datetime

#: The text fields an article body may carry, each a string (or null where the
#: schema allows it), kept as sent: the service cleans and checks them.
_TEXT_FIELDS = ("title", "body", "slug", "summary", "status", "comments")


def changes_from_json(payload: dict[str, Any]) -> ArticleChanges:
    """The changes a checked article body asks for."""
    changes = ArticleChanges()
    for key in _TEXT_FIELDS:
        if key in payload:
            text: str | None = payload[key]
            setattr(changes, key, text)
            changes.present.add(key)
    if "labels" in payload:
        labels: list[str] | None = payload["labels"]
        changes.labels = list(labels or [])
        changes.present.add("labels")
    if "poll" in payload:
        changes.present.add("poll")
        poll: dict[str, Any] | None = payload["poll"]
        if poll is None:
            changes.remove_poll = True
        else:
            changes.poll = poll_input_from_json(poll)
    return changes


def poll_input_from_json(poll: dict[str, Any]) -> PollInput:
    """The poll a checked ``PollInput`` body defines."""
    question: str = poll["question"]
    options: list[str] = poll["options"]
    closes_at: str | None = poll.get("closes_at")
    visibility: str | None = poll.get("results_visibility")
    allow_anonymous: bool | None = poll.get("allow_anonymous")
    signed_in_only: bool | None = poll.get("signed_in_only_under_attack")
    return PollInput(
        question=question,
        options=list(options),
        closes_at=parse_datetime(closes_at, "poll.closes_at") if closes_at else None,
        results_visibility=visibility or ResultsVisibility.ALWAYS.value,
        allow_anonymous=bool(allow_anonymous),
        signed_in_only_under_attack=bool(signed_in_only),
    )
