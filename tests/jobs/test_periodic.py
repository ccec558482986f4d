"""The worker's periodic chores (webapp.jobs.registry.periodic): run between jobs, each
about as often as it asks; one that fails is logged and the worker goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.jobs import registry
from webapp.jobs.runner import Worker
from webapp.models import Comment, utcnow
from webapp.models.comment_actions import CommentDeletion
from webapp.services import comments
from webapp.services.comments.undo import delete_undoable, undo


def _comment(comment_id: int) -> Comment | None:
    db.session.expire_all()
    return db.session.get(Comment, comment_id)


def test_the_worker_finishes_deletions_whose_undo_window_is_over(app, make_article, make_user):
    article = make_article()
    author = make_user()
    gone = comments.submit(article, author, "Deleted a minute ago.")
    recent = comments.submit(article, author, "Deleted just now.")
    db.session.commit()
    delete_undoable(gone, author, moment=utcnow() - timedelta(minutes=1))
    delete_undoable(recent, author)
    db.session.commit()

    assert Worker().run(burst=True) == 0  # no job: the chore ran all the same

    assert _comment(gone.id) is None  # its window is over, nothing replies to it: gone
    still = _comment(recent.id)
    assert still is not None and still.deleted_at is not None  # still undoable
    waiting = db.session.scalars(sa.select(CommentDeletion.comment_id)).all()
    assert waiting == [recent.id]
    undo(recent.id, author)
    db.session.commit()
    assert _comment(recent.id).body == "Deleted just now."


@pytest.fixture
def failing_chore():
    calls: list[int] = []

    @registry.periodic("tests.failing", every_seconds=3600)
    def chore() -> None:
        calls.append(1)
        db.session.execute(sa.text("SELECT 1"))
        raise RuntimeError("a chore that fails")

    yield calls
    registry._periodic.pop("tests.failing", None)


def test_a_failing_chore_is_logged_and_the_worker_goes_on(app, failing_chore, caplog):
    worker = Worker()
    worker.housekeeping(force=True)
    worker.housekeeping()  # within its hour: not run again
    assert failing_chore == [1]
    assert "the periodic chore tests.failing failed" in caplog.text
    assert worker.run(burst=True) == 0  # the loop still runs (and runs the chore once more)
    assert failing_chore == [1, 1]
