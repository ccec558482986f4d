"""The tone of a set of comments: counts by label, the mean, grouped by vote, examples.

An article's tone, whole and by vote, is read from its counters
(``webapp.models.tone_counters``: a row per poll answer, kept by triggers), so it
costs one query of a few rows whatever the number of comments; the examples are
short walks along ``ix_comments_tone``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from webapp.extensions import db
from webapp.models import Comment, CommentStatus, User
from webapp.models.tone_counters import NO_VOTE, TOTAL_SCALE, ArticleToneCount
from webapp.services.insights.sentiment import NEGATIVE, NEUTRAL, POSITIVE

#: The comments every figure counts: the ones readers see, published and not deleted.
PUBLIC_COMMENTS = (Comment.status == CommentStatus.PUBLISHED.value, Comment.deleted_at.is_(None))


@dataclass(frozen=True)
class Tone:
    """How a set of comments feels: counts by label and the mean score."""

    count: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    # Comments with a score, and the sum of their scores: what the mean is made of,
    # kept so that tones add up exactly (the whole is the sum of its groups).
    scored: int = 0
    total: float = 0.0
    # The sum of the squared scores: the spread behind the mean's interval.
    total_sq: float = 0.0

    @property
    def mean(self) -> float:
        """Mean score in [-1, 1]; 0.0 when no comment has a score (never null)."""
        return self.total / self.scored if self.scored else 0.0

    @property
    def interval(self) -> tuple[float, float] | None:
        """The mean's 95 % interval (``mean_interval``); None below two scores."""
        return mean_interval(self.scored, self.total, self.total_sq)

    def share(self, label: str) -> float:
        """The part of the comments with ``label``; 0.0 when there are none."""
        return self.by_label(label) / self.count if self.count else 0.0

    def by_label(self, label: str) -> int:
        """How many comments carry ``label`` (one of ``sentiment.LABELS``)."""
        counts = {POSITIVE: self.positive, NEUTRAL: self.neutral, NEGATIVE: self.negative}
        return counts[label]

    def __add__(self, other: Tone) -> Tone:
        return Tone(
            count=self.count + other.count,
            positive=self.positive + other.positive,
            neutral=self.neutral + other.neutral,
            negative=self.negative + other.negative,
            scored=self.scored + other.scored,
            total=self.total + other.total,
            total_sq=self.total_sq + other.total_sq,
        )


#: The normal quantile of a two-sided 95 % interval.
Z_95 = 1.959963984540054


def mean_interval(n: int, total: float, total_sq: float) -> tuple[float, float] | None:
    """A normal-approximation 95 % interval for the mean of ``n`` scores from their sum
    and the sum of their squares: ``mean ± z·s/√n`` with ``s`` the sample standard
    deviation, clipped to [-1, 1] (scores cannot leave it). None below two scores,
    where there is no spread to measure.

    The counters hold both sums (``article_tone_counts``), so an interval costs no
    more than the mean, at any size. Rounding can leave the variance a hair below
    zero when every score is equal; it is then zero.
    """
    if n < 2:
        return None
    mean = total / n
    variance = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    half = Z_95 * math.sqrt(variance / n)
    return (max(-1.0, mean - half), min(1.0, mean + half))


@dataclass(frozen=True)
class ToneByVote:
    """Comment tone grouped by how each comment's author voted in the article's poll."""

    options: dict[int, Tone]  # every option of the poll, in poll order, zeros included
    no_vote: Tone  # authors without a vote in this poll (or with no poll at all)

    @property
    def overall(self) -> Tone:
        """Every counted comment: the groups add up to it exactly."""
        whole = self.no_vote
        for tone in self.options.values():
            whole = whole + tone
        return whole


def tone_by_vote(article_id: int, poll_id: int | None, option_ids: list[int]) -> ToneByVote:
    """The article's tone counters (``article_tone_counts``): a row per poll answer
    and one for authors without a vote, kept by triggers as comments and votes are
    written, so this reads a few rows however many comments there are.

    A comment counts for the answer its author holds in the article's poll (an
    account has at most one vote per poll; anonymous votes match nobody), as a
    grouping of the comments joined to their authors' votes would (see
    ``counters.tone_rows``, what ``sentiment recount`` checks the counters against).
    Without ``poll_id`` every group is the article's one tone.
    """
    rows = db.session.execute(
        select(ArticleToneCount).where(ArticleToneCount.article_id == article_id)
    ).scalars()
    grouped = {row.option_id: _tone_of_counts(row) for row in rows}
    if poll_id is None:
        whole = Tone()
        for found in grouped.values():
            whole = whole + found
        return ToneByVote(options={}, no_vote=whole)
    return ToneByVote(
        options={option_id: grouped.get(option_id, Tone()) for option_id in option_ids},
        no_vote=grouped.get(NO_VOTE, Tone()),
    )


def _tone_of_counts(row: ArticleToneCount) -> Tone:
    return Tone(
        count=row.comments,
        positive=row.positive,
        neutral=row.neutral,
        negative=row.negative,
        scored=row.scored,
        total=row.total / TOTAL_SCALE,
        total_sq=row.total_sq / TOTAL_SCALE,
    )


def tone(article_id: int) -> Tone:
    """The tone of an article's comments, whatever their authors voted."""
    return tone_by_vote(article_id, None, []).no_vote


# --- examples -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    id: int
    author: str
    created_at: datetime
    html: str
    score: float


def examples(article_id: int, limit: int = 3) -> tuple[list[Example], list[Example]]:
    """The most positive and the most negative published comments (by stored label,
    so an article whose comments are all negative shows no "positive" examples).
    Each is a short walk along ``ix_comments_tone``, never a sort of every comment."""
    base = (
        select(Comment.id, User.display_name, Comment.created_at, Comment.html, Comment.sentiment)
        .join(User, User.id == Comment.author_id)
        .where(Comment.article_id == article_id, Comment.sentiment.is_not(None), *PUBLIC_COMMENTS)
        .limit(limit)
    )

    def fetch(query: Select[tuple[int, str, datetime, str, float | None]]) -> list[Example]:
        return [
            Example(comment_id, author, created_at, html, score)
            for comment_id, author, created_at, html, score in db.session.execute(query).tuples()
            if score is not None  # always: the query asks for scored comments
        ]

    most_positive = fetch(
        base.where(Comment.sentiment_label == POSITIVE).order_by(
            Comment.sentiment.desc(), Comment.id
        )
    )
    most_negative = fetch(
        base.where(Comment.sentiment_label == NEGATIVE).order_by(
            Comment.sentiment.asc(), Comment.id
        )
    )
    return most_positive, most_negative
