"""One poll answer followed across the published polls sharing a label (a running question)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
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


def _labelled_polls(label_slug: str) -> Select[tuple[int]]:
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
        # Published articles always have a publication time; the type cannot say so.
        assert published_at is not None
        # Two options of one poll differing only in case: the first one counts.
        points.setdefault(
            article_id,
            TrendPoint(article_id, slug, title, published_at, label, int(votes), int(turnout or 0)),
        )
    return list(points.values())
