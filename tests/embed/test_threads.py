"""Threads by the host page (issue 22): the first view makes one article (published,
unlisted), only on the site's origins and only when the site allows it; Pulse's own
lists, feeds, search and neighbours leave it out. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import Article
from webapp.models.embed import EmbedThread
from webapp.services import embed, search
from webapp.services.articles.neighbours import neighbours as neighbours_of
from webapp.services.embed import threads as thread_rules

PAGE = "https://news.example/politics/budget-vote?id=7#comments"


def test_the_first_view_makes_a_published_unlisted_article(make_site: Callable[..., Any]) -> None:
    site = make_site(create_on_first_view=True, comment_mode="premoderated")
    article = embed.resolve_thread(site, url=PAGE, title="  Budget\x00 vote\u202e\n passes\ud800 ")
    db.session.commit()
    assert article is not None
    assert article.title == "Budget vote passes"
    assert article.is_published and not article.listed
    assert article.body == "" and article.comment_mode == "premoderated"
    thread = db.session.query(EmbedThread).one()
    assert thread.key == "https://news.example/politics/budget-vote?id=7"
    assert thread.url == thread.key
    # The same page again (another spelling of its address): the same article.
    again = embed.resolve_thread(site, url="HTTPS://NEWS.example:443/politics/budget-vote?id=7")
    assert again is not None and again.id == article.id
    assert db.session.query(Article).count() == 1


def test_a_long_title_is_cut_and_a_missing_one_falls_back_to_the_address(
    make_site: Callable[..., Any],
) -> None:
    site = make_site(create_on_first_view=True)
    long = embed.resolve_thread(site, key="story-1", title="word " * 100)
    untitled = embed.resolve_thread(site, url="https://news.example/untitled")
    assert long is not None and len(long.title) <= 200
    assert untitled is not None and untitled.title == "https://news.example/untitled"


def test_a_stable_id_names_the_thread(make_site: Callable[..., Any]) -> None:
    site = make_site(create_on_first_view=True)
    first = embed.resolve_thread(site, key="cms-4711", url=PAGE, title="A")
    moved = embed.resolve_thread(site, key="cms-4711", url="https://news.example/moved")
    assert first is not None and moved is not None and first.id == moved.id


def test_without_create_on_first_view_only_attached_threads_embed(
    make_site: Callable[..., Any], make_article: Callable[..., Any]
) -> None:
    site = make_site(create_on_first_view=False)
    assert embed.resolve_thread(site, url=PAGE, title="Budget") is None
    assert db.session.query(Article).count() == 0
    article = make_article("Edited here")
    embed.attach_article(site, article, url=PAGE)
    db.session.commit()
    found = embed.resolve_thread(site, url=PAGE)
    assert found is not None and found.id == article.id and found.listed


def test_create_false_only_finds(make_site: Callable[..., Any]) -> None:
    site = make_site(create_on_first_view=True)
    assert embed.resolve_thread(site, url=PAGE, create=False) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/politics",
        "http://news.example/politics",  # another scheme is another origin
        "https://news.example.evil.test/",
        "javascript:alert(1)",
        "/relative/path",
    ],
)
def test_a_page_off_the_site_s_origins_gets_no_thread(
    make_site: Callable[..., Any], url: str
) -> None:
    site = make_site(create_on_first_view=True)
    with pytest.raises((embed.PageNotOnSite, InvalidInput)):
        embed.resolve_thread(site, url=url, title="Stolen")
    assert db.session.query(Article).count() == 0


def test_two_first_views_at_once_make_one_article(
    make_site: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser of the race finds no thread, inserts, hits the unique (site, key) and
    returns the winner's article: here the winner is made first and the lookup before
    the insert is made to miss it, as a concurrent transaction's would."""
    site = make_site(create_on_first_view=True)
    winner = embed.resolve_thread(site, url=PAGE, title="Winner")
    db.session.commit()
    real_find = thread_rules.find_thread
    misses = iter([True])
    monkeypatch.setattr(
        thread_rules,
        "find_thread",
        lambda s, k: None if next(misses, False) else real_find(s, k),
    )
    loser = embed.resolve_thread(site, url=PAGE, title="Loser")
    db.session.commit()
    assert loser is not None and winner is not None and loser.id == winner.id
    assert db.session.query(Article).count() == 1
    assert db.session.query(EmbedThread).count() == 1


def test_unlisted_threads_stay_off_pulse_s_own_pages(
    client: Any, make_site: Callable[..., Any], make_article: Callable[..., Any]
) -> None:
    site = make_site(create_on_first_view=True)
    older = make_article("Zanzibar harbour reopens")
    embedded = embed.resolve_thread(site, url=PAGE, title="Zanzibar ferry strike ends")
    db.session.commit()
    newer = make_article("Zanzibar spice prices fall")
    assert embedded is not None
    for path in ("/", "/feed.atom", "/api/v1/articles"):
        body = client.get(path).get_data(as_text=True)
        assert "Zanzibar harbour reopens" in body, path
        assert "Zanzibar ferry strike" not in body, path
    found = search.search("Zanzibar")
    titles = {hit.title for hit in found.hits}
    assert "Zanzibar ferry strike ends" not in titles
    assert {"Zanzibar harbour reopens", "Zanzibar spice prices fall"} <= titles
    # The listed neighbours skip it; it has none of its own.
    assert [link and link.slug for link in neighbours_of(newer)] == [older.slug, None]
    assert neighbours_of(embedded) == (None, None)
    # Its own page still opens: readers follow the frame's link to it.
    assert client.get(f"/articles/{embedded.slug}").status_code == 200
