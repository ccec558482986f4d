"""Background sentiment refinement (webapp/services/insights/refine.py): with a slow
analyser a comment is scored at once by the fast one and re-scored by the worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp.extensions import db as _db
from webapp.jobs.runner import Worker
from webapp.models import Comment
from webapp.models.jobs import Job
from webapp.models.tone_counters import ArticleToneCount
from webapp.services import comments
from webapp.services.insights import refine
from webapp.services.insights.sentiment import VaderAnalyser

PROJECT = Path(__file__).resolve().parents[2]
WORDS = "What a wonderful, lovely and generous plan."
EDITED = "On reflection this plan is dreadful and cruel."

#: Called by SlowAnalyser.score before it answers: lets a test act while the worker
#: is scoring (with no transaction open).
meanwhile: list[Callable[[], None]] = []


class SlowAnalyser:
    """The model-like analyser of these tests: slow by its own say, and an opinion
    unlike VADER's (it finds "wonderful" texts negative), so its score is recognisable."""

    fast = False
    calls: list[str] = []

    def score(self, text: str) -> float:
        SlowAnalyser.calls.append(text)
        while meanwhile:
            meanwhile.pop(0)()
        return -0.8 if "wonderful" in text else 0.6


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """Every test here runs with the slow analyser (the factories use this app too)."""
    SlowAnalyser.calls.clear()
    meanwhile.clear()
    application = make_app(SENTIMENT_ANALYSER=SlowAnalyser)
    with application.app_context():
        yield application


def _vader(text: str) -> float:
    return VaderAnalyser().score(text)


def _comment(comment_id: int) -> Comment:
    _db.session.expire_all()
    found = _db.session.get(Comment, comment_id)
    assert found is not None
    return found


def _jobs() -> list[Job]:
    _db.session.expire_all()
    return list(_db.session.scalars(sa.select(Job).order_by(Job.id)))


def _tone_total(article_id: int) -> float:
    """The article's summed tone as the counters keep it (trillionths, by trigger)."""
    total = _db.session.scalar(
        sa.select(sa.func.sum(ArticleToneCount.total)).where(
            ArticleToneCount.article_id == article_id
        )
    )
    return int(total or 0) / 10**12


def test_with_a_slow_analyser_posting_stores_the_fast_score_and_the_worker_refines_it(
    app, make_user, make_article
):
    article = make_article()
    author = make_user()
    comment = comments.submit(article, author, WORDS)
    _db.session.commit()

    posted = _comment(comment.id)
    assert posted.sentiment == pytest.approx(_vader(WORDS)) and posted.sentiment > 0.5
    assert posted.sentiment_label == "positive" and posted.tone_pending
    assert SlowAnalyser.calls == []  # never on the request's path
    (job,) = _jobs()
    assert (job.kind, job.payload, job.status) == (
        "sentiment.refine",
        {"comment_id": comment.id},
        "queued",
    )
    assert refine.pending_refinements(article.id) == 1
    assert _tone_total(article.id) == pytest.approx(_vader(WORDS))

    assert Worker().run(burst=True) == 1

    refined = _comment(comment.id)
    assert (refined.sentiment, refined.sentiment_label) == (-0.8, "negative")
    assert not refined.tone_pending
    assert refine.pending_refinements(article.id) == 0
    assert _tone_total(article.id) == pytest.approx(-0.8)  # the counters followed
    assert [j.status for j in _jobs()] == ["done"]


def test_a_comment_posted_through_the_api_is_refined_too(app, make_user, make_article, api):
    article = make_article()
    author = make_user()
    api.login(author)
    response = api.post(f"/api/v1/articles/{article.slug}/comments", {"body": WORDS})
    assert response.status_code == 201, response.get_json()
    comment_id = response.get_json()["id"]
    assert _comment(comment_id).tone_pending
    assert [j.payload for j in _jobs()] == [{"comment_id": comment_id}]
    Worker().run(burst=True)
    assert _comment(comment_id).sentiment == -0.8


def test_a_comment_edited_while_the_worker_scores_it_keeps_its_new_score(
    app, make_user, make_article
):
    article = make_article()
    author = make_user()
    comment_id = comments.submit(article, author, WORDS).id
    _db.session.commit()

    def edit_meanwhile() -> None:
        # The author edits in a request of their own while the slow score runs.
        with app.app_context():
            mine = _db.session.get(Comment, comment_id)
            comments.edit(mine, mine.author, EDITED)
            _db.session.commit()
            _db.session.remove()

    meanwhile.append(edit_meanwhile)
    worker = Worker()
    assert worker.run_one().status == "done"

    edited = _comment(comment_id)
    assert edited.body == EDITED
    # The fast score of the new text, not the slow score of the old one.
    assert edited.sentiment == pytest.approx(_vader(EDITED)) and edited.sentiment < 0
    assert edited.tone_pending and refine.pending_refinements(article.id) == 1

    # The edit queued its own refinement, which scores the new text.
    assert worker.run_one().status == "done"
    assert _comment(comment_id).sentiment == 0.6
    assert not _comment(comment_id).tone_pending
    assert SlowAnalyser.calls == [WORDS, EDITED]


def test_a_comment_edited_before_its_refinement_ran_gets_the_new_texts_score(
    app, make_user, make_article
):
    article = make_article()
    author = make_user()
    comment = comments.submit(article, author, WORDS)
    _db.session.commit()
    comments.edit(_comment(comment.id), author, EDITED)
    _db.session.commit()
    assert len(_jobs()) == 2

    Worker().run(burst=True)
    final = _comment(comment.id)
    assert (final.sentiment, final.tone_pending) == (0.6, False)


def test_a_pending_comment_written_outside_the_app_is_queued_by_the_database(
    app, make_user, make_article
):
    """The job comes with the row by trigger: a console's INSERT or UPDATE that leaves
    a comment waiting queues its refinement too; an update that keeps the body and an
    already pending state queues nothing more."""
    article = make_article()
    comment = comments.submit(article, make_user(), WORDS)
    _db.session.commit()
    assert len(_jobs()) == 1
    Worker().run(burst=True)
    assert not _comment(comment.id).tone_pending

    table = Comment.__table__
    _db.session.execute(sa.update(table).where(table.c.id == comment.id).values(tone_pending=True))
    _db.session.commit()
    _db.session.execute(sa.update(table).where(table.c.id == comment.id).values(toxicity=0.1))
    _db.session.execute(sa.update(table).where(table.c.id == comment.id).values(tone_pending=True))
    _db.session.commit()
    queued = [job for job in _jobs() if job.status == "queued"]
    assert [job.payload for job in queued] == [{"comment_id": comment.id}]
    assert queued[0].run_after <= queued[0].created_at + timedelta(seconds=1)

    assert Worker().run(burst=True) == 1
    assert (_comment(comment.id).sentiment, _comment(comment.id).tone_pending) == (-0.8, False)


def test_a_comment_deleted_before_its_refinement_leaves_nothing_to_do(app, make_user, make_article):
    article = make_article()
    comment = comments.submit(article, make_user(), WORDS)
    _db.session.commit()
    _db.session.execute(sa.delete(Comment).where(Comment.id == comment.id))
    _db.session.commit()
    assert Worker().run_one().status == "done"


def test_a_refinement_is_queued_only_with_its_comment(app, make_user, make_article):
    article = make_article()
    comments.submit(article, make_user(), WORDS)
    _db.session.rollback()
    assert _jobs() == []


def test_sigterm_lets_the_worker_finish_its_job_then_exit(backend, app, make_user, make_article):
    """The worker as a process: SIGTERM while a slow refinement runs; the refinement
    is stored and the process exits cleanly."""
    article = make_article()
    comment = comments.submit(article, make_user(), WORDS)
    _db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": backend.url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SENTIMENT_ANALYSER": "tests.jobs.fakes:SleepyAnalyser",
        "JOBS_TEST_SLEEP": "1.5",
        "JOBS_POLL_SECONDS": "0.2",
        "INTEGRITY_RUNNER": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = _db.session.scalar(sa.select(Job.status))
            _db.session.commit()
            if status == "running":
                break
            assert process.poll() is None, process.communicate()[0]
            time.sleep(0.05)
        assert status == "running"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "SIGTERM received" in output
    assert _db.session.scalar(sa.select(Job.status)) == "done"
    refined = _comment(comment.id)
    assert (refined.sentiment, refined.tone_pending) == (-0.3, False)


def test_the_web_process_warms_the_fast_analyser_not_the_slow_one(app):
    built: list[str] = []

    class Counted(SlowAnalyser):
        def __init__(self) -> None:
            built.append("slow")

    app.config["SENTIMENT_ANALYSER"] = Counted
    assert type(refine.request_analyser()).__name__ == "VaderAnalyser"
    assert refine.analyser_is_slow() and built == []


def test_a_moderators_tone_correction_is_not_replaced_by_the_refined_score(
    app, make_user, make_article
):
    from webapp.services.insights.corrections import correct_tone

    article = make_article()
    comment_id = comments.submit(article, make_user(), WORDS).id
    _db.session.commit()
    correct_tone(_comment(comment_id), make_user("moderator"), "neutral")
    _db.session.commit()
    corrected = _comment(comment_id)
    kept = (corrected.sentiment, corrected.sentiment_label)
    assert kept[1] == "neutral"

    assert Worker().run_one().status == "done"
    after = _comment(comment_id)
    assert (after.sentiment, after.sentiment_label) == kept  # not the slow -0.8
    assert not after.tone_pending and refine.pending_refinements(article.id) == 0
