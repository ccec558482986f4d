"""Comments scored twice when the configured analyser is slow: at once by the fast one,
then again in the background by the slow one (the job runner, webapp/jobs/).

An analyser class with ``fast = False`` (a model too slow for the request) is slow.
Then writing a comment (``posting.write_text``) stores the score of
SENTIMENT_FAST_ANALYSER (VADER by default) and sets ``comments.tone_pending``; the
statement that stores it queues a "sentiment.refine" job by trigger
(webapp/models/refine_triggers.py); the worker scores the comment's body
with the slow analyser and stores that score only if the body is still the one it
scored (an edit meanwhile queued a job of its own), clearing ``tone_pending``. The
tone counters follow the stored score by trigger (webapp/models/tone_counters.py).
With a fast analyser (VADER, named in SENTIMENT_ANALYSER) nothing is queued. The
default analyser, the MiniLM model, is slow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import CursorResult
from werkzeug.utils import import_string

from webapp.extensions import db
from webapp.jobs import RunningJob, handler
from webapp.models import Comment
from webapp.models.comments import TONE_PENDING
from webapp.models.refine_triggers import REFINE_JOB_KIND
from webapp.models.tone_corrections import has_correction
from webapp.services.insights.sentiment import (
    DEFAULT_ANALYSER,
    FAST_ANALYSER,
    Sentiment,
    SentimentAnalyser,
    get_analyser,
    sentiment_with,
)
from webapp.services.insights.topics import HasId, topic_words_for
from webapp.services.pluggable import Pluggable

log = logging.getLogger(__name__)

KIND = REFINE_JOB_KIND  # queued by trigger as a pending comment is stored

_fast_analysers: Pluggable[SentimentAnalyser] = Pluggable(
    "SENTIMENT_FAST_ANALYSER", FAST_ANALYSER, SentimentAnalyser, "Fast sentiment analyser"
)
_speeds: dict[str | Callable[[], object], bool] = {}


def _configured_spec() -> str | Callable[[], object]:
    if has_app_context():
        configured: str | Callable[[], object] | None = current_app.config.get("SENTIMENT_ANALYSER")
        return configured or DEFAULT_ANALYSER
    return DEFAULT_ANALYSER


def analyser_is_slow() -> bool:
    """Whether the configured analyser's class says ``fast = False``. Read from the
    class, never an instance: the web process does not load a slow model just to ask."""
    spec = _configured_spec()
    slow = _speeds.get(spec)
    if slow is None:
        factory = import_string(spec) if isinstance(spec, str) else spec
        slow = _speeds[spec] = getattr(factory, "fast", True) is False
    return slow


def topic_words(article: HasId) -> frozenset[str]:
    """The words naming the article's subject, which carry no valence when scoring."""
    return topic_words_for(article)


def score_with(
    analyser: SentimentAnalyser, text: str, words: frozenset[str] = frozenset()
) -> Sentiment:
    """``analyser``'s sentiment of ``text``, topic-neutral when it can be (it defines
    ``score_in_topic``) and the article has topic words; clipped and labelled like
    ``sentiment.analyse``, which scores the same way."""
    return sentiment_with(analyser, text, words)


def request_analyser() -> SentimentAnalyser:
    """The analyser that scores comments as they are written: the configured one, or the
    fast one when it is slow (what gunicorn's master warms; it never loads a slow one)."""
    return _fast_analysers.get() if analyser_is_slow() else get_analyser()


def score_at_once(text: str, article: HasId) -> Sentiment:
    """The score a comment gets when written while the configured analyser is slow:
    the fast analyser's."""
    return score_with(_fast_analysers.get(), text, topic_words(article))


_COMMENTS = Comment.__table__
#: A moderator's correction (webapp/models/tone_corrections.py) is the comment's tone:
#: the refined score does not replace it, and the comment waits no more.
_CORRECTED = has_correction(_COMMENTS.c.id)
_REFINED = (
    sa.update(_COMMENTS)
    .where(
        _COMMENTS.c.id == sa.bindparam("row_id"),
        _COMMENTS.c.body == sa.bindparam("scored_body"),
    )
    .values(
        sentiment=sa.case((_CORRECTED, _COMMENTS.c.sentiment), else_=sa.bindparam("new_score")),
        sentiment_label=sa.case(
            (_CORRECTED, _COMMENTS.c.sentiment_label), else_=sa.bindparam("new_label")
        ),
        tone_pending=False,
    )
)


@dataclass(frozen=True)
class _ArticleId:
    id: int


@handler(KIND)
def refine(job: RunningJob) -> None:
    """Score the comment's current body with the configured analyser and store it if
    the body is unchanged and no moderator has corrected its tone. Safe to repeat (it
    writes the same values)."""
    comment_id = int(job.payload["comment_id"])
    row = db.session.execute(
        sa.select(Comment.body, Comment.article_id).where(Comment.id == comment_id)
    ).first()
    if row is None:
        db.session.commit()
        return  # deleted meanwhile: nothing to refine
    words = topic_words(_ArticleId(row.article_id))
    # End the read before scoring: no transaction (on SQLite, no write lock) is held
    # while the slow analyser runs.
    db.session.commit()
    feeling = score_with(get_analyser(), row.body, words)
    result = cast(
        CursorResult[Any],
        db.session.execute(
            _REFINED,
            {
                "row_id": comment_id,
                "scored_body": row.body,
                "new_score": feeling.score,
                "new_label": feeling.label,
            },
        ),
    )
    if result.rowcount != 1:
        log.info(
            "sentiment.refine: comment %s changed meanwhile; its own job scores it", comment_id
        )


#: SQLite plans by rule (no statistics) and would take a two-column index of all the
#: article's comments; PostgreSQL's statistics show it how few rows the partial one has.
#: Built from the model's constant and a fixed hint only; the article is a parameter.
_PENDING_SQL = (
    "SELECT count(*) FROM comments{hint} WHERE article_id = :article_id AND "  # nosec B608
    + TONE_PENDING
)


def pending_refinements(article_id: int) -> int:
    """How many of an article's shown comments still wait for their refined score (the
    results page's "N comments still waiting"): a range of ix_comments_tone_pending,
    which holds those comments alone (its condition repeated here, as SQLite wants)."""
    hint = " INDEXED BY ix_comments_tone_pending" if _dialect() == "sqlite" else ""
    found = db.session.scalar(sa.text(_PENDING_SQL.format(hint=hint)), {"article_id": article_id})
    return int(found or 0)


def _dialect() -> str:
    return db.session.get_bind().dialect.name
