"""The API's own description, for people and tools (fuzzers, client generators)."""

from __future__ import annotations

from flask import current_app
from flask.typing import ResponseReturnValue

from webapp.api import bp
from webapp.api.openapi import document


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    response = current_app.json.response(document())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
