"""Comment sentiment: a score in [-1, 1], its label, and re-scoring stored comments.

The analyser sits behind the small ``SentimentAnalyser`` protocol so that the
default (the MiniLM model, webapp/services/insights/minilm.py, milliseconds a comment,
so scored in the background: webapp/services/insights/refine.py) can be swapped for
another one through the ``SENTIMENT_ANALYSER`` setting without touching the comment
pipeline; VADER (a lexicon shipped with its package, microseconds a comment) scores
each comment at once meanwhile, and is the analyser to name there for a site that
wants no model. After a swap, ``flask --app wsgi sentiment rescore`` brings the stored
scores in line.

A comment is scored with its article's topic words carrying no valence
(webapp/services/insights/topics.py): an analyser that can do so defines
``score_in_topic(text, topic_words)``, and ``analyse`` uses it. The default VADER
analyser does; ``PlainVaderAnalyser`` is VADER exactly as shipped.
"""

from __future__ import annotations

import copy
import logging
import math
import multiprocessing
import multiprocessing.context
import re
import signal
import string
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from typing import Any, Protocol, runtime_checkable

import sqlalchemy as sa
from werkzeug.utils import import_string

from webapp.extensions import db
from webapp.models import Comment, User
from webapp.models.tone_corrections import has_correction
from webapp.models.tone_counters import ArticleCommentDay, ArticleToneCount
from webapp.services.insights.topics import topic_words_by_article
from webapp.services.pluggable import Pluggable

log = logging.getLogger(__name__)

#: The analyser whose scores results show: all-MiniLM-L6-v2 with the project's head,
#: which bench/sentiment_eval.py measured 10 points of macro-F1 above topic-aware VADER
#: on the held-out vaderSentiment sentences and 7 on news comments (the issue's rule to
#: ship it: 5 on both; README, "How accurate the sentiment is"). It is slow, so
#: comments are scored at once by FAST_ANALYSER and re-scored by the job runner.
DEFAULT_ANALYSER = "webapp.services.insights.minilm:MiniLMAnalyser"
#: What a request scores a comment with meanwhile (SENTIMENT_FAST_ANALYSER's default).
FAST_ANALYSER = "webapp.services.insights.sentiment:VaderAnalyser"

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


NO_TOPIC_WORDS: frozenset[str] = frozenset()


class _Vader:
    """VADER's compound score, which is already normalised to [-1, 1].

    Building the analyser reads its lexicon from disk, so one instance is made
    per process (see ``get_analyser``) and shared; scoring only reads it.
    """

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyser = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        return float(self._analyser.polarity_scores(text)["compound"])


class PlainVaderAnalyser(_Vader):
    """VADER exactly as shipped: every word it knows carries its valence, topic words
    included (``SENTIMENT_ANALYSER = "webapp.services.insights.sentiment:PlainVaderAnalyser"``)."""


class VaderAnalyser(_Vader):
    """VADER, with the words that name a comment's subject carrying no valence
    (``score_in_topic``): the default analyser."""

    def score_in_topic(self, text: str, topic_words: frozenset[str]) -> float:
        """VADER's compound score of ``text`` with ``topic_words`` (lower case) read as
        words it does not know, and every rule kept: a negation still negates, a
        booster still boosts, the words around a topic word keep their valence.

        VADER reads its lexicon only through ``self.lexicon`` (``in`` and ``[]``), so
        the hook is that attribute: a text holding a topic word VADER knows is scored
        by a shallow copy of the shared analyser whose lexicon is a view hiding those
        words. Nothing shared is changed (threads may score at once) and the
        7,500-word lexicon is never copied. The copy costs about 8 µs and the view's
        lookups about half as much again as VADER's own 150-250 µs, so any other text
        takes VADER's ordinary path, which gives it the same score.
        """
        lexicon = self._analyser.lexicon
        hidden = frozenset(word for word in topic_words if word in lexicon)
        if not hidden:
            return self.score(text)
        # VADER looks words up as its tokens: a whitespace-split piece, lower-cased,
        # with or without the punctuation at its ends. Text that is not ASCII may hold
        # an emoji, which VADER replaces by its description's words: always the view.
        if text.isascii() and hidden.isdisjoint(_token_forms(text)):
            return self.score(text)
        scorer = copy.copy(self._analyser)
        scorer.lexicon = _LexiconWithout(lexicon, hidden)
        return float(scorer.polarity_scores(text)["compound"])


def _token_forms(text: str) -> set[str]:
    """Every form in which VADER may look a word of ``text`` up (ASCII text)."""
    forms: set[str] = set()
    for token in text.lower().split():
        forms.add(token)
        forms.add(token.strip(string.punctuation))
    return forms


class _LexiconWithout(Mapping[str, float]):
    """VADER's lexicon as one scoring sees it: ``without`` are words it does not know."""

    __slots__ = ("_lexicon", "_without")

    def __init__(self, lexicon: Mapping[str, float], without: frozenset[str]) -> None:
        self._lexicon = lexicon
        self._without = without

    def __contains__(self, word: object) -> bool:
        return word not in self._without and word in self._lexicon

    def __getitem__(self, word: str) -> float:
        if word in self._without:
            raise KeyError(word)
        return self._lexicon[word]

    def __iter__(self) -> Iterator[str]:
        return (word for word in self._lexicon if word not in self._without)

    def __len__(self) -> int:
        return sum(1 for _ in self)


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


def analyse(text: str, topic_words: frozenset[str] = NO_TOPIC_WORDS) -> Sentiment:
    """Score a comment's text with the configured analyser and label the score.

    ``topic_words`` (``topics.topic_words_for(article)``) name the comment's subject
    and carry no valence when the analyser defines ``score_in_topic``; an analyser
    without it scores the text as it is.

    Scores outside [-1, 1] from a custom analyser are clipped, so aggregates
    stay meaningful; a NaN is a bug in that analyser and is refused.
    """
    return sentiment_with(get_analyser(), text, topic_words)


def sentiment_with(
    analyser: SentimentAnalyser, text: str, topic_words: frozenset[str] = NO_TOPIC_WORDS
) -> Sentiment:
    in_topic = getattr(analyser, "score_in_topic", None) if topic_words else None
    cleaned = text_for_analysis(text)
    raw = float(analyser.score(cleaned) if in_topic is None else in_topic(cleaned, topic_words))
    if math.isnan(raw):
        raise ValueError("the sentiment analyser returned NaN")
    score = max(-1.0, min(1.0, raw))
    return Sentiment(score=score, label=label_for(score))


# --- re-scoring stored comments ----------------------------------------------------------

#: A batch as read: id, body and the stored values, for the comparison before writing,
#: and the article and author, whose tone counters the writing moves.
_Batch = Sequence[sa.Row[tuple[int, str, float | None, str | None, int, int]]]
#: (score, label) per comment of a batch, in the batch's order.
_Scores = list[tuple[float, str]]
#: What the analyser reads of each comment of a batch: its body and its article's
#: topic words.
_Texts = list[tuple[str, frozenset[str]]]


def rescore_comments(
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int = 1,
    after_id: int = 0,
    checkpoint: Callable[[int], None] | None = None,
) -> int:
    """Recompute the sentiment and label of every comment with an id above ``after_id``;
    return how many were scored.

    Unlike other services this commits, once per batch: it runs over the whole
    table (after a change of analyser or thresholds), so an interrupted run
    keeps what it did. Batches follow the primary key (keyset, never OFFSET)
    and read only ids and bodies, so memory stays flat and no row is scored
    twice when rows are added meanwhile (new comments are scored as they are
    written anyway).

    Scoring is CPU-bound, so with ``workers`` above 1 a pool of that many
    processes scores the batches while this process reads the next ones and
    writes the finished ones. Batches are written in id order, each in its own
    transaction, so when a batch's ``checkpoint(last id)`` is called every comment
    up to that id is done: a run stopped anywhere (a crash, Ctrl-C) is finished
    by one with ``after_id`` set to the last id reported, and since a re-score
    writes only values that change, starting lower (or from 0) is just slower.
    The results are the same with any number of workers: each comment is
    scored by the same function, with the configured analyser built once per
    process, and with its article's topic words (``topics``: read once per batch
    for all its articles, in the batch's read).

    No transaction is open while a batch is scored: outside requests SQLite
    transactions take the write lock at BEGIN (see ``webapp._sqlite_begin``),
    and a slow analyser must not keep the site's writers waiting. So a row is
    written only if its body is still the one that was scored (a comment
    edited meanwhile keeps the score the comment service gave its new text),
    and only when its values change. ``progress`` is called with the size of
    each finished batch (``click.progressbar``'s ``update`` fits), after
    ``checkpoint``.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    batches = _batches(after_id, batch_size)
    scored_batches: Generator[tuple[_Batch, _Scores], None, None]
    if workers == 1:
        scored_batches = ((rows, _scores_in_topic(texts)) for rows, texts in batches)
    else:
        get_analyser()  # a misconfigured analyser fails here, before any process starts
        scored_batches = _scored_in_pool(batches, workers, _analysers.spec())
    scored = 0
    with closing(scored_batches):
        for rows, scores in scored_batches:
            changed = _write(rows, scores)
            last_id = rows[-1].id
            scored += len(rows)
            log.debug("Re-scored comments up to id %s (%s changed)", last_id, changed)
            if checkpoint is not None:
                checkpoint(last_id)
            if progress is not None:
                progress(len(rows))
    log.info("Re-scored the sentiment of %s comments", scored)
    return scored


def _batches(after_id: int, batch_size: int) -> Generator[tuple[_Batch, _Texts], None, None]:
    """The comments after ``after_id`` in keyset batches, each with what the analyser
    reads of them, read in a transaction that ends before the batch is handed on."""
    last_id = after_id
    while True:
        rows = db.session.execute(
            sa.select(
                Comment.id,
                Comment.body,
                Comment.sentiment,
                Comment.sentiment_label,
                Comment.article_id,
                Comment.author_id,
            )
            .where(Comment.id > last_id, _NOT_CORRECTED)
            .order_by(Comment.id)
            .limit(batch_size)
        ).all()
        topics = topic_words_by_article(row.article_id for row in rows)
        # End the read before scoring, so no lock or snapshot is held meanwhile.
        db.session.commit()
        if not rows:
            return
        yield rows, [(row.body, topics[row.article_id]) for row in rows]
        last_id = rows[-1].id


#: A moderator's tone correction is final: re-scoring never overwrites it, whether
#: it was there when the batch was read or came while it was scored.
_NOT_CORRECTED = ~has_correction(Comment.id)

_WRITE = (
    sa.update(Comment.__table__)
    .where(
        Comment.__table__.c.id == sa.bindparam("row_id"),
        Comment.__table__.c.body == sa.bindparam("old_body"),
        ~has_correction(Comment.__table__.c.id),
    )
    .values(sentiment=sa.bindparam("new_score"), sentiment_label=sa.bindparam("new_label"))
)


def _write(rows: _Batch, scores: _Scores) -> int:
    """Store the scores that differ from the stored ones, in one transaction; how many."""
    changed = [
        (row, score, label)
        for row, (score, label) in zip(rows, scores, strict=True)
        if (row.sentiment, row.sentiment_label) != (score, label)
    ]
    if changed:
        _lock_counters(
            {row.article_id for row, _, _ in changed}, {row.author_id for row, _, _ in changed}
        )
        db.session.execute(
            _WRITE,
            [
                {"row_id": row.id, "old_body": row.body, "new_score": score, "new_label": label}
                for row, score, label in changed
            ],
        )
        db.session.commit()
    return len(changed)


def _lock_counters(article_ids: set[int], author_ids: set[int]) -> None:
    """On PostgreSQL, take the locks a batch's updates will take in their triggers
    before writing it, in the order every single-row write takes them
    (webapp/models/tone_counters.py: the authors' rows, the articles' groups, then
    their days, each ascending): the triggers would otherwise take them comment by
    comment, and a reader voting or commenting meanwhile, taking two of them the
    other way round, could deadlock with the batch. SQLite has one writer at a time
    anyway."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(
        sa.select(User.id)
        .where(User.id.in_(sorted(author_ids)))
        .order_by(User.id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE, as the triggers take it
    )
    for table, key in (
        (ArticleToneCount, ArticleToneCount.option_id),
        (ArticleCommentDay, ArticleCommentDay.day),
    ):
        db.session.execute(
            sa.select(table.article_id)
            .where(table.article_id.in_(sorted(article_ids)))
            .order_by(table.article_id, key)
            .with_for_update()
        )


def _scores_in_topic(texts: _Texts, analyser: SentimentAnalyser | None = None) -> _Scores:
    """Each (body, topic words)'s (score, label), in order."""
    found = get_analyser() if analyser is None else analyser
    many = getattr(found, "score_many_in_topic", None)
    if many is None:
        return [
            (result.score, result.label)
            for result in (sentiment_with(found, body, words) for body, words in texts)
        ]
    # A model scores a batch at once far cheaper than text by text.
    raws = many([text_for_analysis(body) for body, _ in texts], [words for _, words in texts])
    scores = []
    for raw in map(float, raws):
        if math.isnan(raw):
            raise ValueError("the sentiment analyser returned NaN")
        score = max(-1.0, min(1.0, raw))
        scores.append((score, label_for(score)))
    return scores


# The pool: processes that only score text. They never touch the database; the
# process that started them reads and writes.

#: In a pool process: the analyser's setting, then the analyser built from it.
_worker: dict[str, Any] = {}


def _pool_context() -> multiprocessing.context.BaseContext:
    """Fork where there is one: a pool process starts with the analyser's module and
    setting already loaded (and a setting naming a class needs no pickling). Elsewhere
    the platform's default, for which the setting must be an importable path or class."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _start_worker(spec: str | Callable[[], object]) -> None:
    # Ctrl-C reaches the whole process group; the parent stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker.clear()
    _worker["spec"] = spec


def _score_in_worker(texts: _Texts) -> _Scores:
    """A pool task. The analyser is built on the first task, not in the initializer,
    so an analyser that fails to build fails the task (and the run) instead of the
    pool restarting processes forever."""
    analyser = _worker.get("analyser")
    if analyser is None:
        spec = _worker["spec"]
        factory = import_string(spec) if isinstance(spec, str) else spec
        analyser = _worker["analyser"] = factory()
    return _scores_in_topic(texts, analyser)


def _scored_in_pool(
    batches: Iterator[tuple[_Batch, _Texts]], workers: int, spec: str | Callable[[], object]
) -> Generator[tuple[_Batch, _Scores], None, None]:
    """Each batch with its scores, in order, scored by ``workers`` processes. Two
    batches per process are in flight, so the pool never waits for the reads and
    memory holds a few batches, whatever the table's size. (A batch's comments on one
    article share one set of topic words, which pickling sends once per batch.)"""
    in_flight = 2 * workers
    with _pool_context().Pool(workers, initializer=_start_worker, initargs=(spec,)) as pool:
        pending: deque[tuple[_Batch, AsyncResult[_Scores]]] = deque()
        for rows, texts in batches:
            pending.append((rows, pool.apply_async(_score_in_worker, (texts,))))
            if len(pending) >= in_flight:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()
