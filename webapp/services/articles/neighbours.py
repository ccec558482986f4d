"""An article's neighbours: the published articles before and after it, which every
article page links, and the per-worker cache that keeps them; and the neighbours of a
whole page of articles (the API's list shows them for every item), in one query.

They change only when an article is published, unpublished or edited: each worker
keeps them for NEIGHBOURS_CACHE_SECONDS (``webapp.caching.NEIGHBOURS``), and an edit
in this worker clears them at once (``editing`` calls ``NEIGHBOURS.changed()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import ColumnElement, ScalarSelect, literal, select, tuple_, union_all
from sqlalchemy.orm import aliased

from webapp.caching import NEIGHBOURS
from webapp.extensions import db
from webapp.models import Article, ArticleStatus, utcnow


@dataclass(frozen=True)
class ArticleLink:
    """Enough of an article to link to it."""

    slug: str
    title: str


#: (previous, next): None where there is no such article.
Neighbours = tuple[ArticleLink | None, ArticleLink | None]


def neighbours(article: Article) -> Neighbours:
    """(previous, next) published articles by publication order: every article page
    asks, so each worker keeps them a moment (``NEIGHBOURS``)."""
    if not article.is_published or article.published_at is None or not article.listed:
        return None, None
    return neighbours_at(article.id, article.published_at)


def neighbours_at(article_id: int, when: datetime) -> Neighbours:
    """``neighbours`` of the published, listed article ``article_id`` published at
    ``when``, for a caller that read only those (the shared signed-out page)."""
    return NEIGHBOURS.get_or_build((article_id, when), partial(_read_neighbours, article_id, when))


def _read_neighbours(article_id: int, when: datetime) -> Neighbours:
    """(previous, next) published articles around (``when``, ``article_id``), in one
    round trip."""
    # Listed only: an embedded page's thread is nobody's neighbour (issue 22).
    published = (
        Article.status == ArticleStatus.PUBLISHED,
        Article.listed,
        Article.id != article_id,
    )
    earlier = (
        select(literal(0).label("side"), Article.slug, Article.title)
        .where(
            *published,
            tuple_(Article.published_at, Article.id) < (when, article_id),
        )
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(1)
        .subquery()
    )
    later = (
        select(literal(1).label("side"), Article.slug, Article.title)
        .where(
            *published,
            # Not a scheduled one before its time (the cache keeps this a second at
            # most). Before ``when`` (a time passed) there is none to leave out.
            Article.published_at <= utcnow(),
            tuple_(Article.published_at, Article.id) > (when, article_id),
        )
        .order_by(Article.published_at.asc(), Article.id.asc())
        .limit(1)
        .subquery()
    )
    found: list[ArticleLink | None] = [None, None]
    for side, slug, title in db.session.execute(union_all(select(earlier), select(later))).tuples():
        found[side] = ArticleLink(slug, title)
    return found[0], found[1]


def neighbours_of(articles: Sequence[Article]) -> dict[int, Neighbours]:
    """(previous, next) of each of ``articles`` by its id, as ``neighbours`` gives them
    one by one, in one round trip whatever their number: a list shows them for every
    item. Drafts have none."""
    found: dict[int, Neighbours] = {article.id: (None, None) for article in articles}
    ids = [a.id for a in articles if a.is_published and a.published_at is not None and a.listed]
    if not ids:
        return found
    here = aliased(Article)
    around = (
        select(
            here.id.label("id"),
            _beside(here, earlier=True).label("previous_id"),
            _beside(here, earlier=False).label("next_id"),
        )
        .where(here.id.in_(ids))
        .subquery("around")
    )
    previous, following = aliased(Article), aliased(Article)
    rows = db.session.execute(
        select(around.c.id, previous.slug, previous.title, following.slug, following.title)
        .select_from(around)
        .outerjoin(previous, previous.id == around.c.previous_id)
        .outerjoin(following, following.id == around.c.next_id)
    ).tuples()
    for article_id, previous_slug, previous_title, next_slug, next_title in rows:
        found[article_id] = (
            ArticleLink(previous_slug, previous_title) if previous_slug is not None else None,
            ArticleLink(next_slug, next_title) if next_slug is not None else None,
        )
    return found


def _beside(here: type[Article], *, earlier: bool) -> ScalarSelect[int]:
    """The id of the published article just before (or after) ``here`` by publication
    order: a correlated subquery each row answers from ix_articles_status_published_at
    (status, published_at, id), reading one entry, so the list pays per item an index
    probe rather than a walk of the articles."""
    other = aliased(Article)
    # Row comparisons, not "earlier, or as early with a lower id": an OR leaves each
    # database only the status to seek on, and the next article of the newest ones
    # was found by walking every published article from the oldest (on SQLite, 2,000
    # entries per item on the site). A row comparison seeks to ``here``.
    mine = tuple_(here.published_at, here.id)
    if earlier:
        side: ColumnElement[bool] = tuple_(other.published_at, other.id) < mine
        order = (other.published_at.desc(), other.id.desc())
    else:
        side = tuple_(other.published_at, other.id) > mine
        order = (other.published_at.asc(), other.id.asc())
    # Listed only: an embedded page's thread is nobody's neighbour (issue 22).
    conditions = [other.status == ArticleStatus.PUBLISHED, other.listed, side]
    if not earlier:
        # A scheduled article is nobody's next one before its time; before a public
        # article there is none to leave out (their times are earlier still).
        conditions.append(other.published_at <= utcnow())
    return (
        select(other.id)
        .where(*conditions)
        .order_by(*order)
        .limit(1)
        .correlate(here)
        .scalar_subquery()
    )
