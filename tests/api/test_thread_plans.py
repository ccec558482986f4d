"""The comments API and the article page read no whole table of comments or votes
(issue 15): every statement a request runs is explained by the database itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import thread_data
from tests.conftest import Api
from tests.query_plans import explain, selects, statements
from webapp.extensions import db

SORTS = ("oldest", "newest", "top", "common_ground")


@pytest.fixture(scope="module")
def site(backend) -> Iterator[thread_data.Thread]:
    yield from thread_data.site(backend)


@pytest.fixture
def visitor(site) -> Iterator[Api]:
    yield Api(site.app.test_client())
    db.session.rollback()


def _assert_no_full_reads(ran) -> None:
    # On the session's own connection: SQLite lets one writer in at a time.
    connection = db.session.connection()
    for r in selects(ran):
        plan = explain(connection, r)
        assert not plan.full_reads("comments", "votes"), f"{r.statement}\n{plan.text}"


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed out", "signed in"])
def test_the_comments_api_reads_index_ranges_on_every_page(site, visitor, signed_in):
    if signed_in:
        visitor.login(site.viewer)
    for sort in SORTS:
        path = f"/api/v1/articles/{site.article.slug}/comments?sort={sort}&limit=5"
        cursor = visitor.get(path).get_json()["next_cursor"]
        assert cursor
        for url in (path, f"{path}&cursor={cursor}"):
            with statements(db.engine) as ran:
                response = visitor.get(url)
            assert response.status_code == 200
            assert len(response.get_json()["items"]) == 5
            _assert_no_full_reads(ran)


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed out", "signed in"])
def test_the_article_page_reads_index_ranges(site, visitor, signed_in):
    if signed_in:
        visitor.login(site.viewer)
    for query in ("", "?sort=top", "?sort=newest", "?sort=common_ground"):
        with statements(db.engine) as ran:
            response = visitor.get(f"/articles/{site.article.slug}{query}")
        assert response.status_code == 200
        _assert_no_full_reads(ran)
