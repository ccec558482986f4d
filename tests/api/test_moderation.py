from __future__ import annotations

import pytest

from webapp.models import Comment


@pytest.fixture
def setup(make_article, make_user, db):
    from webapp.services import comments

    article = make_article(comments="premoderated")
    author = make_user(name="Held Author")
    comment = comments.submit(article, author, "Please approve me")
    db.session.commit()
    return article, author, comment


@pytest.fixture
def moderator_api(make_api, make_user):
    client = make_api()
    client.user = make_user(role="moderator", name="Mod")
    client.login(client.user)
    return client


API_ROUTES = [
    ("GET", "/api/v1/moderation/queue", None),
    ("POST", "/api/v1/moderation/comments/{comment}", {"action": "approve"}),
    ("POST", "/api/v1/moderation/comments", {"ids": ["{comment}"], "action": "approve"}),
    ("POST", "/api/v1/moderation/users/{author}/ban", {"reason": "x"}),
    ("POST", "/api/v1/moderation/users/{author}/unban", {}),
    ("GET", "/api/v1/moderation/log", None),
    ("GET", "/api/v1/moderation/settings", None),
    ("PATCH", "/api/v1/moderation/settings", {"max_links": 3}),
    ("GET", "/api/v1/moderation/terms", None),
    ("POST", "/api/v1/moderation/terms", {"term": "x", "kind": "banned"}),
    ("DELETE", "/api/v1/moderation/terms/1", None),
]


@pytest.mark.parametrize("method, path, body", API_ROUTES)
def test_readers_get_403_and_anonymous_401_on_every_moderation_route(
    setup, make_api, make_user, method, path, body
):
    _, author, comment = setup
    url = path.format(comment=comment.id, author=author.id)
    if body and "ids" in body:
        body = {**body, "ids": [comment.id]}
    for who, expected in (("anonymous", 401), ("reader", 403), ("editor", 403)):
        client = make_api()
        if who != "anonymous":
            client.login(make_user(role=who))
        response = client.get(url) if method == "GET" else client._unsafe(method, url, body)
        assert response.status_code == expected, (who, response.get_json())
        assert response.get_json()["error"]["code"] in ("unauthorized", "forbidden")


def test_queue_lists_held_comments_with_context(setup, moderator_api):
    article, author, comment = setup
    body = moderator_api.get("/api/v1/moderation/queue").get_json()
    [item] = body["items"]
    assert item["id"] == comment.id
    assert item["article"] == {"slug": article.slug, "title": article.title}
    assert item["status"] == "pending"
    assert item["reasons_held"] == ["article is premoderated"]
    assert item["flags"] == []
    assert 0 <= item["toxicity"] <= 1
    assert -1 <= item["sentiment"] <= 1
    assert item["author_history"]["comments"] == 1
    assert body["counts"]["pending"] == 1
    assert moderator_api.get("/api/v1/moderation/queue?status=bogus").status_code == 422


def test_approve_reject_feature_through_the_api(setup, moderator_api, api):
    article, _, comment = setup
    url = f"/api/v1/moderation/comments/{comment.id}"
    approved = moderator_api.post(url, {"action": "approve"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "published"
    public = api.get(f"/api/v1/articles/{article.slug}/comments").get_json()["items"]
    assert [c["id"] for c in public] == [comment.id]
    featured = moderator_api.post(url, {"action": "feature"}).get_json()
    assert featured["featured"] is True
    rejected = moderator_api.post(url, {"action": "reject", "reason": "Off topic"}).get_json()
    assert rejected["status"] == "rejected" and rejected["featured"] is False
    assert api.get(f"/api/v1/articles/{article.slug}/comments").get_json()["items"] == []
    assert moderator_api.post(url, {"action": "explode"}).status_code == 422
    assert (
        moderator_api.post("/api/v1/moderation/comments/999999", {"action": "approve"}).status_code
        == 404
    )


def test_bulk_approve(setup, moderator_api, make_user, db):
    article, author, first = setup
    from webapp.services import comments

    second = comments.submit(article, author, "Me too")
    db.session.commit()
    response = moderator_api.post(
        "/api/v1/moderation/comments", {"ids": [first.id, second.id], "action": "approve"}
    )
    assert response.status_code == 200
    assert [i["status"] for i in response.get_json()["items"]] == ["published", "published"]


def test_ban_then_every_write_is_403_banned(setup, moderator_api, make_api, make_article, db):
    _, author, comment = setup
    response = moderator_api.post(
        f"/api/v1/moderation/users/{author.id}/ban",
        {"reason": "Trolling", "until": "2099-01-01T00:00:00Z"},
    )
    assert response.status_code == 200
    assert response.get_json()["banned_until"].startswith("2099-01-01")
    banned = make_api()
    banned.login(author)
    open_article = make_article(poll=True)
    from webapp.services import comments

    target = comments.submit(open_article, moderator_api.user, "A comment to react to")
    db.session.commit()
    option = open_article.poll.options[0].id
    writes = [
        ("POST", f"/api/v1/articles/{open_article.slug}/comments", {"body": "hi"}),
        ("PATCH", f"/api/v1/comments/{comment.id}", {"body": "edit"}),
        ("DELETE", f"/api/v1/comments/{comment.id}", None),
        ("POST", f"/api/v1/comments/{target.id}/flags", {"reason": "spam"}),
        ("POST", f"/api/v1/comments/{target.id}/votes", {"value": 1}),
        ("POST", f"/api/v1/articles/{open_article.slug}/poll/votes", {"option_id": option}),
        ("DELETE", f"/api/v1/articles/{open_article.slug}/poll/votes/mine", None),
    ]
    for method, url, body in writes:
        result = banned._unsafe(method, url, body)
        assert result.status_code == 403, (url, result.get_json())
        assert result.get_json()["error"]["code"] == "banned"
    assert banned.get(f"/api/v1/articles/{open_article.slug}").status_code == 200
    assert moderator_api.post(f"/api/v1/moderation/users/{author.id}/unban").status_code == 200
    assert (
        banned.post(f"/api/v1/articles/{open_article.slug}/comments", {"body": "back"}).status_code
        == 201
    )


def test_ban_needs_a_reason_and_unknown_users_are_404(setup, moderator_api):
    _, author, _ = setup
    assert (
        moderator_api.post(f"/api/v1/moderation/users/{author.id}/ban", {"reason": ""}).status_code
        == 422
    )
    assert (
        moderator_api.post("/api/v1/moderation/users/999999/ban", {"reason": "x"}).status_code
        == 404
    )


def test_a_ban_ends_at_a_valid_time_in_the_future(setup, moderator_api):
    _, author, _ = setup
    url = f"/api/v1/moderation/users/{author.id}/ban"
    past = moderator_api.post(url, {"reason": "x", "until": "2001-01-01T00:00:00Z"})
    assert past.status_code == 422
    assert past.get_json()["error"]["fields"] == {"until": "must be in the future"}
    garbled = moderator_api.post(url, {"reason": "x", "until": "next tuesday"})
    assert garbled.status_code == 422
    assert garbled.get_json()["error"]["fields"] == {"until": "not an ISO 8601 time"}
    naive = moderator_api.post(url, {"reason": "x", "until": "2099-01-01T12:00:00"})
    assert naive.status_code == 200
    assert naive.get_json()["banned_until"] == "2099-01-01T12:00:00Z"


def test_log_records_who_did_what_to_which_comment(setup, moderator_api):
    _, author, comment = setup
    moderator_api.post(
        f"/api/v1/moderation/comments/{comment.id}", {"action": "reject", "reason": "Rude"}
    )
    moderator_api.post(f"/api/v1/moderation/users/{author.id}/ban", {"reason": "Rude again"})
    items = moderator_api.get("/api/v1/moderation/log").get_json()["items"]
    assert [(i["action"], i["reason"]) for i in items] == [
        ("ban", "Rude again"),
        ("reject", "Rude"),
    ]
    assert items[1]["comment_id"] == comment.id
    assert items[1]["moderator"]["display_name"] == "Mod"
    assert items[0]["user"]["id"] == author.id
    assert items[0]["created_at"]
    only_bans = moderator_api.get("/api/v1/moderation/log?action=ban").get_json()["items"]
    assert [i["action"] for i in only_bans] == ["ban"]


def test_settings_and_terms_through_the_api(moderator_api, make_article, make_api, make_user):
    response = moderator_api.patch("/api/v1/moderation/settings", {"max_links": 0})
    assert response.status_code == 200 and response.get_json()["max_links"] == 0
    assert (
        moderator_api.patch("/api/v1/moderation/settings", {"report_threshold": 0}).status_code
        == 422
    )
    created = moderator_api.post("/api/v1/moderation/terms", {"term": "shill", "kind": "banned"})
    assert created.status_code == 201
    writer = make_api()
    writer.login(make_user())
    article = make_article()
    refused = writer.post(f"/api/v1/articles/{article.slug}/comments", {"body": "sh1ll!"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "banned_word"
    held = writer.post(
        f"/api/v1/articles/{article.slug}/comments", {"body": "see https://example.org"}
    )
    assert held.get_json()["status"] == "pending"
    assert held.get_json()["reasons_held"] == ["1 links (more than 0)"]
    term_id = created.get_json()["id"]
    assert moderator_api.delete(f"/api/v1/moderation/terms/{term_id}").status_code == 204
    assert moderator_api.get("/api/v1/moderation/terms").get_json()["items"] == []


def test_settings_and_word_list_changes_are_logged_once_each(moderator_api):
    moderator_api.patch("/api/v1/moderation/settings", {"max_links": 0, "hide_reported": False})
    moderator_api.patch("/api/v1/moderation/settings", {"report_threshold": 0})  # refused
    term_id = moderator_api.post(
        "/api/v1/moderation/terms", {"term": "Shill", "kind": "banned"}
    ).get_json()["id"]
    moderator_api.delete(f"/api/v1/moderation/terms/{term_id}")
    items = moderator_api.get("/api/v1/moderation/log?action=settings").get_json()["items"]
    assert [i["details"] for i in items] == [
        {"removed_term": term_id},
        {"term": "shill", "kind": "banned"},
        {"max_links": 0},  # hide_reported was already off: not a change
    ]
    assert {i["moderator"]["display_name"] for i in items} == {"Mod"}


def test_moderator_deleting_a_comment_keeps_the_log(setup, moderator_api, db):
    _, _, comment = setup
    comment_id = comment.id
    assert moderator_api.delete(f"/api/v1/comments/{comment_id}").status_code == 204
    assert db.session.get(Comment, comment_id) is None
    [entry] = moderator_api.get("/api/v1/moderation/log").get_json()["items"]
    assert entry["action"] == "delete" and entry["details"]["body"] == "Please approve me"


def test_report_notes_reach_the_moderator(setup, moderator_api, make_api, make_user, db):
    from webapp.services import comments, moderation

    article, author, comment = setup
    moderation.decide(comment, moderator_api.user, "approve")
    db.session.commit()
    reporter = make_api()
    reporter.login(make_user())
    reporter.post(
        f"/api/v1/comments/{comment.id}/flags",
        {"reason": "spam", "note": "Same text on every article"},
    )
    for _ in range(2):
        comments.flag(comment, make_user(), "spam")
    db.session.commit()
    [item] = moderator_api.get("/api/v1/moderation/queue?status=reported").get_json()["items"]
    assert item["report_notes"] == [{"reason": "spam", "note": "Same text on every article"}]
    page = moderator_api.get("/moderation/queue/reported").get_data(as_text=True)
    assert "Same text on every article" in page
