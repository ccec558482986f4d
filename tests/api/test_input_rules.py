"""One rule for what the API is sent, and cursors only the service issued.

A value of the wrong JSON type is 400 ``malformed_request``; a value of the right
type that is not allowed is 422 ``invalid``; both name the field. Booleans are not
numbers and 1.0 is not a whole number. Query parameters follow the same rule, and a
cursor is either one the service handed out for that list or a 400, never a 500,
on the API and on the HTML pages alike.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import current_app

from tests.conftest import Api
from webapp.extensions import db
from webapp.pagination import cursor_serializer, encode_cursor
from webapp.services import comments

Response = Any


def assert_wrong_type(response: Response, field: str) -> None:
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "malformed_request"
    assert "must be" in error["fields"][field], error


def assert_invalid(response: Response, field: str) -> None:
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error


def signed_by_us(list_name: str, values: Any) -> str:
    """Signed with the app's key and the list's salt, as an older format might have
    been: the values inside are still checked."""
    return cursor_serializer(current_app.secret_key, list_name).dumps(values)


def unsigned(values: Any) -> str:
    """The cursor format before cursors were signed."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def forged(real: str) -> str:
    """A real cursor with its signature's first character changed (the last one
    carries padding bits, so changing it may not change the signature)."""
    payload, signature = real.rsplit(".", 1)
    return f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def hostile_cursors(list_name: str, real: str, shape: list[Any]) -> dict[str, str]:
    """Cursors the service never issued for ``list_name``; ``shape`` is a sound key."""
    other = "articles" if list_name != "articles" else "comments"
    return {
        "garbage": "%%%not-a-cursor",
        "unsigned": unsigned(shape),
        "forged signature": forged(real),
        "another list's": encode_cursor(shape, other),
        "naive time": signed_by_us(list_name, ["2026-01-01T00:00:00", 1]),
        "time past the calendar": signed_by_us(list_name, ["9999-12-31T23:59:59-05:00", 1]),
        "time before the calendar": signed_by_us(list_name, ["0001-01-01T00:00:00+01:00", 1]),
        "huge number": signed_by_us(list_name, [10**30, 10**30]),
        "not a list": signed_by_us(list_name, {"after": 1}),
        "too short": signed_by_us(list_name, []),
        "wrong types": signed_by_us(list_name, [True, None]),
    }


@pytest.fixture
def moderator(make_api: Callable[[], Api], make_user: Callable[..., Any]) -> Api:
    api = make_api()
    api.login(make_user("moderator"))
    return api


@pytest.fixture
def editor(make_api: Callable[[], Api], make_user: Callable[..., Any]) -> Api:
    api = make_api()
    api.login(make_user("editor"))
    return api


# --- cursors ------------------------------------------------------------------------


def test_the_articles_list_takes_only_its_own_cursors(
    api: Api, make_article: Callable[..., Any]
) -> None:
    for _ in range(3):
        make_article()
    first = api.get("/api/v1/articles?limit=1").get_json()
    real = first["next_cursor"]
    assert api.get(f"/api/v1/articles?limit=1&cursor={real}").status_code == 200
    sound = ["2026-01-01T00:00:00+00:00", 1]
    for kind, cursor in hostile_cursors("articles", real, sound).items():
        response = api.get(f"/api/v1/articles?cursor={cursor}")
        assert response.status_code == 400, kind
        assert response.get_json()["error"]["code"] == "malformed_request", kind


def test_the_comments_list_and_page_take_only_their_own_cursors(
    api: Api, make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    article = make_article()
    reader = make_user()
    for n in range(3):
        comments.submit(article, reader, f"Comment number {n}.")
    db.session.commit()
    url = f"/api/v1/articles/{article.slug}/comments"
    real = api.get(f"{url}?limit=1").get_json()["next_cursor"]
    assert len(api.get(f"{url}?limit=1&cursor={real}").get_json()["items"]) == 1
    for kind, cursor in hostile_cursors("comments", real, [0, 1]).items():
        for sort in ("oldest", "top"):
            response = api.get(f"{url}?sort={sort}&cursor={cursor}")
            assert response.status_code == 400, (kind, sort)
            assert response.get_json()["error"]["code"] == "malformed_request"
        page = api.get(f"/articles/{article.slug}?after={cursor}")
        assert page.status_code == 400, kind
        assert page.mimetype == "text/html"


def test_the_moderation_queue_takes_only_its_own_cursors(
    moderator: Api, make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    article = make_article(comments="premoderated")
    reader = make_user()
    for n in range(3):
        comments.submit(article, reader, f"Held comment {n}.")
    db.session.commit()
    first = moderator.get("/api/v1/moderation/queue?limit=1").get_json()
    real = first["next_cursor"]
    second = moderator.get(f"/api/v1/moderation/queue?limit=1&cursor={real}").get_json()
    assert second["items"][0]["id"] != first["items"][0]["id"]
    # The page and the API share the queue's cursors.
    assert moderator.get(f"/moderation/queue/pending?after={real}").status_code == 200
    sound = ["2026-01-01T00:00:00+00:00", 1]
    for kind, cursor in hostile_cursors("moderation-queue", real, sound).items():
        response = moderator.get(f"/api/v1/moderation/queue?cursor={cursor}")
        assert response.status_code == 400, kind
        assert response.get_json()["error"]["code"] == "malformed_request"
        page = moderator.get(f"/moderation/queue/pending?after={cursor}")
        assert page.status_code == 400, kind
        assert page.mimetype == "text/html"
        assert "Bad request" in page.get_data(as_text=True)


def test_the_moderation_log_takes_only_its_own_cursors(
    moderator: Api, make_user: Callable[..., Any]
) -> None:
    for _ in range(2):
        moderator.post(f"/api/v1/moderation/users/{make_user().id}/ban", {"reason": "Spam."})
    real = moderator.get("/api/v1/moderation/log?limit=1").get_json()["next_cursor"]
    assert moderator.get(f"/api/v1/moderation/log?limit=1&cursor={real}").status_code == 200
    for kind, cursor in hostile_cursors("moderation-log", real, [1]).items():
        response = moderator.get(f"/api/v1/moderation/log?cursor={cursor}")
        assert response.status_code == 400, kind


# --- query parameters ---------------------------------------------------------------


def test_limit_is_a_whole_number_from_1_to_100(
    moderator: Api, make_article: Callable[..., Any]
) -> None:
    article = make_article()
    lists = [
        "/api/v1/articles",
        f"/api/v1/articles/{article.slug}/comments",
        "/api/v1/moderation/queue",
        "/api/v1/moderation/log",
    ]
    for path in lists:
        for limit in ("1", "100", ""):
            assert moderator.get(f"{path}?limit={limit}").status_code == 200, (path, limit)
        for limit in ("0", "101", "-1", "99999999999999999999999"):
            response = moderator.get(f"{path}?limit={limit}")
            assert_invalid(response, "limit")
            assert response.get_json()["error"]["fields"]["limit"] == "between 1 and 100"
        for limit in ("abc", "1.5", "ten", "1e2", "٣"):
            assert_wrong_type(moderator.get(f"{path}?limit={limit}"), "limit")


def test_unknown_choices_in_the_query_are_422(
    moderator: Api, make_article: Callable[..., Any]
) -> None:
    article = make_article()
    assert_invalid(moderator.get(f"/api/v1/articles/{article.slug}/comments?sort=best"), "sort")
    assert_invalid(moderator.get("/api/v1/moderation/queue?status=spam"), "status")
    assert_invalid(moderator.get("/api/v1/moderation/log?action=explode"), "action")
    assert_wrong_type(moderator.get("/api/v1/moderation/log?user_id=abc"), "user_id")
    assert_invalid(moderator.get("/api/v1/moderation/log?user_id=0"), "user_id")
    assert moderator.get("/api/v1/moderation/log?action=ban&user_id=7").status_code == 200


# --- bodies -------------------------------------------------------------------------


def test_a_comment_vote_is_1_0_or_minus_1_and_nothing_else(
    make_api: Callable[[], Api], make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    article = make_article()
    comment = comments.submit(article, make_user(), "Vote on me.")
    db.session.commit()
    api = make_api()
    api.login(make_user())
    url = f"/api/v1/comments/{comment.id}/votes"
    for value in ("up", 1.0, True, None, [1], {"v": 1}):
        response = api.post(url, {"value": value})
        assert_wrong_type(response, "value")
        assert response.get_json()["error"]["fields"]["value"] == "must be a whole number"
    for value in (2, -2, 10**30):
        assert_invalid(api.post(url, {"value": value}), "value")
    assert_invalid(api.post(url, {}), "value")
    response = api.post(url, {"value": 1})
    assert response.status_code == 200
    assert response.get_json() == {"score": 1, "my_reaction": 1}
    assert api.post(url, {"value": 0}).get_json() == {"score": 0, "my_reaction": 0}


def test_account_bodies(api: Api) -> None:
    account = {"email": "new@example.org", "password": "long enough pw", "display_name": "New"}
    assert_wrong_type(api.post("/api/v1/auth/register", {**account, "email": 5}), "email")
    response = api.post("/api/v1/auth/register", {**account, "display_name": "x" * 81})
    assert_invalid(response, "display_name")
    assert_invalid(api.post("/api/v1/auth/register", {**account, "password": "short"}), "password")
    assert_wrong_type(
        api.post("/api/v1/auth/login", {"email": "a@b.org", "password": 5}), "password"
    )
    assert_invalid(api.post("/api/v1/auth/login", {"password": "whatever"}), "email")


def test_article_bodies(editor: Api, make_article: Callable[..., Any]) -> None:
    new = {"title": "A title", "body": "Text."}
    assert_wrong_type(editor.post("/api/v1/articles", {**new, "title": 5}), "title")
    assert_invalid(editor.post("/api/v1/articles", {**new, "title": "x" * 201}), "title")
    assert_invalid(editor.post("/api/v1/articles", {"title": "No body"}), "body")
    poll = {"question": "Q?", "options": ["A", "B"]}
    response = editor.post("/api/v1/articles", {**new, "poll": {**poll, "options": "A, B"}})
    assert_wrong_type(response, "poll.options")
    response = editor.post("/api/v1/articles", {**new, "poll": {**poll, "options": ["A", 2]}})
    assert_wrong_type(response, "poll.options")
    options = [f"Option {n}" for n in range(11)]
    response = editor.post("/api/v1/articles", {**new, "poll": {**poll, "options": options}})
    assert_invalid(response, "poll.options")
    assert_wrong_type(editor.post("/api/v1/articles", {**new, "poll": "yes"}), "poll")
    assert editor.get("/api/v1/articles").get_json()["items"] == []

    article = make_article()
    url = f"/api/v1/articles/{article.slug}"
    assert_wrong_type(editor.patch(url, {"status": 1}), "status")
    assert_invalid(editor.patch(url, {"status": "archived"}), "status")
    assert editor.patch(url, {"summary": None, "title": "Still here"}).status_code == 200


def test_comment_bodies(
    make_api: Callable[[], Api], make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    article = make_article()
    api = make_api()
    api.login(make_user())
    posted = api.post(f"/api/v1/articles/{article.slug}/comments", {"body": "Mine."})
    assert posted.status_code == 201
    new = f"/api/v1/articles/{article.slug}/comments"
    assert_wrong_type(api.post(new, {"body": "Reply", "parent_id": 1.5}), "parent_id")
    assert_wrong_type(api.post(new, {"body": "Reply", "parent_id": True}), "parent_id")
    edit = f"/api/v1/comments/{posted.get_json()['id']}"
    assert_wrong_type(api.patch(edit, {"body": ["words"]}), "body")
    assert_invalid(api.patch(edit, {"body": ""}), "body")
    assert_invalid(api.patch(edit, {"body": "x" * 5001}), "body")
    other = comments.submit(article, make_user(), "Someone else's.")
    db.session.commit()
    flags = f"/api/v1/comments/{other.id}/flags"
    assert_wrong_type(api.post(flags, {"reason": 1}), "reason")
    assert_invalid(api.post(flags, {"reason": "rude"}), "reason")
    assert_wrong_type(api.post(flags, {"reason": "spam", "note": 5}), "note")
    assert api.post(flags, {"reason": "spam", "note": "n" * 2000}).status_code == 201


def test_moderation_bodies(
    moderator: Api, make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    comment = comments.submit(make_article(), make_user(), "Decide on me.")
    reader = make_user()
    db.session.commit()
    one = f"/api/v1/moderation/comments/{comment.id}"
    assert_wrong_type(moderator.post(one, {"action": 1}), "action")
    assert_invalid(moderator.post(one, {"action": "delete"}), "action")
    assert_wrong_type(moderator.post(one, {"action": "reject", "reason": 5}), "reason")
    many = "/api/v1/moderation/comments"
    assert_wrong_type(moderator.post(many, {"ids": "1", "action": "approve"}), "ids")
    assert_wrong_type(moderator.post(many, {"ids": [True], "action": "approve"}), "ids")
    assert_invalid(moderator.post(many, {"ids": [], "action": "approve"}), "ids")
    assert_invalid(moderator.post(many, {"ids": list(range(1, 202)), "action": "approve"}), "ids")

    ban = f"/api/v1/moderation/users/{reader.id}/ban"
    assert_wrong_type(moderator.post(ban, {"reason": 5}), "reason")
    assert_wrong_type(moderator.post(ban, {"reason": "Spam.", "until": 5}), "until")
    assert_invalid(moderator.post(ban, {"reason": ""}), "reason")
    assert_invalid(moderator.post(ban, {"reason": "x" * 1001}), "reason")
    assert moderator.post(ban, {"reason": "Spam."}).status_code == 200
    unban = f"/api/v1/moderation/users/{reader.id}/unban"
    assert_wrong_type(moderator.post(unban, {"reason": 5}), "reason")
    assert moderator.post(unban).status_code == 200  # the body is optional

    settings = "/api/v1/moderation/settings"
    for value in ("3", 2.0, True, None):
        assert_wrong_type(moderator.patch(settings, {"max_links": value}), "max_links")
    assert_wrong_type(moderator.patch(settings, {"hide_reported": 1}), "hide_reported")
    assert_invalid(moderator.patch(settings, {"max_links": 101}), "max_links")
    assert_invalid(moderator.patch(settings, {"toxicity_threshold": 1.5}), "toxicity_threshold")
    assert_invalid(moderator.patch(settings, {"no_such_setting": 1}), "no_such_setting")
    not_a_number = moderator.client.patch(
        settings,
        data='{"toxicity_threshold": NaN}',
        headers={"X-CSRFToken": moderator.token, "Content-Type": "application/json"},
    )
    assert_wrong_type(not_a_number, "toxicity_threshold")
    assert moderator.get(settings).get_json()["max_links"] == 2

    terms = "/api/v1/moderation/terms"
    assert_wrong_type(moderator.post(terms, {"term": 5, "kind": "banned"}), "term")
    assert_invalid(moderator.post(terms, {"term": "word", "kind": "bad"}), "kind")
    assert_invalid(moderator.post(terms, {"term": "x" * 101, "kind": "banned"}), "term")


def test_a_wrong_type_wins_over_a_bad_value_and_every_field_is_named(editor: Api) -> None:
    response = editor.post("/api/v1/articles", {"title": "x" * 500, "body": 5, "summary": 6})
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {
        "body": "must be a string",
        "summary": "must be a string or null",
    }
    response = editor.post("/api/v1/articles", {"title": "x" * 500, "body": "", "status": "x"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"title", "body", "status"}


def test_the_settings_schema_follows_the_settings() -> None:
    """The document's settings are the service's, with the service's bounds: a new
    setting not documented would be refused as an unknown field."""
    from dataclasses import fields

    from webapp.api.openapi import SCHEMAS
    from webapp.services.moderation import LIMITS, ModerationSettings

    documented = SCHEMAS["SettingsPatch"]["properties"]
    assert set(documented) == {field.name for field in fields(ModerationSettings)}
    for name, (low, high) in LIMITS.items():
        assert (documented[name]["minimum"], documented[name]["maximum"]) == (low, high), name


def test_every_route_that_reads_a_body_has_its_schema_documented(app: Any) -> None:
    """json_object checks a body against the operation's documented schema; a route
    reading a body the document does not describe would only be checked for being
    an object, so the rule would quietly not hold there."""
    import inspect

    from webapp.api.common import _body_rules, _operation_path

    documented = _body_rules()
    undocumented = []
    for rule in app.url_map.iter_rules():
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        if not rule.rule.startswith("/api/v1/") or "json_object(" not in inspect.getsource(view):
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (method, _operation_path(rule.rule)) not in documented:
                undocumented.append((method, rule.rule))
    assert not undocumented, "document these bodies in webapp/api/openapi/"
