"""Reading articles: one by its slug (drafts only for editors), the published ones
newest first (by keyset for the API and the feed, by numbered page for the HTML
pages), every article for the editors' desk (by keyset, most recently changed
first), and a label by its slug.

Each read loads with it everything its pages and JSON show of an article (author,
labels, poll and options), so nothing is read lazily while a page or a response is
built; the desk reads only what its rows show, as columns (``DeskRow``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, String, bindparam, func, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from webapp.errors import NotFound
from webapp.extensions import db
from webapp.models import Article, ArticleStatus, Label, Poll, User, article_labels, utcnow
from webapp.models.articles import public_articles_at
from webapp.services.articles.rules import can_see_drafts
from webapp.transactions import single_read

#: Where a page of published articles ends: (published_at, id) of its last article.
PublishedKey = tuple[datetime, int]
#: Where a page of the editors' desk ends: (updated_at, id) of its last article.
UpdatedKey = tuple[datetime, int]


def get_article(slug: str, viewer: User | None) -> Article:
    article = db.session.scalar(
        select(Article)
        .where(Article.slug == slug)
        # Everything an article page shows of it comes joined, in one round trip
        # (one row per option and label, a handful): the author, the labels, the
        # poll and its options.
        .options(
            joinedload(Article.author),
            joinedload(Article.labels),
            joinedload(Article.poll).joinedload(Poll.options),
        )
    )
    if article is None or (not article.is_published and not can_see_drafts(viewer)):
        raise NotFound("No published article has this address.")
    return article


@dataclass(frozen=True)
class PageState:
    """What decides an article page as every signed-out reader gets it, read in one
    narrow SELECT (webapp.public.routes keeps the rendered page keyed by it): its
    id, when it was last edited, how many comments it shows, its comment mode, and
    when and whether it is listed (which decide its neighbours). Anything else on the
    page (results, the thread's order) comes from the per-worker caches, which hold
    it as long as the page is kept."""

    article_id: int
    updated_at: datetime
    comment_count: int
    comment_mode: str
    published_at: datetime
    listed: bool


#: ``public_page_state``'s one SELECT, built once: run on every signed-out article view,
#: through the session's connection (a Core row, no ORM loading).
_PAGE_STATE = select(
    Article.id,
    Article.updated_at,
    Article.comment_count,
    Article.comment_mode,
    Article.status,
    Article.published_at,
    Article.listed,
).where(Article.slug == bindparam("b_slug", type_=String))


def public_page_state(slug: str, moment: datetime | None = None) -> PageState | None:
    """The state of the article at ``slug`` if readers see it now (published, its time
    come; listed or not, as ``get_article``); else None.

    When the request's session holds no transaction yet (a signed-out page served
    from the per-worker cache asks nothing else), the SELECT runs alone, outside any
    transaction (``webapp.transactions.single_read``): one round trip on PostgreSQL
    instead of three (BEGIN, the SELECT, the ROLLBACK that ends the session's
    transaction), one statement on SQLite instead of three. It writes nothing and a
    single SELECT is consistent on its own. A session already in a transaction is
    asked instead, so the state includes what it wrote."""
    row = _page_state_row(slug)
    if row is None or row.status != ArticleStatus.PUBLISHED.value:
        return None
    if row.published_at is None or row.published_at > (moment or utcnow()):
        return None
    return PageState(
        row.id,
        row.updated_at,
        row.comment_count,
        str(row.comment_mode),
        row.published_at,
        bool(row.listed),
    )


def _page_state_row(slug: str) -> Row[Any] | None:
    params = {"b_slug": slug}
    # A session not made yet holds no transaction: none is made just to ask.
    registry = db.session.registry
    if registry.has() and (session := registry()).in_transaction():
        return session.connection().execute(_PAGE_STATE, params).first()
    with single_read() as connection:
        return connection.execute(_PAGE_STATE, params).first()


def published_articles_query(label_slug: str | None = None) -> Select[tuple[Article]]:
    """The articles readers see now: a scheduled one joins the lists when its time
    comes, at the first read after it (cached pages show it within their s-maxage)."""
    query = select(Article).where(public_articles_at(utcnow()))
    if label_slug:
        query = query.where(
            Article.id.in_(
                select(article_labels.c.article_id)
                .join(Label, Label.id == article_labels.c.label_id)
                .where(Label.slug == label_slug)
            )
        )
    return query


def list_published(
    limit: int, after: PublishedKey | None = None, label_slug: str | None = None
) -> tuple[list[Article], PublishedKey | None]:
    """Newest first, keyset-paginated by (published_at, id): the articles after
    ``after``, and the key to ask for the next page with (None on the last)."""
    query = published_articles_query(label_slug)
    if after is not None:
        when, last_id = after
        # A row comparison: ix_articles_status_published_at starts the page at the key
        # instead of walking the pages before it.
        query = query.where(tuple_(Article.published_at, Article.id) < (when, last_id))
    rows = list(
        db.session.scalars(
            query.order_by(Article.published_at.desc(), Article.id.desc())
            .options(
                selectinload(Article.labels),
                selectinload(Article.author),
                selectinload(Article.poll).selectinload(Poll.options),
            )
            .limit(limit + 1)
        )
    )
    next_key = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        assert last.published_at is not None
        next_key = (last.published_at, last.id)
    return rows, next_key


def page_of_published(
    page: int, per_page: int, label_slug: str | None = None
) -> tuple[list[Article], int]:
    """One numbered page for the HTML pages, and the number of pages."""
    query = published_articles_query(label_slug)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    rows = list(
        db.session.scalars(
            query.order_by(Article.published_at.desc(), Article.id.desc())
            .options(selectinload(Article.labels), selectinload(Article.author))
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return rows, pages


@dataclass(frozen=True)
class DeskRow:
    """An article as the editors' desk lists it, read as plain columns (a page of these
    costs two light queries, not a page of mapped articles with their relationships)."""

    id: int
    slug: str
    title: str
    status: str
    comment_mode: str
    comment_count: int
    published_at: datetime | None
    updated_at: datetime
    #: The closing poll's question; None without a poll.
    poll_question: str | None
    #: The labels' names, in name order.
    labels: list[str]

    @property
    def is_published(self) -> bool:
        """Whether readers see it now (a scheduled one is not yet)."""
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at <= utcnow()
        )

    @property
    def is_scheduled(self) -> bool:
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at > utcnow()
        )


def articles_for_editors(
    limit: int, after: UpdatedKey | None = None
) -> tuple[list[DeskRow], UpdatedKey | None]:
    """The editors' desk: every article, drafts too, most recently changed first,
    keyset-paginated by (updated_at, id): the articles after ``after`` with their poll's
    question and their labels, and the key to ask for the next page with (None on the
    last). Two queries: the page (its polls joined), then the page's labels."""
    query = (
        select(
            Article.id,
            Article.slug,
            Article.title,
            Article.status,
            Article.comment_mode,
            Article.comment_count,
            Article.published_at,
            Article.updated_at,
            Poll.question,
        )
        .outerjoin(Poll, Poll.article_id == Article.id)
        .order_by(Article.updated_at.desc(), Article.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        when, last_id = after
        # A row comparison, so an index on (updated_at, id) starts the page at the key.
        query = query.where(tuple_(Article.updated_at, Article.id) < (when, last_id))
    found = db.session.execute(query).all()
    next_key = None
    if len(found) > limit:
        found = found[:limit]
        next_key = (found[-1].updated_at, found[-1].id)
    labels: dict[int, list[str]] = {}
    if found:
        for article_id, name in db.session.execute(
            select(article_labels.c.article_id, Label.name)
            .join(Label, Label.id == article_labels.c.label_id)
            .where(article_labels.c.article_id.in_([row.id for row in found]))
            .order_by(article_labels.c.article_id, Label.name)
        ).tuples():
            labels.setdefault(article_id, []).append(name)
    rows = [
        DeskRow(
            id=row.id,
            slug=row.slug,
            title=row.title,
            status=row.status,
            comment_mode=row.comment_mode,
            comment_count=row.comment_count,
            published_at=row.published_at,
            updated_at=row.updated_at,
            poll_question=row.question,
            labels=labels.get(row.id, []),
        )
        for row in found
    ]
    return rows, next_key


def label_by_slug(slug: str) -> Label:
    label = db.session.scalar(select(Label).where(Label.slug == slug))
    if label is None:
        raise NotFound("No such label.")
    return label


@dataclass(frozen=True)
class Topic:
    """A label as readers browse it: its name, address and published articles."""

    name: str
    slug: str
    article_count: int


def topics() -> list[Topic]:
    """Every label that readers can see an article under, by name, with how many: one
    grouped query over article_labels and the articles public now."""
    found = db.session.execute(
        select(Label.name, Label.slug, func.count(article_labels.c.article_id))
        .join(article_labels, article_labels.c.label_id == Label.id)
        .join(Article, Article.id == article_labels.c.article_id)
        .where(public_articles_at(utcnow()))
        .group_by(Label.id, Label.name, Label.slug)
        .order_by(Label.name, Label.id)
    ).tuples()
    return [Topic(name, slug, count) for name, slug, count in found]
