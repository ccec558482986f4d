"""The moderators' figures the database keeps (issue 15): the queue counts in the
navigation and each comment's open reports, which rank the Reported queue.

Each test does what moderators and readers do (post held comments, decide, report,
delete, decide in bulk, remove a reader with their comments, write SQL by hand) and
checks the counts say what the queues list, and that ``counter_drift`` (the check
against the rows) finds nothing; then that the Reported queue lists and pages exactly
as it did when every page counted the reports itself.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.models import Comment, CommentFlag, utcnow
from webapp.services import comments, moderation


@pytest.fixture
def article(make_article):
    return make_article()


@pytest.fixture
def held_article(make_article):
    return make_article(comments="premoderated")


def _listed() -> dict[str, int]:
    """Each queue's length as its pages list it."""
    sizes = {}
    for name in moderation.QUEUES:
        items, after = moderation.queue(name, 200)
        assert after is None
        sizes[name] = len(items)
    return sizes


def _counts_are(db, **expected: int) -> None:
    db.session.commit()
    counts = moderation.queue_counts()
    assert counts == {name: expected.get(name, 0) for name in moderation.QUEUES}
    assert counts == _listed()
    assert moderation.counter_drift() == {}


def _post(db, article, author, body="A fair point about the ceasefire."):
    comment = comments.submit(article, author, body)
    db.session.commit()
    return comment


def test_the_counts_follow_posting_decisions_reports_and_deletions(
    db, article, held_article, make_user, moderator
):
    _counts_are(db)
    held = [_post(db, held_article, make_user(), f"Held comment {n}.") for n in range(3)]
    assert {c.status for c in held} == {"pending"}
    _counts_are(db, pending=3)

    moderation.decide(held[0], moderator, "approve")
    _counts_are(db, pending=2, approved=1)
    moderation.decide(held[1], moderator, "reject", "Off topic")
    _counts_are(db, pending=1, approved=1, rejected=1)
    moderation.decide(held[0], moderator, "feature")
    moderation.decide(held[0], moderator, "unfeature")
    _counts_are(db, pending=1, approved=1, rejected=1)

    published = [_post(db, article, make_user(), f"Published {n}.") for n in range(3)]
    _counts_are(db, pending=1, approved=1, rejected=1)
    # One report puts a comment in the Reported queue; a second does not count it twice.
    comments.flag(published[0], make_user(), "spam")
    comments.flag(published[0], make_user(), "abuse")
    comments.flag(held[0], make_user(), "spam")  # approved, and now reported again
    _counts_are(db, pending=1, approved=1, rejected=1, reported=2)

    # Its author deletes a reported comment: it leaves the queue.
    comments.delete(published[0], published[0].author)
    _counts_are(db, pending=1, approved=1, rejected=1, reported=1)
    # A moderator deletes the held one (it has no replies: the row goes).
    comments.delete(held[2], moderator)
    _counts_are(db, approved=1, rejected=1, reported=1)

    # A rolled-back decision moves nothing.
    moderation.decide(published[1], moderator, "reject")
    db.session.rollback()
    _counts_are(db, approved=1, rejected=1, reported=1)


def test_reports_that_hide_a_comment_put_it_in_two_queues(
    db, article, make_user, make_established_user, moderator
):
    moderation.update_moderation_settings(moderator, {"hide_reported": True, "report_threshold": 2})
    db.session.commit()
    comment = _post(db, article, make_user())
    comments.flag(comment, make_established_user(), "spam")
    _counts_are(db, reported=1)
    comments.flag(comment, make_established_user(), "abuse")
    assert comment.status == "pending"
    _counts_are(db, pending=1, reported=1)
    # Rejecting it takes it out of both.
    moderation.decide(comment, moderator, "reject")
    _counts_are(db, rejected=1)


def test_bulk_decisions_and_a_removed_reader_move_the_counts(
    db, article, held_article, make_user, moderator
):
    spammer = make_user()
    theirs = [_post(db, held_article, spammer, f"Buy now {n}.") for n in range(4)]
    others = [_post(db, held_article, make_user(), f"Fine {n}.") for n in range(3)]
    reported = _post(db, article, spammer, "Reported, published.")
    comments.flag(reported, make_user(), "spam")
    _counts_are(db, pending=7, reported=1)

    moderation.decide_many([c.id for c in others], moderator, "approve")
    _counts_are(db, pending=4, approved=3, reported=1)
    moderation.decide_many([theirs[0].id, theirs[1].id], moderator, "reject", "Spam")
    _counts_are(db, pending=2, approved=3, rejected=2, reported=1)

    # The reader is banned, then their account removed with everything they wrote
    # (the database's cascade; nothing in the app reads a count to do it).
    moderation.ban(spammer, moderator, "Spam")
    db.session.commit()
    db.session.delete(spammer)
    _counts_are(db, approved=3)


def test_a_write_outside_the_app_moves_the_counts_too(db, article, held_article, make_user):
    held = _post(db, held_article, make_user())
    _post(db, article, make_user())
    _counts_are(db, pending=1)
    db.session.execute(
        sa.text("UPDATE comments SET status = 'published', moderated_at = :now WHERE id = :id"),
        {"now": utcnow(), "id": held.id},
    )
    _counts_are(db, approved=1)
    db.session.execute(sa.text("UPDATE comments SET status = 'rejected'"))
    _counts_are(db, rejected=2)
    db.session.execute(sa.text("DELETE FROM comments"))
    _counts_are(db)


def test_the_check_finds_drift_and_a_reset_repairs_it(db, article, make_user, moderator):
    comment = _post(db, article, make_user())
    comments.flag(comment, make_user(), "spam")
    comments.flag(comment, make_user(), "spam")
    db.session.commit()
    assert moderation.counter_drift() == {}
    # Figures written wrong behind the triggers' back (what a bulk load with the
    # triggers off would leave) are found, and set right from the rows.
    db.session.execute(sa.text("UPDATE moderation_queue_counts SET reported = 5, pending = 2"))
    db.session.execute(sa.text("UPDATE comments SET open_reports = 7"))
    db.session.commit()
    assert moderation.counter_drift() == {
        "pending": (2, 0),
        "reported": (5, 1),
        "open_reports": (1, 0),
    }
    moderation.reset_counters()
    db.session.commit()
    assert moderation.counter_drift() == {}
    [item] = moderation.queue("reported")[0]
    assert item.open_reports == 2


# --- the Reported queue's order ----------------------------------------------------


def _reported_as_before() -> list[tuple[int, int]]:
    """(id, readers who reported it since the last decision) of the Reported queue in
    the order it had when each page counted the reports: most reporters first, then
    the oldest open report, then id."""
    rows = []
    for comment in comments_in_queue():
        since = comment.moderated_at
        reporters = sum(
            1 for flag in comment_flags(comment.id) if since is None or flag.created_at > since
        )
        rows.append((-reporters, comment.reported_at, comment.id, reporters))
    return [(cid, n) for _, _, cid, n in sorted(rows)]


def comments_in_queue() -> list[Comment]:
    from webapp.extensions import db

    return list(
        db.session.scalars(
            sa.select(Comment).where(
                Comment.reported_at.is_not(None),
                Comment.deleted_at.is_(None),
                Comment.status != "rejected",
            )
        )
    )


def comment_flags(comment_id: int) -> list[CommentFlag]:
    from webapp.extensions import db

    return list(
        db.session.scalars(sa.select(CommentFlag).where(CommentFlag.comment_id == comment_id))
    )


def _paged(limit: int) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    after = None
    while True:
        items, after = moderation.queue("reported", limit, after)
        seen += [(item.comment.id, item.open_reports) for item in items]
        if after is None:
            return seen
        # The cursor is (open reports, reported_at, id) of the page's last item.
        last = items[-1]
        assert after == (last.open_reports, last.comment.reported_at, last.comment.id)


def test_the_reported_queue_lists_and_pages_as_moderators_saw_it_before(
    db, article, make_user, moderator
):
    start = utcnow() - timedelta(hours=5)
    posted = [_post(db, article, make_user(), f"Comment {n}.") for n in range(9)]
    readers = [make_user() for _ in range(5)]
    # (comment, reporters, minutes after start of its first report): ties in the number
    # of reporters and in time, so pages break inside a rank and between ranks.
    plan = [(0, 1, 10), (1, 3, 50), (2, 2, 20), (3, 3, 30), (4, 1, 10), (5, 2, 5),
            (6, 3, 30), (7, 1, 40), (8, 2, 60)]  # fmt: skip
    for index, reporters, minutes in plan:
        for n, reader in enumerate(readers[:reporters]):
            comments.flag(
                posted[index], reader, "spam", moment=start + timedelta(minutes=minutes + n)
            )
    db.session.commit()
    # Approved after its reports, then reported afresh by one reader: it ranks by the
    # fresh report alone (not the three before the decision).
    moderation.decide(posted[1], moderator, "approve", moment=start + timedelta(minutes=90))
    comments.flag(posted[1], make_user(), "abuse", moment=start + timedelta(minutes=95))
    # Rejected: out of the queue, whatever its reports.
    moderation.decide(posted[8], moderator, "reject", moment=start + timedelta(minutes=91))
    db.session.commit()

    expected = _reported_as_before()
    assert [n for _, n in expected] == [3, 3, 2, 2, 1, 1, 1, 1]
    assert dict(expected)[posted[1].id] == 1
    assert posted[8].id not in dict(expected)
    for limit in (1, 2, 3, 8, 20):
        assert _paged(limit) == expected, limit
    assert moderation.queue_counts()["reported"] == len(expected)
    # Each item shows the same figure in the other queues' lists (approved, here).
    [approved] = [i for i in moderation.queue("approved")[0] if i.comment.id == posted[1].id]
    assert approved.open_reports == 1


def test_a_reader_removed_takes_their_reports_out_of_the_rank(db, article, make_user):
    comment = _post(db, article, make_user())
    other = _post(db, article, make_user())
    reporters = [make_user() for _ in range(2)]
    for reader in reporters:
        comments.flag(comment, reader, "spam")
    comments.flag(other, make_user(), "spam")
    db.session.commit()
    assert [i.open_reports for i in moderation.queue("reported")[0]] == [2, 1]
    db.session.delete(reporters[0])
    db.session.commit()
    assert _paged(1) == _reported_as_before()
    assert {i.comment.id: i.open_reports for i in moderation.queue("reported")[0]} == {
        comment.id: 1,
        other.id: 1,
    }
    assert moderation.counter_drift() == {}


def test_a_prepared_comment_sets_every_column_posting_s_one_statement_insert_writes(
    db, article, make_user
):
    """A new comment starts with no open reports, set on the object: posting writes it
    with its one prepared INSERT (storage._insert) rather than the ORM's unit of work."""
    from webapp.services.comments import posting, storage

    prepared = posting.prepare(article, make_user(), "A fair point.")
    assert prepared.open_reports == 0
    missing = set(storage._COLUMNS) - set(prepared.__dict__) - set(storage._NEW_COMMENT)
    assert missing == set()
