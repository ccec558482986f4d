"""The database keeps each article's tone by poll answer and its comments per day
itself (webapp/models/tone_counters.py), and the sentiment results read those
counters: whatever writes the comments and votes (posting, editing, moderating,
deleting, voting, moving and withdrawing votes, plain SQL, a rescore), the figures an
editor and the API see equal a grouping of the rows, and ``sentiment recount`` finds
nothing to fix; a counter changed by hand is found and set right."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.insight_data import D1, D2, D3, add_comment, vote
from webapp.models import Article, Comment, Poll, Vote, utcnow
from webapp.models.tone_counters import ArticleCommentDay, ArticleToneCount
from webapp.services import comments, polls
from webapp.services.insights import counters, for_article, overview, timeline, tone_by_vote
from webapp.services.moderation import actions as moderation_actions

#: (count, positive, neutral, negative, scored, total) of a group of comments.
Figures = tuple[int, int, int, int, int, float]


def _expected(db, article_id: int) -> tuple[dict[int, Figures], dict[Any, tuple[int, int, float]]]:
    """The article's tone per answer (0: no vote) and per UTC day, computed here from the
    rows as the results were before the counters: every published, undeleted comment,
    with its author's vote in the article's poll."""
    poll_id = db.session.scalar(sa.select(Poll.id).where(Poll.article_id == article_id))
    held = dict(
        db.session.execute(
            sa.select(Vote.user_id, Vote.option_id).where(
                Vote.poll_id == poll_id, Vote.user_id.is_not(None)
            )
        ).all()
    )
    rows = db.session.execute(
        sa.select(
            Comment.author_id, Comment.sentiment, Comment.sentiment_label, Comment.created_at
        ).where(
            Comment.article_id == article_id,
            Comment.status == "published",
            Comment.deleted_at.is_(None),
        )
    ).all()
    groups: dict[int, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
    days: dict[Any, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for author_id, score, label, created_at in rows:
        group = groups[held.get(author_id, 0)]
        day = days[created_at.date()]
        group[0] += 1
        day[0] += 1
        for place, name in ((1, "positive"), (2, "neutral"), (3, "negative")):
            group[place] += label == name
        if score is not None:
            group[4] += 1
            group[5] += score
            day[1] += 1
            day[2] += score
    return (
        {key: tuple(value) for key, value in groups.items()},  # type: ignore[misc]
        {key: tuple(value) for key, value in days.items()},  # type: ignore[misc]
    )


def _assert_results_equal_the_rows(db, article) -> None:
    """What the results page and the API are made of (``for_article``) equals the rows,
    means within 1e-9; and the recount finds no drift anywhere."""
    db.session.expire_all()
    article = db.session.get(Article, article.id)
    groups, days = _expected(db, article.id)
    found = for_article(article)
    option_ids = [option.id for option in article.poll.options] if article.poll else []
    shown = {option_id: found.by_vote.options[option_id] for option_id in option_ids}
    shown[0] = found.by_vote.no_vote
    for option_id, tone in shown.items():
        count, positive, neutral, negative, scored, total = groups.get(
            option_id, (0, 0, 0, 0, 0, 0.0)
        )
        assert (tone.count, tone.positive, tone.neutral, tone.negative, tone.scored) == (
            count,
            positive,
            neutral,
            negative,
            scored,
        ), option_id
        assert tone.total == pytest.approx(total, abs=1e-9)
        assert tone.mean == pytest.approx(total / scored if scored else 0.0, abs=1e-9)
    assert found.comments.count == sum(group[0] for group in groups.values())
    commented = [(day.day, day.comments, day.scored) for day in found.timeline if day.comments]
    assert commented == [(day, value[0], value[1]) for day, value in sorted(days.items())]
    for day in found.timeline:
        if day.comments:
            assert day.total == pytest.approx(days[day.day][2], abs=1e-9)
    assert counters.recount(fix=False) == []


def _rescore(db) -> None:
    db.session.commit()
    from webapp.services.insights.sentiment import rescore_comments

    rescore_comments(batch_size=2)


@pytest.fixture
def discussed(db, make_user, make_article):
    article = make_article(poll=True)
    yes, no, _ = article.poll.options
    fan, sceptic, bystander = make_user(), make_user(), make_user()
    vote(article.poll, fan, yes, D1)
    vote(article.poll, sceptic, no, D2)
    add_comment(db, article, fan, 0.5, "positive", D1)
    add_comment(db, article, sceptic, -0.7, "negative", D2)
    add_comment(db, article, sceptic, -0.1, "negative", D3)
    add_comment(db, article, bystander, 0.0, "neutral", D2)
    add_comment(db, article, bystander, None, None, D3)
    add_comment(db, article, bystander, 0.9, "positive", D2, status="pending")
    db.session.commit()
    return article, (fan, sceptic, bystander)


def test_posting_editing_moderating_and_deleting_keep_the_results_equal_to_the_rows(
    db, discussed, make_user, moderator
):
    article, (fan, sceptic, bystander) = discussed
    _assert_results_equal_the_rows(db, article)

    posted = comments.submit(article, fan, "What a wonderful, thoughtful article!")
    db.session.commit()
    _assert_results_equal_the_rows(db, article)

    comments.edit(posted, fan, "This is a terrible, dishonest article and I hate it.")
    db.session.commit()
    _assert_results_equal_the_rows(db, article)

    held = add_comment(db, article, sceptic, 0.3, "positive", D3, status="pending")
    dropped = add_comment(db, article, fan, -0.3, "negative", D3, status="pending")
    db.session.commit()
    moderation_actions.decide(held, moderator, "approve")
    moderation_actions.decide(dropped, moderator, "reject", reason="Off topic")
    db.session.commit()
    _assert_results_equal_the_rows(db, article)
    moderation_actions.decide(posted, moderator, "reject", reason="Abuse")
    db.session.commit()
    _assert_results_equal_the_rows(db, article)

    comments.delete(held, sceptic)
    db.session.commit()
    _assert_results_equal_the_rows(db, article)

    _rescore(db)
    _assert_results_equal_the_rows(db, article)


def test_voting_moving_and_withdrawing_move_the_voters_comments(db, discussed):
    article, (fan, sceptic, bystander) = discussed
    yes, no, early = article.poll.options
    before = tone_by_vote(article.id, article.poll.id, [yes.id, no.id, early.id])
    assert before.no_vote.count == 2

    vote(article.poll, bystander, early, D3)
    db.session.commit()
    after = tone_by_vote(article.id, article.poll.id, [yes.id, no.id, early.id])
    assert after.options[early.id].count == 2 and after.no_vote.count == 0
    _assert_results_equal_the_rows(db, article)

    vote(article.poll, bystander, yes, D3)  # moves the vote
    db.session.commit()
    _assert_results_equal_the_rows(db, article)
    moved = tone_by_vote(article.id, article.poll.id, [yes.id, no.id, early.id])
    assert moved.options[yes.id].count == 3 and moved.options[early.id].count == 0

    assert polls.withdraw_vote(article.poll, polls.user_voter_key(sceptic))
    db.session.commit()
    _assert_results_equal_the_rows(db, article)
    withdrawn = tone_by_vote(article.id, article.poll.id, [yes.id, no.id, early.id])
    assert withdrawn.options[no.id].count == 0 and withdrawn.no_vote.count == 2
    assert withdrawn.overall == before.overall


def test_an_anonymous_vote_matches_nobody_until_its_visitor_signs_in(db, discussed, make_user):
    article, _ = discussed
    yes, no, early = article.poll.options
    newcomer = make_user()
    add_comment(db, article, newcomer, 0.4, "positive", D3)
    polls.cast_vote(article.poll, polls.Voter("a:visitor", None), early.id, moment=D3)
    db.session.commit()
    _assert_results_equal_the_rows(db, article)
    assert tone_by_vote(article.id, article.poll.id, [early.id]).options[early.id].count == 0

    assert polls.adopt_anonymous_vote("a:visitor", newcomer) == 1
    db.session.commit()
    _assert_results_equal_the_rows(db, article)
    assert tone_by_vote(article.id, article.poll.id, [early.id]).options[early.id].count == 1


def test_plain_sql_writes_keep_the_counters(db, discussed, make_user, make_article):
    article, (fan, sceptic, bystander) = discussed
    yes, no, early = article.poll.options
    table = Comment.__table__
    now = utcnow()
    inserted = db.session.execute(
        table.insert().values(
            article_id=article.id,
            author_id=bystander.id,
            body="x",
            html="<p>x</p>",
            status="published",
            created_at=now,
            reasons_held=[],
            sentiment=0.123456789,
            sentiment_label="positive",
        )
    ).inserted_primary_key[0]
    _assert_results_equal_the_rows(db, article)
    writes: list[dict[str, Any]] = [
        {"sentiment": -0.25, "sentiment_label": "negative"},
        {"sentiment": None, "sentiment_label": None},
        {"created_at": now - timedelta(days=3)},
        {"status": "pending"},
        {"status": "published", "sentiment": 0.75, "sentiment_label": "positive"},
        {"author_id": fan.id},
        {"deleted_at": now},
        {"deleted_at": None},
    ]
    for values in writes:
        db.session.execute(sa.update(table).where(table.c.id == inserted).values(**values))
        _assert_results_equal_the_rows(db, article)
    other = make_article(poll=True)
    db.session.execute(sa.update(table).where(table.c.id == inserted).values(article_id=other.id))
    _assert_results_equal_the_rows(db, article)
    _assert_results_equal_the_rows(db, other)
    db.session.execute(sa.update(table).where(table.c.id == inserted).values(article_id=article.id))
    db.session.execute(
        sa.update(Vote)
        .where(Vote.user_id == sceptic.id)
        .values(option_id=early.id)
        .execution_options(synchronize_session=False)
    )
    _assert_results_equal_the_rows(db, article)
    db.session.execute(
        sa.update(table).where(table.c.author_id == sceptic.id).values(status="rejected")
    )
    _assert_results_equal_the_rows(db, article)
    db.session.execute(sa.delete(table).where(table.c.id == inserted))
    _assert_results_equal_the_rows(db, article)
    db.session.execute(sa.delete(Vote).where(Vote.user_id == fan.id))
    _assert_results_equal_the_rows(db, article)
    db.session.commit()


def test_deleting_a_poll_or_an_article_leaves_no_answer_behind(db, discussed, make_article):
    article, (fan, sceptic, bystander) = discussed
    doomed = make_article(poll=True)
    add_comment(db, doomed, fan, 0.2, "neutral", D1)
    vote(doomed.poll, fan, doomed.poll.options[0], D1)
    db.session.commit()
    db.session.execute(sa.delete(Poll).where(Poll.id == article.poll.id))
    db.session.commit()
    db.session.expire_all()
    grouped = dict(
        db.session.execute(
            sa.select(ArticleToneCount.option_id, ArticleToneCount.comments).where(
                ArticleToneCount.article_id == article.id
            )
        ).all()
    )
    assert grouped == {0: 5}
    assert for_article(db.session.get(Article, article.id)).comments.count == 5
    db.session.execute(sa.delete(Article).where(Article.id == doomed.id))
    db.session.commit()
    assert counters.recount(fix=False) == []
    left = db.session.scalars(sa.select(ArticleToneCount.article_id).distinct()).all()
    assert doomed.id not in left


def test_the_overview_sorts_and_shows_tone_from_the_counters(db, discussed, make_article):
    article, (fan, _, _) = discussed
    quiet = make_article()
    glum = make_article()
    add_comment(db, glum, fan, -0.9, "negative", D1)
    db.session.commit()
    page = overview(sort="tone", direction="desc")
    ordered = [row.id for row in page.rows]
    assert ordered.index(article.id) < ordered.index(glum.id) < ordered.index(quiet.id)
    by_id = {row.id: row for row in page.rows}
    assert by_id[article.id].mean_tone == pytest.approx((0.5 - 0.7 - 0.1 + 0.0) / 4)
    assert by_id[glum.id].mean_tone == pytest.approx(-0.9)
    assert by_id[quiet.id].mean_tone is None


def test_the_recount_finds_and_fixes_a_drift_made_by_hand(db, discussed):
    article, _ = discussed
    assert counters.recount() == []
    db.session.execute(
        sa.update(ArticleToneCount)
        .where(ArticleToneCount.article_id == article.id, ArticleToneCount.option_id == 0)
        .values(comments=ArticleToneCount.comments + 3, total=ArticleToneCount.total + 7)
    )
    db.session.execute(sa.delete(ArticleCommentDay).where(ArticleCommentDay.day == D1.date()))
    db.session.commit()
    drifts = counters.recount()
    db.session.commit()
    assert [(drift.table, drift.key) for drift in drifts] == [
        ("article_tone_counts", (article.id, 0)),
        ("article_comment_days", (article.id, D1.date())),
    ]
    assert drifts[0].stored[0] == drifts[0].counted[0] + 3
    assert "comments 5 -> 2" in drifts[0].describe()
    assert counters.recount(fix=False) == []
    _assert_results_equal_the_rows(db, article)


def test_tone_by_vote_and_the_timeline_never_read_the_comments(db, discussed, count_queries):
    article, _ = discussed
    option_ids = [option.id for option in article.poll.options]
    with count_queries() as queries:
        tone_by_vote(article.id, article.poll.id, option_ids)
        timeline(article.id, article.poll.id, option_ids)
        overview(sort="tone")
    read = [re.findall(r"(?:FROM|JOIN)\s+(\w+)", query) for query in queries]
    assert len(queries) == 5  # tone by vote 1, timeline 2 (votes, comments), overview 2
    assert not any("comments" in tables for tables in read), queries
    assert any("article_tone_counts" in tables for tables in read)
    assert any("article_comment_days" in tables for tables in read)
