"""Day by day: votes cast and comments published, per UTC day, each from its rollup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from webapp.extensions import db
from webapp.models import PollDailyTally
from webapp.models.tone_counters import TOTAL_SCALE, ArticleCommentDay


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
def _utc_day_default(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


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
    """Ascending days with votes cast (from the daily rollup: first votes and moves, on
    the day they happened) or comments published (from the comments' daily rollup,
    ``article_comment_days``, kept by triggers on the UTC day ``utc_day`` gives): two
    reads of rollups, never the vote or comment rows."""
    votes: dict[date, dict[int, int]] = {}
    if poll_id is not None:
        rows = db.session.execute(
            select(PollDailyTally.day, PollDailyTally.option_id, PollDailyTally.votes_cast).where(
                PollDailyTally.poll_id == poll_id, PollDailyTally.votes_cast > 0
            )
        ).tuples()
        for day, option_id, cast in rows:
            votes.setdefault(_as_date(day), {})[option_id] = cast
    comment_rows = db.session.execute(
        select(
            ArticleCommentDay.day,
            ArticleCommentDay.comments,
            ArticleCommentDay.scored,
            ArticleCommentDay.total,
        ).where(ArticleCommentDay.article_id == article_id, ArticleCommentDay.comments > 0)
    ).tuples()
    # Per day: comments published, how many have a score, and the sum of the scores.
    comments = {
        _as_date(day): (count, scored, total / TOTAL_SCALE)
        for day, count, scored, total in comment_rows
    }
    days = []
    for day in sorted(votes.keys() | comments.keys()):
        cast_that_day = votes.get(day, {})
        count, scored, total = comments.get(day, (0, 0, 0.0))
        days.append(
            Day(
                day=day,
                votes={option_id: cast_that_day.get(option_id, 0) for option_id in option_ids},
                comments=count,
                scored=scored,
                total=total,
            )
        )
    return days
