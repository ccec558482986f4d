"""Previous / next seek to the article in the index (issue 15).

Each article's neighbours are the published articles just before and after it by
(published_at, id). Written as "earlier, or as early with a lower id", the condition
left each database only the status to seek on in ix_articles_status_published_at: the
next article of the newest ones was found by walking every published article from the
oldest (2,000 index entries per item of the API's list on the issue's site, which made
the list 1.7x slower there than on a fresh site). As a row comparison, each probe starts
at the article itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.query_plans import explain, selects, statements
from webapp.services.articles.neighbours import _read_neighbours, neighbours, neighbours_of

START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def shelf(db, make_article, make_user):
    editor = make_user("editor")
    # Two articles published at the same moment, so the id decides between them.
    moments = [START + timedelta(days=n) for n in range(12)] + [START + timedelta(days=5)]
    return [make_article(author=editor, published_at=moment) for moment in moments]


def _probes(db, run) -> list[str]:
    """The bounds of every read of ix_articles_status_published_at in ``run``'s plans
    (on PostgreSQL with sequential scans off: a table this small would be read whole,
    and the question is whether the index can be entered at the article)."""
    with statements(db.engine) as ran:
        run()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    bounds = [
        access.condition
        for statement in selects(ran)
        for access in explain(connection, statement).accesses
        if access.index == "ix_articles_status_published_at"
    ]
    assert bounds, "the neighbours were not read from ix_articles_status_published_at"
    return bounds


def test_each_probe_starts_at_the_article_not_at_the_oldest(db, shelf):
    newest_first = sorted(shelf, key=lambda a: (a.published_at, a.id), reverse=True)
    for bounds in (
        _probes(db, lambda: neighbours_of(newest_first[:5])),
        _probes(db, lambda: _read_neighbours(shelf[3].id, shelf[3].published_at)),
    ):
        assert all("published_at" in condition for condition in bounds), bounds


def test_neighbours_follow_publication_order_and_break_ties_by_id(db, shelf):
    ordered = sorted(shelf, key=lambda a: (a.published_at, a.id))
    found = neighbours_of(ordered)
    for position, article in enumerate(ordered):
        previous = ordered[position - 1].slug if position else None
        following = ordered[position + 1].slug if position + 1 < len(ordered) else None
        listed = found[article.id]
        assert (listed[0] and listed[0].slug, listed[1] and listed[1].slug) == (
            previous,
            following,
        )
        one = neighbours(article)
        assert (one[0] and one[0].slug, one[1] and one[1].slug) == (previous, following)
