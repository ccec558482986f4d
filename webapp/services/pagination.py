"""Opaque keyset cursors for the API's lists."""

from __future__ import annotations

import base64
import json
from typing import Any

from webapp.errors import MalformedRequest
from webapp.ids import fits_integer_column

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise MalformedRequest("The cursor is not valid.") from exc
    if not isinstance(values, list):
        raise MalformedRequest("The cursor is not valid.")
    return values


def cursor_int(value: Any) -> int:
    """A whole number from a decoded cursor, small enough for an INTEGER column, or 400."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedRequest("The cursor is not valid.")
    try:
        number = int(value)
    except ValueError as exc:
        raise MalformedRequest("The cursor is not valid.") from exc
    if not fits_integer_column(number):
        raise MalformedRequest("The cursor is not valid.")
    return number


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError as exc:
        raise MalformedRequest("limit must be a whole number.") from exc
    return max(1, min(limit, MAX_LIMIT))
