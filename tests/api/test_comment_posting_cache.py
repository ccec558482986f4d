"""Posting reads the article from this worker's copy of a moment ago
(``comments.article_for_posting``), and the INSERT checks it still holds: an article
closed, premoderated, unpublished or moved by another worker meanwhile (here: plain
SQL, which clears no cache) is answered as it is now, never as it was."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from webapp import caching
from webapp.models import Article, Comment


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
