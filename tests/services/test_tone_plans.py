"""On the thread test site (hundreds of comments and votes, statistics taken on
PostgreSQL): tone by vote and the timeline read the counters by their keys and equal
the grouping of the rows they replace; the triggers' own reads of a vote and of an
author's comments are index lookups (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests import thread_data
from tests.query_plans import Ran, explain, selects, statements
from webapp.extensions import db
from webapp.models import Comment, Vote
from webapp.services.insights import PUBLIC_COMMENTS, comment_tone, days


@pytest.fixture(scope="module")
def site(backend) -> Iterator[thread_data.Thread]:
    yield from thread_data.site(backend)


@pytest.fixture(autouse=True)
def _ends_its_transaction(site) -> Iterator[None]:
    yield
    db.session.rollback()


def test_tone_by_vote_equals_the_grouped_rows(site):
    """The counters give what grouping the comments with their authors' votes gave
    (the query tone by vote ran before them): counts exactly, sums within 1e-9."""
    found = comment_tone.tone_by_vote(site.article.id, site.poll_id, site.option_ids)
    grouped = db.session.execute(
        sa.select(
            Vote.option_id,
            sa.func.count(Comment.id),
            sa.func.count(Comment.sentiment),
            sa.func.coalesce(sa.func.sum(Comment.sentiment), 0.0),
        )
        .select_from(Comment)
        .outerjoin(
            Vote,
            sa.and_(
                Vote.poll_id == site.poll_id,
                Vote.user_id.is_not(None),
                Vote.user_id == Comment.author_id,
            ),
        )
        .where(Comment.article_id == site.article.id, *PUBLIC_COMMENTS)
        .group_by(Vote.option_id)
    ).all()
    rows = {
        option_id or 0: (count, scored, float(total)) for option_id, count, scored, total in grouped
    }
    assert len(rows) > 2
    for option_id, tone in [*found.options.items(), (0, found.no_vote)]:
        count, scored, total = rows.get(option_id, (0, 0, 0.0))
        assert (tone.count, tone.scored) == (count, scored)
        assert tone.total == pytest.approx(total, abs=1e-9)
        assert tone.mean == pytest.approx(total / scored if scored else 0.0, abs=1e-9)


def test_tone_by_vote_and_the_timeline_read_counters_by_key(site):
    article_id = site.article.id
    with statements(db.engine) as ran:
        comment_tone.tone_by_vote(article_id, site.poll_id, site.option_ids)
        days.timeline(article_id, site.poll_id, site.option_ids)
    connection = db.session.connection()
    plans = [explain(connection, r) for r in selects(ran)]
    tables = {access.table for plan in plans for access in plan.accesses}
    assert tables <= {"article_tone_counts", "article_comment_days", "poll_daily_tallies"}
    for plan in plans:
        assert not plan.full_reads("article_tone_counts", "article_comment_days"), plan.text


def test_the_triggers_find_a_vote_and_an_author_s_comments_by_index(site):
    connection = db.session.connection()
    author = site.commenters[0]
    article = site.article.id
    comments = explain(
        connection,
        Ran(
            "SELECT count(*), count(sentiment), sum(sentiment) FROM comments "
            f"WHERE author_id = {author} AND article_id = {article} "
            "AND status = 'published' AND deleted_at IS NULL",
            (),
        ),
    )
    assert comments.indexes("comments") == {"ix_comments_author_tone"}, comments.text
    assert not comments.full_reads("comments"), comments.text
    vote = explain(
        connection,
        Ran(
            "SELECT votes.option_id FROM polls JOIN votes ON votes.poll_id = polls.id "
            f"WHERE polls.article_id = {article} AND votes.user_id = {author} "
            "AND votes.user_id IS NOT NULL",
            (),
        ),
    )
    assert vote.indexes("votes") == {"ix_votes_poll_id_user_id"}, vote.text
    assert not vote.full_reads("votes"), vote.text  # (the few polls may be read whole)
