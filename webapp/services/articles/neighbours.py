"""An article's neighbours: the published articles before and after it, which every
article page links, and the per-worker cache that keeps them.

They change only when an article is published, unpublished or edited: each worker
keeps them for NEIGHBOURS_CACHE_SECONDS (``webapp.caching.NEIGHBOURS``), and an edit
in this worker clears them at once (``editing`` calls ``NEIGHBOURS.changed()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import and_, literal, or_, select, union_all

from webapp.caching import NEIGHBOURS
from webapp.extensions import db
from webapp.models import Article, ArticleStatus


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
    if not article.is_published or article.published_at is None:
        return None, None
    when = article.published_at
    return NEIGHBOURS.get_or_build((article.id, when), partial(_read_neighbours, article.id, when))


def _read_neighbours(article_id: int, when: datetime) -> Neighbours:
    """(previous, next) published articles around (``when``, ``article_id``), in one
    round trip."""
    published = (Article.status == ArticleStatus.PUBLISHED, Article.id != article_id)
    earlier = (
        select(literal(0).label("side"), Article.slug, Article.title)
        .where(
            *published,
            or_(
                Article.published_at < when,
                and_(Article.published_at == when, Article.id < article_id),
            ),
        )
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(1)
        .subquery()
    )
    later = (
        select(literal(1).label("side"), Article.slug, Article.title)
        .where(
            *published,
            or_(
                Article.published_at > when,
                and_(Article.published_at == when, Article.id > article_id),
            ),
        )
        .order_by(Article.published_at.asc(), Article.id.asc())
        .limit(1)
        .subquery()
    )
    found: list[ArticleLink | None] = [None, None]
    for side, slug, title in db.session.execute(union_all(select(earlier), select(later))).tuples():
        found[side] = ArticleLink(slug, title)
    return found[0], found[1]
