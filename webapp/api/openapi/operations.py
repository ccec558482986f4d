"""How an operation is written: who may call it, what it answers, which errors it
may give (always 503 too), what body it takes and which parameters.
"""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.components import ERRORS
from webapp.api.openapi.primitives import JSON, Schema, ref


def param(name: str) -> Schema:
    """A reference to one of the shared parameters (``components.PARAMETERS``)."""
    return {"$ref": f"#/components/parameters/{name}"}


def query(name: str, schema: Schema, description: str = "") -> Schema:
    """A query parameter of one operation."""
    parameter: Schema = {"name": name, "in": "query", "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


# Who may call: the contract's "who" column, as security requirements.
ANYONE: list[dict[str, list[str]]] = [{}, {"session": []}]
SIGNED_IN: list[dict[str, list[str]]] = [{"session": []}]
UNSAFE_ANYONE: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
UNSAFE_SIGNED_IN = UNSAFE_ANYONE


def operation(
    operation_id: str,
    summary: str,
    tag: str,
    ok: dict[int, Schema | None],
    errors: list[int],
    *,
    security: list[dict[str, list[str]]],
    body: str | None = None,
    body_required: bool = True,
    parameters: list[Schema] | None = None,
    description: str = "",
) -> Schema:
    """One operation: ``ok`` maps each success status to its body's schema (None for
    no body), ``errors`` lists the error statuses (named in ``components.ERRORS``) and
    ``body`` names the request body's schema."""
    responses: dict[str, Any] = {}
    for status, schema in ok.items():
        answer: dict[str, Any] = {"description": summary}
        if schema is not None:
            answer["content"] = {JSON: {"schema": schema}}
        responses[str(status)] = answer
    for status in sorted({*errors, 503}):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    described: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security,
        "responses": responses,
    }
    if description:
        described["description"] = description
    if parameters:
        described["parameters"] = parameters
    if body is not None:
        described["requestBody"] = {
            "required": body_required,
            "content": {JSON: {"schema": ref(body)}},
        }
    return described


# Errors every unsafe operation can answer: bad JSON, CSRF (403), too large, too fast.
UNSAFE = [400, 403, 413, 429]
LIST = [param("limit"), param("cursor")]
