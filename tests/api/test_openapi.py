"""The OpenAPI document: served, valid, and naming exactly the API's routes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate

from webapp import create_app
from webapp.api.openapi import document

PREFIX = "/api/v1"
UNSAFE = {"post", "put", "patch", "delete"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The document needs no database: an app on an empty SQLite file is enough."""
    path: Path = tmp_path_factory.mktemp("openapi") / "unused.db"
    yield create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{path}"})


@pytest.fixture(scope="module")
def served(docs_app: Flask) -> dict[str, Any]:
    response = docs_app.test_client().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def _flask_path(rule: str) -> str:
    """/api/v1/comments/<int:comment_id> -> /comments/{comment_id}"""
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule[len(PREFIX) :])


def _app_operations(app: Flask) -> set[tuple[str, str]]:
    return {
        (method.lower(), _flask_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def _documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    }


def test_the_document_is_served_to_anyone_and_is_what_the_module_builds(
    served: dict[str, Any],
) -> None:
    assert served == document()


def test_the_document_is_a_valid_openapi_document(served: dict[str, Any]) -> None:
    validate(served)
    assert served["openapi"].startswith("3.")
    assert served["servers"] == [{"url": PREFIX}]


def test_every_api_route_is_documented_and_every_documented_operation_exists(
    docs_app: Flask, served: dict[str, Any]
) -> None:
    in_app = _app_operations(docs_app)
    documented = _documented_operations(served)
    assert not in_app - documented, "routes missing from webapp/api/openapi/"
    assert not documented - in_app, "documented operations the app does not have"


def test_path_parameters_match_the_routes_converters(
    docs_app: Flask, served: dict[str, Any]
) -> None:
    components = served["components"]["parameters"]
    for rule in docs_app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        item = served["paths"][_flask_path(rule.rule)]
        declared = {}
        for parameter in item.get("parameters", []):
            parameter = components[parameter["$ref"].rsplit("/", 1)[1]]
            declared[parameter["name"]] = parameter
        assert set(declared) == set(rule.arguments), rule.rule
        for name in rule.arguments:
            assert declared[name]["in"] == "path" and declared[name]["required"] is True
            is_int = f"<int:{name}>" in rule.rule
            assert (declared[name]["schema"]["type"] == "integer") == is_int, (rule.rule, name)


def test_unsafe_operations_require_the_session_cookie_and_the_csrf_header(
    served: dict[str, Any],
) -> None:
    schemes = served["components"]["securitySchemes"]
    assert schemes["csrf"] == {**schemes["csrf"], "in": "header", "name": "X-CSRFToken"}
    assert schemes["session"] == {**schemes["session"], "in": "cookie", "name": "session"}
    for path, item in served["paths"].items():
        for method, operation in item.items():
            if method in UNSAFE:
                assert operation["security"] == [{"session": [], "csrf": []}], (method, path)
                assert "403" in operation["responses"], (method, path)
                assert "413" in operation["responses"], (method, path)


def test_every_error_answer_has_the_contracts_error_body(served: dict[str, Any]) -> None:
    error = served["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    inner = error["properties"]["error"]
    assert inner["required"] == ["code", "message"]
    assert set(inner["properties"]) == {"code", "message", "fields"}
    responses = served["components"]["responses"]
    for path, item in served["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    name = answer["$ref"].rsplit("/", 1)[1]
                    schema = responses[name]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)


def test_the_contracts_endpoints_are_all_there(served: dict[str, Any]) -> None:
    contract = {
        ("get", "/csrf"),
        ("post", "/auth/register"),
        ("post", "/auth/login"),
        ("post", "/auth/logout"),
        ("get", "/auth/me"),
        ("get", "/articles"),
        ("get", "/articles/{slug}"),
        ("post", "/articles"),
        ("patch", "/articles/{slug}"),
        ("get", "/articles/{slug}/poll"),
        ("post", "/articles/{slug}/poll/votes"),
        ("delete", "/articles/{slug}/poll/votes/mine"),
        ("get", "/articles/{slug}/poll/results"),
        ("get", "/articles/{slug}/comments"),
        ("post", "/articles/{slug}/comments"),
        ("patch", "/comments/{comment_id}"),
        ("delete", "/comments/{comment_id}"),
        ("post", "/comments/{comment_id}/flags"),
        ("post", "/comments/{comment_id}/votes"),
        ("get", "/moderation/queue"),
        ("post", "/moderation/comments/{comment_id}"),
        ("post", "/moderation/users/{user_id}/ban"),
        ("get", "/moderation/log"),
        ("get", "/articles/{slug}/sentiment"),
    }
    assert contract <= _documented_operations(served)
