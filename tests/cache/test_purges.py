"""The app purges the HTTP cache in front of it when a moderator or author takes
something away (webapp.services.cache_purge), checked against a fake cache server:
after the commit, never for a rolled-back change, never when no cache is configured,
and never at the cost of the moderator's action when the cache is down."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from tests.cache.fake_cache import FakeCache
from webapp.models import Comment


@pytest.fixture
def fake_cache() -> Iterator[FakeCache]:
    with FakeCache() as cache:
        yield cache


@pytest.fixture
def second_cache() -> Iterator[FakeCache]:
    with FakeCache() as cache:
        yield cache


@pytest.fixture
def purge_urls(request: pytest.FixtureRequest, fake_cache: FakeCache) -> str:
    """HTTP_CACHE_PURGE_URLS: the fake cache, unless the test asks (indirect
    parametrize) for "none", "dead" (a closed port) or "both" (with second_cache)."""
    caches = getattr(request, "param", "one")
    if caches == "none":
        return ""
    if caches == "dead":
        return f"http://127.0.0.1:{_closed_port()}"
    if caches == "both":
        second: FakeCache = request.getfixturevalue("second_cache")
        return f"{fake_cache.url} {second.url}"
    return fake_cache.url


@pytest.fixture
def app(make_app, purge_urls):  # type: ignore[no-untyped-def]
    application = make_app(HTTP_CACHE_PURGE_URLS=purge_urls, HTTP_CACHE_PURGE_TIMEOUT=1.0)
    with application.app_context():
        yield application


@pytest.fixture
def published(make_article, make_user, db):  # type: ignore[no-untyped-def]
    from webapp.services import comments

    article = make_article(title="Ceasefire holds")
    author = make_user(name="Loud Writer")
    comment = comments.submit(article, author, "Words a moderator will remove")
    db.session.commit()
    assert comment.status == "published"
    return article, author, comment


@pytest.fixture
def moderator(make_api, make_user):  # type: ignore[no-untyped-def]
    client = make_api()
    client.user = make_user(role="moderator")
    client.login(client.user)
    return client


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_rejection_sends_one_purge_of_its_article_after_the_commit(
    published, moderator, fake_cache, db
):
    article, _author, comment = published
    fake_cache.received.clear()

    response = moderator.form(f"/moderation/comments/{comment.id}", {"action": "reject"})

    assert response.status_code == 302
    (purge,) = fake_cache.received
    assert purge.method == "PURGE" and purge.path == "/"
    assert f"article-{article.id}" in purge.purged_keys


def test_the_purge_waits_for_the_commit(published, moderator, fake_cache, db):
    from webapp.services import moderation

    article, _author, comment = published
    fake_cache.received.clear()

    moderation.decide(comment, moderator.user, "reject", "Off topic")
    db.session.flush()
    assert fake_cache.received == []
    db.session.commit()

    (purge,) = fake_cache.received
    assert purge.purged_keys == {f"article-{article.id}"}


def test_a_rolled_back_decision_sends_nothing(published, moderator, fake_cache, db):
    from webapp.services import moderation

    _article, _author, comment = published
    fake_cache.received.clear()

    moderation.decide(comment, moderator.user, "reject", "Off topic")
    db.session.rollback()
    # The next transaction of the same session commits without the dropped keys.
    moderator.user.display_name = "Renamed Moderator"
    db.session.commit()

    assert fake_cache.received == []
    assert db.session.get(Comment, comment.id).status == "published"


def test_an_author_deleting_a_comment_through_the_api_purges_its_article(
    published, make_api, fake_cache
):
    article, author, comment = published
    own = make_api()
    own.login(author)
    fake_cache.received.clear()

    assert own.delete(f"/api/v1/comments/{comment.id}").status_code == 204

    (purge,) = fake_cache.received
    assert purge.purged_keys == {f"article-{article.id}"}


def test_an_edit_purges_its_article(published, fake_cache, db):
    from webapp.services import comments

    article, author, comment = published
    fake_cache.received.clear()

    comments.edit(comment, author, "Words rewritten by their author")
    db.session.commit()

    (purge,) = fake_cache.received
    assert purge.purged_keys == {f"article-{article.id}"}


def test_unpublishing_purges_the_article_and_the_lists_after_its_savepoint(
    published, fake_cache, db
):
    from webapp.services import articles

    article = published[0]
    fake_cache.received.clear()

    # update_article flushes in a savepoint (a slug taken meanwhile): releasing it is
    # not the commit, and sends nothing.
    articles.update_article(article, articles.ArticleChanges(status="draft"))
    assert fake_cache.received == []
    db.session.commit()

    (purge,) = fake_cache.received
    assert purge.purged_keys == {f"article-{article.id}", "articles"}


@pytest.mark.parametrize("purge_urls", ["both"], indirect=True)
def test_every_configured_cache_gets_the_purge(published, moderator, fake_cache, second_cache):
    article, _author, comment = published
    fake_cache.received.clear()
    second_cache.received.clear()

    moderator.form(f"/moderation/comments/{comment.id}", {"action": "reject"})

    assert [r.purged_keys for r in fake_cache.received] == [{f"article-{article.id}"}]
    assert [r.purged_keys for r in second_cache.received] == [{f"article-{article.id}"}]


@pytest.mark.parametrize("purge_urls", ["none"], indirect=True)
def test_nothing_is_sent_when_no_cache_is_configured(published, moderator, fake_cache, db):
    _article, _author, comment = published

    response = moderator.form(f"/moderation/comments/{comment.id}", {"action": "reject"})

    assert response.status_code == 302
    assert db.session.get(Comment, comment.id).status == "rejected"
    assert fake_cache.received == []


@pytest.mark.parametrize("purge_urls", ["dead"], indirect=True)
def test_a_cache_that_is_down_does_not_fail_the_moderators_action(published, moderator, db, caplog):
    _article, _author, comment = published

    with caplog.at_level(logging.WARNING, logger="webapp.services.cache_purge"):
        response = moderator.form(f"/moderation/comments/{comment.id}", {"action": "reject"})
        api_response = moderator.post(
            f"/api/v1/moderation/comments/{comment.id}", {"action": "approve"}
        )

    assert response.status_code == 302
    assert api_response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status == "published"
    assert "cache purge" in caplog.text and "failed" in caplog.text


def test_setting_votes_aside_purges_the_article_whose_results_change(
    make_article, make_user, fake_cache, db
):
    from tests.integrity_data import Answers, add_votes
    from webapp.services import integrity

    poll = make_article(poll={"allow_anonymous": True}).poll
    add_votes(poll, 1000)
    add_votes(poll, 60, Answers((0.0, 0.75)), address="suspect")
    (group,) = integrity.scan_poll(poll.id)
    db.session.commit()
    fake_cache.received.clear()

    integrity.decide(group.id, poll.id, "set_aside", make_user("editor"), "One office")
    db.session.commit()

    assert [r.purged_keys for r in fake_cache.received] == [{f"article-{poll.article_id}"}]
