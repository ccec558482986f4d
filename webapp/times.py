"""Times that clients send: ISO 8601 text read into an aware time in UTC, or a 422.

The request side of a time, like ``webapp.pagination`` is of a cursor: the API
(an article's ``poll.closes_at``, a ban's ``until``) and the HTML forms turn the
text they were sent into a ``datetime`` here, and the services take that.
"""

from __future__ import annotations

from datetime import UTC, datetime

from webapp.errors import InvalidInput


def parse_datetime(raw: str, field_name: str) -> datetime:
    """``raw`` as an aware time in UTC (a time without a zone is taken as UTC), or
    422 naming ``field_name``."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"{field_name} is not an ISO 8601 time.", fields={field_name: "not an ISO 8601 time"}
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise InvalidInput(
            f"{field_name} is out of range.", fields={field_name: "out of range"}
        ) from exc
