"""Every article at a glance: poll leader, turnout, comment count and mean tone,
sortable by each, a page at a time (keyset, not offset).

A page costs two queries whatever the site's size: one finds the page's articles in
the chosen order, the other their figures (poll leaders from the stored tallies, mean
tone from the page's articles' tone counters). The comment count is the article's own
counter (``articles.comment_count``) and the mean tone is read from the tone counters
(``article_tone_counts``, a row per article and poll answer), both kept by triggers:
sorting by tone groups those counters, never the comments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import ColumnElement, FromClause, Select, and_, case, func, or_, select
from sqlalchemy.orm import QueryableAttribute

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import Article, Poll, PollOption
from webapp.models.tone_counters import TOTAL_SCALE, ArticleToneCount
from webapp.services.insights.comment_tone import mean_interval

OverviewSort = Literal["title", "published", "leader", "turnout", "comments", "tone"]
Direction = Literal["asc", "desc"]

#: Overview columns an editor can sort by, each with the direction it starts in.
OVERVIEW_SORTS: dict[OverviewSort, Direction] = {
    "title": "asc",
    "published": "desc",
    "leader": "desc",
    "turnout": "desc",
    "comments": "desc",
    "tone": "desc",
}
DIRECTIONS: tuple[Direction, ...] = ("asc", "desc")
DEFAULT_SORT: OverviewSort = "published"

#: A sort column's value where a page ended: a lower-cased title (``title``), a time
#: (``published``), a count (``comments``, ``turnout``), a share (``leader``), a mean
#: tone in billionths (``tone``); None for an empty value (no poll, no votes, no
#: comment, a draft's publication time).
SortValue = str | datetime | int | float | None
#: Where a page of the overview ended: its last article's sort value and id.
OverviewKey = tuple[SortValue, int]
#: Mean tones are ordered (and paged) in billionths: a whole number compares exactly
#: from one query to the next, where a float mean could differ in its last bit when
#: the database sums in another order.
TONE_SCALE = 1_000_000_000

SortColumn = ColumnElement[Any] | QueryableAttribute[Any]


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
    #: The mean tone's 95 % interval (``comment_tone.mean_interval``); None below two
    #: scored comments.
    tone_interval: tuple[float, float] | None = None

    @property
    def leader_share(self) -> float | None:
        return self.leader_votes / self.turnout if self.leader and self.turnout else None


@dataclass(frozen=True)
class OverviewPage:
    rows: list[OverviewRow]
    sort: OverviewSort
    direction: Direction
    #: Where the next page starts (``overview(after=...)``); None on the last page.
    next_key: OverviewKey | None = None

    def direction_after(self, sort: OverviewSort) -> Direction | None:
        """The direction a click on column ``sort`` asks for: the current column
        reverses; another one starts in its own direction (None: the default)."""
        if sort != self.sort:
            return None
        return "desc" if self.direction == "asc" else "asc"


def resolve_order(sort: OverviewSort, direction: Direction | None) -> Direction:
    """The direction ``overview`` sorts ``sort`` in (None: the column's own), or 422."""
    if sort not in OVERVIEW_SORTS:
        raise InvalidInput("Unknown sort column.", fields={"sort": "unknown column"})
    direction = direction or OVERVIEW_SORTS[sort]
    if direction not in DIRECTIONS:
        raise InvalidInput("dir must be asc or desc.", fields={"dir": "asc or desc"})
    return direction


def overview(
    sort: OverviewSort = DEFAULT_SORT,
    direction: Direction | None = None,
    after: OverviewKey | None = None,
    per_page: int | None = 50,
) -> OverviewPage:
    """Articles with their poll leader, turnout, comment count and mean tone, sorted
    by ``sort``: the ``per_page`` after ``after`` (the ``next_key`` of the page
    before), and where the next page starts.

    Two queries whatever the number of articles, votes and comments (see the
    module's docstring). Sorting happens in the database, empty values last in
    either direction, ties by id, so pages neither repeat nor skip an article.
    ``direction=None`` is the column's own direction; ``per_page=None`` gives every
    article at once (the CSV download).
    """
    direction = resolve_order(sort, direction)
    query, key = _ordered(sort)
    ascending = direction == "asc"
    if after is not None:
        query = query.where(_after(key, after, ascending))
    order = key.asc() if ascending else key.desc()
    tie = Article.id.asc() if ascending else Article.id.desc()
    query = query.order_by(order.nulls_last(), tie)
    if per_page is not None:
        query = query.limit(per_page + 1)
    found = db.session.execute(query).all()
    next_key: OverviewKey | None = None
    if per_page is not None and len(found) > per_page:
        found = found[:per_page]
        next_key = (found[-1].sort_key, found[-1].id)
    figures = _figures([row.id for row in found] if per_page is not None else None)
    rows = []
    for row in found:
        poll_id, label, vote_count, turnout, mean_tone, interval = figures.get(
            row.id, (None, None, None, None, None, None)
        )
        rows.append(
            OverviewRow(
                id=row.id,
                slug=row.slug,
                title=row.title,
                status=row.status,
                published_at=row.published_at,
                has_poll=poll_id is not None,
                leader=label if turnout else None,
                leader_votes=int(vote_count or 0) if turnout else 0,
                turnout=int(turnout or 0),
                comments=int(row.comment_count),
                mean_tone=float(mean_tone) if mean_tone is not None else None,
                tone_interval=interval,
            )
        )
    return OverviewPage(rows=rows, sort=sort, direction=direction, next_key=next_key)


#: Articles read per query by ``overview_rows`` (the CSV download), the first query
#: fewer.
EXPORT_BATCH = 500
FIRST_EXPORT_BATCH = 50


def overview_rows(
    sort: OverviewSort = DEFAULT_SORT,
    direction: Direction | None = None,
    batch: int | None = None,
) -> Iterator[OverviewRow]:
    """Every article's row in the overview's order, read a page of ``batch`` at a
    time as they are consumed (``EXPORT_BATCH`` when None): a streamed CSV sends its
    first rows after one page's queries and holds one page, whatever the number of
    articles."""
    size = EXPORT_BATCH if batch is None else batch
    # The first page is short, so the file's first piece leaves as soon on a site of
    # thousands of articles as on one of a hundred.
    page_size = min(size, FIRST_EXPORT_BATCH)
    after: OverviewKey | None = None
    while True:
        page = overview(sort, direction, after, page_size)
        yield from page.rows
        if page.next_key is None:
            return
        after = page.next_key
        page_size = size


def _ordered(sort: OverviewSort) -> tuple[Select[Any], SortColumn]:
    """The articles with the value ``sort`` orders them by (``sort_key``), and that
    value's expression. Title, publication and comments read the articles alone;
    leader and turnout the stored tallies of every poll (a row per option); tone
    the tone counters of every article (a row per poll answer)."""
    key: SortColumn
    joined: FromClause | None = None
    if sort == "title":
        key = func.lower(Article.title)
    elif sort == "published":
        key = Article.published_at
    elif sort == "comments":
        key = Article.comment_count
    elif sort in ("leader", "turnout"):
        tallies = (
            select(
                PollOption.poll_id,
                func.max(PollOption.vote_count).label("top"),
                func.sum(PollOption.vote_count).label("turnout"),
            )
            .group_by(PollOption.poll_id)
            .subquery("tallies")
        )
        joined = sa.outerjoin(Article, Poll, Poll.article_id == Article.id).outerjoin(
            tallies, tallies.c.poll_id == Poll.id
        )
        # The leading option's share: most votes over all votes (None without votes),
        # as the page shows it (``leader_votes / turnout``).
        key = (
            tallies.c.turnout
            if sort == "turnout"
            else case(
                (tallies.c.turnout > 0, sa.cast(tallies.c.top, sa.Float) / tallies.c.turnout),
                else_=None,
            )
        )
    else:
        tones = _tones().subquery("tones")
        joined = sa.outerjoin(Article, tones, tones.c.article_id == Article.id)
        key = sa.cast(func.round(tones.c.mean_tone * TONE_SCALE), sa.BigInteger)
    query = select(
        Article.id,
        Article.slug,
        Article.title,
        Article.status,
        Article.published_at,
        Article.comment_count,
        key.label("sort_key"),
    )
    return (query.select_from(joined) if joined is not None else query), key


def _tones() -> Select[Any]:
    """Each article's mean tone from its counters (a row per poll answer, kept by
    triggers): the sum of the scores over the scored comments, None when none has a
    score, as ``avg`` over the published comments' scores would be."""
    scored = func.sum(ArticleToneCount.scored)
    total = sa.cast(func.sum(ArticleToneCount.total), sa.Float) / TOTAL_SCALE
    return select(
        ArticleToneCount.article_id,
        case((scored > 0, total / scored), else_=None).label("mean_tone"),
        # What the interval around the mean is made of (``mean_interval``).
        scored.label("scored"),
        func.sum(ArticleToneCount.total).label("total"),
        func.sum(ArticleToneCount.total_sq).label("total_sq"),
    ).group_by(ArticleToneCount.article_id)


def _after(key: SortColumn, after: OverviewKey, ascending: bool) -> ColumnElement[bool]:
    """The rows after ``after`` in the order (key, id), empty keys last."""
    value, last_id = after
    beyond_id = Article.id > last_id if ascending else Article.id < last_id
    if value is None:
        return and_(key.is_(None), beyond_id)
    beyond = key > value if ascending else key < value
    return or_(key.is_(None), beyond, and_(key == value, beyond_id))


_Figures = tuple[
    int | None, str | None, int | None, int | None, float | None, tuple[float, float] | None
]


def _interval(
    scored: int | None, total: int | None, total_sq: int | None
) -> tuple[float, float] | None:
    if not scored:
        return None
    return mean_interval(
        int(scored), int(total or 0) / TOTAL_SCALE, int(total_sq or 0) / TOTAL_SCALE
    )


def _figures(article_ids: list[int] | None) -> dict[int, _Figures]:
    """(poll id, leading option, its votes, turnout, mean tone, its interval) of each article, by
    id; of these articles only (every article when None), in one query: poll leaders
    by a window over the stored tallies, like :attr:`polls.PollResults.leader` (most
    votes, the earlier option on a tie), and mean tone from these articles' tone
    counters."""
    if article_ids is not None and not article_ids:
        return {}
    options = select(
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
    )
    tones = _tones()
    articles = select(Article.id, Poll.id.label("poll_id"))
    if article_ids is not None:
        options = options.where(
            PollOption.poll_id.in_(select(Poll.id).where(Poll.article_id.in_(article_ids)))
        )
        tones = tones.where(ArticleToneCount.article_id.in_(article_ids))
        articles = articles.where(Article.id.in_(article_ids))
    ranked = options.subquery("ranked")
    tone = tones.subquery("tone")
    rows = db.session.execute(
        articles.add_columns(ranked.c.label, ranked.c.vote_count, ranked.c.turnout)
        .add_columns(tone.c.mean_tone, tone.c.scored, tone.c.total, tone.c.total_sq)
        .select_from(Article)
        .outerjoin(Poll, Poll.article_id == Article.id)
        .outerjoin(ranked, and_(ranked.c.poll_id == Poll.id, ranked.c.rank == 1))
        .outerjoin(tone, tone.c.article_id == Article.id)
    ).tuples()
    found: dict[int, _Figures] = {}
    for article_id, poll_id, label, vote_count, turnout, mean_tone, *sums in rows:
        interval = _interval(*sums)
        found[article_id] = (poll_id, label, vote_count, turnout, mean_tone, interval)
    return found
