"""The editor's lists a page at a time: the desk (every article, most recently changed
first) and the overview (in any column's order), each by keyset with a signed cursor,
each page a constant number of queries whatever its size and the site's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.insight_data import D1, add_comment
from webapp.services import insights, polls


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def editor(make_api, make_user):
    client = make_api()
    client.login(make_user("editor"))
    return client


def _make_articles(db, make_article, author, count: int, first: int = 0) -> list[Any]:
    """``count`` articles: polls with votes on some, labels on some, a draft among
    them, comments with a tone on some; changed two at a time (ties by id)."""
    made = []
    for n in range(first, first + count):
        article = make_article(
            f"Story {n:02d}",
            author=author,
            poll=n % 2 == 0,
            labels=["Asia"] if n % 3 == 0 else [],
            status="draft" if n % 5 == 3 else "published",
            published_at=datetime(2026, 1, 1 + n % 4, tzinfo=UTC) if n % 5 != 3 else None,
        )
        if article.poll is not None and n % 4 == 0 and article.is_published:
            option = article.poll.options[n % 3]
            polls.cast_vote(article.poll, polls.Voter(f"a:{n}", None), option.id)
        if n % 3 != 2:
            add_comment(db, article, author, (n % 7 - 3) / 4, "neutral", D1)
        article.updated_at = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(hours=n // 2)
        made.append(article)
    db.session.commit()
    return made


@pytest.fixture
def stories(db, make_user, make_article) -> list[Any]:
    return _make_articles(db, make_article, make_user("editor"), 7)


_DESK_TITLE = re.compile(r'<th scope="row"><a href="/editor/articles/\d+/edit">(.*?)</a></th>')
_NEXT = re.compile(r'<a (?:rel="next" href="([^"]+)"|href="([^"]+)" rel="next")>')


def _next_link(page: str) -> str:
    found = _NEXT.search(page)
    assert found is not None, "no link to the next page"
    return (found.group(1) or found.group(2)).replace("&amp;", "&")


def _follow(client, url: str, title: re.Pattern[str]) -> tuple[list[str], int]:
    """Every title on the page at ``url`` and the pages after it, and how many pages."""
    titles: list[str] = []
    for pages in range(1, 30):
        page = text(client.get(url))
        # (The overview's trend table, below its list, names articles too.)
        titles += title.findall(page.split('aria-labelledby="trend-title"')[0])
        if _NEXT.search(page) is None:
            return titles, pages
        url = _next_link(page)
    raise AssertionError("the pages did not end")


def test_the_desk_pages_every_article_most_recently_changed_first(editor, stories, monkeypatch):
    monkeypatch.setattr("webapp.editor.articles.DASHBOARD_PAGE", 3)
    expected = [a.title for a in sorted(stories, key=lambda a: (a.updated_at, a.id), reverse=True)]
    titles, pages = _follow(editor, "/editor/", _DESK_TITLE)
    assert titles == expected and pages == 3
    first = text(editor.get("/editor/"))
    assert "Older articles →" in first and "Most recent" not in first
    second = text(editor.get(_next_link(first)))
    assert 'rel="first" href="/editor/"' in second
    # A cursor the desk did not issue, or another list's, is refused.
    assert editor.get("/editor/?after=forged").status_code == 400


def test_a_desk_page_costs_the_same_queries_whatever_its_size_and_the_site(
    db, editor, stories, make_user, make_article, count_queries, monkeypatch
):
    def queries_for(size: int) -> int:
        monkeypatch.setattr("webapp.editor.articles.DASHBOARD_PAGE", size)
        with count_queries() as queries:
            text(editor.get("/editor/"))
        return len(queries)

    one = queries_for(1)
    assert queries_for(50) == one
    _make_articles(db, make_article, make_user("editor"), 12, first=7)
    assert queries_for(1) == one and queries_for(50) == one


_OVERVIEW_TITLE = re.compile(
    r'<th scope="row"><a href="/editor/articles/\d+/results">(.*?)</a></th>'
)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?sort=title&dir=asc",
        "?sort=tone",
        "?sort=leader&dir=asc",
        "?sort=turnout&dir=desc",
        "?sort=comments&dir=asc&label=asia&option=yes",
    ],
)
def test_the_overview_pages_in_each_order(editor, stories, monkeypatch, query):
    monkeypatch.setattr("webapp.editor.results.OVERVIEW_PAGE", 2)
    sort = re.search(r"sort=(\w+)", query)
    direction = re.search(r"dir=(\w+)", query)
    whole = insights.overview(
        sort.group(1) if sort else "published",
        direction.group(1) if direction else None,
        per_page=None,
    )
    titles, pages = _follow(editor, f"/editor/overview{query}", _OVERVIEW_TITLE)
    assert titles == [row.title for row in whole.rows] and pages == 4
    first = text(editor.get(f"/editor/overview{query}"))
    link = _next_link(first)
    if "label=" in query:
        assert "label=asia" in link and "option=yes" in link
    second = text(editor.get(link))
    assert 'rel="first"' in second and "Next page" in second


def test_an_overview_cursor_is_good_for_its_own_order_only(editor, stories, monkeypatch):
    monkeypatch.setattr("webapp.editor.results.OVERVIEW_PAGE", 2)
    first = text(editor.get("/editor/overview?sort=title&dir=asc"))
    link = _next_link(first)
    assert editor.get(link).status_code == 200
    assert editor.get(link.replace("dir=asc", "dir=desc")).status_code == 400
    assert editor.get(link.replace("sort=title", "sort=comments")).status_code == 400
    assert editor.get("/editor/overview?after=forged").status_code == 400


@pytest.mark.parametrize("sort", list(insights.OVERVIEW_SORTS))
def test_an_overview_page_costs_the_same_queries_whatever_its_size_and_the_site(
    db, editor, stories, make_user, make_article, count_queries, monkeypatch, sort
):
    def queries_for(size: int) -> int:
        monkeypatch.setattr("webapp.editor.results.OVERVIEW_PAGE", size)
        with count_queries() as queries:
            text(editor.get(f"/editor/overview?sort={sort}"))
        return len(queries)

    one = queries_for(1)
    assert queries_for(50) == one
    _make_articles(db, make_article, make_user("editor"), 12, first=7)
    assert queries_for(1) == one and queries_for(50) == one
