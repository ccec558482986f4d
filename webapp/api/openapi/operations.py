"""How an operation is written: who may call it, what it answers, which errors it
may give (always 503 too), what body it takes and which parameters.
"""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.components import ERRORS
from webapp.api.openapi.primitives import JSON, Schema, ref


def param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def query(name: str, schema: Schema, description: str = "") -> Schema:
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
    responses: dict[str, Any] = {}
    for status, schema in ok.items():
        answer: dict[str, Any] = {"description": summary}
        if schema is not None:
            answer["content"] = {JSON: {"schema": schema}}
        responses[str(status)] = answer
    for status in sorted({*errors, 503}):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security,
        "responses": responses,
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": body_required,
            "content": {JSON: {"schema": ref(body)}},
        }
    return operation


# Errors every unsafe operation can answer: bad JSON, CSRF (403), too large, too fast.
UNSAFE = [400, 403, 413, 429]
LIST = [param("limit"), param("cursor")]
