"""Every article at once: poll leader, turnout, comment count and mean tone, sortable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import QueryableAttribute

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import Article, Comment, Poll, PollOption
from webapp.services.insights.comment_tone import PUBLIC_COMMENTS

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
    sort: OverviewSort
    direction: Direction
    page: int
    pages: int
    total: int

    def direction_after(self, sort: OverviewSort) -> Direction | None:
        """The direction a click on column ``sort`` asks for: the current column
        reverses; another one starts in its own direction (None: the default)."""
        if sort != self.sort:
            return None
        return "desc" if self.direction == "asc" else "asc"


def overview(
    sort: OverviewSort = DEFAULT_SORT,
    direction: Direction | None = None,
    page: int = 1,
    per_page: int | None = 50,
) -> OverviewPage:
    """Every article with its poll leader, turnout, comment count and mean tone.

    One query for the page (poll leaders by a window over the stored tallies, like
    :attr:`polls.PollResults.leader`: most votes, earliest option on a tie; comment
    figures grouped by article) and one to count articles. Sorting happens in the
    database, empty values last in either direction, so every page is consistent.
    ``direction=None`` is the column's own direction; ``per_page=None`` gives every
    article on one page (the CSV download).
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
        .where(*PUBLIC_COMMENTS)
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
    keys: dict[OverviewSort, sa.ColumnElement[Any] | QueryableAttribute[Any]] = {
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
