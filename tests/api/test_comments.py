from __future__ import annotations

from datetime import timedelta

import pytest

from tests.xss import PAYLOADS, script_risks


@pytest.fixture
def article(make_article):
    return make_article(poll=True)


def url(article, tail=""):
    return f"/api/v1/articles/{article.slug}/comments{tail}"


@pytest.fixture
def reader_api(api, make_user):
    api.user = make_user(name="Api Reader")
    api.login(api.user)
    return api


def test_posting_answers_201_with_the_status(reader_api, article):
    response = reader_api.post(url(article), {"body": "Hello **there**"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "published"
    assert body["id"] and "<strong>there</strong>" in body["html"]
    assert body["author"] == {
        "id": reader_api.user.id,
        "display_name": "Api Reader",
        "role": "reader",
    }


def test_anonymous_visitors_cannot_post(api, article):
    response = api.post(url(article), {"body": "Hi"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"body": ""}, 422),
        ({"body": "z" * 5001}, 422),
        ({"body": 12}, 400),
        ({}, 422),  # body is required: a value missing, not one of the wrong type
        ({"body": "ok", "parent_id": 424242}, 422),
        ({"body": "ok", "parent_id": "1"}, 400),
    ],
)
def test_invalid_comments_are_refused(reader_api, article, payload, status):
    response = reader_api.post(url(article), payload)
    assert response.status_code == status
    assert "error" in response.get_json()


def test_replying_to_a_comment_of_another_article_is_422(reader_api, article, make_article):
    other = make_article()
    parent = reader_api.post(url(other), {"body": "Elsewhere"}).get_json()["id"]
    response = reader_api.post(url(article), {"body": "Reply", "parent_id": parent})
    assert response.status_code == 422
    assert "parent_id" in response.get_json()["error"]["fields"]


def test_comments_closed_is_409(reader_api, make_article):
    closed = make_article(comments="closed")
    response = reader_api.post(url(closed), {"body": "Anyone?"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "comments_closed"


def test_list_nests_replies_and_shows_the_poll_answer(reader_api, make_api, make_user, article):
    option = reader_api.get(f"/api/v1/articles/{article.slug}/poll").get_json()["options"][1]
    reader_api.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": option["id"]})
    top = reader_api.post(url(article), {"body": "Top"}).get_json()["id"]
    other = make_api()
    other.login(make_user())
    reply = other.post(url(article), {"body": "Reply", "parent_id": top}).get_json()["id"]
    items = make_api().get(url(article)).get_json()["items"]
    assert len(items) == 1
    first = items[0]
    assert set(first) >= {
        "id",
        "parent_id",
        "author",
        "html",
        "created_at",
        "edited_at",
        "featured",
        "score",
        "author_vote",
        "replies",
    }
    assert first["author_vote"] == option["label"]
    assert first["parent_id"] is None
    assert [r["id"] for r in first["replies"]] == [reply]
    assert first["replies"][0]["parent_id"] == top
    assert first["replies"][0]["author_vote"] is None


def test_list_sorts_and_paginates(reader_api, article, make_api, make_user):
    ids = [reader_api.post(url(article), {"body": f"c{i}"}).get_json()["id"] for i in range(3)]
    voter = make_api()
    voter.login(make_user())
    voter.post(f"/api/v1/comments/{ids[2]}/votes", {"value": 1})
    newest = reader_api.get(url(article, "?sort=newest")).get_json()["items"]
    assert [c["id"] for c in newest] == ids[::-1]
    top = reader_api.get(url(article, "?sort=top")).get_json()["items"]
    assert top[0]["id"] == ids[2]
    page = reader_api.get(url(article, "?limit=2")).get_json()
    assert [c["id"] for c in page["items"]] == ids[:2]
    rest = reader_api.get(url(article, f"?limit=2&cursor={page['next_cursor']}")).get_json()
    assert [c["id"] for c in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    assert reader_api.get(url(article, "?sort=sideways")).status_code == 422


def test_patch_by_author_within_window_then_403(reader_api, article, make_api, make_user, db):
    from webapp.models import Comment

    comment_id = reader_api.post(url(article), {"body": "Typo"}).get_json()["id"]
    response = reader_api.patch(f"/api/v1/comments/{comment_id}", {"body": "Fixed"})
    assert response.status_code == 200
    assert response.get_json()["edited_at"] is not None
    assert "Fixed" in response.get_json()["html"]
    stranger = make_api()
    stranger.login(make_user())
    assert stranger.patch(f"/api/v1/comments/{comment_id}", {"body": "Mine now"}).status_code == 403
    comment = db.session.get(Comment, comment_id)
    comment.created_at = comment.created_at - timedelta(minutes=20)
    db.session.commit()
    late = reader_api.patch(f"/api/v1/comments/{comment_id}", {"body": "Too late"})
    assert late.status_code == 403


def test_delete_204_and_the_text_is_gone_from_every_answer(
    reader_api, article, make_api, make_user
):
    parent = reader_api.post(url(article), {"body": "Regrettable words"}).get_json()["id"]
    other = make_api()
    other.login(make_user())
    other.post(url(article), {"body": "A reply", "parent_id": parent})
    assert other.delete(f"/api/v1/comments/{parent}").status_code == 403
    assert reader_api.delete(f"/api/v1/comments/{parent}").status_code == 204
    listing = make_api().get(url(article)).get_data(as_text=True)
    assert "Regrettable words" not in listing
    assert "A reply" in listing
    page = make_api().get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "Regrettable words" not in page and "Comment deleted." in page


def test_moderators_can_delete_any_comment(reader_api, article, make_api, make_user):
    comment_id = reader_api.post(url(article), {"body": "Spam spam"}).get_json()["id"]
    moderator = make_api()
    moderator.login(make_user(role="moderator"))
    assert moderator.delete(f"/api/v1/comments/{comment_id}").status_code == 204


def test_flags_are_201_then_200_and_count_once(reader_api, article, make_api, make_user, db):
    from webapp.models import Comment

    comment_id = reader_api.post(url(article), {"body": "Buy now"}).get_json()["id"]
    reporter = make_api()
    reporter.login(make_user())
    first = reporter.post(f"/api/v1/comments/{comment_id}/flags", {"reason": "spam", "note": "ads"})
    second = reporter.post(f"/api/v1/comments/{comment_id}/flags", {"reason": "abuse"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert db.session.get(Comment, comment_id).flag_count == 1
    bad = reporter.post(f"/api/v1/comments/{comment_id}/flags", {"reason": "meh"})
    assert bad.status_code == 422


def test_comment_votes_answer_the_score(reader_api, article, make_api, make_user):
    comment_id = reader_api.post(url(article), {"body": "Vote on me"}).get_json()["id"]
    voter = make_api()
    voter.login(make_user())
    assert voter.post(f"/api/v1/comments/{comment_id}/votes", {"value": 1}).get_json()["score"] == 1
    assert (
        voter.post(f"/api/v1/comments/{comment_id}/votes", {"value": -1}).get_json()["score"] == -1
    )
    assert voter.post(f"/api/v1/comments/{comment_id}/votes", {"value": 0}).get_json()["score"] == 0
    assert voter.post(f"/api/v1/comments/{comment_id}/votes", {"value": 5}).status_code == 422


def test_pending_comments_are_seen_only_by_author_and_moderators(
    reader_api, make_article, make_api, make_user
):
    article = make_article(comments="premoderated")
    response = reader_api.post(url(article), {"body": "Hold me"})
    assert response.get_json()["status"] == "pending"
    assert [c["status"] for c in reader_api.get(url(article)).get_json()["items"]] == ["pending"]
    assert make_api().get(url(article)).get_json()["items"] == []
    moderator = make_api()
    moderator.login(make_user(role="moderator"))
    assert len(moderator.get(url(article)).get_json()["items"]) == 1
    assert reader_api.get(f"/api/v1/articles/{article.slug}").get_json()["comment_count"] == 0


@pytest.mark.parametrize("payload", PAYLOADS)
def test_stored_xss_payloads_come_out_inert(reader_api, article, payload):
    response = reader_api.post(url(article), {"body": payload})
    assert response.status_code == 201
    assert script_risks(response.get_json()["html"]) == []


def test_commenting_is_rate_limited_per_reader_with_retry_after(make_app, make_article, make_user):
    from tests.conftest import Api

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_COMMENT="2 per minute")
    with app.app_context():
        article = make_article()
        api = Api(app.test_client())
        api.login(make_user())
        codes = [api.post(url(article), {"body": f"n{i}"}).status_code for i in range(3)]
        assert codes == [201, 201, 429]
        limited = api.post(url(article), {"body": "again"})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert "try again in" in limited.get_json()["error"]["message"]
