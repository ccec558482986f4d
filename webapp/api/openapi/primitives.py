"""The small pieces every part of the OpenAPI document is written with.

The media type, the ``Schema`` alias, builders for a reference, a nullable value, an
object (every property required unless told) and an enum, and the plain types
(``STRING``, ``TIME``, ``ID``...) that most schemas are made of.
"""

from __future__ import annotations

import copy
from typing import Any

JSON = "application/json"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    widened = copy.deepcopy(schema)
    widened["type"] = [schema["type"], "null"]
    if "enum" in widened:
        widened["enum"] = [*widened["enum"], None]
    return widened


def obj(properties: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required is None:
        required = list(properties)
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def enum_of(values: Any) -> Schema:
    return {"type": "string", "enum": [str(getattr(v, "value", v)) for v in values]}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
ID: Schema = {"type": "integer", "minimum": 1}
PERSON = obj({"id": INTEGER, "display_name": STRING})
