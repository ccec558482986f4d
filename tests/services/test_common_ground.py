"""Common ground (issue 20): the score of hand-built reaction patterns, kept by the
triggers as reactions and votes change, and the recount agreeing with them (both
databases)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.insight_data import D1, add_comment, vote
from webapp.models import Comment, CommentAnswerReaction, CommentReaction, Vote, utcnow
from webapp.services import comments as comment_rules
from webapp.services import polls
from webapp.services.comments import common_ground as cg


@pytest.fixture
def thread(db, make_user, make_article) -> Any:
    """An article whose poll has Yes / No / Too early, a commenter, and a crowd of
    readers: ``yes[i]`` voted Yes, ``no[i]`` No, ``early[i]`` Too early, and
    ``quiet`` did not vote."""

    class Thread:
        pass

    t = Thread()
    t.article = make_article(poll=True)
    t.options = t.article.poll.options
    t.author = make_user()
    t.yes = [make_user() for _ in range(4)]
    t.no = [make_user() for _ in range(4)]
    t.early = [make_user() for _ in range(2)]
    t.quiet = [make_user() for _ in range(3)]
    for group, option in ((t.yes, t.options[0]), (t.no, t.options[1]), (t.early, t.options[2])):
        for reader in group:
            vote(t.article.poll, reader, option, D1)
    db.session.commit()
    return t


def _comment(db, thread: Any, author: Any = None) -> Comment:
    comment = add_comment(db, thread.article, author or thread.author, 0.0, "neutral", D1)
    db.session.commit()
    return comment


def _react(db, comment: Comment, readers: list[Any], value: int) -> None:
    for reader in readers:
        db.session.add(CommentReaction(comment_id=comment.id, user_id=reader.id, value=value))
    db.session.flush()
    db.session.commit()


def _scores(db, comment: Comment) -> tuple[float, float]:
    row = db.session.execute(
        sa.select(Comment.common_ground, Comment.divisiveness).where(Comment.id == comment.id)
    ).one()
    return row[0], row[1]


def _groups(db, comment: Comment) -> dict[int, tuple[int, int, float, bool]]:
    return {
        row.option_id: (row.ups, row.downs, row.approval, row.author_side)
        for row in db.session.scalars(
            sa.select(CommentAnswerReaction).where(CommentAnswerReaction.comment_id == comment.id)
        )
        if row.ups or row.downs or row.author_side
    }


def test_the_formula_on_its_own():
    # Both sides approve: the lower approval, smoothed.
    assert cg.score([(3, 0), (2, 0)]).common_ground == pytest.approx(3 / 4)
    # One side loves it, the other rejects it: no common ground, divisive.
    split = cg.score([(10, 0), (0, 10)])
    assert split.common_ground == 0.0
    assert split.divisiveness == pytest.approx((11 / 12 - 1 / 12) * 20 / 30)
    # One side alone, however many ups: nothing.
    assert cg.score([(50, 0)]) == cg.Scores(0.0, 0.0)
    # A group of one reaction does not weigh in.
    assert cg.score([(5, 0), (1, 0)]) == cg.Scores(0.0, 0.0)
    # Mixed feelings on one side: not approved by both.
    assert cg.score([(5, 0), (1, 1)]).common_ground == 0.0


def test_a_comment_readers_of_two_answers_upvote_has_common_ground(db, thread):
    bridge = _comment(db, thread)
    _react(db, bridge, thread.yes[:3], 1)
    _react(db, bridge, thread.no[:2], 1)
    common, divisive = _scores(db, bridge)
    assert common == pytest.approx(cg.approval(2, 0))  # 3/4, the No readers' approval
    assert divisive == 0.0
    groups = _groups(db, bridge)
    assert groups[thread.options[0].id][:2] == (3, 0)
    assert groups[thread.options[1].id][:2] == (2, 0)
    assert groups[thread.options[0].id][2] == pytest.approx(4 / 5)


def test_one_side_upvoting_en_masse_while_the_other_downvotes_is_divisive_not_common(db, thread):
    loud = _comment(db, thread)
    _react(db, loud, thread.yes, 1)
    _react(db, loud, thread.no, -1)
    common, divisive = _scores(db, loud)
    assert common == 0.0
    expected = cg.score([(4, 0), (0, 4)]).divisiveness
    assert divisive == pytest.approx(expected, abs=cg.TOLERANCE)
    assert divisive > 0


def test_one_sides_approval_alone_and_too_few_reactions_score_nothing(db, thread):
    one_side = _comment(db, thread)
    _react(db, one_side, thread.yes, 1)
    assert _scores(db, one_side) == (0.0, 0.0)
    few = _comment(db, thread)
    _react(db, few, thread.yes[:1], 1)
    _react(db, few, thread.no[:1], 1)
    assert _scores(db, few) == (0.0, 0.0)  # one reaction per group: none weighs in


def test_readers_without_a_counted_vote_count_nowhere(db, thread):
    comment = _comment(db, thread)
    _react(db, comment, thread.quiet, 1)
    _react(db, comment, thread.yes[:2], 1)
    assert set(_groups(db, comment)) == {thread.options[0].id}
    assert _scores(db, comment) == (0.0, 0.0)
    # An anonymous vote (no account) puts nobody's reactions anywhere either.
    polls.cast_vote(thread.article.poll, polls.Voter("a:someone", None), thread.options[1].id)
    db.session.commit()
    assert set(_groups(db, comment)) == {thread.options[0].id}


def test_a_reactors_vote_move_withdrawal_set_aside_and_restore_move_the_score(db, thread):
    comment = _comment(db, thread)
    _react(db, comment, thread.yes[:2], 1)
    _react(db, comment, thread.no[:2], 1)
    assert _scores(db, comment)[0] == pytest.approx(3 / 4)
    mover = thread.no[0]
    # Moving to Yes: the No group has one reaction left and no longer weighs in.
    vote(thread.article.poll, mover, thread.options[0], utcnow())
    db.session.commit()
    assert _groups(db, comment)[thread.options[0].id][:2] == (3, 0)
    assert _groups(db, comment)[thread.options[1].id][:2] == (1, 0)
    assert _scores(db, comment)[0] == 0.0
    # Back to No: as before.
    vote(thread.article.poll, mover, thread.options[1], utcnow())
    db.session.commit()
    assert _scores(db, comment)[0] == pytest.approx(3 / 4)
    # Set aside by the integrity checks: counts nowhere; restored: counts again.
    db.session.execute(
        sa.update(Vote).where(Vote.user_id == mover.id).values(set_aside_at=utcnow())
    )
    db.session.commit()
    assert _groups(db, comment)[thread.options[1].id][:2] == (1, 0)
    assert _scores(db, comment)[0] == 0.0
    db.session.execute(sa.update(Vote).where(Vote.user_id == mover.id).values(set_aside_at=None))
    db.session.commit()
    assert _scores(db, comment)[0] == pytest.approx(3 / 4)
    # Withdrawn: gone from No.
    polls.withdraw(thread.article.poll, mover, None)
    db.session.commit()
    assert _groups(db, comment)[thread.options[1].id][:2] == (1, 0)
    assert _scores(db, comment)[0] == 0.0
    assert cg.recount_article(thread.article.id) == 0


def test_changing_and_taking_back_a_reaction_through_the_service(db, thread):
    comment = _comment(db, thread)
    _react(db, comment, thread.no[:2], 1)
    comment_rules.react(comment, thread.yes[0], 1)
    comment_rules.react(comment, thread.yes[1], 1)
    db.session.commit()
    assert _scores(db, comment)[0] == pytest.approx(3 / 4)
    comment_rules.react(comment, thread.yes[1], -1)
    db.session.commit()
    assert _groups(db, comment)[thread.options[0].id][:2] == (1, 1)
    assert _scores(db, comment) == (0.0, 0.0)
    comment_rules.react(comment, thread.yes[1], 0)
    db.session.commit()
    assert _groups(db, comment)[thread.options[0].id][:2] == (1, 0)
    assert cg.recount_article(thread.article.id) == 0


def test_author_side_follows_the_authors_vote(db, thread):
    author = thread.author
    comment = _comment(db, thread)
    _react(db, comment, thread.yes[:2], 1)
    _react(db, comment, thread.no[:2], -1)
    assert not any(side for *_, side in _groups(db, comment).values())
    # The author votes Yes: the Yes readers' row is their own side's.
    vote(thread.article.poll, author, thread.options[0], utcnow())
    db.session.commit()
    groups = _groups(db, comment)
    assert groups[thread.options[0].id][3] is True
    assert groups[thread.options[1].id][3] is False
    # Moves to Too early: a row of that answer marks it, though no reader of it reacted.
    vote(thread.article.poll, author, thread.options[2], utcnow())
    db.session.commit()
    groups = _groups(db, comment)
    assert groups[thread.options[0].id][3] is False
    assert groups[thread.options[2].id] == (0, 0, 0.5, True)
    # A group created later for the author's answer is marked from the start.
    later = _comment(db, thread)
    _react(db, later, thread.early[:1], 1)
    assert _groups(db, later)[thread.options[2].id][3] is True
    # Withdrawn: no row is the author's side.
    polls.withdraw(thread.article.poll, author, None)
    db.session.commit()
    assert not any(side for *_, side in _groups(db, comment).values())
    assert not any(side for *_, side in _groups(db, later).values())
    assert cg.recount_article(thread.article.id) == 0


def test_an_anonymous_vote_adopted_on_sign_in_brings_the_readers_reactions(db, thread, make_user):
    reader = make_user()
    comment = _comment(db, thread)
    _react(db, comment, [reader, *thread.yes[:2]], 1)
    _react(db, comment, thread.no[:1], 1)
    assert _scores(db, comment)[0] == 0.0
    polls.cast_vote(thread.article.poll, polls.Voter("a:visitor", None), thread.options[1].id)
    db.session.commit()
    assert polls.adopt_anonymous_vote("a:visitor", reader) == 1
    db.session.commit()
    assert _groups(db, comment)[thread.options[1].id][:2] == (2, 0)
    assert _scores(db, comment)[0] == pytest.approx(3 / 4)


def test_anonymous_votes_cast_moved_and_withdrawn_leave_every_group_alone(db, thread):
    """An anonymous vote weighs no reaction (on PostgreSQL its triggers' WHEN keeps it
    from the common-ground function altogether): casting, moving and withdrawing one
    leaves the groups and the scores exactly as they were, and the recount agrees."""
    comment = _comment(db, thread)
    _react(db, comment, thread.yes[:2], 1)
    _react(db, comment, thread.no[:2], 1)
    before = (_groups(db, comment), _scores(db, comment))
    poll, visitor = thread.article.poll, polls.Voter("a:passer-by", None)
    polls.cast_vote(poll, visitor, thread.options[0].id)
    db.session.commit()
    polls.cast_vote(poll, visitor, thread.options[1].id)
    db.session.commit()
    assert polls.withdraw_vote(poll, "a:passer-by")
    db.session.commit()
    db.session.expire_all()
    assert (_groups(db, comment), _scores(db, comment)) == before
    assert before[1][0] > 0  # the signed-in readers' common ground is still there
    assert cg.recount_article(thread.article.id) == 0


def test_recount_finds_and_fixes_what_the_triggers_did_not_write(db, thread):
    comment = _comment(db, thread)
    _react(db, comment, thread.yes[:3], 1)
    _react(db, comment, thread.no[:2], 1)
    _react(db, comment, thread.early[:2], -1)
    assert cg.recount_article(thread.article.id) == 0
    # Written behind the triggers' back: the recount puts the figures right.
    db.session.execute(sa.update(CommentAnswerReaction).values(ups=0, downs=0, approval=0.5))
    db.session.execute(sa.update(Comment).values(common_ground=0.9, divisiveness=0.0))
    assert cg.recount_article(thread.article.id) == 3 + 1
    db.session.commit()
    common, divisive = _scores(db, comment)
    right = cg.score([(3, 0), (2, 0), (0, 2)])
    assert common == right.common_ground == 0.0
    assert divisive == pytest.approx(right.divisiveness, abs=cg.TOLERANCE)
    assert cg.recount_article(thread.article.id) == 0


def test_deleting_the_poll_or_an_option_leaves_no_score_behind(db, thread):
    comment = _comment(db, thread)
    _react(db, comment, thread.yes[:2], 1)
    _react(db, comment, thread.early[:2], 1)
    assert _scores(db, comment)[0] > 0
    db.session.delete(thread.options[2])
    db.session.commit()
    assert _scores(db, comment) == (0.0, 0.0)
    assert set(_groups(db, comment)) == {thread.options[0].id}
    db.session.delete(thread.article.poll)
    db.session.commit()
    assert _groups(db, comment) == {}


ROUNDS = 20


@pytest.mark.postgres_only
def test_a_readers_reactions_and_vote_moves_at_once_neither_deadlock_nor_drift(app, db, thread):
    """Two connections: one reader reacting to comments over and over while their
    vote moves between answers, and another reader doing the same on the same
    comments, and the comments' author moving theirs: no deadlock, and the groups
    and scores equal a recount afterwards."""
    import threading

    from webapp.extensions import db as _db

    made = [_comment(db, thread) for _ in range(3)]
    for comment in made:
        _react(db, comment, thread.yes[2:] + thread.no[2:], 1)
    vote(thread.article.poll, thread.author, thread.options[0], D1)
    db.session.commit()
    option_ids = [option.id for option in thread.options]
    comment_ids = [comment.id for comment in made]
    people = [thread.yes[0].id, thread.no[0].id, thread.author.id]

    def reactor(user_id: int) -> None:
        for n in range(ROUNDS):
            comment_id = comment_ids[n % 3]
            _db.session.execute(
                sa.delete(CommentReaction).where(
                    CommentReaction.user_id == user_id, CommentReaction.comment_id == comment_id
                )
            )
            _db.session.add(
                CommentReaction(comment_id=comment_id, user_id=user_id, value=1 - 2 * (n % 2))
            )
            _db.session.commit()

    def mover(user_id: int, shift: int) -> None:
        for n in range(ROUNDS):
            _db.session.execute(
                sa.update(Vote)
                .where(Vote.user_id == user_id)
                .values(option_id=option_ids[(n + shift) % 3], updated_at=utcnow())
            )
            _db.session.commit()

    works = [
        lambda: reactor(people[0]),
        lambda: mover(people[0], 1),
        lambda: reactor(people[1]),
        lambda: mover(people[1], 2),
        lambda: mover(people[2], 0),
    ]
    barrier = threading.Barrier(len(works))
    errors: list[BaseException] = []

    def run(work: Any) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work()
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    db.session.expire_all()
    assert cg.recount_article(thread.article.id) == 0
