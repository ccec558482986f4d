"""The worker's next due job and an article's waiting comments are each one range of
an index of their own, whatever else the tables hold."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.query_plans import explain, selects, statements
from webapp.extensions import db as _db
from webapp.jobs import enqueue, queue
from webapp.models import Article, Comment, utcnow
from webapp.models.jobs import Job
from webapp.services import comments
from webapp.services.insights import refine


def _plans(ran):  # type: ignore[no-untyped-def]
    connection = _db.session.connection()
    if connection.dialect.name == "postgresql":
        # A test's tables are tiny: make PostgreSQL show the plan it has for a big one.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return [explain(connection, r) for r in selects(ran)]


def test_the_next_due_job_is_read_from_the_due_index(app):
    for n in range(30):
        enqueue("test.plan", {"n": n})
    enqueue("test.plan", {}, run_after=utcnow() + timedelta(hours=1))
    _db.session.commit()
    _db.session.execute(
        sa.update(Job).where(Job.id <= 20).values(status="done", finished_at=utcnow())
    )
    _db.session.commit()

    with statements(_db.engine) as ran:
        claimed = queue.claim("plan-worker")
    assert claimed is not None and claimed.id == 21
    (plan,) = _plans(ran)
    assert plan.indexes("jobs") == {"ix_jobs_due"}, plan.text
    assert not plan.full_reads("jobs"), plan.text
    assert not plan.sorts_of("jobs"), plan.text
    _db.session.rollback()


def test_waiting_comments_are_counted_from_their_partial_index(app, make_article, make_user):
    article_id = make_article().id
    # Many comments of the article, few waiting: what a database's statistics see on a
    # site, so PostgreSQL's planner weighs the indexes as it would there.
    author = make_user()
    for n in range(60):
        comments.submit(_db.session.get(Article, article_id), author, f"Comment {n}.")
    _db.session.commit()
    _db.session.execute(
        sa.update(Comment)
        .where(Comment.id.in_(sa.select(Comment.id).limit(2)))
        .values(tone_pending=True)
    )
    _db.session.commit()
    if _db.engine.dialect.name == "postgresql":
        _db.session.execute(sa.text("ANALYZE comments"))
        _db.session.commit()
    with statements(_db.engine) as ran:
        assert refine.pending_refinements(article_id) == 2
    (plan,) = _plans(ran)
    assert plan.indexes("comments") == {"ix_comments_tone_pending"}, plan.text
    assert not plan.full_reads("comments"), plan.text
    _db.session.rollback()
