from __future__ import annotations

import pytest

from tests.conftest import days_ago
from tests.xss import PAYLOADS, script_risks

ARTICLE = {
    "title": "Ceasefire holds for a second night",
    "body": "Both armies *report* calm.\n\n## What next\n\nTalks resume.",
    "summary": "Calm along the line.",
    "labels": ["South Asia", "Diplomacy"],
    "status": "published",
    "comments": "open",
    "poll": {
        "question": "Will it hold?",
        "options": ["Yes", "No"],
        "closes_at": "2099-01-01T00:00:00Z",
        "results_visibility": "after_vote",
        "allow_anonymous": True,
    },
}


@pytest.fixture
def editor_api(api, make_user):
    api.login(make_user(role="editor"))
    return api


def test_editor_creates_an_article_with_its_poll(editor_api):
    response = editor_api.post("/api/v1/articles", ARTICLE)
    assert response.status_code == 201
    body = response.get_json()
    assert body["slug"] == "ceasefire-holds-for-a-second-night"
    assert body["status"] == "published"
    assert body["published_at"].endswith("Z")
    assert "<em>report</em>" in body["html"]
    assert "<h2>What next</h2>" in body["html"]
    assert body["labels"] == ["Diplomacy", "South Asia"]
    assert body["comment_count"] == 0
    assert body["previous"] is None and body["next"] is None
    poll = body["poll"]
    assert poll["question"] == "Will it hold?"
    assert [o["label"] for o in poll["options"]] == ["Yes", "No"]
    assert poll["closes_at"] == "2099-01-01T00:00:00Z"
    assert poll["closed"] is False
    assert poll["results_visibility"] == "after_vote"
    assert poll["allow_anonymous"] is True
    assert poll["my_vote"] is None


def test_slug_taken_is_409(editor_api):
    assert editor_api.post("/api/v1/articles", ARTICLE).status_code == 201
    again = editor_api.post(
        "/api/v1/articles",
        {**ARTICLE, "title": "Other"} | {"slug": "ceasefire-holds-for-a-second-night"},
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "slug_taken"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": "  "}, "title"),
        ({"body": ""}, "body"),
        ({"status": "archived"}, "status"),
        ({"comments": "sometimes"}, "comments"),
        ({"slug": "Not A Slug!"}, "slug"),
        (
            {
                "poll": {
                    "question": "Q?",
                    "options": ["Only one"],
                    "results_visibility": "always",
                    "allow_anonymous": False,
                }
            },
            "poll.options",
        ),
        (
            {
                "poll": {
                    "question": "Q?",
                    "options": [str(i) for i in range(11)],
                    "results_visibility": "always",
                    "allow_anonymous": False,
                }
            },
            "poll.options",
        ),
        (
            {
                "poll": {
                    "question": "",
                    "options": ["a", "b"],
                    "results_visibility": "always",
                    "allow_anonymous": False,
                }
            },
            "poll.question",
        ),
        (
            {
                "poll": {
                    "question": "Q",
                    "options": ["a", "b"],
                    "results_visibility": "never",
                    "allow_anonymous": False,
                }
            },
            "poll.results_visibility",
        ),
    ],
)
def test_invalid_values_are_422_and_nothing_is_stored(editor_api, change, field):
    response = editor_api.post("/api/v1/articles", {**ARTICLE, **change})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert editor_api.get("/api/v1/articles").get_json()["items"] == []


def test_wrong_types_are_400(editor_api):
    response = editor_api.post("/api/v1/articles", {**ARTICLE, "labels": "not-a-list"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_request"


def test_readers_get_403_and_anonymous_401_on_editor_routes(api, make_user, make_article):
    article = make_article()
    assert api.post("/api/v1/articles", ARTICLE).status_code == 401
    assert api.patch(f"/api/v1/articles/{article.slug}", {"title": "x"}).status_code == 401
    for role in ("reader", "moderator"):
        other = api.__class__(api.client.application.test_client())
        other.login(make_user(role=role))
        created = other.post("/api/v1/articles", ARTICLE)
        assert created.status_code == 403
        assert created.get_json()["error"]["code"] == "forbidden"
        assert other.patch(f"/api/v1/articles/{article.slug}", {"title": "x"}).status_code == 403


def test_admin_can_do_what_editors_do(api, make_user):
    api.login(make_user(role="admin"))
    assert api.post("/api/v1/articles", ARTICLE).status_code == 201


def test_drafts_are_hidden_from_readers_but_shown_to_editors(
    api, make_api, make_user, make_article
):
    draft = make_article("Work in progress", status="draft")
    assert api.get(f"/api/v1/articles/{draft.slug}").status_code == 404
    assert api.get("/api/v1/articles").get_json()["items"] == []
    reader = make_api()
    reader.login(make_user())
    assert reader.get(f"/api/v1/articles/{draft.slug}").status_code == 404
    editor = make_api()
    editor.login(make_user(role="editor"))
    response = editor.get(f"/api/v1/articles/{draft.slug}")
    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"


def test_publishing_and_unpublishing_through_patch(editor_api, api):
    created = editor_api.post("/api/v1/articles", {**ARTICLE, "status": "draft"}).get_json()
    assert created["published_at"] is None
    slug = created["slug"]
    published = editor_api.patch(f"/api/v1/articles/{slug}", {"status": "published"})
    assert published.status_code == 200
    first_date = published.get_json()["published_at"]
    assert first_date is not None
    editor_api.patch(f"/api/v1/articles/{slug}", {"status": "draft"})
    anonymous = api.__class__(api.client.application.test_client())
    assert anonymous.get(f"/api/v1/articles/{slug}").status_code == 404
    again = editor_api.patch(f"/api/v1/articles/{slug}", {"status": "published"}).get_json()
    assert again["published_at"] == first_date


def test_patch_changes_only_the_given_fields(editor_api):
    slug = editor_api.post("/api/v1/articles", ARTICLE).get_json()["slug"]
    response = editor_api.patch(
        f"/api/v1/articles/{slug}", {"title": "New headline", "labels": ["Asia"]}
    )
    body = response.get_json()
    assert body["title"] == "New headline"
    assert body["slug"] == slug
    assert body["labels"] == ["Asia"]
    assert body["summary"] == "Calm along the line."
    assert body["poll"]["question"] == "Will it hold?"


def test_patch_of_unknown_article_is_404(editor_api):
    response = editor_api.patch("/api/v1/articles/nope", {"title": "x"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_list_is_newest_first_paginated_by_cursor(api, make_article):
    for age in range(5):
        make_article(f"Day {age}", published_at=days_ago(age))
    make_article("Hidden draft", status="draft")
    first = api.get("/api/v1/articles?limit=2").get_json()
    assert [a["title"] for a in first["items"]] == ["Day 0", "Day 1"]
    second = api.get(f"/api/v1/articles?limit=2&cursor={first['next_cursor']}").get_json()
    assert [a["title"] for a in second["items"]] == ["Day 2", "Day 3"]
    third = api.get(f"/api/v1/articles?limit=2&cursor={second['next_cursor']}").get_json()
    assert [a["title"] for a in third["items"]] == ["Day 4"]
    assert third["next_cursor"] is None


def test_bad_cursor_is_400(api):
    assert api.get("/api/v1/articles?cursor=%%%").status_code == 400


def test_label_filter(api, make_article):
    make_article("On Asia", labels=["South Asia"])
    make_article("On Europe", labels=["Europe"])
    items = api.get("/api/v1/articles?label=south-asia").get_json()["items"]
    assert [a["title"] for a in items] == ["On Asia"]


def test_previous_and_next_follow_publication_order(api, make_article):
    oldest = make_article("Oldest", published_at=days_ago(3))
    middle = make_article("Middle", published_at=days_ago(2))
    make_article("A draft in between", status="draft")
    newest = make_article("Newest", published_at=days_ago(1))
    body = api.get(f"/api/v1/articles/{middle.slug}").get_json()
    assert body["previous"] == {"slug": oldest.slug, "title": "Oldest"}
    assert body["next"] == {"slug": newest.slug, "title": "Newest"}
    assert api.get(f"/api/v1/articles/{oldest.slug}").get_json()["previous"] is None
    assert api.get(f"/api/v1/articles/{newest.slug}").get_json()["next"] is None


def test_script_in_an_article_body_never_reaches_readers(editor_api):
    body = "\n\n".join(PAYLOADS)
    response = editor_api.post("/api/v1/articles", {**ARTICLE, "body": body})
    assert response.status_code == 201
    assert script_risks(response.get_json()["html"]) == []


def test_removing_options_that_have_votes_is_refused(editor_api, app, db):
    from webapp.models import Poll
    from webapp.services import polls

    slug = editor_api.post("/api/v1/articles", ARTICLE).get_json()["slug"]
    poll = db.session.scalar(db.select(Poll))
    polls.cast_vote(poll, polls.Voter("u:999", None), poll.options[1].id)
    db.session.commit()
    response = editor_api.patch(
        f"/api/v1/articles/{slug}",
        {
            "poll": {
                "question": "Will it hold?",
                "options": ["Yes"] + [],
                "results_visibility": "always",
                "allow_anonymous": True,
            }
        },
    )
    assert response.status_code == 422  # one option is too few, checked first
    response = editor_api.patch(
        f"/api/v1/articles/{slug}",
        {
            "poll": {
                "question": "Will it hold?",
                "options": ["Yes", "Maybe"],
                "results_visibility": "always",
                "allow_anonymous": True,
            }
        },
    )
    assert response.status_code == 200
    assert [o["label"] for o in response.get_json()["poll"]["options"]] == ["Yes", "Maybe"]
    response = editor_api.patch(f"/api/v1/articles/{slug}", {"poll": None})
    assert response.status_code == 409


def test_oversized_body_is_413(editor_api):
    response = editor_api.post("/api/v1/articles", {**ARTICLE, "body": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "closes_at, problem",
    [("next tuesday", "not an ISO 8601 time"), ("0001-01-01T00:00:00+01:00", "out of range")],
)
def test_a_closing_time_that_is_not_a_time_is_422(editor_api, closes_at, problem):
    poll = {**ARTICLE["poll"], "closes_at": closes_at}
    response = editor_api.post("/api/v1/articles", {**ARTICLE, "poll": poll})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"poll.closes_at": problem}
    assert editor_api.get("/api/v1/articles").get_json()["items"] == []


def test_an_empty_closing_time_leaves_the_poll_open(editor_api):
    poll = {**ARTICLE["poll"], "closes_at": ""}
    response = editor_api.post("/api/v1/articles", {**ARTICLE, "poll": poll})
    assert response.status_code == 201
    assert response.get_json()["poll"]["closes_at"] is None


def test_the_article_json_is_built_from_what_was_read_without_a_query(app, db, make_article):
    """article_json only shapes: the reads load the author, labels, poll and options,
    and the caller passes the neighbours and the reader's vote."""
    import sqlalchemy as sa

    from webapp.api.serializers import article_json
    from webapp.services import articles

    make_article("Before", published_at=days_ago(2))
    article = make_article("Middle", poll=True, labels=["Diplomacy"], published_at=days_ago(1))
    make_article("After")
    slug = article.slug
    db.session.expire_all()
    found = articles.get_article(slug, None)
    links = articles.neighbours(found)
    rows, _ = articles.list_published(10)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        one = article_json(found, links, found.poll, None)
        listed = [article_json(row, (None, None), row.poll, None) for row in rows]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert statements == []
    assert one["labels"] == ["Diplomacy"]
    assert one["previous"]["title"] == "Before" and one["next"]["title"] == "After"
    assert [o["label"] for o in one["poll"]["options"]] == ["Yes", "No", "Too early to tell"]
    assert [a["title"] for a in listed] == ["After", "Middle", "Before"]
    assert listed[1]["poll"] == one["poll"]
