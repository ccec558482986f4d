"""A page of published articles as GET /api/v1/articles lists them, in two queries
whatever the page's size, read as plain rows.

The ORM read (``listing.published_for_reader``) already asked a constant number of
queries, but six of them, and built a mapped object for every article, author, label,
poll and option of the page, and new statements for them, on every request: some 12 ms
of Python for a page of 20, where the database answered in well under one. Here:

1. the page: each article with its author's name, its poll and its neighbours' slugs
   and titles (correlated index probes, as ``neighbours.neighbours_of`` reads them);
2. everything the page's articles hold several of, in one UNION ALL: their labels
   (by name), their polls' options (by position) and the reader's votes in them.

Both statements are built once per shape (with or without a cursor, a label, a
voter), and their rows become frozen dataclasses shaped like what the JSON shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, bindparam, literal, select, tuple_, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from webapp.extensions import db
from webapp.models import Article, ArticleStatus, Label, Poll, PollOption, User, Vote, utcnow
from webapp.models import article_labels as labelled
from webapp.services.articles.neighbours import ArticleLink, Neighbours
from webapp.services.articles.reading import PublishedKey

_LABEL, _OPTION, _VOTE = 0, 1, 2
#: Times bound against published_at are typed as the column, so SQLite compares them
#: as stored.
_PUBLISHED_AT_TYPE = Article.__table__.c.published_at.type


@dataclass(frozen=True)
class ListedOption:
    id: int
    label: str


@dataclass(frozen=True)
class ListedPoll:
    """An article's poll as a list shows it (``poll_json`` reads these fields)."""

    id: int
    question: str
    closes_at: datetime | None
    closed_at: datetime | None
    results_visibility: str
    allow_anonymous: bool
    options: list[ListedOption] = field(default_factory=list)

    def is_closed_at(self, moment: datetime) -> bool:
        # The same rule as Poll.is_closed_at.
        if self.closed_at is not None and self.closed_at <= moment:
            return True
        return self.closes_at is not None and self.closes_at <= moment


@dataclass(frozen=True)
class ListedRow:
    """An article of the list with everything its JSON shows."""

    id: int
    slug: str
    title: str
    summary: str
    body: str
    html: str
    status: str
    comment_mode: str
    published_at: datetime | None
    updated_at: datetime | None
    comment_count: int
    author_id: int
    author_name: str
    neighbours: Neighbours
    labels: list[str] = field(default_factory=list)
    poll: ListedPoll | None = None
    #: The option the reader chose in the poll; None without a poll or a vote.
    my_vote: int | None = None


def _beside(here: type[Article], *, earlier: bool) -> sa.ScalarSelect[int]:
    """The id of the published article just before (after) ``here``: one index probe
    (ix_articles_status_published_at), as ``neighbours._beside`` reads it."""
    other = aliased(Article)
    mine = tuple_(here.published_at, here.id)
    side: ColumnElement[bool]
    if earlier:
        side = tuple_(other.published_at, other.id) < mine
        order = (other.published_at.desc(), other.id.desc())
    else:
        side = tuple_(other.published_at, other.id) > mine
        order = (other.published_at.asc(), other.id.asc())
    # Not an embedded page's unlisted thread (issue 22), as neighbours._beside.
    conditions = [other.status == ArticleStatus.PUBLISHED, other.listed, side]
    if not earlier:
        # A scheduled article is nobody's next one before its time (as neighbours._beside).
        conditions.append(other.published_at <= bindparam("now", type_=_PUBLISHED_AT_TYPE))
    return (
        select(other.id)
        .where(*conditions)
        .order_by(*order)
        .limit(1)
        .correlate(here)
        .scalar_subquery()
    )


@cache
def _page_statement(after: bool, label: bool) -> Select[Any]:
    """The page's rows, newest first, ``limit`` + 1 of them (the extra one says whether
    a next page exists); bound: ``limit``, and ``when``/``last_id``, ``label`` when
    asked for."""
    here = aliased(Article, name="here")
    # ``now`` is bound, never built in: the statement is kept (``cache``) for every
    # later request, and a scheduled article must appear once its time has come.
    conditions: list[ColumnElement[bool]] = [
        here.status == ArticleStatus.PUBLISHED,
        here.published_at <= bindparam("now", type_=_PUBLISHED_AT_TYPE),
        here.listed.is_(True),  # as models.articles.public_articles_at (issue 22)
    ]
    if label:
        conditions.append(
            here.id.in_(
                select(labelled.c.article_id)
                .join(Label, Label.id == labelled.c.label_id)
                .where(Label.slug == bindparam("label"))
            )
        )
    if after:
        conditions.append(
            tuple_(here.published_at, here.id)
            # Typed as the column, so SQLite compares the time as stored.
            < tuple_(
                bindparam("when", type_=_PUBLISHED_AT_TYPE),
                bindparam("last_id", type_=sa.Integer),
            )
        )
    page = (
        select(
            here,
            _beside(here, earlier=True).label("previous_id"),
            _beside(here, earlier=False).label("next_id"),
        )
        .where(*conditions)
        .order_by(here.published_at.desc(), here.id.desc())
        .limit(bindparam("limit"))
        .subquery("page")
    )
    previous, following = aliased(Article), aliased(Article)
    c = page.c
    return (
        select(
            c.id,
            c.slug,
            c.title,
            c.summary,
            c.body,
            c.html,
            c.status,
            c.comment_mode,
            c.published_at,
            c.updated_at,
            c.comment_count,
            User.id,
            User.display_name,
            previous.slug,
            previous.title,
            following.slug,
            following.title,
            Poll.id,
            Poll.question,
            Poll.closes_at,
            Poll.closed_at,
            Poll.results_visibility,
            Poll.allow_anonymous,
        )
        .select_from(page)
        .join(User, User.id == c.author_id)
        .outerjoin(Poll, Poll.article_id == c.id)
        .outerjoin(previous, previous.id == c.previous_id)
        .outerjoin(following, following.id == c.next_id)
        .order_by(c.published_at.desc(), c.id.desc())
    )


@cache
def _parts_statement(voter: bool) -> Select[Any]:
    """The labels, poll options and (for a voter) votes of the articles ``ids``:
    (article id, kind, text, id, order) rows, in label-name and option order."""
    ids: sa.BindParameter[int] = bindparam("ids", expanding=True)
    no_text = sa.cast(sa.null(), sa.String)
    no_number = sa.cast(sa.null(), sa.Integer)
    parts = [
        select(
            labelled.c.article_id,
            literal(_LABEL).label("kind"),
            Label.name.label("text"),
            no_number.label("id"),
            no_number.label("position"),
        )
        .join(Label, Label.id == labelled.c.label_id)
        .where(labelled.c.article_id.in_(ids)),
        select(
            Poll.article_id,
            literal(_OPTION),
            PollOption.label,
            PollOption.id,
            PollOption.position,
        )
        .join(Poll, Poll.id == PollOption.poll_id)
        .where(Poll.article_id.in_(ids)),
    ]
    if voter:
        parts.append(
            select(Poll.article_id, literal(_VOTE), no_text, Vote.option_id, no_number)
            .join(Poll, Poll.id == Vote.poll_id)
            .where(Vote.voter_key == bindparam("voter_key"), Poll.article_id.in_(ids))
        )
    union = union_all(*parts).subquery("parts")
    # Labels by name (their position is NULL), options by position, as the
    # relationships order them.
    return select(union).order_by(union.c.kind, union.c.position, union.c.text)


def _link(slug: str | None, title: str | None) -> ArticleLink | None:
    return ArticleLink(slug, title) if slug is not None and title is not None else None


def published_page(
    limit: int,
    after: PublishedKey | None,
    label_slug: str | None,
    voter_key: str | None,
) -> tuple[list[ListedRow], PublishedKey | None]:
    """The page ``listing.published_for_reader`` gives, as rows, in two queries."""
    values: dict[str, object] = {"limit": limit + 1, "now": utcnow()}
    if after is not None:
        values["when"], values["last_id"] = after
    if label_slug:
        values["label"] = label_slug
    found = db.session.execute(
        _page_statement(after is not None, bool(label_slug)), values
    ).tuples()
    rows: list[ListedRow] = []
    for (
        article_id,
        slug,
        title,
        summary,
        body,
        html,
        status,
        comment_mode,
        published_at,
        updated_at,
        comment_count,
        author_id,
        author_name,
        previous_slug,
        previous_title,
        next_slug,
        next_title,
        poll_id,
        question,
        closes_at,
        closed_at,
        results_visibility,
        allow_anonymous,
    ) in found:
        poll = None
        if poll_id is not None:
            poll = ListedPoll(
                poll_id, question, closes_at, closed_at, results_visibility, allow_anonymous
            )
        rows.append(
            ListedRow(
                id=article_id,
                slug=slug,
                title=title,
                summary=summary,
                body=body,
                html=html,
                status=status,
                comment_mode=comment_mode,
                published_at=published_at,
                updated_at=updated_at,
                comment_count=comment_count,
                author_id=author_id,
                author_name=author_name,
                neighbours=(_link(previous_slug, previous_title), _link(next_slug, next_title)),
                poll=poll,
            )
        )
    next_key = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        assert last.published_at is not None
        next_key = (last.published_at, last.id)
    return _with_parts(rows, voter_key), next_key


def _with_parts(rows: Sequence[ListedRow], voter_key: str | None) -> list[ListedRow]:
    if not rows:
        return []
    values: dict[str, object] = {"ids": [row.id for row in rows]}
    if voter_key is not None:
        values["voter_key"] = voter_key
    by_id = {row.id: row for row in rows}
    votes: dict[int, int] = {}
    for article_id, kind, text, number, _position in db.session.execute(
        _parts_statement(voter_key is not None), values
    ).tuples():
        row = by_id[article_id]
        if kind == _LABEL:
            row.labels.append(text)
        elif kind == _OPTION and row.poll is not None:
            row.poll.options.append(ListedOption(number, text))
        elif kind == _VOTE:
            votes[article_id] = number
    if not votes:
        return list(rows)
    return [replace(row, my_vote=votes[row.id]) if row.id in votes else row for row in rows]
