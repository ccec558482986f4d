"""Head tags (canonical, Open Graph, Twitter card, favicon, manifest), share links,
topics with their pages and feeds, and site search over published articles."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from tests.conftest import days_ago

ATOM = "{http://www.w3.org/2005/Atom}"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture
def site(make_app):  # type: ignore[no-untyped-def]
    app = make_app(PUBLIC_URL="https://news.example")
    with app.app_context():
        yield app


def meta(page: str, key: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', page)
    return found.group(1) if found else None


def test_article_page_has_canonical_open_graph_and_twitter_tags(site, make_article):
    article = make_article("Ceasefire holds", labels=["Diplomacy"], published_at=days_ago(1))
    article.summary = "Both sides say the line is quiet."
    from webapp.extensions import db

    db.session.commit()
    page = text(
        site.test_client().get(f"/articles/{article.slug}", headers={"Host": "evil.example"})
    )
    address = f"https://news.example/articles/{article.slug}"
    assert f'<link rel="canonical" href="{address}">' in page
    assert meta(page, "og:url") == address
    assert meta(page, "og:type") == "article"
    assert meta(page, "og:title") == "Ceasefire holds"
    assert meta(page, "og:description") == "Both sides say the line is quiet."
    assert meta(page, "og:site_name") == "Pulse"
    assert meta(page, "twitter:card") == "summary"
    assert meta(page, "article:tag") == "Diplomacy"
    assert "evil.example" not in page


def test_list_pages_name_their_canonical_address(site, make_article):
    make_article("One", labels=["Asia"])
    client = site.test_client()
    assert '<link rel="canonical" href="https://news.example/">' in text(client.get("/"))
    assert '<link rel="canonical" href="https://news.example/">' in text(client.get("/?page=1"))
    label = text(client.get("/labels/asia"))
    assert '<link rel="canonical" href="https://news.example/labels/asia">' in label


def test_favicon_and_manifest(client):
    page = text(client.get("/"))
    assert re.search(
        r'<link rel="icon" href="/static/favicon\.svg[^"]*" type="image/svg\+xml">', page
    )
    assert re.search(r'<link rel="icon" href="/static/favicon-32\.png[^"]*" sizes="32x32"', page)
    manifest_link = re.search(r'<link rel="manifest" href="([^"]+)">', page).group(1)
    response = client.get(manifest_link)
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data())
    assert manifest["name"] == "Pulse" and manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        assert client.get(icon["src"].split("?")[0]).status_code == 200
    assert client.get("/static/favicon.svg").mimetype == "image/svg+xml"


def test_share_links_need_no_third_party_script(site, make_article):
    article = make_article("Share me", published_at=days_ago(1))
    page = text(site.test_client().get(f"/articles/{article.slug}"))
    section = page[page.index('class="share"') :]
    section = section[: section.index("</section>")]
    encoded = "https%3A%2F%2Fnews.example%2Farticles%2F" + article.slug
    assert f'href="https://www.facebook.com/sharer/sharer.php?u={encoded}"' in section
    assert f"mailto:?subject=Share%20me&amp;body={encoded}" in section
    assert "Copy link" in section and "hidden" in section  # shown by script only
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts and all(src.startswith("/static/") for src in scripts)


def test_topics_page_lists_labels_with_published_articles(client, make_article):
    make_article("A", labels=["Asia", "Trade"])
    make_article("B", labels=["Asia"])
    make_article("Draft only", labels=["Secret"], status="draft")
    page = text(client.get("/topics"))
    assert '<a href="/labels/asia">Asia</a> <span class="topic-count">2 articles</span>' in page
    assert '<a href="/labels/trade">Trade</a> <span class="topic-count">1 article</span>' in page
    assert "Secret" not in page
    assert '<a href="/topics">Topics</a>' in text(client.get("/"))


def test_each_topic_has_an_atom_feed(site, make_article):
    make_article("In Asia", labels=["Asia"], published_at=days_ago(2))
    make_article("Elsewhere", labels=["Europe"], published_at=days_ago(1))
    client = site.test_client()
    label_page = text(client.get("/labels/asia"))
    assert (
        'type="application/atom+xml" title="Asia · Pulse" href="/labels/asia/feed.atom"'
        in label_page
    )
    response = client.get("/labels/asia/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ElementTree.fromstring(response.get_data())
    assert feed.find(f"{ATOM}title").text == "Asia · Pulse"
    assert [e.find(f"{ATOM}title").text for e in feed.iter(f"{ATOM}entry")] == ["In Asia"]
    self_link = [link for link in feed.iter(f"{ATOM}link") if link.get("rel") == "self"][0]
    assert self_link.get("href") == "https://news.example/labels/asia/feed.atom"
    assert client.get("/labels/nowhere/feed.atom").status_code == 404


# --- search -----------------------------------------------------------------------------


def test_search_finds_published_articles_by_their_words(client, make_article):
    from webapp.services.search import search

    make_article("Harvest festival draws crowds", body="Farmers brought their best pumpkins.")
    make_article("Rail strike ends", body="Trains run again after talks.")
    make_article("Pumpkin draft", body="Pumpkins everywhere.", status="draft")
    found = search("pumpkins")
    assert [hit.title for hit in found.hits] == ["Harvest festival draws crowds"]
    assert "<mark>" in str(found.hits[0].snippet)
    # Stemming: "strikes" finds "strike"; every word must be there.
    assert [hit.title for hit in search("strikes").hits] == ["Rail strike ends"]
    assert search("rail pumpkins").hits == []


def test_search_sees_edits_and_not_unpublished_or_scheduled_articles(client, make_article):
    from webapp.extensions import db
    from webapp.services import articles
    from webapp.services.search import search

    article = make_article("Budget vote", body="Parliament passes the budget.")
    assert search("parliament").hits
    articles.update_article(
        article, articles.ArticleChanges(body="Senate passes it.", present={"body"})
    )
    db.session.commit()
    assert search("parliament").hits == [] and search("senate").hits
    article.published_at = datetime.now(UTC) + timedelta(hours=2)
    db.session.commit()
    assert search("senate").hits == []
    article.published_at = days_ago(1)
    articles.unpublish(article)
    db.session.commit()
    assert search("senate").hits == []


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "NEAR(a b)",
        "title:secret",
        "a OR b AND NOT c",
        "-minus ^caret *star",
        "'; DROP TABLE articles; --",
        "(((",
        "\x00",
        "ü" * 300,
        "a & b | !c <-> d",
    ],
)
def test_search_syntax_in_the_box_is_only_words(client, make_article, query):
    make_article("Something", body="Plain text.")
    response = client.get("/search", query_string={"q": query})
    if query == "\x00":  # the app refuses control characters in any request
        assert response.status_code == 400
    else:
        assert response.status_code == 200
        assert "Search" in text(response)


def test_search_operators_are_looked_for_as_words(client, make_article):
    from webapp.services.search import search

    make_article("Near the border", body="Villages near the border vote yes or no, not maybe.")
    make_article("Other", body="Nothing of note, maybe.")
    assert [hit.title for hit in search("NEAR border").hits] == ["Near the border"]
    # Not "yes, or else maybe, but not...": every word must be there.
    assert [hit.title for hit in search("yes OR maybe NOT").hits] == ["Near the border"]


def test_search_page_works_without_script_and_escapes(client, make_article):
    make_article("Tea <b>party</b>", body="A <script>alert(1)</script> party by the river.")
    page = text(client.get("/search?q=party"))
    assert "Tea &lt;b&gt;party&lt;/b&gt;" in page
    assert "<script>alert" not in page
    header_form = '<form class="site-search" role="search" aria-label="Site" method="get"'
    assert f'{header_form} action="/search">' in page
    empty = text(client.get("/search?q=zebra"))
    assert "No article matches “zebra”" in empty
    assert client.get("/search?q=party&page=abc").status_code == 200
    assert client.get("/search?q=party&page=999").status_code == 200


def test_search_pages_through_results(client, make_article):
    from webapp.services.search import PER_PAGE

    for number in range(PER_PAGE + 2):
        make_article(f"Election day {number}", published_at=days_ago(number + 1))
    first = text(client.get("/search?q=election"))
    assert first.count("<li>\n      <h2>") == PER_PAGE
    assert 'href="/search?q=election&amp;page=2"' in first
    second = text(client.get("/search?q=election&page=2"))
    assert second.count("<li>\n      <h2>") == 2
