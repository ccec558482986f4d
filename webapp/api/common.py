from __future__ import annotations

from typing import Any

from flask import request

from webapp.errors import MalformedRequest
from webapp.models import User
from webapp.security import signed_in_or_none


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or 400."""
    try:
        payload = request.get_json(force=True, silent=True)
    except RecursionError as exc:  # nested deeper than the parser goes
        raise MalformedRequest("The request body is nested too deeply.") from exc
    if not isinstance(payload, dict):
        raise MalformedRequest("The request body must be a JSON object.")
    return payload


def viewer() -> User | None:
    return signed_in_or_none()
