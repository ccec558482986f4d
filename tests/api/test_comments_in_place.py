"""The API side of issue 19's comment rules: Idempotency-Key, one's own comments, the
minimum length. No contract path, field or status changes."""

from __future__ import annotations

import pytest

from webapp.models import Comment


@pytest.fixture
def article(make_article):
    return make_article()


@pytest.fixture
def reader_api(api, make_user):
    api.login(make_user())
    return api


def comments_url(article):
    return f"/api/v1/articles/{article.slug}/comments"


def test_a_post_retried_with_its_idempotency_key_stores_one_comment(reader_api, article, db):
    headers = {"Idempotency-Key": "retry-7f3a9c2e-41d0"}
    first = reader_api.post(comments_url(article), {"body": "Sent twice"}, headers=headers)
    again = reader_api.post(comments_url(article), {"body": "Sent twice"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.get_json()["status"] == again.get_json()["status"] == "published"
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 1
    # Without a key (or with another), each post is its own comment.
    reader_api.post(comments_url(article), {"body": "Sent twice"})
    reader_api.post(
        comments_url(article), {"body": "Sent twice"}, headers={"Idempotency-Key": "another-key-1"}
    )
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 3


def test_a_key_is_per_author(reader_api, article, make_api, make_user, db):
    headers = {"Idempotency-Key": "shared-key-000001"}
    mine = reader_api.post(comments_url(article), {"body": "Mine"}, headers=headers)
    other = make_api()
    other.login(make_user())
    theirs = other.post(comments_url(article), {"body": "Theirs"}, headers=headers)
    assert theirs.status_code == 201 and theirs.get_json()["id"] != mine.get_json()["id"]


def test_readers_cannot_vote_on_or_report_their_own_comment(reader_api, article):
    comment_id = reader_api.post(comments_url(article), {"body": "My own words"}).get_json()["id"]
    vote = reader_api.post(f"/api/v1/comments/{comment_id}/votes", {"value": 1})
    assert vote.status_code == 403
    assert vote.get_json()["error"]["code"] == "own_comment"
    report = reader_api.post(f"/api/v1/comments/{comment_id}/flags", {"reason": "spam"})
    assert report.status_code == 403
    assert report.get_json()["error"]["code"] == "own_comment"


def test_a_one_character_comment_is_422_with_the_field(reader_api, article):
    response = reader_api.post(comments_url(article), {"body": "k"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"body": "at least 2 characters"}
