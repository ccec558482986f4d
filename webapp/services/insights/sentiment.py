"""Comment sentiment: a score in [-1, 1], its label, and re-scoring stored comments.

The analyser sits behind the small ``SentimentAnalyser`` protocol so that the
default (VADER, a lexicon shipped with its package: no network, no model
download, microseconds a comment) can be swapped for another one through the
``SENTIMENT_ANALYSER`` setting without touching the comment pipeline. After a
swap, ``flask --app wsgi sentiment rescore`` brings the stored scores in line.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Comment
from webapp.services.pluggable import Pluggable

log = logging.getLogger(__name__)

DEFAULT_ANALYSER = "webapp.services.insights.sentiment:VaderAnalyser"

POSITIVE = "positive"
NEUTRAL = "neutral"
NEGATIVE = "negative"
LABELS = (POSITIVE, NEUTRAL, NEGATIVE)

# VADER's own published cut-offs for its compound score.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@runtime_checkable
class SentimentAnalyser(Protocol):
    """Anything that turns text into a polarity: -1 most negative, +1 most positive."""

    def score(self, text: str) -> float: ...


@dataclass(frozen=True)
class Sentiment:
    score: float
    label: str


def label_for(score: float) -> str:
    """The label stored beside a score; pure so the thresholds have their own tests."""
    if score >= POSITIVE_THRESHOLD:
        return POSITIVE
    if score <= NEGATIVE_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


def text_for_analysis(text: str) -> str:
    """What the analyser reads of a comment's Markdown source: links become their text.

    URLs carry no sentiment of the writer's. VADER already reads one as a
    single unknown word, but an analyser that splits on punctuation would read
    ".../terrible-crash-report" as three words, so bare URLs go for every one.
    """
    text = _MARKDOWN_LINK.sub(r"\1", text)
    return _URL.sub(" ", text)


class VaderAnalyser:
    """VADER's compound score, which is already normalised to [-1, 1].

    Building the analyser reads its lexicon from disk, so one instance is made
    per process (see ``get_analyser``) and shared; scoring only reads it.
    """

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyser = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        return float(self._analyser.polarity_scores(text)["compound"])


_analysers: Pluggable[SentimentAnalyser] = Pluggable(
    "SENTIMENT_ANALYSER", DEFAULT_ANALYSER, SentimentAnalyser, "Sentiment analyser"
)


def get_analyser() -> SentimentAnalyser:
    """The analyser named by ``SENTIMENT_ANALYSER`` (an import path ``"module:Class"`` or the
    class itself, called with no arguments), built once per process."""
    return _analysers.get()


def clear_cache() -> None:
    """Forget built analysers, so the next call builds the configured one afresh."""
    _analysers.clear()


def analyse(text: str) -> Sentiment:
    """Score a comment's text with the configured analyser and label the score.

    Scores outside [-1, 1] from a custom analyser are clipped, so aggregates
    stay meaningful; a NaN is a bug in that analyser and is refused.
    """
    raw = float(get_analyser().score(text_for_analysis(text)))
    if math.isnan(raw):
        raise ValueError("the sentiment analyser returned NaN")
    score = max(-1.0, min(1.0, raw))
    return Sentiment(score=score, label=label_for(score))


def rescore_comments(batch_size: int = 500, progress: Callable[[int], None] | None = None) -> int:
    """Recompute every comment's sentiment and label; return how many were scored.

    Unlike other services this commits, once per batch: it runs over the whole
    table (after a change of analyser or thresholds), so an interrupted run
    keeps what it did and a new run simply recomputes. Batches follow the
    primary key (keyset, never OFFSET) and read only ids and bodies, so memory
    stays flat and no row is scored twice when rows are added meanwhile (new
    comments are scored as they are written anyway).

    No transaction is open while a batch is scored: outside requests SQLite
    transactions take the write lock at BEGIN (see ``webapp._sqlite_begin``),
    and a slow analyser must not keep the site's writers waiting. So a row is
    written only if its body is still the one that was scored (a comment
    edited meanwhile keeps the score the comment service gave its new text),
    and only when its values change. ``progress`` is called with the size of
    each finished batch (``click.progressbar``'s ``update`` fits).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    table = Comment.__table__
    write = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"), table.c.body == sa.bindparam("old_body"))
        .values(sentiment=sa.bindparam("new_score"), sentiment_label=sa.bindparam("new_label"))
    )
    last_id = 0
    scored = 0
    while True:
        rows = db.session.execute(
            sa.select(Comment.id, Comment.body, Comment.sentiment, Comment.sentiment_label)
            .where(Comment.id > last_id)
            .order_by(Comment.id)
            .limit(batch_size)
        ).all()
        # End the read before scoring, so no lock or snapshot is held meanwhile.
        db.session.commit()
        if not rows:
            break
        changes = []
        for row in rows:
            result = analyse(row.body)
            if (row.sentiment, row.sentiment_label) != (result.score, result.label):
                changes.append(
                    {
                        "row_id": row.id,
                        "old_body": row.body,
                        "new_score": result.score,
                        "new_label": result.label,
                    }
                )
        if changes:
            db.session.execute(write, changes)
            db.session.commit()
        last_id = rows[-1].id
        scored += len(rows)
        log.debug("Re-scored comments up to id %s (%s changed)", last_id, len(changes))
        if progress is not None:
            progress(len(rows))
    log.info("Re-scored the sentiment of %s comments", scored)
    return scored
