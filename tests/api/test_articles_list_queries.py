"""GET /api/v1/articles reads a page in two statements, whatever its size: the page
(articles, authors, polls, neighbours) and the page's labels, poll options and the
reader's votes. The items are checked against each article's own answer in
tests/api/test_article_list_queries.py; here, the count."""

from __future__ import annotations

import pytest

from tests.conftest import days_ago


def _selects(queries: list[str]) -> list[str]:
    return [q for q in queries if q.lstrip().upper().startswith(("SELECT", "WITH"))]


@pytest.fixture
def many(make_user, make_article):
    editor = make_user("editor")
    return [
        make_article(
            f"Story {n}",
            author=editor,
            poll=n % 2 == 0,
            labels=["Asia", "Trade"] if n % 3 else ["Europe"],
            published_at=days_ago(n),
        )
        for n in range(25)
    ]


@pytest.mark.parametrize("size", [1, 5, 25])
def test_a_signed_out_page_is_two_statements_whatever_its_size(many, api, count_queries, size):
    api.get("/api/v1/articles?limit=1")  # the first request of a client
    with count_queries() as queries:
        body = api.get(f"/api/v1/articles?limit={size}").get_json()
    assert len(body["items"]) == size
    assert any(item["poll"] and item["poll"]["options"] for item in body["items"])
    assert all(item["labels"] for item in body["items"])
    assert len(_selects(queries)) == 2, queries


def test_a_voters_page_reads_their_votes_in_the_same_statements(
    many, make_api, make_user, count_queries
):
    client = make_api()
    client.login(make_user())
    voted = [a for a in many[:6] if a.poll is not None]
    for article in voted:
        option = article.poll.options[-1].id
        url = f"/api/v1/articles/{article.slug}/poll/votes"
        assert client.post(url, {"option_id": option}).status_code == 201
    client.get("/api/v1/articles?limit=1")
    with count_queries() as small:
        client.get("/api/v1/articles?limit=2")
    with count_queries() as large:
        body = client.get("/api/v1/articles?limit=25").get_json()
    mine = {item["slug"]: item["poll"]["my_vote"] for item in body["items"] if item["poll"]}
    assert {a.slug: a.poll.options[-1].id for a in voted}.items() <= mine.items()
    assert len(_selects(small)) == len(_selects(large)), (small, large)
