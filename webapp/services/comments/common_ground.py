"""Common ground (issue 20): how much readers who answered the article's poll differently
value the same comment, and how sharply they split over it.

A comment's reactions are split by the reactor's poll answer: a reaction counts in
the group of the reactor's counted vote in the article's poll (an account's vote,
not set aside by the integrity checks). Readers without a vote, anonymous votes and
set-aside votes count nowhere. Per group ``g`` with ``ups`` and ``downs``:

- **approval** ``a_g = (ups + 1) / (ups + downs + 2)``: the mean of a Beta(1, 1)
  (uniform) prior updated by the group's reactions, so one reaction moves it only
  part of the way (1 up: 2/3; 5 ups: 6/7) and a group without reactions sits at 1/2;
- a group **weighs in** when it gave at least ``MIN_GROUP_REACTIONS`` (2) reactions;
- **common ground** is the lowest approval over the groups that weigh in, when at
  least two groups weigh in and even the lowest approves (> 1/2); else 0. A comment
  one side upvotes en masse while the other downvotes it gets 0 however many ups it
  has, and any comment approved by readers of two or more answers ranks above every
  comment approved by one answer's readers only (those score 0);
- **divisiveness** is ``(highest - lowest approval) * n / (n + DIVISIVE_DAMPING)``
  over the groups that weigh in, when at least two weigh in and the highest
  approves (> 1/2) while the lowest disapproves (< 1/2); else 0. ``n`` is the
  number of their reactions: the weight makes a sharp split of many readers rank
  above the same split of a few (the moderators' watch list: "much engagement,
  split sharply by answer").

The database triggers (webapp/models/common_ground_triggers.py) keep the groups'
counts and approvals in ``comment_answer_reactions`` and the two scores on
``comments`` with the same arithmetic, in double precision; ``score`` here is the
reference the tests and :func:`recount_article` compare them with (to 1e-9).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Comment, CommentAnswerReaction, CommentReaction, Poll, Vote

#: The prior's pseudo-reactions: one up and one down (Beta(1, 1)).
PRIOR_UPS = 1
PRIOR_DOWNS = 1
#: Reactions a group needs before its approval counts toward either score.
MIN_GROUP_REACTIONS = 2
#: Reactions at which a split's divisiveness reaches half its sharpness.
DIVISIVE_DAMPING = 10
#: Two figures agree when they differ by less than this (floats by another route).
TOLERANCE = 1e-9


def approval(ups: int, downs: int) -> float:
    """The smoothed share of a group's reactions that approve."""
    return (ups + PRIOR_UPS) / (ups + downs + PRIOR_UPS + PRIOR_DOWNS)


@dataclass(frozen=True, slots=True)
class Scores:
    common_ground: float
    divisiveness: float


def score(groups: Iterable[tuple[int, int]]) -> Scores:
    """A comment's scores from its groups' (ups, downs)."""
    weighing = [(u, d) for u, d in groups if u + d >= MIN_GROUP_REACTIONS]
    if len(weighing) < 2:
        return Scores(0.0, 0.0)
    approvals = [approval(u, d) for u, d in weighing]
    lowest, highest = min(approvals), max(approvals)
    common_ground = lowest if lowest > 0.5 else 0.0
    divisiveness = 0.0
    if highest > 0.5 > lowest:
        reactions = sum(u + d for u, d in weighing)
        divisiveness = (highest - lowest) * reactions / (reactions + DIVISIVE_DAMPING)
    return Scores(common_ground, divisiveness)


def _close(a: float, b: float) -> bool:
    return abs(a - b) < TOLERANCE


def expected_groups(article_id: int) -> dict[tuple[int, int], tuple[int, int]]:
    """(comment, option) -> (ups, downs) of the article's comments, from the reactions
    and the reactors' counted votes."""
    poll_id = select(Poll.id).where(Poll.article_id == article_id).scalar_subquery()
    rows = db.session.execute(
        select(CommentReaction.comment_id, Vote.option_id, CommentReaction.value)
        .join(Comment, Comment.id == CommentReaction.comment_id)
        .join(
            Vote,
            (Vote.user_id == CommentReaction.user_id)
            & (Vote.poll_id == poll_id)
            & Vote.set_aside_at.is_(None),
        )
        .where(Comment.article_id == article_id)
    ).tuples()
    groups: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for comment_id, option_id, value in rows:
        groups[(comment_id, option_id)][0 if value > 0 else 1] += 1
    return {key: (ups, downs) for key, (ups, downs) in groups.items()}


def _author_options(article_id: int) -> dict[int, int]:
    """comment id -> the option its author holds (a counted vote), for the article."""
    poll_id = select(Poll.id).where(Poll.article_id == article_id).scalar_subquery()
    return dict(
        db.session.execute(
            select(Comment.id, Vote.option_id)
            .join(
                Vote,
                (Vote.user_id == Comment.author_id)
                & (Vote.poll_id == poll_id)
                & Vote.set_aside_at.is_(None),
            )
            .where(Comment.article_id == article_id)
        )
        .tuples()
        .all()
    )


def recount_article(article_id: int) -> int:
    """Recompute the article's groups and comments' scores from the reactions and the
    votes, set what the triggers kept where it differs, and return how many rows
    differed (groups and comments). The caller commits. A maintenance check (and
    what a bulk load that wrote rows with the triggers off runs afterwards): it reads
    every reaction of the article.

    A group row with no reactions may exist (a vote marks its author's comments'
    rows of its answer, see the triggers' module): it differs only in its
    ``author_side``."""
    expected = expected_groups(article_id)
    authors = _author_options(article_id)
    kept = {
        (row.comment_id, row.option_id): row
        for row in db.session.scalars(
            select(CommentAnswerReaction).where(CommentAnswerReaction.article_id == article_id)
        )
    }
    differed = 0
    for key in sorted(set(expected) | set(kept)):
        comment_id, option_id = key
        ups, downs = expected.get(key, (0, 0))
        side = authors.get(comment_id) == option_id
        row = kept.get(key)
        if row is None:
            db.session.add(
                CommentAnswerReaction(
                    comment_id=comment_id,
                    option_id=option_id,
                    article_id=article_id,
                    ups=ups,
                    downs=downs,
                    approval=approval(ups, downs),
                    author_side=side,
                )
            )
            differed += 1
        elif (
            row.ups != ups
            or row.downs != downs
            or not _close(row.approval, approval(ups, downs))
            or row.author_side != side
        ):
            row.ups, row.downs, row.author_side = ups, downs, side
            row.approval = approval(ups, downs)
            differed += 1
    db.session.flush()
    per_comment: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (comment_id, _option), counts in expected.items():
        per_comment[comment_id].append(counts)
    for comment_id, common_ground, divisiveness in db.session.execute(
        select(Comment.id, Comment.common_ground, Comment.divisiveness).where(
            Comment.article_id == article_id
        )
    ).tuples():
        right = score(per_comment.get(comment_id, []))
        if _close(common_ground, right.common_ground) and _close(divisiveness, right.divisiveness):
            continue
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(common_ground=right.common_ground, divisiveness=right.divisiveness)
            .execution_options(synchronize_session=False)
        )
        differed += 1
    return differed
