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
from webapp.shared_pages import SharedPageKey

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


def kept_pages():
    return [key for key in caching.THREADS.entries if isinstance(key[1], SharedPageKey)]


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
    assert kept_pages() == []
    # Repeating an argument (the first one counts) asks for the same page, kept once.
    for query in ("?sort=top", "?sort=top&sort=top", "?sort=top&sort=newest"):
        assert page(client, article, query)[0].status_code == 200
    assert len(kept_pages()) == 1


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


@pytest.fixture
def flask_requests(app):
    """The paths of the requests that reached Flask (its request_started signal)."""
    from flask import request, request_started

    paths: list[str] = []

    def note(sender, **extra):  # type: ignore[no-untyped-def]
        paths.append(request.path)

    request_started.connect(note, app)
    yield paths
    request_started.disconnect(note, app)


def without_request_id(response):
    return sorted((name, value) for name, value in response.headers if name != "X-Request-ID")


def test_a_kept_page_is_answered_before_flask_with_flasks_own_headers(
    cached_app, client, make_article, renders, flask_requests
):
    """Once a kept page has gone out through Flask, the next signed-out reader gets the
    same bytes and headers (security, Cache-Control, surrogate keys, ETag) from
    webapp.shared_pages, without Flask building a request; only the request id is
    their own."""
    article = make_article("Talks resume", poll=True)
    path = f"/articles/{article.slug}"
    first, body = page(client, article)
    second, body_again = page(client, article)
    assert flask_requests == [path]  # the second never reached Flask
    assert renders == [article.slug]
    assert second.status_code == 200 and body_again == body and "Talks resume" in body
    assert without_request_id(second) == without_request_id(first)
    assert second.headers["Cache-Control"].startswith("public")
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert f"article-{article.id}" in second.headers["xkey"].split()
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    # A proxy's request id is kept, as Flask's hook keeps it.
    traced = client.get(path, headers={"X-Request-ID": "edge-42"})
    assert traced.headers["X-Request-ID"] == "edge-42" and flask_requests == [path]
    # HEAD: the same headers, no body.
    head = client.head(path)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == str(len(body.encode()))
    assert head.headers["ETag"] == first.headers["ETag"] and flask_requests == [path]


def test_a_page_answered_before_flask_is_in_the_request_log(
    cached_app, client, make_article, caplog, flask_requests
):
    import logging

    article = make_article(poll=True)
    page(client, article)
    caplog.set_level(logging.INFO, logger="webapp.requests")
    caplog.clear()
    served, body = page(client, article)
    assert flask_requests == [f"/articles/{article.slug}"]  # answered before Flask
    lines = [record for record in caplog.records if record.name == "webapp.requests"]
    assert len(lines) == 1
    fields = lines[0].fields  # type: ignore[attr-defined]
    assert fields["request_id"] == served.headers["X-Request-ID"]
    assert (fields["method"], fields["path"], fields["status"]) == (
        "GET",
        f"/articles/{article.slug}",
        200,
    )
    assert fields["user_id"] is None and fields["bytes"] == len(body.encode())
    assert fields["remote_addr"] == "127.0.0.1" and fields["duration_ms"] >= 0


def test_whoever_may_be_someone_goes_through_flask(
    cached_app, app, client, make_article, make_user, make_api, flask_requests
):
    """A reader with a session, remember-me or voter cookie, a conditional request, an
    unknown query or a comments page: each is Flask's to answer, never the kept page."""
    article = make_article(poll=True)
    path = f"/articles/{article.slug}"
    kept, _ = page(client, article)
    page(client, article)
    assert flask_requests == [path]
    for cookie in ("session", "remember_token", "pulse_voter"):
        other = app.test_client()
        other.set_cookie(cookie, "x")
        assert other.get(path).headers["Cache-Control"].startswith("private")
    revalidated = client.get(path, headers={"If-None-Match": kept.headers["ETag"]})
    assert revalidated.status_code == 304
    for query in ("?after=forged", "?x=1"):
        client.get(path + query)
    assert flask_requests.count(path) == 1 + 3 + 1 + 2
    reader = make_api()
    reader.login(make_user(name="Signed In"))
    flask_requests.clear()
    own = reader.get(path)
    assert own.headers["Cache-Control"].startswith("private")
    assert "Signed In" in own.get_data(as_text=True)
    assert flask_requests == [path]


def test_a_page_that_could_not_be_checked_goes_through_flask(
    cached_app, client, make_article, monkeypatch, flask_requests
):
    """When the state cannot be read before Flask (a connection failing), Flask's path
    reads it again and answers (tests/test_database_down.py: its 503 when the database
    is gone)."""
    from sqlalchemy.exc import OperationalError

    from webapp import shared_pages

    article = make_article(poll=True)
    _, body = page(client, article)
    page(client, article)
    assert len(flask_requests) == 1
    original = shared_pages.shared_page_key
    calls: list[str] = []

    def failing_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[0])
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return original(*args, **kwargs)

    monkeypatch.setattr(shared_pages, "shared_page_key", failing_once)
    served, body_again = page(client, article)
    assert len(flask_requests) == 2 and calls == [article.slug, article.slug]
    assert served.status_code == 200 and body_again == body


def test_a_page_not_kept_reads_the_state_once(app, client, make_article, monkeypatch):
    """With the caches off nothing is kept, so every signed-out view goes through Flask:
    the state read before Flask is handed to the view, not read a second time."""
    from webapp.services import articles

    article = make_article("Read once", poll=True)
    reads: list[str] = []
    original = articles.public_page_state

    def counting(slug, *args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(slug)
        return original(slug, *args, **kwargs)

    monkeypatch.setattr(articles, "public_page_state", counting)
    for _ in range(2):
        served, body = page(client, article)
        assert served.status_code == 200 and "Read once" in body
    assert reads == [article.slug, article.slug]
