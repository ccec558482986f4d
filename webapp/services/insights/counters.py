"""The check of the tone counters (``webapp.models.tone_counters``): what the triggers
keep, compared with (and, when they differ, set to) a grouping of the rows.

``flask --app wsgi sentiment recount`` runs :func:`recount`; a bulk load that wrote
rows with the triggers off sets the counters with :func:`refill`. Both group every
counted comment once (with its author's vote), so they cost a scan of the comments:
a maintenance task, never a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, case, func, literal_column, select

from webapp.extensions import db
from webapp.models import Comment, Poll, Vote
from webapp.models.tone_counters import (
    NO_VOTE,
    TOTAL_SCALE,
    ArticleCommentDay,
    ArticleToneCount,
)
from webapp.services.insights.comment_tone import PUBLIC_COMMENTS
from webapp.services.insights.days import utc_day
from webapp.services.insights.sentiment import NEGATIVE, NEUTRAL, POSITIVE

TONE_FIGURES = ("comments", "positive", "neutral", "negative", "scored", "total", "total_sq")
DAY_FIGURES = ("comments", "scored", "total")


def _units() -> sa.ColumnElement[int]:
    """A score in trillionths, rounded as the triggers round it."""
    return sa.cast(func.round(Comment.sentiment * literal_column(str(TOTAL_SCALE))), sa.BigInteger)


def _square_units() -> sa.ColumnElement[int]:
    """A score's square in trillionths, rounded as the triggers round it."""
    square = Comment.sentiment * Comment.sentiment * literal_column(str(TOTAL_SCALE))
    return sa.cast(func.round(square), sa.BigInteger)


def _labelled(label: str) -> sa.ColumnElement[int]:
    return func.coalesce(func.sum(case((Comment.sentiment_label == label, 1), else_=0)), 0)


def _sums() -> tuple[sa.Label[Any], ...]:
    return (
        func.count(Comment.id).label("comments"),
        _labelled(POSITIVE).label("positive"),
        _labelled(NEUTRAL).label("neutral"),
        _labelled(NEGATIVE).label("negative"),
        func.count(Comment.sentiment).label("scored"),
        func.coalesce(func.sum(_units()), 0).label("total"),
        func.coalesce(func.sum(_square_units()), 0).label("total_sq"),
    )


def tone_rows() -> sa.Select[Any]:
    """What ``article_tone_counts`` must hold: the counted comments grouped by article
    and by their author's answer in the article's poll (NO_VOTE without one, or when it
    is set aside)."""
    option = func.coalesce(Vote.option_id, NO_VOTE)
    sums = _sums()
    return (
        select(Comment.article_id.label("article_id"), option.label("option_id"), *sums)
        .select_from(Comment)
        .outerjoin(Poll, Poll.article_id == Comment.article_id)
        .outerjoin(
            Vote,
            and_(
                Vote.poll_id == Poll.id,
                Vote.user_id.is_not(None),
                Vote.user_id == Comment.author_id,
                Vote.set_aside_at.is_(None),  # a set-aside vote: the author did not vote
            ),
        )
        .where(*PUBLIC_COMMENTS)
        .group_by(Comment.article_id, option)
    )


def day_rows() -> sa.Select[Any]:
    """What ``article_comment_days`` must hold: counted comments by article and UTC day."""
    day = utc_day(Comment.created_at)
    return (
        select(
            Comment.article_id.label("article_id"),
            day.label("day"),
            func.count(Comment.id).label("comments"),
            func.count(Comment.sentiment).label("scored"),
            func.coalesce(func.sum(_units()), 0).label("total"),
        )
        .where(*PUBLIC_COMMENTS)
        .group_by(Comment.article_id, day)
    )


def refill(connection: sa.Connection | Any) -> None:
    """Set both tables from the rows (after a load that wrote them with the triggers
    off): ``connection`` is a Connection or a Session, in a transaction the caller ends."""
    connection.execute(sa.delete(ArticleToneCount))
    connection.execute(
        sa.insert(ArticleToneCount).from_select(
            ["article_id", "option_id", *TONE_FIGURES], tone_rows()
        )
    )
    connection.execute(sa.delete(ArticleCommentDay))
    connection.execute(
        sa.insert(ArticleCommentDay).from_select(["article_id", "day", *DAY_FIGURES], day_rows())
    )


@dataclass(frozen=True)
class Drift:
    """One counter row that differs from the rows: figures stored and counted, in the
    order of ``TONE_FIGURES`` or ``DAY_FIGURES`` (all zeros where a row is missing)."""

    table: str
    key: tuple[int, int | date]  # (article, option) or (article, day)
    stored: tuple[int, ...]
    counted: tuple[int, ...]

    def describe(self) -> str:
        names = TONE_FIGURES if self.table == ArticleToneCount.__tablename__ else DAY_FIGURES
        changes = ", ".join(
            f"{name} {old} -> {new}"
            for name, old, new in zip(names, self.stored, self.counted, strict=True)
            if old != new
        )
        what = "option" if self.table == ArticleToneCount.__tablename__ else "day"
        article, where = self.key
        shown = where.isoformat() if isinstance(where, date) else where
        return f"{self.table}: article {article}, {what} {shown}: {changes}"


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def recount(fix: bool = True) -> list[Drift]:
    """Every counter row that differs from a grouping of the rows, and (``fix``) set
    right, in the session's transaction (the caller commits). Rows of zeros and
    missing rows are the same (nothing counted)."""
    drifts: list[Drift] = []
    for table, counted_query, key_column, figures in (
        (ArticleToneCount, tone_rows(), ArticleToneCount.option_id, TONE_FIGURES),
        (ArticleCommentDay, day_rows(), ArticleCommentDay.day, DAY_FIGURES),
    ):

        def keyed(row: Any, table: Any = table) -> tuple[int, int | date]:
            second = row[1]
            return (int(row[0]), _as_date(second) if table is ArticleCommentDay else int(second))

        columns = [getattr(table, name) for name in figures]
        stored = {
            keyed(row): tuple(int(value) for value in row[2:])
            for row in db.session.execute(select(table.article_id, key_column, *columns))
        }
        counted = {
            keyed(row): tuple(int(value) for value in row[2:])
            for row in db.session.execute(counted_query)
        }
        zeros = (0,) * len(figures)
        for key in sorted(stored.keys() | counted.keys(), key=lambda k: (k[0], str(k[1]))):
            before, after = stored.get(key, zeros), counted.get(key, zeros)
            if before != after:
                drifts.append(Drift(table.__tablename__, key, before, after))
                if fix:
                    _set(table, key, figures, after, exists=key in stored)
    if fix and drifts:
        db.session.flush()
    return drifts


def _set(
    table: Any,
    key: tuple[int, int | date],
    figures: tuple[str, ...],
    values: tuple[int, ...],
    *,
    exists: bool,
) -> None:
    article_id, second = key
    key_name = "option_id" if table is ArticleToneCount else "day"
    row = dict(zip(figures, values, strict=True))
    if exists:
        db.session.execute(
            sa.update(table)
            .where(table.article_id == article_id, getattr(table, key_name) == second)
            .values(**row)
        )
    else:
        db.session.execute(
            sa.insert(table).values(article_id=article_id, **{key_name: second}, **row)
        )
