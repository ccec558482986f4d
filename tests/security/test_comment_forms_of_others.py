"""Comment forms aimed at someone else's comment (issue 19 answers every comment form
by post/redirect/get, so a refusal is a redirect with its reason, not a bare 403): the
comment stays as it was, and the page says why."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.models import Comment
from webapp.services import comments


@pytest.fixture
def stranger(make_api, make_user):
    client = make_api()
    client.login(make_user(name="Not The Author"))
    return client


def _stored(comment_id: int) -> Comment:
    db.session.expire_all()
    found = db.session.get(Comment, comment_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("action", "reason"),
    [("edit", "Only its author can edit a comment."), ("delete", "You can only delete your own")],
)
def test_another_readers_comment_cannot_be_edited_or_deleted_from_the_page(
    stranger, make_article, make_user, action, reason
):
    article = make_article()
    comment = comments.submit(article, make_user(name="The Author"), "My own words.")
    db.session.commit()

    path = f"/comments/{comment.id}/{action}"
    response = stranger.form(path, {"body": "Words put in my mouth."})

    assert response.status_code == 302
    assert f"/articles/{article.slug}" in response.headers["Location"]
    kept = _stored(comment.id)
    assert (kept.body, kept.deleted_at) == ("My own words.", None)
    page = stranger.get(response.headers["Location"]).get_data(as_text=True)
    assert "My own words." in page and "Words put in my mouth." not in page
    assert reason in page
