"""Posting reads the article from this worker's copy of a moment ago
(``comments.article_for_posting``), and the INSERT checks it still holds: an article
closed, premoderated, unpublished or moved by another worker meanwhile (here: plain
SQL, which clears no cache) is answered as it is now, never as it was."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from webapp import caching
from webapp.models import Article, Comment
from webapp.models.notifications import ReplySubscription
from webapp.services.notifications import settings


@pytest.fixture
def cached_app(app):
    caching.clear_all()
    # The posting article has its own setting since the caches were split (issue 14).
    app.config.update(THREAD_CACHE_SECONDS=60, POSTING_ARTICLE_CACHE_SECONDS=60)
    yield app
    caching.clear_all()


@pytest.fixture
def reader_api(cached_app, api, make_user):
    api.user = make_user(name="Api Reader")
    api.login(api.user)
    return api


def url(slug: str) -> str:
    return f"/api/v1/articles/{slug}/comments"


def _set(db, article, **values) -> None:
    """Another worker's change: straight to the database, no cache of this one cleared."""
    db.session.execute(
        sa.update(Article)
        .where(Article.id == article.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _stored(db, article) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Comment).where(Comment.article_id == article.id)
    )


def _posted(reader_api, slug: str, body: str = "Still open?", **extra):
    return reader_api.post(url(slug), {"body": body, **extra})


def test_the_article_is_read_once_a_moment(reader_api, db, make_article):
    article = make_article()
    assert _posted(reader_api, article.slug).status_code == 201
    assert caching.POSTING_ARTICLES.entries  # kept for the next comment
    assert _posted(reader_api, article.slug, "Again").status_code == 201
    assert _stored(db, article) == 2


def test_comments_closed_meanwhile_are_refused_and_nothing_is_stored(reader_api, db, make_article):
    article = make_article()
    assert _posted(reader_api, article.slug).status_code == 201
    _set(db, article, comment_mode="closed")
    response = _posted(reader_api, article.slug, "Too late")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "comments_closed"
    assert _stored(db, article) == 1
    # Opened again: taken at once (a closed article is never answered from the copy).
    _set(db, article, comment_mode="open")
    assert _posted(reader_api, article.slug, "Open again").status_code == 201


def test_premoderated_meanwhile_holds_the_comment(reader_api, db, make_article):
    article = make_article()
    assert _posted(reader_api, article.slug).get_json()["status"] == "published"
    _set(db, article, comment_mode="premoderated")
    body = _posted(reader_api, article.slug, "Held now").get_json()
    assert body["status"] == "pending"
    assert body["reasons_held"] == ["article is premoderated"]


def test_unpublished_meanwhile_is_404(reader_api, db, make_article):
    article = make_article()
    assert _posted(reader_api, article.slug).status_code == 201
    _set(db, article, status="draft")
    assert _posted(reader_api, article.slug, "Gone?").status_code == 404
    assert _stored(db, article) == 1


def test_a_slug_given_to_another_article_meanwhile_posts_there(reader_api, db, make_article):
    first, second = make_article(), make_article()
    slug = first.slug
    assert _posted(reader_api, slug).status_code == 201
    _set(db, first, slug=f"{slug}-old")
    _set(db, second, slug=slug)
    assert _posted(reader_api, slug, "Where does this go?").status_code == 201
    assert (_stored(db, first), _stored(db, second)) == (1, 1)


def test_a_reply_refused_by_a_change_leaves_its_parent_s_count_alone(reader_api, db, make_article):
    article = make_article()
    parent = _posted(reader_api, article.slug, "Parent").get_json()["id"]
    _set(db, article, comment_mode="closed")
    response = _posted(reader_api, article.slug, "A reply", parent_id=parent)
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Comment, parent).reply_count == 0
    _set(db, article, comment_mode="open")
    assert _posted(reader_api, article.slug, "A reply", parent_id=parent).status_code == 201
    db.session.expire_all()
    assert db.session.get(Comment, parent).reply_count == 1


def test_a_reply_to_a_premoderated_article_changed_meanwhile_is_held_once(
    reader_api, db, make_article
):
    article = make_article()
    parent = _posted(reader_api, article.slug, "Parent").get_json()["id"]
    _set(db, article, comment_mode="premoderated")
    body = _posted(reader_api, article.slug, "A reply", parent_id=parent).get_json()
    assert body["status"] == "pending"
    db.session.expire_all()
    assert db.session.get(Comment, parent).reply_count == 1
    assert _stored(db, article) == 2


# --- the author's reply subscription, by their account's default ----------------------


def _ticks_the_box_by_default(db, user) -> None:
    settings.update(user, settings.SettingsChange(reply_default=True, replies_enabled=True))
    db.session.commit()


def _subscribed(db) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(ReplySubscription.comment_id)))


def test_the_default_subscription_is_written_with_the_comment(
    reader_api, db, make_article, count_queries
):
    article = make_article()
    _ticks_the_box_by_default(db, reader_api.user)
    with count_queries() as ran:
        followed = _posted(reader_api, article.slug, "Tell me about replies").get_json()["id"]
    writes = [q for q in ran if q.lstrip().upper().startswith(("INSERT", "WITH", "UPDATE"))]
    comment_writes = [q for q in writes if "INTO comments" in q]
    subscription_writes = [q for q in writes if "INTO reply_subscriptions" in q]
    assert len(comment_writes) == 1
    if db.engine.dialect.name == "postgresql":
        # One statement stores the comment and subscribes its author (a WITH).
        assert subscription_writes == comment_writes
    else:
        assert len(subscription_writes) == 1
    # Said explicitly, the choice wins over the default; unsaid, the default holds.
    unfollowed = _posted(reader_api, article.slug, "Not this one", notify_replies=False)
    assert _subscribed(db) == {followed}
    assert unfollowed.status_code == 201


def test_no_default_no_subscription_and_nothing_is_stored_for_a_refused_comment(
    reader_api, db, make_article
):
    article = make_article()
    plain = _posted(reader_api, article.slug, "Default is off").get_json()["id"]
    assert plain and _subscribed(db) == set()
    _ticks_the_box_by_default(db, reader_api.user)
    _set(db, article, comment_mode="closed")
    assert _posted(reader_api, article.slug, "Closed meanwhile").status_code == 409
    assert _subscribed(db) == set()


def test_the_default_subscription_follows_a_comment_stored_after_a_change(
    reader_api, db, make_article
):
    """The article changed meanwhile (premoderated): the comment is prepared again and
    stored without the guard, and the default still subscribes its author."""
    article = make_article()
    assert _posted(reader_api, article.slug).status_code == 201
    _ticks_the_box_by_default(db, reader_api.user)
    _set(db, article, comment_mode="premoderated")
    held = _posted(reader_api, article.slug, "Held, but mine to follow").get_json()
    assert held["status"] == "pending"
    assert _subscribed(db) == {held["id"]}
