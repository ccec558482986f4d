"""Sentiment results, checked against a small data set whose numbers are worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tests.insight_data import D1, D2, D3, D4, add_comment, vote
from webapp.errors import InvalidInput
from webapp.models import Comment
from webapp.services import comments, insights, polls
from webapp.services.insights.sentiment import analyse, rescore_comments


@dataclass
class DataSet:
    article: Any
    poll: Any
    yes: Any
    no: Any
    early: Any
    readers: list[Any]
    published: list[Comment]


@pytest.fixture
def data(db, make_user, make_article) -> DataSet:
    """Five readers, one anonymous voter, eight comments of which five are public.

    Votes: r1, r2 and an anonymous visitor Yes; r3 No; r4 No then Too early (moved
    on D3); r5 votes only in another article's poll. Tallies: Yes 3, No 1, Too early 1.
    Votes cast per day: D1 Yes 2, No 1; D2 Yes 1, No 1; D3 Too early 1.

    Public comments (score, author, day): +0.6 r1 D1; +0.2 r1 D2; -0.8 r3 D2;
    0.0 r4 D4; -0.4 r5 D4. Not counted: a pending +0.9, a deleted -0.9, a
    rejected -1.0.
    """
    article = make_article(poll=True)
    poll = article.poll
    yes, no, early = poll.options
    readers = [make_user() for _ in range(5)]
    r1, r2, r3, r4, r5 = readers
    vote(poll, r1, yes, D1)
    vote(poll, r2, yes, D1 + timedelta(hours=1))
    vote(poll, r4, no, D1 + timedelta(hours=2))
    vote(poll, r3, no, D2)
    polls.cast_vote(poll, polls.Voter("a:visitor", None), yes.id, moment=D2)
    vote(poll, r4, early, D3)
    other = make_article(poll=True).poll
    vote(other, r5, other.options[1], D1)
    published = [
        add_comment(db, article, r1, 0.6, "positive", D1 + timedelta(hours=2)),
        add_comment(db, article, r1, 0.2, "positive", D2),
        add_comment(db, article, r3, -0.8, "negative", D2 + timedelta(hours=14, minutes=30)),
        add_comment(db, article, r4, 0.0, "neutral", D4),
        add_comment(db, article, r5, -0.4, "negative", D4 + timedelta(hours=1)),
    ]
    add_comment(db, article, r2, 0.9, "positive", D1, status="pending")
    add_comment(db, article, r3, -0.9, "negative", D2, deleted=True)
    add_comment(db, article, r2, -1.0, "negative", D2, status="rejected")
    db.session.commit()
    return DataSet(article, poll, yes, no, early, readers, published)


# --- one article --------------------------------------------------------------------------


def test_tone_counts_only_published_comments_and_averages_their_scores(data):
    tone = insights.tone(data.article.id)
    assert (tone.count, tone.positive, tone.neutral, tone.negative) == (5, 2, 1, 2)
    # (0.6 + 0.2 - 0.8 + 0.0 - 0.4) / 5
    assert tone.mean == pytest.approx(-0.08)
    assert tone.share("negative") == pytest.approx(0.4)


def test_comments_are_grouped_by_how_their_author_voted(data):
    grouped = insights.tone_by_vote(
        data.article.id, data.poll.id, [data.yes.id, data.no.id, data.early.id]
    )
    assert list(grouped.options) == [data.yes.id, data.no.id, data.early.id]
    yes, no, early = (grouped.options[o.id] for o in (data.yes, data.no, data.early))
    assert (yes.count, yes.positive, yes.neutral, yes.negative) == (2, 2, 0, 0)
    assert yes.mean == pytest.approx(0.4)
    assert (no.count, no.negative) == (1, 1)
    assert no.mean == pytest.approx(-0.8)
    # r4 moved from No to Too early: their comment goes with the vote they hold now.
    assert (early.count, early.neutral, early.mean) == (1, 1, 0.0)
    # r5 voted only in another article's poll: here they did not vote.
    assert (grouped.no_vote.count, grouped.no_vote.negative) == (1, 1)
    assert grouped.no_vote.mean == pytest.approx(-0.4)
    overall = grouped.overall
    assert (overall.count, overall.positive, overall.neutral, overall.negative) == (5, 2, 1, 2)
    assert overall.mean == pytest.approx(-0.08)


def test_every_option_is_a_group_even_when_no_voter_commented(db, make_user, make_article):
    article = make_article(poll=True)
    yes, no, early = article.poll.options
    reader = make_user()
    vote(article.poll, reader, no, D1)
    add_comment(db, article, reader, -0.5, "negative", D1)
    db.session.commit()
    grouped = insights.tone_by_vote(article.id, article.poll.id, [yes.id, no.id, early.id])
    assert grouped.options[yes.id] == insights.Tone()
    assert grouped.options[yes.id].mean == 0.0
    assert grouped.options[no.id].count == 1
    assert grouped.no_vote.count == 0


def test_timeline_has_one_ascending_entry_per_day_with_votes_or_comments(data):
    days = insights.timeline(
        data.article.id, data.poll.id, [data.yes.id, data.no.id, data.early.id]
    )
    assert [day.date for day in days] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    y, n, e = data.yes.id, data.no.id, data.early.id
    assert [day.votes for day in days] == [
        {y: 2, n: 1, e: 0},
        {y: 1, n: 1, e: 0},
        {y: 0, n: 0, e: 1},  # the move counts as cast on the day it happened
        {y: 0, n: 0, e: 0},
    ]
    assert [day.comments for day in days] == [1, 2, 0, 2]
    assert [day.mean for day in days] == pytest.approx([0.6, -0.3, 0.0, -0.2])
    assert all(isinstance(day.day, date) for day in days)


def test_timeline_leaves_out_days_with_only_withdrawals(db, make_user, make_article):
    article = make_article(poll=True)
    yes = article.poll.options[0]
    polls.cast_vote(article.poll, polls.Voter("a:x", None), yes.id, moment=D1)
    polls.withdraw_vote(article.poll, "a:x", moment=D2)
    db.session.commit()
    days = insights.timeline(article.id, article.poll.id, [o.id for o in article.poll.options])
    assert [day.date for day in days] == ["2026-03-01"]


@pytest.mark.postgres_only
def test_comment_days_are_utc_days_whatever_the_sessions_time_zone(db, data):
    # Ten past midnight UTC is still the day before in New York.
    db.session.execute(sa.text("SET LOCAL TIME ZONE 'America/New_York'"))
    days = insights.timeline(data.article.id, data.poll.id, [data.yes.id])
    assert [day.date for day in days][-1] == "2026-03-04"
    assert days[-1].comments == 2
    db.session.rollback()


def test_utc_day_reads_the_day_in_utc_on_both_databases():
    query = sa.select(insights.utc_day(Comment.created_at))
    assert "date(comments.created_at)" in str(query.compile(dialect=sqlite.dialect()))
    assert "AT TIME ZONE 'UTC'" in str(query.compile(dialect=postgresql.dialect()))


def test_article_insights_bundle_the_poll_the_tone_and_the_days(data):
    found = insights.for_article(data.article)
    assert found.results is not None
    assert [(o.label, o.votes) for o in found.results.options] == [
        ("Yes", 3),
        ("No", 1),
        ("Too early to tell", 1),
    ]
    assert found.results.options[0].share == pytest.approx(0.6)
    assert found.comments.count == 5
    assert found.by_vote.options[data.yes.id].count == 2
    assert len(found.timeline) == 4


def test_article_without_poll_has_only_comment_figures(db, make_user, make_article):
    article = make_article()
    reader = make_user()
    add_comment(db, article, reader, 0.5, "positive", D1)
    add_comment(db, article, reader, -0.1, "negative", D2)
    db.session.commit()
    found = insights.for_article(article)
    assert found.results is None
    assert found.by_vote.options == {}
    assert found.by_vote.no_vote.count == 2
    assert found.comments.mean == pytest.approx(0.2)
    assert [(day.date, day.votes, day.comments) for day in found.timeline] == [
        ("2026-03-01", {}, 1),
        ("2026-03-02", {}, 1),
    ]


def test_without_comments_the_mean_is_zero_not_null(make_article):
    article = make_article(poll=True)
    found = insights.for_article(article)
    assert found.comments == insights.Tone()
    assert found.comments.mean == 0.0
    assert found.timeline == []


def test_unscored_comments_count_but_do_not_pull_the_mean(db, make_user, make_article):
    article = make_article()
    reader = make_user()
    add_comment(db, article, reader, 0.4, "positive", D1)
    add_comment(db, article, reader, None, None, D1)
    db.session.commit()
    tone = insights.tone(article.id)
    assert (tone.count, tone.scored, tone.positive, tone.neutral) == (2, 1, 1, 0)
    assert tone.mean == pytest.approx(0.4)


def test_examples_are_the_most_positive_and_most_negative_public_comments(
    db, data, make_user, make_article
):
    reader = data.readers[0]
    add_comment(db, data.article, reader, 0.95, "positive", D3)
    add_comment(db, data.article, reader, 0.3, "positive", D3)
    db.session.commit()
    positive, negative = insights.examples(data.article.id)
    assert [c.score for c in positive] == pytest.approx([0.95, 0.6, 0.3])
    # The pending +0.9 and the deleted -0.9 are not examples; the neutral 0.0 is neither.
    assert [c.score for c in negative] == pytest.approx([-0.8, -0.4])
    top = positive[0]
    assert top.author == reader.display_name
    assert top.created_at == D3
    assert "Comment scored 0.95" in top.html


# --- the analyser's scores and labels feed the figures ---------------------------------------

SENTENCES = {
    "What a wonderful, thoughtful article. I loved reading it!": "positive",
    "The council meets on Tuesday at ten in the town hall.": "neutral",
    "Not good. Not good at all.": "negative",
}


def test_submitted_comments_are_scored_and_labelled_and_aggregated(db, make_user, make_article):
    article = make_article(poll=True)
    author = make_user()
    for text in SENTENCES:
        comment = comments.submit(article, author, text)
        assert comment.status == "published"
        assert comment.sentiment_label == SENTENCES[text]
    db.session.commit()
    tone = insights.tone(article.id)
    assert (tone.positive, tone.neutral, tone.negative) == (1, 1, 1)
    expected = sum(analyse(text).score for text in SENTENCES) / 3
    assert tone.mean == pytest.approx(expected)
    assert -1.0 <= tone.mean <= 1.0


def test_rescoring_brings_the_figures_in_line_with_the_analyser(db, make_user, make_article):
    article = make_article()
    reader = make_user()
    for text in SENTENCES:
        comment = add_comment(db, article, reader, 0.99, "positive", D1)
        comment.body = text
    db.session.commit()
    assert insights.tone(article.id).positive == 3
    rescore_comments()
    tone = insights.tone(article.id)
    assert (tone.positive, tone.neutral, tone.negative) == (1, 1, 1)
    assert tone.mean == pytest.approx(sum(analyse(t).score for t in SENTENCES) / 3)


# --- the overview -------------------------------------------------------------------------------


@pytest.fixture
def desk(db, make_user, make_article):
    """Four articles. Numbers per article (leader, turnout, comments, mean tone):

    alpha (published 1 May): Yes 2 of 3, 2 comments, mean +0.5
    beta  (published 3 May): a tie No/Too early 1 each -> No (the earlier option), 1 comment, -0.6
    gamma (published 2 May): no poll, 0 comments
    delta (draft): poll without votes, 1 comment, 0.0
    """
    reader = make_user()
    alpha = make_article("Alpha", poll=True, published_at=datetime(2026, 5, 1, tzinfo=UTC))
    beta = make_article("Beta", poll=True, published_at=datetime(2026, 5, 3, tzinfo=UTC))
    gamma = make_article("Gamma", published_at=datetime(2026, 5, 2, tzinfo=UTC))
    delta = make_article("delta", poll=True, status="draft")
    a_yes, a_no, _ = alpha.poll.options
    for n, option in enumerate((a_yes, a_yes, a_no)):
        polls.cast_vote(alpha.poll, polls.Voter(f"a:{n}", None), option.id)
    _, b_no, b_early = beta.poll.options
    polls.cast_vote(beta.poll, polls.Voter("a:b1", None), b_early.id)
    polls.cast_vote(beta.poll, polls.Voter("a:b2", None), b_no.id)
    add_comment(db, alpha, reader, 0.8, "positive", D1)
    add_comment(db, alpha, reader, 0.2, "positive", D1)
    add_comment(db, alpha, reader, -1.0, "negative", D1, status="pending")
    add_comment(db, beta, reader, -0.6, "negative", D1)
    add_comment(db, delta, reader, 0.0, "neutral", D1)
    db.session.commit()
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta}


def _titles(page: insights.OverviewPage) -> list[str]:
    return [row.title for row in page.rows]


def test_overview_has_every_article_with_leader_turnout_comments_and_tone(desk):
    page = insights.overview()
    rows = {row.title: row for row in page.rows}
    assert set(rows) == {"Alpha", "Beta", "Gamma", "delta"}
    alpha, beta, gamma, delta = (rows[t] for t in ("Alpha", "Beta", "Gamma", "delta"))
    assert (alpha.leader, alpha.leader_votes, alpha.turnout, alpha.comments) == ("Yes", 2, 3, 2)
    assert alpha.leader_share == pytest.approx(2 / 3)
    assert alpha.mean_tone == pytest.approx(0.5)
    assert (beta.leader, beta.turnout, beta.comments) == ("No", 2, 1)
    assert beta.leader_share == pytest.approx(0.5)
    assert beta.mean_tone == pytest.approx(-0.6)
    assert (gamma.has_poll, gamma.leader, gamma.turnout, gamma.comments) == (False, None, 0, 0)
    assert gamma.mean_tone is None
    assert (delta.status, delta.has_poll, delta.leader, delta.turnout) == ("draft", True, None, 0)
    assert delta.leader_share is None


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("published", None, ["Beta", "Gamma", "Alpha", "delta"]),
        ("published", "asc", ["Alpha", "Gamma", "Beta", "delta"]),
        ("title", None, ["Alpha", "Beta", "delta", "Gamma"]),
        ("title", "desc", ["Gamma", "delta", "Beta", "Alpha"]),
        ("leader", "desc", ["Alpha", "Beta"]),
        ("turnout", "desc", ["Alpha", "Beta", "delta", "Gamma"]),
        ("turnout", "asc", ["delta", "Beta", "Alpha", "Gamma"]),
        ("comments", "desc", ["Alpha", "delta", "Beta", "Gamma"]),
        ("comments", "asc", ["Gamma", "Beta", "delta", "Alpha"]),  # ties: by id
        ("tone", "desc", ["Alpha", "delta", "Beta", "Gamma"]),
        ("tone", "asc", ["Beta", "delta", "Alpha", "Gamma"]),
    ],
)
def test_overview_sorts_by_each_column_with_empty_values_last(desk, sort, direction, expected):
    page = insights.overview(sort, direction)
    assert _titles(page)[: len(expected)] == expected
    assert page.sort == sort
    assert page.direction == (direction or insights.OVERVIEW_SORTS[sort])


def test_overview_sorted_by_leader_share_puts_articles_without_votes_last(desk):
    titles = _titles(insights.overview("leader", "asc"))
    assert titles[:2] == ["Beta", "Alpha"]
    assert set(titles[2:]) == {"Gamma", "delta"}


def test_overview_pages_and_rejects_unknown_sorts(desk):
    first = insights.overview("title", "asc", per_page=3)
    assert first.next_key is not None
    second = insights.overview("title", "asc", first.next_key, per_page=3)
    assert second.next_key is None
    assert _titles(first) + _titles(second) == ["Alpha", "Beta", "delta", "Gamma"]
    # A key past the end is an empty last page.
    assert insights.overview("title", "asc", ("zzz", 0), per_page=3).rows == []
    with pytest.raises(InvalidInput):
        insights.overview("votes")
    with pytest.raises(InvalidInput):
        insights.overview("title", "up")


class QueryCounter:
    """Counts SELECT statements (not the BEGIN that opens a transaction)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.count = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.count += 1

    def __enter__(self) -> QueryCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self)


@pytest.mark.parametrize("sort", list(insights.OVERVIEW_SORTS))
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("per_page", [1, 2, 3])
def test_overview_pages_follow_on_in_every_order(db, desk, make_article, sort, direction, per_page):
    """Page after page, by keyset, gives every article once, in the order of the
    whole list, whatever the column, direction and page size (ties and empty values
    included: two more articles tie with Gamma on every column but title)."""
    make_article("Gamma twin", published_at=datetime(2026, 5, 2, tzinfo=UTC))
    make_article("Another gamma", published_at=datetime(2026, 5, 2, tzinfo=UTC))
    whole = _titles(insights.overview(sort, direction, per_page=None))
    assert len(whole) == 6
    paged: list[str] = []
    after = None
    for _ in range(7):
        page = insights.overview(sort, direction, after, per_page=per_page)
        assert len(page.rows) <= per_page
        paged += _titles(page)
        after = page.next_key
        if after is None:
            break
    assert paged == whole


@pytest.mark.parametrize("sort", list(insights.OVERVIEW_SORTS))
def test_an_overview_page_is_two_queries_in_every_order_and_size(db, desk, sort):
    """The page's articles, then their figures: as many queries for one article as for
    fifty, on the first page as on the next."""
    with QueryCounter(db.engine) as one:
        first = insights.overview(sort, per_page=1)
    assert first.next_key is not None
    with QueryCounter(db.engine) as following:
        insights.overview(sort, None, first.next_key, per_page=1)
    with QueryCounter(db.engine) as fifty:
        assert len(insights.overview(sort, per_page=50).rows) == 4
    assert one.count == following.count == fifty.count == 2


def test_figures_take_a_few_grouped_queries_whatever_the_number_of_articles(db, desk, data):
    with QueryCounter(db.engine) as counter:
        insights.overview()
    assert counter.count == 2
    article = data.article
    assert [option.vote_count for option in article.poll.options]  # loaded beforehand
    with QueryCounter(db.engine) as counter:
        insights.for_article(article)
        insights.examples(article.id)
    # Five, and one more for the comments still waiting for their refined score.
    assert counter.count <= 6


# --- one answer across a label ----------------------------------------------------------------


@pytest.fixture
def running_question(db, make_article):
    """The label "Ceasefire" on four published polls and a draft.

    first  (1 June): Yes 1 of 4 -> 25 %
    second (5 June): option "YES" (another case), 3 of 4 -> 75 %
    third  (3 June): no votes -> 0 of 0
    fourth (4 June): options Agree/Disagree: left out
    draft: left out; "Elsewhere" label: left out
    """

    def poll_article(title, day, options=None, status="published", labels=("Ceasefire",)):
        spec = {"options": options} if options else True
        return make_article(
            title,
            poll=spec,
            labels=list(labels),
            status=status,
            published_at=datetime(2026, 6, day, tzinfo=UTC),
        )

    first = poll_article("First", 1)
    second = poll_article("Second", 5, ["No", "YES", "Unsure"])
    poll_article("Third", 3)
    poll_article("Fourth", 4, ["Agree", "Disagree"])
    poll_article("Draft", 2, status="draft")
    poll_article("Elsewhere", 2, labels=("Elections",))
    for n, index in enumerate((0, 1, 1, 2)):
        polls.cast_vote(first.poll, polls.Voter(f"a:f{n}", None), first.poll.options[index].id)
    for n, index in enumerate((1, 1, 1, 0)):
        polls.cast_vote(second.poll, polls.Voter(f"a:s{n}", None), second.poll.options[index].id)
    db.session.commit()


def test_one_option_is_followed_across_the_labels_polls_in_publication_order(running_question):
    points = insights.option_trend("ceasefire", "  yes ")
    assert [(p.title, p.option, p.votes, p.turnout) for p in points] == [
        ("First", "Yes", 1, 4),
        ("Third", "Yes", 0, 0),
        ("Second", "YES", 3, 4),
    ]
    assert [p.share for p in points] == pytest.approx([0.25, 0.0, 0.75])
    assert points[0].interval == pytest.approx(polls.wilson_interval(1, 4))
    assert points[0].published_at == datetime(2026, 6, 1, tzinfo=UTC)
    assert insights.option_trend("ceasefire", "maybe") == []
    assert insights.option_trend("ceasefire", " ") == []
    assert insights.option_trend("no-such-label", "yes") == []


def test_labels_and_their_answers_are_offered_for_the_chart(running_question):
    assert insights.poll_labels() == [("ceasefire", "Ceasefire"), ("elections", "Elections")]
    choices = insights.option_choices("ceasefire")
    assert [c.lower() for c in choices] == [
        "agree",
        "disagree",
        "no",
        "too early to tell",
        "unsure",
        "yes",
    ]
