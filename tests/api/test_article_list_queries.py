"""GET /api/v1/articles: a page costs the same queries whatever its size, and each item
is the article exactly as its own answer gives it (neighbours and the reader's vote
included), though they are read for the whole page at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import days_ago
from webapp.services import articles


@pytest.fixture
def shelf(db, make_user, make_article) -> list[Any]:
    """Fourteen published articles (most with a poll, labelled Asia or Europe by
    turns, two published at the same moment) and a draft with a poll."""
    editor = make_user("editor")
    made = [
        make_article(
            f"Report {n}",
            author=editor,
            poll=n % 3 != 1,
            labels=["Asia"] if n % 2 else ["Europe"],
            published_at=days_ago(n / 2),
        )
        for n in range(12)
    ]
    same = days_ago(10)
    made.append(make_article("Twin one", author=editor, poll=True, published_at=same))
    made.append(make_article("Twin two", author=editor, labels=["Asia"], published_at=same))
    make_article("Unfinished", author=editor, status="draft", poll=True)
    return made


@pytest.fixture
def voter(make_api, make_user, shelf):
    """A signed-in reader who voted in some of the polls (the newest article's among them)."""
    client = make_api()
    client.login(make_user())
    for article in shelf[::2]:
        if article.poll is not None:
            option = article.poll.options[-1]
            url = f"/api/v1/articles/{article.slug}/poll/votes"
            assert client.post(url, {"option_id": option.id}).status_code == 201
    return client


def _every_item(client, query: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(20):
        url = f"/api/v1/articles?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the list did not end")


@pytest.mark.parametrize("query", ["", "&label=asia"])
def test_each_listed_article_is_the_article_its_own_answer_gives(shelf, voter, api, query):
    for client in (voter, api):
        items = _every_item(client, query, 4)
        assert items
        assert all(item["title"] != "Unfinished" for item in items)
        for item in items:
            assert item == client.get(f"/api/v1/articles/{item['slug']}").get_json()
    voted = [i for i in _every_item(voter, "", 50) if i["poll"] and i["poll"]["my_vote"]]
    assert len(voted) == len([a for a in shelf[::2] if a.poll is not None])


@pytest.mark.parametrize("who", ["voter", "anonymous"])
@pytest.mark.parametrize("query", ["", "&label=europe"])
def test_a_page_costs_the_same_queries_for_one_article_as_for_fifty(
    shelf, voter, api, count_queries, who, query
):
    client = voter if who == "voter" else api
    client.get(f"/api/v1/articles?limit=1{query}")  # the first request of a client
    with count_queries() as one:
        single = client.get(f"/api/v1/articles?limit=1{query}").get_json()
    with count_queries() as fifty:
        many = client.get(f"/api/v1/articles?limit=50{query}").get_json()
    assert len(single["items"]) == 1 and len(many["items"]) > 5
    assert single["items"][0]["poll"] is not None  # every per-item read had its chance
    assert len(one) == len(fifty), (one, fifty)
    # The pages after the first too: the cursor adds no query.
    with count_queries() as following:
        client.get(f"/api/v1/articles?limit=50{query}&cursor={single['next_cursor']}")
    assert len(following) == len(one)


def test_the_neighbours_of_a_page_are_each_articles_own(shelf, make_article):
    draft = make_article("Another draft", status="draft")
    page = [*shelf, draft]
    assert articles.neighbours_of(page) == {a.id: articles.neighbours(a) for a in page}
    assert articles.neighbours_of(page)[draft.id] == (None, None)
    assert articles.neighbours_of([]) == {}


def test_the_readers_votes_are_read_for_a_page_at_once(shelf, voter, db, count_queries):
    from sqlalchemy import select

    from webapp.models import User

    reader = db.session.scalar(select(User).where(User.role == "reader"))
    polls = [a.poll for a in shelf if a.poll is not None]
    with count_queries() as queries:
        chosen = articles.reader_votes(polls, f"u:{reader.id}")
    assert len([q for q in queries if q.startswith("SELECT")]) == 1, queries
    assert chosen == {a.poll.id: a.poll.options[-1].id for a in shelf[::2] if a.poll is not None}
    assert articles.reader_votes(polls, None) == {} and articles.reader_votes([], "u:1") == {}
