"""One poll answer followed across the published polls sharing a label (a running question).

A label gathers polls for as long as a newsroom runs the question, so the page shows the
latest ``TREND_POINTS`` of them with a link to the ones before (keyset by publication),
and what it offers to choose from (labels, answers) is read per label or from the
latest polls, never by grouping every article; the CSV holds every poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, func, select, tuple_
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import Article, ArticleStatus, Label, Poll, PollOption, article_labels
from webapp.services import polls


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


#: How many polls the overview's trend shows at once: the latest, then the ones before.
TREND_POINTS = 20
#: Where a page of the trend starts, going back: (published_at, article id).
TrendKey = tuple[datetime, int]


def _labelled_polls(label_slug: str) -> Select[tuple[int]]:
    """Published articles with ``label_slug`` that have a poll, as a query to order
    and limit.

    Ordered by publication, it walks the published articles in that order and asks
    each whether it carries the label (one primary-key probe), instead of gathering
    all of the label's articles to sort them: a page costs about its size over the
    label's share of articles, however long the question has run."""
    carries_label = exists(
        select(article_labels.c.article_id).where(
            article_labels.c.article_id == Article.id,
            article_labels.c.label_id
            == select(Label.id).where(Label.slug == label_slug).scalar_subquery(),
        )
    )
    return (
        select(Article.id)
        .join(Poll, Poll.article_id == Article.id)
        .where(Article.status == ArticleStatus.PUBLISHED.value, carries_label)
    )


def poll_labels() -> list[tuple[str, str]]:
    """(slug, name) of every label carried by a published article with a poll: each
    label asks whether one such article exists (it stops at the first), so the cost
    follows the labels, not the articles."""
    carried = exists(
        select(article_labels.c.article_id)
        .join(Article, Article.id == article_labels.c.article_id)
        .join(Poll, Poll.article_id == Article.id)
        .where(
            article_labels.c.label_id == Label.id,
            Article.status == ArticleStatus.PUBLISHED.value,
        )
    )
    query = select(Label.slug, Label.name).where(carried).order_by(func.lower(Label.name))
    return list(db.session.execute(query).tuples())


def option_choices(label_slug: str, polls_read: int = TREND_POINTS) -> list[str]:
    """The option texts the label's latest ``polls_read`` polls use, once each
    whatever their case: what an editor is offered to follow."""
    latest = (
        _labelled_polls(label_slug)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(polls_read)
        .subquery("latest")
    )
    query = (
        select(func.min(PollOption.label))
        .join(Poll, Poll.id == PollOption.poll_id)
        .where(Poll.article_id.in_(select(latest.c.id)))
        .group_by(func.lower(PollOption.label))
        .order_by(func.lower(PollOption.label))
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class TrendPage:
    """The latest points of a trend (in publication order) and where the ones before
    them start (None: these are the first)."""

    points: list[TrendPoint]
    earlier_key: TrendKey | None


def recent_trend(
    label_slug: str,
    option_text: str,
    limit: int = TREND_POINTS,
    before: TrendKey | None = None,
) -> TrendPage:
    """The last ``limit`` points of ``option_trend`` published before ``before`` (the
    latest when None), oldest first, and the key of the page before them."""
    found = _trend_points(label_slug, option_text, limit + 1, before)
    earlier_key = None
    if len(found) > limit:
        found = found[:limit]
        earlier_key = (found[-1].published_at, found[-1].article_id)
    return TrendPage(points=found[::-1], earlier_key=earlier_key)


def option_trend(label_slug: str, option_text: str) -> list[TrendPoint]:
    """The share of the option reading ``option_text`` (case-insensitively, spaces
    trimmed; SQLite folds the case of ASCII letters only) in each published poll
    under ``label_slug``, in publication order.

    Articles whose poll has no such option are left out.
    """
    return list(trend_rows(label_slug, option_text))


#: Polls read per query by ``trend_rows`` (the CSV download), the first query fewer:
#: a long-running question's file starts as soon as a new one's. The first query's
#: rows (about 100 bytes each) fill the file's first piece
#: (``csv_export.FIRST_CHUNK_SIZE``), so it leaves before a second query is made.
EXPORT_BATCH = 200
FIRST_EXPORT_BATCH = 50


def trend_rows(label_slug: str, option_text: str, batch: int | None = None) -> Iterator[TrendPoint]:
    """``option_trend``'s points in publication order, read ``batch`` polls at a time
    as they are consumed: a streamed file's first rows leave after one short query."""
    size = EXPORT_BATCH if batch is None else batch
    page_size = min(size, FIRST_EXPORT_BATCH)
    after: TrendKey | None = None
    while True:
        points = _trend_points(label_slug, option_text, page_size, after=after, oldest_first=True)
        yield from points
        if len(points) < page_size:
            return
        after = (points[-1].published_at, points[-1].article_id)
        page_size = size


def _trend_points(
    label_slug: str,
    option_text: str,
    limit: int | None = None,
    before: TrendKey | None = None,
    after: TrendKey | None = None,
    oldest_first: bool = False,
) -> list[TrendPoint]:
    """The trend's points: ``limit`` of them (all when None), newest first (published
    before ``before``), or with ``oldest_first`` oldest first (after ``after``).

    The polls are chosen first (the label's published articles whose poll has such
    an option, in publication order, limited), and only theirs are summed: a page
    costs its own polls' options, not a grouping of every poll of the label."""
    wanted = option_text.strip().lower()
    if not wanted:
        return []
    chosen = aliased(PollOption)
    every = aliased(PollOption)
    has_option = exists(
        select(PollOption.id).where(
            PollOption.poll_id == Poll.id, func.lower(PollOption.label) == wanted
        )
    )
    order = (
        (Article.published_at.asc(), Article.id.asc())
        if oldest_first
        else (Article.published_at.desc(), Article.id.desc())
    )
    page = _labelled_polls(label_slug).where(has_option).order_by(*order)
    if before is not None:
        page = page.where(tuple_(Article.published_at, Article.id) < before)
    if after is not None:
        page = page.where(tuple_(Article.published_at, Article.id) > after)
    if limit is not None:
        page = page.limit(limit)
    query = (
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
        .where(Article.id.in_(page.scalar_subquery()), func.lower(chosen.label) == wanted)
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
        .order_by(*order, chosen.position)
    )
    points: dict[int, TrendPoint] = {}
    for article_id, slug, title, published_at, label, votes, turnout in db.session.execute(
        query
    ).tuples():
        # Published articles always have a publication time; the type cannot say so.
        assert published_at is not None
        # Two options of one poll differing only in case: the first one counts.
        points.setdefault(
            article_id,
            TrendPoint(article_id, slug, title, published_at, label, int(votes), int(turnout or 0)),
        )
    return list(points.values())
