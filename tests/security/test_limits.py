"""Size limits: bodies over MAX_CONTENT_LENGTH (1 MiB) are refused with 413, comments
over 5000 characters with 422. Every request sends a valid CSRF token, so the size is
the only reason to refuse it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Api

MIB = 1024 * 1024
TOO_BIG = "x" * (MIB + 1)


def test_the_limit_is_one_mebibyte(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == MIB


@pytest.fixture
def editor(make_api: Callable[[], Api], make_user: Callable[..., Any]) -> Api:
    api = make_api()
    api.login(make_user("editor"))
    return api


def test_json_bodies_over_the_limit_get_413_with_the_contract_body(
    editor: Api, make_api: Callable[[], Api], make_article: Callable[..., Any]
) -> None:
    article = make_article(poll={"allow_anonymous": True})
    anonymous = make_api()
    calls = [
        (anonymous, "POST", "/api/v1/auth/register"),
        (anonymous, "POST", "/api/v1/auth/login"),
        (anonymous, "POST", f"/api/v1/articles/{article.slug}/poll/votes"),
        (editor, "POST", "/api/v1/articles"),
        (editor, "PATCH", f"/api/v1/articles/{article.slug}"),
        (editor, "POST", f"/api/v1/articles/{article.slug}/comments"),
        (editor, "POST", "/api/v1/moderation/terms"),
    ]
    for api, method, path in calls:
        response = api._unsafe(method, path, {"title": "Big", "body": TOO_BIG})
        assert response.status_code == 413, (method, path, response.status_code)
        error = response.get_json()["error"]
        assert error["code"] == "payload_too_large", (method, path)
        assert error["message"]


def test_a_body_just_under_the_limit_is_read(editor: Api) -> None:
    """The refusal is about size: a large body that fits is parsed and validated."""
    response = editor.post("/api/v1/articles", {"title": "Long read", "body": "x" * (MIB - 100)})
    assert response.status_code == 422  # over the 200,000-character article limit
    assert response.get_json()["error"]["fields"]["body"].startswith("at most")


def test_form_posts_over_the_limit_get_a_413_page(
    editor: Api, make_api: Callable[[], Api], make_article: Callable[..., Any]
) -> None:
    article = make_article()
    for api, path, data in [
        (make_api(), "/register", {"display_name": "Big", "email": "a@b.org", "password": TOO_BIG}),
        (make_api(), "/login", {"email": "a@b.org", "password": TOO_BIG}),
        (editor, f"/articles/{article.slug}/comments", {"body": TOO_BIG}),
        (editor, "/editor/articles/new", {"title": "Big", "body": TOO_BIG, "action": "save"}),
    ]:
        response = api.form(path, data)
        assert response.status_code == 413, (path, response.status_code)
        assert response.mimetype == "text/html"
        assert "Too large" in response.get_data(as_text=True)


def test_a_comment_of_5001_characters_is_422_and_of_5000_is_posted(
    make_api: Callable[[], Api], make_user: Callable[..., Any], make_article: Callable[..., Any]
) -> None:
    article = make_article()
    api = make_api()
    api.login(make_user("reader"))
    url = f"/api/v1/articles/{article.slug}/comments"

    response = api.post(url, {"body": "a" * 5001})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and "body" in error["fields"]

    assert api.post(url, {"body": "a" * 5000}).status_code == 201

    page = api.form(
        f"/articles/{article.slug}/comments",
        {"body": "b" * 5001},
        headers={"X-Pulse-Fragment": "comments"},  # in place; without script it redirects
    )
    assert page.status_code == 422
    assert "at most 5,000 characters" in page.get_data(as_text=True)
