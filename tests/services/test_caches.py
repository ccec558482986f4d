"""The per-worker caches: the moderation rules, the thread that signed-out readers get and
an article's neighbours. Other tests run with them off (tests/conftest.py)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import Api
from webapp import caching
from webapp.caching import clock
from webapp.config import CACHE_SETTINGS, DEFAULTS, build_config
from webapp.models import Article, Comment, ModerationTerm, SiteSetting
from webapp.services import articles, comments, moderation
from webapp.services.moderation import BannedWordUsed, update_moderation_settings


@pytest.fixture
def cached_app(app):
    caching.clear_all()
    articles.NEIGHBOURS.clear()
    app.config.update(dict.fromkeys(WORKER_CACHE_SETTINGS, 60))
    yield app
    caching.clear_all()
    articles.NEIGHBOURS.clear()


WORKER_CACHE_SETTINGS = tuple(cache.setting for cache in caching.WORKER_CACHES)


def test_each_cache_has_a_setting_of_its_own_read_from_the_environment(tmp_path, monkeypatch):
    assert len(set(WORKER_CACHE_SETTINGS)) == len(caching.WORKER_CACHES)
    assert set(CACHE_SETTINGS) == {"RESULTS_CACHE_SECONDS", *WORKER_CACHE_SETTINGS}
    monkeypatch.setenv("POSTING_ARTICLE_CACHE_SECONDS", "0")
    monkeypatch.setenv("NEIGHBOURS_CACHE_SECONDS", "2.5")
    monkeypatch.delenv("THREAD_CACHE_SECONDS", raising=False)
    config = build_config(tmp_path, {"SECRET_KEY": "x"})
    assert config["POSTING_ARTICLE_CACHE_SECONDS"] == 0
    assert config["NEIGHBOURS_CACHE_SECONDS"] == 2.5
    assert config["THREAD_CACHE_SECONDS"] == DEFAULTS["THREAD_CACHE_SECONDS"]


@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf"])
def test_a_cache_lifetime_that_is_not_seconds_stops_the_start(raw, tmp_path, monkeypatch):
    monkeypatch.setenv("THREAD_CACHE_SECONDS", raw)
    with pytest.raises(RuntimeError, match="THREAD_CACHE_SECONDS"):
        build_config(tmp_path, {"SECRET_KEY": "x"})


def test_turning_one_cache_off_leaves_the_others_on(cached_app):
    cached_app.config["THREAD_CACHE_SECONDS"] = 0
    with cached_app.test_request_context("/"):
        built = []
        for cache in caching.WORKER_CACHES:
            cache.get_or_build("k", lambda cache=cache: built.append(cache.setting))
            cache.get_or_build("k", lambda cache=cache: built.append(cache.setting))
    # Off: built on every read; on: built once and then served.
    assert sorted(built) == sorted([*WORKER_CACHE_SETTINGS, "THREAD_CACHE_SECONDS"])


@pytest.fixture
def article(cached_app, make_article):
    return make_article(poll=True)


@pytest.fixture
def reader(cached_app, make_user):
    return make_user(name="Reader One")


def post(db, article, author, body="A thoughtful remark."):
    comment = comments.submit(article, author, body)
    db.session.commit()
    return comment


# --- moderation rules --------------------------------------------------------------------


def test_a_moderators_word_list_change_applies_to_the_next_comment(
    cached_app, db, article, reader, moderator
):
    assert post(db, article, reader, "Buy crypto now").status == "published"  # rules cached
    moderation.add_term(moderator, "crypto", "suspect")
    db.session.commit()
    assert post(db, article, reader, "Buy crypto now").status == "pending"
    moderation.add_term(moderator, "crypto", "banned")
    db.session.commit()
    with pytest.raises(BannedWordUsed):
        comments.submit(article, reader, "Buy crypto now")
    db.session.rollback()
    entry = db.session.scalar(sa.select(ModerationTerm))
    moderation.remove_term(moderator, entry.id)
    db.session.commit()
    assert post(db, article, reader, "Buy crypto now").status == "published"


def test_a_moderators_settings_change_applies_to_the_next_comment(
    cached_app, db, article, reader, moderator
):
    body = "https://a.example https://b.example https://c.example"
    assert post(db, article, reader, body).status == "pending"
    update_moderation_settings(moderator, {"max_links": 5})
    db.session.commit()
    assert post(db, article, reader, body).status == "published"


def test_another_workers_change_applies_once_the_cache_expires(
    cached_app, db, article, reader, monkeypatch
):
    assert post(db, article, reader, "Buy crypto now").status == "published"
    # As another worker would: straight to the database, this worker's cache untouched.
    db.session.add(ModerationTerm(term="crypto", kind="suspect"))
    db.session.add(SiteSetting(key="max_links", value=0))
    db.session.commit()
    assert post(db, article, reader, "Buy crypto now").status == "published"
    a_minute_later = clock.now() + 61
    monkeypatch.setattr(clock, "now", lambda: a_minute_later)
    held = post(db, article, reader, "Buy crypto now https://a.example")
    assert held.status == "pending"
    assert held.reasons_held == ["suspect words: crypto", "1 links (more than 0)"]


def test_with_the_cache_off_every_comment_reads_the_rules(app, make_article, make_user, db):
    assert app.config["MODERATION_CACHE_SECONDS"] == 0
    article, reader = make_article(), make_user()
    assert post(db, article, reader, "Buy crypto now").status == "published"
    db.session.add(ModerationTerm(term="crypto", kind="suspect"))
    db.session.commit()
    assert post(db, article, reader, "Buy crypto now").status == "pending"


# --- the thread signed-out readers get ---------------------------------------------------


def listing(api: Api, article) -> list[dict]:
    response = api.get(f"/api/v1/articles/{article.slug}/comments")
    assert response.status_code == 200
    return response.get_json()["items"]


def test_signed_out_readers_see_a_new_comment_at_once(
    cached_app, db, article, reader, make_api, monkeypatch
):
    anonymous = make_api()
    assert listing(anonymous, article) == []
    assert "No comments yet" in anonymous.get(f"/articles/{article.slug}").get_data(as_text=True)
    # Posted through another worker: this worker's cache is not cleared, but the
    # article's comment count, read on every request, is part of the key.
    monkeypatch.setattr(caching.THREADS, "changed", lambda: None)
    first = post(db, article, reader, "First!")
    assert [c["id"] for c in listing(anonymous, article)] == [first.id]
    page = anonymous.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "First!" in page and "1 comment<" in page


def test_an_edit_or_reaction_shows_at_once_in_the_worker_that_made_it(
    cached_app, db, article, reader, make_user, make_api
):
    anonymous = make_api()
    comment = post(db, article, reader, "Frist")
    assert "Frist" in listing(anonymous, article)[0]["html"]
    assert "Frist" in anonymous.get(f"/articles/{article.slug}").get_data(as_text=True)
    comments.edit(comment, reader, "First")
    db.session.commit()
    assert "First" in listing(anonymous, article)[0]["html"]
    assert "First" in anonymous.get(f"/articles/{article.slug}").get_data(as_text=True)
    comments.react(comment, make_user(), 1)
    db.session.commit()
    assert listing(anonymous, article)[0]["score"] == 1


def test_another_workers_edit_shows_once_the_cache_expires(
    cached_app, db, article, reader, make_api, monkeypatch
):
    anonymous = make_api()
    comment = post(db, article, reader, "Frist")
    assert "Frist" in listing(anonymous, article)[0]["html"]
    # As another worker would: straight to the database, this worker's cache untouched.
    db.session.execute(
        sa.update(Comment).where(Comment.id == comment.id).values(html="<p>First</p>")
    )
    db.session.commit()
    assert "Frist" in listing(anonymous, article)[0]["html"]
    a_minute_later = clock.now() + 61
    monkeypatch.setattr(clock, "now", lambda: a_minute_later)
    assert listing(anonymous, article)[0]["html"] == "<p>First</p>"


def test_signed_in_readers_never_get_the_cached_thread(
    cached_app, db, article, reader, make_api, moderator
):
    anonymous, author = make_api(), make_api()
    author.login(reader)
    assert listing(anonymous, article) == []
    # Held for moderation: only its author sees it, with their forms.
    moderation.add_term(moderator, "crypto", "suspect")
    db.session.commit()
    response = author.post(f"/api/v1/articles/{article.slug}/comments", {"body": "crypto?"})
    assert response.status_code == 201 and response.get_json()["status"] == "pending"
    assert [c["status"] for c in listing(author, article)] == ["pending"]
    assert listing(anonymous, article) == []
    page = author.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "Awaiting moderation" in page and "Post a comment" in page
    assert "Awaiting moderation" not in anonymous.get(f"/articles/{article.slug}").get_data(
        as_text=True
    )


def test_a_cached_answer_is_the_answer(cached_app, db, article, reader, make_api):
    top = post(db, article, reader, "Top *level*")
    comments.submit(article, reader, "A reply", top.id)
    db.session.commit()
    anonymous = make_api()
    for path in (
        f"/articles/{article.slug}",
        f"/articles/{article.slug}?sort=newest",
        f"/api/v1/articles/{article.slug}/comments",
        f"/api/v1/articles/{article.slug}/comments?sort=top&limit=1",
    ):
        caching.clear_all()
        fresh = anonymous.get(path)
        again = anonymous.get(path)
        assert fresh.status_code == again.status_code == 200
        assert fresh.mimetype == again.mimetype
        assert fresh.get_data() == again.get_data()


def test_a_full_thread_cache_drops_what_expired_first_then_the_oldest(cached_app, monkeypatch):
    monkeypatch.setattr(caching.THREADS, "max_entries", 4)
    now = [1000.0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    with cached_app.test_request_context("/"):
        cached_app.config["THREAD_CACHE_SECONDS"] = 1
        caching.THREADS.get_or_build("short", lambda: "short-lived")
        cached_app.config["THREAD_CACHE_SECONDS"] = 60
        for key in ("a", "b", "c"):
            caching.THREADS.get_or_build(key, lambda key=key: key)
        now[0] += 2  # "short" has expired; the cache is full
        caching.THREADS.get_or_build("d", lambda: "d")
        kept = {key[1] for key in caching.THREADS.entries}
        assert kept == {"a", "b", "c", "d"}
        caching.THREADS.get_or_build("e", lambda: "e")  # full of live entries: the oldest half goes
        kept = {key[1] for key in caching.THREADS.entries}
        assert kept == {"c", "d", "e"}
        assert caching.THREADS.get_or_build("c", lambda: "rebuilt") == "c"


# --- an article's neighbours ------------------------------------------------------------------


def _next_link(client, article):
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    found = re.search(r'rel="next" href="/articles/([^"]+)"', page)
    return found.group(1) if found else None


def test_a_newly_published_article_is_a_neighbour_at_once_in_its_worker(
    cached_app, make_article, client, db
):
    first = make_article("The first")
    assert _next_link(client, first) is None  # cached: nothing after it yet
    second = make_article("The second", status="draft")
    articles.publish(second)
    db.session.commit()
    assert _next_link(client, first) == second.slug


def test_another_workers_change_shows_as_a_neighbour_once_the_cache_expires(
    cached_app, make_article, client, db, monkeypatch
):
    cached_app.config["NEIGHBOURS_CACHE_SECONDS"] = 0.5
    now = [1000.0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    first = make_article("The first")
    second = make_article("The second")
    assert _next_link(client, first) == second.slug
    db.session.execute(sa.update(Article).where(Article.id == second.id).values(status="draft"))
    db.session.commit()  # unpublished behind this worker's back, as by another worker
    assert _next_link(client, first) == second.slug  # still the cached answer
    now[0] += 0.6
    assert _next_link(client, first) is None
