"""Opaque keyset cursors for the lists, signed so that only the service's own are read.

This is the request side of paging: views turn a cursor into the typed sort key a
service takes (:func:`decode_key`), so services never see a cursor or raise a
"malformed request" of their own.

A cursor is the sort key of the last row a page showed, as JSON, signed with the
app's SECRET_KEY and a salt naming its list (itsdangerous' URL-safe format). Any
cursor the service did not issue for that list, whether garbage, hand-made or from
another list, is a 400. The decoded values are still checked (``cursor_int``,
``cursor_time``): a cursor signed under an older format must not reach a query with
a naive time or a number no INTEGER column holds.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from webapp.errors import InvalidInput, MalformedRequest
from webapp.ids import fits_integer_column

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

#: The lists that hand out cursors; each signs with its own salt, so a cursor of
#: one is refused by the others. The HTML pages share their API list's cursors.
ARTICLES = "articles"
COMMENTS = "comments"
MODERATION_QUEUE = "moderation-queue"
MODERATION_LOG = "moderation-log"
#: The moderators' page of one reader: that reader's comments, newest first.
READER_COMMENTS = "reader-comments"
#: The editors' desk (every article, most recently changed first) and the overview.
EDITOR_ARTICLES = "editor-articles"
OVERVIEW = "overview"
#: The overview's trend: a label's polls, going back from the latest.
TREND = "trend"
LISTS = (
    ARTICLES,
    COMMENTS,
    MODERATION_QUEUE,
    MODERATION_LOG,
    READER_COMMENTS,
    EDITOR_ARTICLES,
    OVERVIEW,
    TREND,
)

_NOT_OURS = "The cursor is not valid; use a next_cursor this list returned."


@functools.lru_cache(maxsize=16)
def cursor_serializer(secret_key: str | bytes, list_name: str) -> URLSafeSerializer:
    """What signs and reads the cursors of ``list_name`` under ``secret_key``."""
    if list_name not in LISTS:
        raise ValueError(f"no cursors for a list named {list_name!r}")
    return URLSafeSerializer(secret_key, salt=f"pulse.cursor.{list_name}")


def _serializer_for(list_name: str) -> URLSafeSerializer:
    return cursor_serializer(current_app.secret_key, list_name)


def encode_cursor(values: list[Any], list_name: str) -> str:
    return _serializer_for(list_name).dumps(values)


def decode_cursor(cursor: str | None, list_name: str) -> list[Any] | None:
    """The values a cursor of ``list_name`` carries; None for no cursor; else 400."""
    if not cursor:
        return None
    try:
        values = _serializer_for(list_name).loads(cursor)
    except (BadData, ValueError, TypeError, RecursionError) as exc:
        raise MalformedRequest(_NOT_OURS) from exc
    if not isinstance(values, list) or not values:
        raise MalformedRequest(_NOT_OURS)
    return values


def cursor_int(value: Any) -> int:
    """A whole number from a decoded cursor, small enough for an INTEGER column, or 400."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedRequest(_NOT_OURS)
    try:
        number = int(value)
    except ValueError as exc:
        raise MalformedRequest(_NOT_OURS) from exc
    if not fits_integer_column(number):
        raise MalformedRequest(_NOT_OURS)
    return number


def cursor_time(value: Any) -> datetime:
    """An aware time from a decoded cursor, in UTC, or 400: a time without a zone
    cannot be compared with the stored ones, and one past the calendar's ends
    cannot be moved to UTC."""
    if not isinstance(value, str):
        raise MalformedRequest(_NOT_OURS)
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("no zone")
        return when.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise MalformedRequest(_NOT_OURS) from exc


def cursor_str(value: Any) -> str:
    """A text from a decoded cursor (a sort key such as a title), or 400."""
    if not isinstance(value, str):
        raise MalformedRequest(_NOT_OURS)
    return value


def cursor_float(value: Any) -> float:
    """A finite number from a decoded cursor (a computed share), or 400."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedRequest(_NOT_OURS)
    number = float(value)
    if not math.isfinite(number):
        raise MalformedRequest(_NOT_OURS)
    return number


def cursor_optional(read: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """``read`` for a sort key that may be empty (null in the cursor: None)."""

    def read_optional(value: Any) -> T | None:
        return None if value is None else read(value)

    return read_optional


def cursor_equal(expected: str) -> Callable[[Any], str]:
    """A cursor value that must be ``expected`` (the sort it was issued for), or 400."""

    def read_equal(value: Any) -> str:
        if value != expected:
            raise MalformedRequest(_NOT_OURS)
        return expected

    return read_equal


def decode_key(
    cursor: str | None, list_name: str, kinds: tuple[Callable[[Any], Any], ...]
) -> tuple[Any, ...] | None:
    """The typed sort key a cursor of ``list_name`` carries, one value per reader in
    ``kinds`` (e.g. ``(cursor_time, cursor_int)``); None for no cursor; else 400."""
    values = decode_cursor(cursor, list_name)
    if values is None:
        return None
    if len(values) != len(kinds):
        raise MalformedRequest(_NOT_OURS)
    return tuple(read(value) for read, value in zip(kinds, values, strict=True))


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def parse_limit(raw: str | None) -> int:
    """``?limit=``: absent is the default; not a whole number is 400; outside
    1..MAX_LIMIT is 422 (asking for more is refused, not quietly cut down)."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not _WHOLE_NUMBER.fullmatch(raw):
        raise MalformedRequest(
            "limit must be a whole number.", fields={"limit": "must be a whole number"}
        )
    digits = raw.lstrip("+-").lstrip("0")
    # More digits than any page size has is out of range, however many there are.
    limit = int(raw) if len(digits) <= 6 else MAX_LIMIT + 1
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}.",
            fields={"limit": f"between 1 and {MAX_LIMIT}"},
        )
    return limit
