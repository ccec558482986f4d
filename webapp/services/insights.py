"""Sentiment results: what readers voted, how their comments feel, and the two together.

The rules every figure here follows, in one place:

- Comments counted are the ones readers see: published and not deleted.
- A comment's tone is the score stored when it was written or last re-scored
  (``webapp.services.sentiment``); labels are the stored labels.
- A mean is over the comments that have a score (all of them once
  ``sentiment rescore`` has run) and is ``0.0`` when there are none: always a
  number, so a chart or a consumer of the API never meets a null.
- "By vote" matches a comment's author with their vote in the article's poll
  through the vote's user id. An account holds at most one vote per poll (its
  voter key is ``u:<user id>``), so no comment is counted twice; anonymous votes
  have no user and match nobody.
- Days are UTC calendar days. Votes per day come from the daily rollup
  (``PollDailyTally.votes_cast``: first votes and moves, on the day they happened),
  never from the vote rows.

Every aggregate is grouped in the database (``GROUP BY`` with ``count``, ``sum``,
``avg`` and ``CASE``), so a page costs a few queries whatever the number of votes
and comments; ``ix_comments_tone`` and the thread index keep those queries on
indexes. The functions take plain values and never read the request, so the API,
the editor's pages and the tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import FunctionElement

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import (
    Article,
    ArticleStatus,
    Comment,
    CommentStatus,
    Label,
    Poll,
    PollDailyTally,
    PollOption,
    User,
    Vote,
    article_labels,
)
from webapp.services import polls
from webapp.services.sentiment import NEGATIVE, NEUTRAL, POSITIVE

# --- a calendar day both databases agree on --------------------------------------------


class utc_day(FunctionElement[date]):  # noqa: N801 (reads like the SQL function it is)
    """The UTC calendar day of a stored timestamp, read back as a ``date`` everywhere.

    SQLite keeps timestamps as UTC text (``2026-05-10 21:30:00.000000``) and its
    ``date()`` reads the day off that text; the column's ``Date`` type turns the
    answer into a ``date``. PostgreSQL keeps ``timestamptz``, where ``date()`` would
    use the session's time zone, so the value is moved to UTC first. The zone is
    written inline: as a bound parameter, PostgreSQL would see the ``GROUP BY``
    expression as different from the selected one.
    """

    type = sa.Date()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day)
def _utc_day_default(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


# --- tone of a set of comments -----------------------------------------------------------


@dataclass(frozen=True)
class Tone:
    """How a set of comments feels: counts by label and the mean score."""

    count: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    # Comments with a score, and the sum of their scores: what the mean is made of,
    # kept so that tones add up exactly (the whole is the sum of its groups).
    scored: int = 0
    total: float = 0.0

    @property
    def mean(self) -> float:
        """Mean score in [-1, 1]; 0.0 when no comment has a score (never null)."""
        return self.total / self.scored if self.scored else 0.0

    def share(self, label: str) -> float:
        """The part of the comments with ``label``; 0.0 when there are none."""
        return getattr(self, label) / self.count if self.count else 0.0

    def __add__(self, other: Tone) -> Tone:
        return Tone(
            count=self.count + other.count,
            positive=self.positive + other.positive,
            neutral=self.neutral + other.neutral,
            negative=self.negative + other.negative,
            scored=self.scored + other.scored,
            total=self.total + other.total,
        )


_PUBLIC = (Comment.status == CommentStatus.PUBLISHED.value, Comment.deleted_at.is_(None))


def _tone_columns() -> tuple[Any, ...]:
    def labelled(label: str) -> Any:
        return func.coalesce(func.sum(case((Comment.sentiment_label == label, 1), else_=0)), 0)

    return (
        func.count(Comment.id).label("count"),
        labelled(POSITIVE).label("positive"),
        labelled(NEUTRAL).label("neutral"),
        labelled(NEGATIVE).label("negative"),
        func.count(Comment.sentiment).label("scored"),
        func.coalesce(func.sum(Comment.sentiment), 0.0).label("total"),
    )


def _tone_of(row: Any) -> Tone:
    return Tone(
        count=int(row.count),
        positive=int(row.positive),
        neutral=int(row.neutral),
        negative=int(row.negative),
        scored=int(row.scored),
        total=float(row.total),
    )


@dataclass(frozen=True)
class ToneByVote:
    """Comment tone grouped by how each comment's author voted in the article's poll."""

    options: dict[int, Tone]  # every option of the poll, in poll order, zeros included
    no_vote: Tone  # authors without a vote in this poll (or with no poll at all)

    @property
    def overall(self) -> Tone:
        """Every counted comment: the groups add up to it exactly."""
        whole = self.no_vote
        for tone in self.options.values():
            whole = whole + tone
        return whole


def tone_by_vote(article_id: int, poll_id: int | None, option_ids: list[int]) -> ToneByVote:
    """One grouped query: the article's comments joined to their authors' votes."""
    if poll_id is None:
        row = db.session.execute(
            select(*_tone_columns()).where(Comment.article_id == article_id, *_PUBLIC)
        ).one()
        return ToneByVote(options={}, no_vote=_tone_of(row))
    rows = db.session.execute(
        select(Vote.option_id, *_tone_columns())
        .select_from(Comment)
        .outerjoin(Vote, and_(Vote.poll_id == poll_id, Vote.user_id == Comment.author_id))
        .where(Comment.article_id == article_id, *_PUBLIC)
        .group_by(Vote.option_id)
    ).all()
    grouped = {row.option_id: _tone_of(row) for row in rows}
    return ToneByVote(
        options={option_id: grouped.get(option_id, Tone()) for option_id in option_ids},
        no_vote=grouped.get(None, Tone()),
    )


def tone(article_id: int) -> Tone:
    """The tone of an article's comments, whatever their authors voted."""
    return tone_by_vote(article_id, None, []).no_vote


# --- day by day ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """One UTC day on which votes were cast or comments published."""

    day: date
    votes: dict[int, int]  # votes cast that day per option, every option included
    comments: int
    scored: int = 0
    total: float = 0.0

    @property
    def date(self) -> str:
        return self.day.isoformat()

    @property
    def mean(self) -> float:
        """The mean tone of that day's comments; 0.0 on a day without comments."""
        return self.total / self.scored if self.scored else 0.0

    @property
    def votes_cast(self) -> int:
        return sum(self.votes.values())


def _as_date(value: date | str) -> date:
    # The Date type already converts on both databases; this keeps a raw string safe.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def timeline(article_id: int, poll_id: int | None, option_ids: list[int]) -> list[Day]:
    """Ascending days with votes cast (from the daily rollup) or comments published
    (grouped by UTC day): two grouped queries, never the vote rows."""
    votes: dict[date, dict[int, int]] = {}
    if poll_id is not None:
        rows = db.session.execute(
            select(PollDailyTally.day, PollDailyTally.option_id, PollDailyTally.votes_cast).where(
                PollDailyTally.poll_id == poll_id, PollDailyTally.votes_cast > 0
            )
        ).tuples()
        for day, option_id, cast in rows:
            votes.setdefault(_as_date(day), {})[option_id] = cast
    day_of = utc_day(Comment.created_at)
    comment_rows = db.session.execute(
        select(
            day_of.label("day"),
            func.count(Comment.id).label("count"),
            func.count(Comment.sentiment).label("scored"),
            func.coalesce(func.sum(Comment.sentiment), 0.0).label("total"),
        )
        .where(Comment.article_id == article_id, *_PUBLIC)
        .group_by(day_of)
    ).all()
    comments = {_as_date(row.day): row for row in comment_rows}
    days = []
    for day in sorted(votes.keys() | comments.keys()):
        cast = votes.get(day, {})
        row = comments.get(day)
        days.append(
            Day(
                day=day,
                votes={option_id: cast.get(option_id, 0) for option_id in option_ids},
                comments=int(row.count) if row else 0,
                scored=int(row.scored) if row else 0,
                total=float(row.total) if row else 0.0,
            )
        )
    return days


# --- examples -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    id: int
    author: str
    created_at: datetime
    html: str
    score: float


def examples(article_id: int, limit: int = 3) -> tuple[list[Example], list[Example]]:
    """The most positive and the most negative published comments (by stored label,
    so an article whose comments are all negative shows no "positive" examples).
    Each is a short walk along ``ix_comments_tone``, never a sort of every comment."""
    base = (
        select(Comment.id, User.display_name, Comment.created_at, Comment.html, Comment.sentiment)
        .join(User, User.id == Comment.author_id)
        .where(Comment.article_id == article_id, Comment.sentiment.is_not(None), *_PUBLIC)
        .limit(limit)
    )

    def fetch(query: Any) -> list[Example]:
        return [Example(*row) for row in db.session.execute(query).tuples()]

    most_positive = fetch(
        base.where(Comment.sentiment_label == POSITIVE).order_by(
            Comment.sentiment.desc(), Comment.id
        )
    )
    most_negative = fetch(
        base.where(Comment.sentiment_label == NEGATIVE).order_by(
            Comment.sentiment.asc(), Comment.id
        )
    )
    return most_positive, most_negative


# --- one article --------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleInsights:
    """Everything the Sentiment answer and the editor's results page show.

    ``by_vote.no_vote`` is the tone of comments whose authors did not vote (all of
    them when the article has no poll); ``comments`` is the sum of the groups.
    """

    results: polls.PollResults | None  # None when the article has no poll
    comments: Tone
    by_vote: ToneByVote
    timeline: list[Day]


def for_article(article: Article, moment: datetime | None = None) -> ArticleInsights:
    """Three grouped queries, whatever the number of votes and comments."""
    poll = article.poll
    poll_id = poll.id if poll is not None else None
    option_ids = [option.id for option in poll.options] if poll is not None else []
    by_vote = tone_by_vote(article.id, poll_id, option_ids)
    return ArticleInsights(
        results=polls.results(poll, moment) if poll is not None else None,
        comments=by_vote.overall,
        by_vote=by_vote,
        timeline=timeline(article.id, poll_id, option_ids),
    )


# --- every article at once -------------------------------------------------------------------

#: Overview columns an editor can sort by, each with the direction it starts in.
OVERVIEW_SORTS = {
    "title": "asc",
    "published": "desc",
    "leader": "desc",
    "turnout": "desc",
    "comments": "desc",
    "tone": "desc",
}
DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class OverviewRow:
    id: int
    slug: str
    title: str
    status: str
    published_at: datetime | None
    has_poll: bool
    leader: str | None  # the leading option's label; None without a poll or votes
    leader_votes: int
    turnout: int
    comments: int
    mean_tone: float | None  # None when the article has no counted comment

    @property
    def leader_share(self) -> float | None:
        return self.leader_votes / self.turnout if self.leader and self.turnout else None


@dataclass(frozen=True)
class OverviewPage:
    rows: list[OverviewRow]
    sort: str
    direction: str
    page: int
    pages: int
    total: int


def overview(
    sort: str = "published",
    direction: str | None = None,
    page: int = 1,
    per_page: int | None = 50,
) -> OverviewPage:
    """Every article with its poll leader, turnout, comment count and mean tone.

    One query for the page (poll leaders by a window over the stored tallies, like
    :attr:`polls.PollResults.leader`: most votes, earliest option on a tie; comment
    figures grouped by article) and one to count articles. Sorting happens in the
    database, empty values last in either direction, so every page is consistent.
    ``per_page=None`` gives every article on one page (the CSV download).
    """
    if sort not in OVERVIEW_SORTS:
        raise InvalidInput("Unknown sort column.", fields={"sort": "unknown column"})
    direction = direction or OVERVIEW_SORTS[sort]
    if direction not in DIRECTIONS:
        raise InvalidInput("dir must be asc or desc.", fields={"dir": "asc or desc"})
    stats = (
        select(
            Comment.article_id,
            func.count(Comment.id).label("comments"),
            func.avg(Comment.sentiment).label("mean_tone"),
        )
        .where(*_PUBLIC)
        .group_by(Comment.article_id)
        .subquery("stats")
    )
    ranked = select(
        PollOption.poll_id,
        PollOption.label,
        PollOption.vote_count,
        func.sum(PollOption.vote_count).over(partition_by=PollOption.poll_id).label("turnout"),
        func.row_number()
        .over(
            partition_by=PollOption.poll_id,
            order_by=(PollOption.vote_count.desc(), PollOption.position),
        )
        .label("rank"),
    ).subquery("ranked")
    leader_share = case(
        (ranked.c.turnout > 0, sa.cast(ranked.c.vote_count, sa.Float) / ranked.c.turnout),
        else_=None,
    )
    keys = {
        "title": func.lower(Article.title),
        "published": Article.published_at,
        "leader": leader_share,
        "turnout": ranked.c.turnout,
        "comments": func.coalesce(stats.c.comments, 0),
        "tone": stats.c.mean_tone,
    }
    key = keys[sort]
    order = key.asc() if direction == "asc" else key.desc()
    tie = Article.id.asc() if direction == "asc" else Article.id.desc()
    total = db.session.scalar(select(func.count(Article.id))) or 0
    pages = max(1, -(-total // per_page)) if per_page else 1
    page = min(max(1, page), pages)
    query = (
        select(
            Article.id,
            Article.slug,
            Article.title,
            Article.status,
            Article.published_at,
            Poll.id.label("poll_id"),
            ranked.c.label,
            ranked.c.vote_count,
            ranked.c.turnout,
            stats.c.comments,
            stats.c.mean_tone,
        )
        .select_from(Article)
        .outerjoin(Poll, Poll.article_id == Article.id)
        .outerjoin(ranked, and_(ranked.c.poll_id == Poll.id, ranked.c.rank == 1))
        .outerjoin(stats, stats.c.article_id == Article.id)
        .order_by(order.nulls_last(), tie)
    )
    if per_page:
        query = query.offset((page - 1) * per_page).limit(per_page)
    rows = db.session.execute(query).all()
    return OverviewPage(
        rows=[
            OverviewRow(
                id=row.id,
                slug=row.slug,
                title=row.title,
                status=row.status,
                published_at=row.published_at,
                has_poll=row.poll_id is not None,
                leader=row.label if row.turnout else None,
                leader_votes=int(row.vote_count or 0) if row.turnout else 0,
                turnout=int(row.turnout or 0),
                comments=int(row.comments or 0),
                mean_tone=float(row.mean_tone) if row.mean_tone is not None else None,
            )
            for row in rows
        ],
        sort=sort,
        direction=direction,
        page=page,
        pages=pages,
        total=total,
    )


# --- one option across the articles of a label -------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    """One article's share for the chosen option, for a running question."""

    article_id: int
    slug: str
    title: str
    published_at: datetime
    option: str
    votes: int
    turnout: int

    @property
    def share(self) -> float:
        return self.votes / self.turnout if self.turnout else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return polls.wilson_interval(self.votes, self.turnout)


def _labelled_polls(label_slug: str) -> Any:
    """Published articles with ``label_slug`` that have a poll, as a join to build on."""
    return (
        select(Article.id)
        .join(article_labels, article_labels.c.article_id == Article.id)
        .join(Label, Label.id == article_labels.c.label_id)
        .join(Poll, Poll.article_id == Article.id)
        .where(Label.slug == label_slug, Article.status == ArticleStatus.PUBLISHED.value)
    )


def poll_labels() -> list[tuple[str, str]]:
    """(slug, name) of every label carried by a published article with a poll."""
    query = (
        select(Label.slug, Label.name)
        .join(article_labels, article_labels.c.label_id == Label.id)
        .join(Article, Article.id == article_labels.c.article_id)
        .join(Poll, Poll.article_id == Article.id)
        .where(Article.status == ArticleStatus.PUBLISHED.value)
        .group_by(Label.slug, Label.name)
        .order_by(func.lower(Label.name))
    )
    return list(db.session.execute(query).tuples())


def option_choices(label_slug: str) -> list[str]:
    """The option texts the label's polls use, once each whatever their case."""
    query = (
        select(func.min(PollOption.label))
        .join(Poll, Poll.id == PollOption.poll_id)
        .where(Poll.article_id.in_(_labelled_polls(label_slug)))
        .group_by(func.lower(PollOption.label))
        .order_by(func.lower(PollOption.label))
    )
    return list(db.session.scalars(query))


def option_trend(label_slug: str, option_text: str) -> list[TrendPoint]:
    """The share of the option reading ``option_text`` (case-insensitively, spaces
    trimmed; SQLite folds the case of ASCII letters only) in each published poll
    under ``label_slug``, in publication order.

    Articles whose poll has no such option are left out. One grouped query: each
    matching option beside the sum of its poll's tallies.
    """
    wanted = option_text.strip().lower()
    if not wanted:
        return []
    chosen = aliased(PollOption)
    every = aliased(PollOption)
    rows = db.session.execute(
        select(
            Article.id,
            Article.slug,
            Article.title,
            Article.published_at,
            chosen.label,
            chosen.vote_count,
            func.sum(every.vote_count).label("turnout"),
        )
        .join(Poll, Poll.article_id == Article.id)
        .join(chosen, chosen.poll_id == Poll.id)
        .join(every, every.poll_id == Poll.id)
        .where(Article.id.in_(_labelled_polls(label_slug)), func.lower(chosen.label) == wanted)
        .group_by(
            Article.id,
            Article.slug,
            Article.title,
            Article.published_at,
            chosen.id,
            chosen.position,
            chosen.label,
            chosen.vote_count,
        )
        .order_by(Article.published_at, Article.id, chosen.position)
    ).tuples()
    points: dict[int, TrendPoint] = {}
    for article_id, slug, title, published_at, label, votes, turnout in rows:
        # Two options of one poll differing only in case: the first one counts.
        points.setdefault(
            article_id,
            TrendPoint(article_id, slug, title, published_at, label, int(votes), int(turnout or 0)),
        )
    return list(points.values())
