"""Moderators' corrections of a comment's tone label, and the analyser measured on them.

A correction does two things in one transaction: it keeps the moderator's verdict as
labelled data (``ToneCorrection``: the text, the label, what the analyser had said),
and it makes the comment's stored tone the moderator's, so every figure follows at
once. The stored score moves into the chosen label's band (``corrected_score``), and
the tone counters' triggers move the comment between labels and sums like any other
rescore. A corrected comment is never re-scored by the background refinement or
``sentiment rescore`` (``corrected`` / ``is_corrected`` say which).

``evaluate`` scores every corrected text afresh with the configured analyser (with
the article's topic words where the analyser takes them) and compares with the
moderators' labels: accuracy, macro-F1 and the confusion matrix, for ``flask --app
wsgi sentiment evaluate``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import func, select

from webapp.errors import Forbidden, InvalidInput
from webapp.extensions import db
from webapp.models import Article, Comment, ModerationActionKind, Role, User
from webapp.models.tone_corrections import ToneCorrection, has_correction
from webapp.services.insights import accuracy
from webapp.services.insights import sentiment as scoring
from webapp.services.insights.sentiment import (
    LABELS,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    label_for,
)
from webapp.services.insights.topics import topic_words_for
from webapp.services.moderation.audit import record

#: The score a corrected comment takes when the analyser's score lies outside the
#: label's band: well inside the band, so the label and the score agree.
BAND_SCORES = {POSITIVE: 0.5, NEUTRAL: 0.0, NEGATIVE: -0.5}


def can_correct(user: User | None) -> bool:
    """Moderators and admins correct tone labels."""
    return user is not None and user.has_role(Role.MODERATOR)


def corrected_score(label: str, analyser_score: float | None) -> float:
    """The score a comment corrected to ``label`` keeps: the analyser's own when it
    already lies in the label's band (the label was right, the nuance is kept), else
    the band's representative (``BAND_SCORES``)."""
    if analyser_score is not None and label_for(analyser_score) == label:
        return analyser_score
    return BAND_SCORES[label]


def _analyser_said(comment: Comment) -> tuple[float | None, str | None]:
    """What the analyser said of the comment: its stored score, or, once corrected, the
    analyser's score kept with the first correction (the stored one is a moderator's)."""
    first = db.session.execute(
        select(ToneCorrection.analyser_score, ToneCorrection.analyser_label)
        .where(ToneCorrection.comment_id == comment.id)
        .order_by(ToneCorrection.id)
        .limit(1)
    ).first()
    if first is not None:
        return first[0], first[1]
    return comment.sentiment, comment.sentiment_label


def correct_tone(comment: Comment, moderator: User, label: str) -> ToneCorrection:
    """Set ``comment``'s tone label to ``label`` as ``moderator`` says, keep the
    correction and write the audit entry (the caller commits)."""
    if not can_correct(moderator):
        raise Forbidden("Only moderators can correct a comment's tone.")
    if label not in LABELS:
        raise InvalidInput(
            "The tone must be positive, neutral or negative.",
            fields={"label": "positive, neutral or negative"},
        )
    if comment.deleted_at is not None:
        raise InvalidInput("A deleted comment's tone cannot be corrected.")
    score, said = _analyser_said(comment)
    correction = ToneCorrection(
        comment_id=comment.id,
        label=label,
        moderator_id=moderator.id,
        analyser=accuracy.analyser_key(),
        analyser_score=score,
        analyser_label=said,
        body=comment.body,
    )
    db.session.add(correction)
    comment.sentiment = corrected_score(label, score)
    comment.sentiment_label = label
    # A moderator's label is final: the comment no longer waits for a refined score
    # (the refinement skips corrected comments).
    comment.tone_pending = False
    record(
        moderator,
        ModerationActionKind.CORRECT_TONE.value,
        comment=comment,
        target_user_id=comment.author_id,
        details={"label": label, "analyser_label": said, "analyser_score": score},
    )
    db.session.flush()
    return correction


def corrected(comment_ids: Iterable[int]) -> set[int]:
    """Which of these comments a moderator has corrected (re-scoring leaves them)."""
    ids = sorted(set(comment_ids))
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(ToneCorrection.comment_id).where(ToneCorrection.comment_id.in_(ids)).distinct()
        )
    )


def is_corrected() -> sa.ColumnElement[bool]:
    """A filter on ``Comment``: the comment has a moderator's correction."""
    return has_correction(Comment.id)


# --- measuring the analyser on the corrections ------------------------------------------


@dataclass
class Evaluation:
    """The configured analyser against the moderators' latest labels."""

    analyser: str
    count: int = 0
    #: confusion[true][predicted]: how many comments a moderator labelled ``true``
    #: the analyser labels ``predicted``.
    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {t: dict.fromkeys(LABELS, 0) for t in LABELS}
    )

    def add(self, true: str, predicted: str) -> None:
        self.confusion[true][predicted] += 1
        self.count += 1

    @property
    def accuracy(self) -> float:
        right = sum(self.confusion[label][label] for label in LABELS)
        return right / self.count if self.count else 0.0

    def f1(self, label: str) -> float:
        """F1 of one label (0.0 when it is neither predicted nor true)."""
        tp = self.confusion[label][label]
        predicted = sum(self.confusion[t][label] for t in LABELS)
        true = sum(self.confusion[label].values())
        if tp == 0:
            return 0.0
        precision, recall = tp / predicted, tp / true
        return 2 * precision * recall / (precision + recall)

    @property
    def macro_f1(self) -> float:
        """The mean of the three labels' F1 (labels no comment has nor gets count 0,
        as scikit-learn's default does)."""
        return sum(self.f1(label) for label in LABELS) / len(LABELS)


#: Corrections read per query by ``evaluate``.
EVALUATE_BATCH = 500


def evaluate(batch: int = EVALUATE_BATCH) -> Evaluation:
    """Each corrected comment's latest label against the configured analyser's label
    for the text as the moderator read it, scored now."""
    result = Evaluation(analyser=accuracy.analyser_key())
    latest = (
        select(func.max(ToneCorrection.id).label("id"))
        .group_by(ToneCorrection.comment_id)
        .subquery("latest")
    )
    after = 0
    articles: dict[int, frozenset[str]] = {}
    while True:
        rows = db.session.execute(
            select(ToneCorrection.id, ToneCorrection.label, ToneCorrection.body, Comment.article_id)
            .join(latest, latest.c.id == ToneCorrection.id)
            .join(Comment, Comment.id == ToneCorrection.comment_id)
            .where(ToneCorrection.id > after)
            .order_by(ToneCorrection.id)
            .limit(batch)
        ).all()
        if not rows:
            return result
        for correction_id, true, body, article_id in rows:
            if article_id not in articles:
                article = db.session.get(Article, article_id)
                articles[article_id] = topic_words_for(article) if article else frozenset()
            # Scored as the site scores a comment now: its article's topic words carry
            # no valence where the analyser can leave them out.
            result.add(true, scoring.analyse(body, topic_words=articles[article_id]).label)
            after = correction_id


__all__ = [
    "BAND_SCORES",
    "Evaluation",
    "can_correct",
    "correct_tone",
    "corrected",
    "corrected_score",
    "evaluate",
    "is_corrected",
]
