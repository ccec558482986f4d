"""The article page as signed-out readers without Pulse's cookies get it: rendered once
and kept a moment per worker (webapp.public.routes.shared_article_page), keyed by the
article's state, so that what a reader must see at once still shows at once.

The suite runs with the per-worker caches off (tests/conftest.py); these tests turn
them on for a minute, longer than any test, so nothing here passes by expiring."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from webapp import caching
from webapp.models import Article, utcnow
from webapp.public import routes
from webapp.services import comments, moderation

WORKER_CACHE_SETTINGS = tuple(cache.setting for cache in caching.WORKER_CACHES)


@pytest.fixture
def cached_app(app):
    caching.clear_all()
    app.config.update(dict.fromkeys(WORKER_CACHE_SETTINGS, 60))
    yield app
    caching.clear_all()


@pytest.fixture
def renders(monkeypatch):
    """How many times the article page was rendered (not served from the cache)."""
    calls: list[str] = []
    original = routes.render_article_page

    def counting(found, who, *args, **kwargs):
        calls.append(found.slug)
        return original(found, who, *args, **kwargs)

    monkeypatch.setattr(routes, "render_article_page", counting)
    return calls


def as_another_worker(monkeypatch):
    """Changes made from here on leave this worker's caches as they are, as a change
    made by another worker (or straight in the database) would."""
    monkeypatch.setattr(caching.THREADS, "changed", lambda: None)
    monkeypatch.setattr(caching.NEIGHBOURS, "changed", lambda: None)


def page(client, article, query=""):
    response = client.get(f"/articles/{article.slug}{query}")
    return response, response.get_data(as_text=True)


def test_signed_out_readers_share_one_rendered_page(cached_app, client, make_article, renders):
    article = make_article("Ceasefire holds", poll=True)
    first, body = page(client, article)
    again, body_again = page(client, article)
    assert first.status_code == again.status_code == 200
    assert body == body_again and "Ceasefire holds" in body
    assert renders == [article.slug]  # the second reader got the kept copy
    # Still a public page with the same strong ETag, and a 304 for a cache revalidating.
    assert again.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in again.headers
    assert first.headers["ETag"] == again.headers["ETag"]
    revalidated = client.get(
        f"/articles/{article.slug}", headers={"If-None-Match": again.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    # Each sort (and the Featured tab) is a page of its own.
    _, newest = page(client, article, "?sort=newest")
    assert renders == [article.slug, article.slug] and newest != body


def test_a_comment_shows_at_once_even_when_another_worker_posted_it(
    cached_app, client, db, make_article, make_user, monkeypatch
):
    article = make_article(poll=True)
    reader = make_user(name="Reader One")
    assert "No comments yet" in page(client, article)[1]
    as_another_worker(monkeypatch)
    comments.submit(article, reader, "The ceasefire needs monitors on both sides.")
    db.session.commit()
    body = page(client, article)[1]
    assert "The ceasefire needs monitors on both sides." in body


def test_a_rejected_comment_is_gone_at_once(
    cached_app, client, db, make_article, make_user, monkeypatch
):
    article = make_article(poll=True)
    comment = comments.submit(article, make_user(name="Reader One"), "Nonsense about monitors.")
    moderator = make_user("moderator", name="Mod")
    db.session.commit()
    assert "Nonsense about monitors." in page(client, article)[1]
    as_another_worker(monkeypatch)
    moderation.decide(comment, moderator, "reject", "Off topic")
    db.session.commit()
    assert "Nonsense about monitors." not in page(client, article)[1]


def test_an_edit_or_unpublishing_shows_at_once(cached_app, client, db, make_article, monkeypatch):
    article = make_article("The first headline", poll=True)
    assert "The first headline" in page(client, article)[1]
    as_another_worker(monkeypatch)
    db.session.execute(
        sa.update(Article)
        .where(Article.id == article.id)
        .values(title="A corrected headline", updated_at=utcnow())
    )
    db.session.commit()
    assert "A corrected headline" in page(client, article)[1]
    db.session.execute(sa.update(Article).where(Article.id == article.id).values(status="draft"))
    db.session.commit()
    assert page(client, article)[0].status_code == 404


def test_closing_comments_shows_at_once(cached_app, client, db, make_article, monkeypatch):
    article = make_article(poll=True)
    before = page(client, article)[1]
    assert "closed" not in before.lower()
    as_another_worker(monkeypatch)
    db.session.execute(
        sa.update(Article).where(Article.id == article.id).values(comment_mode="closed")
    )
    db.session.commit()
    after = page(client, article)[1]
    assert after != before and "closed" in after.lower()


def test_a_reader_with_a_voter_cookie_gets_a_page_of_their_own(
    cached_app, app, client, make_article, renders
):
    article = make_article(poll={"allow_anonymous": True})
    shared = page(client, article)[1]
    assert "(your vote)" not in shared
    voter = app.test_client()
    option_id = article.poll.options[0].id
    voted = voter.post(
        f"/articles/{article.slug}/poll",
        data={"option_id": option_id},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert voted.status_code == 302 and "pulse_voter=" in voted.headers["Set-Cookie"]
    own = voter.get(f"/articles/{article.slug}")
    assert "(your vote)" in own.get_data(as_text=True)
    assert own.headers["Cache-Control"].startswith("private")
    # The shared copy never holds one reader's vote as theirs.
    assert "(your vote)" not in page(client, article)[1]


def test_made_up_arguments_are_rendered_but_not_kept(cached_app, client, make_article, renders):
    article = make_article(poll=True)
    for query in ("?sort=bogus", "?x=1", "?featured=yes", "?after=forged"):
        assert page(client, article, query)[0].status_code in (200, 400, 404)
    assert [key for key in caching.THREADS.entries if key[1][0] == "article-page"] == []
    # Repeating an argument (the first one counts) asks for the same page, kept once.
    for query in ("?sort=top", "?sort=top&sort=top", "?sort=top&sort=newest"):
        assert page(client, article, query)[0].status_code == 200
    assert len([key for key in caching.THREADS.entries if key[1][0] == "article-page"]) == 1


def test_the_page_is_rendered_each_time_with_the_caches_off(app, client, make_article, renders):
    article = make_article(poll=True)
    page(client, article)
    page(client, article)
    assert renders == [article.slug, article.slug]


@pytest.mark.postgres_only
def test_a_served_page_asks_postgresql_one_statement_and_opens_no_transaction(
    cached_app, client, db, make_article, renders, monkeypatch
):
    """Served from the cache, the page's one question (the article's state) goes on a
    connection in autocommit: no BEGIN before it, no ROLLBACK after it."""
    import psycopg._connection_base as connection_base

    article = make_article("One round trip", poll=True)
    slug = article.slug
    page(client, article)  # rendered, and kept
    db.session.rollback()  # the test's own session: nothing of it runs from here on
    sent: list[bytes] = []
    original = connection_base.BaseConnection._exec_command

    def spying(self, command, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(bytes(command) if not isinstance(command, bytes) else command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(connection_base.BaseConnection, "_exec_command", spying)
    served = client.get(f"/articles/{slug}")
    monkeypatch.undo()
    assert served.status_code == 200 and "One round trip" in served.get_data(as_text=True)
    assert renders == [slug]  # served, not rendered again
    assert not [command for command in sent if command.startswith((b"BEGIN", b"ROLLBACK"))]


def test_the_state_a_transaction_wrote_is_the_state_read_in_it(app, db, make_article):
    """Asked inside a transaction (a request that already wrote), the article's state
    comes from that transaction, not from a connection that cannot see its writes."""
    from webapp.services import articles

    article = make_article("Before the edit")
    before = articles.public_page_state(article.slug)
    db.session.execute(
        sa.update(Article).where(Article.id == article.id).values(comment_mode="closed")
    )
    inside = articles.public_page_state(article.slug)
    assert before is not None and inside is not None
    assert (before.comment_mode, inside.comment_mode) == ("open", "closed")
    db.session.rollback()
    assert articles.public_page_state(article.slug).comment_mode == "open"
