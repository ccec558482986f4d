"""The article page's comment forms after issue 19, without a browser: post/redirect/get
to the comment's anchor, one comment per form however often it is sent, the banned
reader's notice, undo after delete, permalinks to any comment, labelled scores and
machine-readable times."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from webapp.models import Comment, utcnow


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def reader(make_api, make_user):
    client = make_api()
    client.user = make_user(name="Page Reader")
    client.login(client.user)
    return client


def count(db) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Comment))


def test_the_same_form_sent_twice_stores_one_comment(reader, make_article, db):
    article = make_article()
    data = {"body": "Double clicked", "idempotency_key": "form-key-abcdef123"}
    first = reader.form(f"/articles/{article.slug}/comments", data)
    again = reader.form(f"/articles/{article.slug}/comments", data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert count(db) == 1
    page = text(reader.get(first.headers["Location"]))
    assert "Your comment is posted." in page and page.count("<p>Double clicked</p>") == 1


def test_each_page_render_carries_a_new_key(reader, make_article):
    article = make_article()
    keys = [
        re.search(
            r'name="idempotency_key" value="([^"]+)"', text(reader.get(f"/articles/{article.slug}"))
        )
        for _ in range(2)
    ]
    assert keys[0] and keys[1] and keys[0].group(1) != keys[1].group(1)


def test_a_comment_on_a_later_page_comes_back_to_that_page(reader, make_article, make_user, db):
    from webapp.public.routes import COMMENTS_PER_PAGE
    from webapp.services import comments

    article = make_article()
    other = make_user()
    for i in range(COMMENTS_PER_PAGE + 2):
        comments.submit(article, other, f"Earlier comment {i}")
    db.session.commit()
    response = reader.form(f"/articles/{article.slug}/comments", {"body": "At the end"})
    location = response.headers["Location"]
    assert "after=" in location and location.endswith(f"#comment-{count(db)}")
    page = text(reader.get(location))
    assert f'id="comment-{count(db)}"' in page and "At the end" in page


def test_in_place_answers_say_what_happened_and_keep_the_text(reader, make_article):
    article = make_article()
    fragment = {"X-Pulse-Fragment": "comments"}
    refused = reader.form(f"/articles/{article.slug}/comments", {"body": "x"}, headers=fragment)
    assert refused.status_code == 422
    assert "at least 2 characters" in text(refused)
    assert re.search(
        r'<textarea id="comment-body"[^>]*aria-invalid="true"[^>]*>x</textarea>', text(refused)
    )
    posted = reader.form(
        f"/articles/{article.slug}/comments", {"body": "In place"}, headers=fragment
    )
    assert posted.status_code == 200
    assert 'role="status">Your comment is posted.' in text(posted)
    # The new comment is the one focused.
    assert re.search(r'id="comment-\d+"[^>]*data-focus-after-update', text(posted))


def test_a_premoderated_comment_says_it_waits(reader, make_article):
    article = make_article(comments="premoderated")
    posted = reader.form(
        f"/articles/{article.slug}/comments",
        {"body": "Held for a look"},
        headers={"X-Pulse-Fragment": "comments"},
    )
    assert "awaiting moderation" in text(posted)


def test_banned_readers_are_told_until_when_and_why(reader, make_article, db):
    article = make_article()
    until = utcnow() + timedelta(days=3)
    user = db.session.merge(reader.user)
    user.banned_at, user.banned_until, user.ban_reason = utcnow(), until, "Repeated insults"
    db.session.commit()
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "You cannot comment or vote until" in page
    assert "Repeated insults" in page
    assert until.strftime("%B %Y") in page
    assert 'id="comment-body"' not in page


def test_own_comments_offer_no_vote_or_report(reader, make_article):
    article = make_article()
    reader.form(f"/articles/{article.slug}/comments", {"body": "Mine alone"})
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "Up-vote this comment" not in page and "<summary>Report</summary>" not in page
    assert '<span class="score-label">Score</span> 0' in page


def test_delete_asks_first_and_can_be_undone(reader, make_article, db):
    article = make_article()
    reader.form(f"/articles/{article.slug}/comments", {"body": "Second thoughts"})
    comment_id = db.session.scalar(db.select(Comment.id))
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "Delete this comment? You can undo it for 10 seconds." in page
    deleted = reader.form(f"/comments/{comment_id}/delete", {})
    assert deleted.headers["Location"].endswith(f"#comment-{comment_id}")
    page = text(reader.get(deleted.headers["Location"]))
    assert "Comment deleted." in page and "Undo delete" in page and "Second thoughts" not in page
    undone = reader.form(f"/comments/{comment_id}/undo", {})
    page = text(reader.get(undone.headers["Location"]))
    assert "The comment is back." in page and "Second thoughts" in page


def test_a_permalink_opens_the_page_holding_the_comment(client, make_article, make_user, db):
    from webapp.public.routes import COMMENTS_PER_PAGE
    from webapp.services import comments

    article = make_article()
    author = make_user()
    made = [comments.submit(article, author, f"Comment {i}") for i in range(COMMENTS_PER_PAGE + 1)]
    db.session.commit()
    last = made[-1].id
    response = client.get(f"/comments/{last}")
    assert response.status_code == 302 and "Set-Cookie" not in response.headers
    assert "after=" in response.headers["Location"]
    assert response.headers["Location"].endswith(f"#comment-{last}")
    assert f'id="comment-{last}"' in text(client.get(response.headers["Location"]))
    assert (
        client.get(f"/comments/{made[0].id}")
        .headers["Location"]
        .endswith(f"/articles/{article.slug}#comment-{made[0].id}")
    )
    assert client.get("/comments/999999").status_code == 404


def test_comment_times_are_utc_to_the_millisecond_for_the_local_time_script(reader, make_article):
    article = make_article()
    reader.form(f"/articles/{article.slug}/comments", {"body": "What time is it"})
    page = text(reader.get(f"/articles/{article.slug}"))
    assert re.search(
        r'<time class="js-local-time" datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z">', page
    )
