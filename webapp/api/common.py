"""What the JSON routes share: reading a request body by one rule, and who is asking.

The rule, the same on every route: a body that is not a JSON object, or a value of
the wrong JSON type, is 400 ``malformed_request``; a value of the right type that is
not allowed (not one of an enum, too long, too short, out of range, missing) is 422
``invalid``. Both name the fields, ``{"value": "must be a whole number"}``.

The body each operation takes is the one its OpenAPI document declares
(``webapp/api/openapi/``), so what is documented is what is enforced: ``json_object``
checks the body against that schema with ``jsonschema``. A ``type`` failure is a wrong
type; every other keyword's failure is a bad value. Booleans are not numbers and
``1.0`` is not an integer (JSON Schema would say it is), and NaN or Infinity, which
Python's parser lets through, are not numbers at all. The services keep their own
checks: the HTML forms call them directly.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from flask import request
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from webapp.api.openapi import JSON, document
from webapp.errors import InvalidInput, MalformedRequest
from webapp.models import User
from webapp.security import signed_in_or_none

API_PREFIX = "/api/v1"


def _is_integer(_checker: Any, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_checker: Any, value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_integer(_checker, value)


BodyValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}
    ),
)

_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


@functools.cache
def _body_rules() -> dict[tuple[str, str], tuple[Validator, bool]]:
    """(method, Flask rule) -> the validator of that operation's body, and whether
    the body is required. Built once, from the document the API serves."""
    doc = document()
    schemas = doc["components"]["schemas"]
    rules: dict[tuple[str, str], tuple[Validator, bool]] = {}
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body is None:
                continue
            schema = _inline(body["content"][JSON]["schema"], schemas, ())
            BodyValidator.check_schema(schema)
            rules[(method.upper(), path)] = (BodyValidator(schema), bool(body.get("required")))
    return rules


def _inline(schema: Any, schemas: dict[str, Any], within: tuple[str, ...]) -> Any:
    """The schema with each ``$ref`` to a component replaced by that component: the
    check then runs without resolving references, several times faster. Request
    bodies are not recursive, so this ends."""
    if isinstance(schema, list):
        return [_inline(part, schemas, within) for part in schema]
    if not isinstance(schema, dict):
        return schema
    inlined = {key: _inline(value, schemas, within) for key, value in schema.items()}
    ref = inlined.pop("$ref", None)
    if ref is None:
        return inlined
    name = ref.removeprefix("#/components/schemas/")
    if name in within:
        raise ValueError(f"request body schema {name} refers to itself")
    target = _inline(schemas[name], schemas, (*within, name))
    # Keywords beside a $ref apply as well: both must hold.
    return {"allOf": [target, inlined]} if inlined else target


@functools.lru_cache(maxsize=512)  # the app's own rules: a fixed set, asked on every write
def _operation_path(rule: str) -> str:
    """/api/v1/comments/<int:comment_id>/votes -> /comments/{comment_id}/votes"""
    parts = []
    for part in rule[len(API_PREFIX) :].split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = "{" + part[1:-1].rsplit(":", 1)[-1] + "}"
        parts.append(part)
    return "/".join(parts)


def _body_rule() -> tuple[Validator, bool] | None:
    rule = request.url_rule
    if rule is None:
        return None
    return _body_rules().get((request.method, _operation_path(rule.rule)))


def json_object() -> dict[str, Any]:
    """The request body: a JSON object that fits the operation's documented schema.

    400 for anything that is not a JSON object or holds a value of the wrong type,
    422 for values the schema does not allow. An operation whose body is optional
    reads a missing body as ``{}``.
    """
    body_rule = _body_rule()
    if body_rule is not None and not body_rule[1] and not request.get_data(cache=True):
        return {}
    try:
        payload = request.get_json(force=True, silent=True)
    except RecursionError as exc:  # nested deeper than the parser goes
        raise MalformedRequest("The request body is nested too deeply.") from exc
    if not isinstance(payload, dict):
        raise MalformedRequest("The request body must be a JSON object.")
    if body_rule is not None:
        check_body(body_rule[0], payload)
    return payload


def check_body(validator: Validator, payload: dict[str, Any]) -> None:
    """Raise the rule's 400 or 422 for a payload the schema refuses."""
    try:
        errors = list(validator.iter_errors(payload))
    except RecursionError as exc:  # a value nested deeper than the checks go
        raise MalformedRequest("The request body is nested too deeply.") from exc
    if not errors:
        return
    wrong_type: dict[str, str] = {}
    invalid: dict[str, str] = {}
    _sort(errors, wrong_type, invalid)
    if wrong_type:
        raise MalformedRequest(
            _sentence(wrong_type, "Some values have the wrong type."), fields=wrong_type
        )
    raise InvalidInput(_sentence(invalid, "Some values are not valid."), fields=invalid)


def _sentence(fields: dict[str, str], several: str) -> str:
    if len(fields) != 1:
        return several
    ((name, problem),) = fields.items()
    if problem.startswith("must "):
        return f"{name} {problem}."
    return f"{name}: {problem}."


def _sort(
    errors: Iterable[ValidationError], wrong_type: dict[str, str], invalid: dict[str, str]
) -> None:
    """File each failure under its field, as a wrong type or a bad value."""
    for error in errors:
        path = list(error.absolute_path)
        if error.validator == "type":
            _note(wrong_type, path, f"must be {_type_words([_keyword_value(error)])}")
        elif error.validator in ("anyOf", "oneOf") and error.context:
            _sort_alternatives(error, path, wrong_type, invalid)
        elif error.validator == "required":
            for name in _keyword_value(error):
                if isinstance(error.instance, dict) and name not in error.instance:
                    _note(invalid, [*path, name], "required")
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            schema = error.schema
            known = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
            for name in error.instance:
                if name not in known:
                    _note(invalid, [*path, name], "unknown field")
        else:
            _note(invalid, path, _describe(error))


def _sort_alternatives(
    error: ValidationError, path: list[Any], wrong_type: dict[str, str], invalid: dict[str, str]
) -> None:
    """An ``anyOf``: a wrong type when the value has the type of no alternative,
    else the failures of the first alternative whose type it has."""
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for failure in error.context or []:
        branches[failure.relative_schema_path[0]].append(failure)

    def type_miss(failure: ValidationError) -> bool:
        return failure.validator == "type" and not failure.relative_path

    fitting = [fails for fails in branches.values() if not any(map(type_miss, fails))]
    if fitting:
        _sort(fitting[0], wrong_type, invalid)
        return
    expected = [_keyword_value(f) for fails in branches.values() for f in fails if type_miss(f)]
    _note(wrong_type, path, f"must be {_type_words(expected)}")


def _type_words(expected: list[Any]) -> str:
    names: list[str] = []
    for value in expected:
        for name in [value] if isinstance(value, str) else value:
            if name not in names:
                names.append(name)
    words = [_TYPE_WORDS.get(name, name) for name in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _keyword_value(error: ValidationError) -> Any:
    """The failed keyword's value in the schema: JSON (a list of names, a number...).
    Set on every error a validator yields; only hand-made errors lack one."""
    return error.validator_value


def _describe(error: ValidationError) -> str:
    rule, limit = error.validator, _keyword_value(error)
    if rule == "enum":
        return "one of " + ", ".join(str(v) for v in limit)
    if rule == "const":
        return f"must be {limit}"
    if rule == "minLength":
        return "must not be empty" if limit == 1 else f"at least {limit} characters"
    if rule == "maxLength":
        return f"at most {limit} characters"
    if rule == "minItems":
        return "must not be empty" if limit == 1 else f"at least {limit} items"
    if rule == "maxItems":
        return f"at most {limit} items"
    if rule == "minimum":
        return f"at least {_number(limit)}"
    if rule == "maximum":
        return f"at most {_number(limit)}"
    if rule == "exclusiveMinimum":
        return f"more than {_number(limit)}"
    if rule == "exclusiveMaximum":
        return f"less than {_number(limit)}"
    if rule == "pattern":
        return "not in the expected form"
    # Not error.message: it repeats the value, which may be long or hostile.
    return f"not allowed ({rule})"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _note(fields: dict[str, str], path: list[Any], problem: str) -> None:
    """Record the first problem of each field: ``poll.options`` for a key path, with
    the item's number in the message for an item of a list."""
    names = [str(part) for part in path if not isinstance(part, int)]
    items = [part for part in path if isinstance(part, int)]
    name = ".".join(names) or "body"
    if items and isinstance(path[-1], int):
        problem = (
            f"item {path[-1] + 1} {problem}"
            if problem.startswith("must ")
            else (f"item {path[-1] + 1}: {problem}")
        )
    fields.setdefault(name, problem)


def viewer() -> User | None:
    return signed_in_or_none()
