"""The job runner (webapp/jobs/): jobs written with their cause, claimed, run, retried
with backoff, failed, reclaimed from dead workers, purged, and listed for admins."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db as _db
from webapp.jobs import RunningJob, enqueue, handler, queue
from webapp.jobs.runner import Worker
from webapp.models import SiteSetting, utcnow
from webapp.models.jobs import Job

#: What the test handlers saw, by job id (several threads append).
seen: list[int] = []
_seen_lock = threading.Lock()


@handler("test.note")
def note(job: RunningJob) -> None:
    """Writes a row of its own, so a test can tell whether its work was kept."""
    with _seen_lock:
        seen.append(job.id)
    _db.session.add(SiteSetting(key=f"note-{job.id}", value=job.payload))
    if job.payload.get("sleep"):
        time.sleep(float(job.payload["sleep"]))


@handler("test.broken")
def broken(job: RunningJob) -> None:
    _db.session.add(SiteSetting(key=f"broken-{job.id}", value=job.attempts))
    _db.session.flush()
    raise RuntimeError(f"the mail server said no ({job.attempts})")


@pytest.fixture(autouse=True)
def _forget_seen() -> None:
    seen.clear()


def _job(job_id: int) -> Job:
    _db.session.expire_all()
    found = _db.session.get(Job, job_id)
    assert found is not None
    return found


def _notes() -> set[str]:
    return set(_db.session.scalars(sa.select(SiteSetting.key)))


def test_a_job_exists_only_if_its_cause_is_committed(app, make_user):
    user = make_user()
    user.display_name = "Renamed"
    enqueue("test.note", {"user": user.id})
    _db.session.rollback()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0

    user.display_name = "Renamed"
    job_id = enqueue("test.note", {"user": user.id})
    _db.session.commit()
    job = _job(job_id)
    assert (job.kind, job.payload, job.status, job.attempts) == (
        "test.note",
        {"user": user.id},
        "queued",
        0,
    )


def test_a_payload_that_is_not_json_is_refused_at_its_cause(app):
    with pytest.raises(ValueError, match="JSON"):
        enqueue("test.note", {"when": utcnow()})
    with pytest.raises(ValueError, match="kind"):
        enqueue("", {})


def test_the_worker_runs_a_due_job_and_marks_it_done_with_its_writes(app):
    job_id = enqueue("test.note", {"n": 1})
    _db.session.commit()

    outcome = Worker().run_one()

    assert (outcome.job_id, outcome.status) == (job_id, "done")
    job = _job(job_id)
    assert job.status == "done" and job.attempts == 1
    assert job.finished_at is not None and job.locked_by is None
    assert f"note-{job_id}" in _notes()
    assert Worker().run_one().status == "idle"


def test_jobs_run_in_the_order_they_fall_due_and_not_before(app):
    later = enqueue("test.note", {}, run_after=utcnow() + timedelta(hours=1))
    first = enqueue("test.note", {})
    second = enqueue("test.note", {})
    _db.session.commit()

    assert Worker().run(burst=True) == 2
    assert seen == [first, second]
    assert _job(later).status == "queued"


def test_a_failing_job_is_retried_with_backoff_then_failed(app, make_app):
    job_id = enqueue("test.broken", {})
    _db.session.commit()
    base = app.config["JOBS_BACKOFF_SECONDS"]
    worker = Worker()

    for attempt in (1, 2, 3, 4):
        before = utcnow()
        outcome = worker.run_one()
        assert outcome.status == "retry"
        job = _job(job_id)
        assert job.status == "queued" and job.attempts == attempt
        wait = job.run_after - before
        assert timedelta(seconds=base * 2 ** (attempt - 1)) <= wait
        assert wait < timedelta(seconds=base * 2 ** (attempt - 1) + 5)
        assert f"the mail server said no ({attempt})" in (job.last_error or "")
        # Not due yet: nothing to claim.
        assert worker.run_one().status == "idle"
        job.run_after = utcnow() - timedelta(seconds=1)
        _db.session.commit()

    assert app.config["JOBS_MAX_ATTEMPTS"] == 5
    assert worker.run_one().status == "failed"
    job = _job(job_id)
    assert job.status == "failed" and job.attempts == 5 and job.finished_at is not None
    # The handler's own writes were rolled back every time.
    assert not any(key.startswith("broken-") for key in _notes())
    assert worker.run_one().status == "idle"


def test_a_job_without_a_handler_fails_like_any_error(app):
    job_id = enqueue("test.nobody-handles-this", {})
    _db.session.commit()
    assert Worker().run_one().status == "retry"
    assert "no handler for job kind" in (_job(job_id).last_error or "")


def test_the_error_kept_is_the_end_of_a_long_one():
    kept = queue.truncate("x" * 10_000 + "the cause")
    assert len(kept) == 2000 and kept.endswith("the cause")


def test_a_job_left_running_by_a_killed_worker_is_taken_again(app):
    job_id = enqueue("test.note", {})
    spent_id = enqueue("test.note", {})
    _db.session.commit()
    dead = queue.claim("dead-host:1:abc")
    assert dead is not None and dead.id == job_id
    dead_spent = queue.claim("dead-host:1:abc")
    assert dead_spent is not None and dead_spent.id == spent_id
    _db.session.execute(sa.update(Job).where(Job.id == spent_id).values(attempts=5))
    _db.session.commit()

    worker = Worker()
    worker.housekeeping(force=True)
    assert _job(job_id).status == "running"  # not stale yet: its worker may be alive

    _db.session.execute(sa.update(Job).values(locked_at=utcnow() - timedelta(seconds=601)))
    _db.session.commit()
    worker.housekeeping(force=True)
    job = _job(job_id)
    assert job.status == "queued" and job.locked_by is None
    assert "dead-host:1:abc" in (job.last_error or "")
    assert _job(spent_id).status == "failed"  # the try that killed its worker counted

    assert worker.run_one().job_id == job_id
    assert _job(job_id).status == "done" and _job(job_id).attempts == 2

    # The dead worker's claim is over: if it came back, its work would not be kept.
    assert not queue.mark_done(dead, "dead-host:1:abc")
    _db.session.rollback()


def test_done_jobs_are_purged_after_a_while_and_failures_kept(app, runner):
    old_done = enqueue("test.note", {})
    new_done = enqueue("test.note", {})
    old_failed = enqueue("test.broken", {})
    _db.session.commit()
    now = utcnow()
    _db.session.execute(
        sa.update(Job)
        .where(Job.id.in_([old_done, old_failed]))
        .values(
            status=sa.case((Job.id == old_done, "done"), else_="failed"),
            finished_at=now - timedelta(hours=25),
        )
    )
    _db.session.execute(
        sa.update(Job).where(Job.id == new_done).values(status="done", finished_at=now)
    )
    _db.session.commit()

    Worker().housekeeping(force=True)
    assert set(_db.session.scalars(sa.select(Job.id))) == {new_done, old_failed}

    result = runner.invoke(args=["worker", "purge", "--hours", "0", "--failed"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 jobs." in result.output
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_the_worker_command_runs_the_due_jobs_and_status_lists_failures(app, runner):
    ok = enqueue("test.note", {})
    bad = enqueue("test.broken", {})
    _db.session.commit()
    app.config["JOBS_MAX_ATTEMPTS"] = 1

    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "Ran 2 jobs." in result.output
    assert (_job(ok).status, _job(bad).status) == ("done", "failed")

    result = runner.invoke(args=["worker", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split() == ["test.broken", "failed", "1"] for line in lines)
    assert any(line.split() == ["test.note", "done", "1"] for line in lines)
    assert f"#{bad} test.broken after 1 tries" in result.output
    assert "RuntimeError: the mail server said no (1)" in result.output


def test_max_jobs_stops_the_worker(app, runner):
    for _ in range(3):
        enqueue("test.note", {})
    _db.session.commit()
    result = runner.invoke(args=["worker", "--max-jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "Ran 2 jobs." in result.output
    assert len(seen) == 2


def test_stopping_the_worker_lets_the_current_job_finish(app):
    enqueue("test.note", {"sleep": 0.5})
    enqueue("test.note", {})
    _db.session.commit()
    worker = Worker()
    ran: list[int] = []

    def run() -> None:
        with app.app_context():
            try:
                ran.append(worker.run())
            finally:
                _db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert ran == [1]
    statuses = sorted(_db.session.scalars(sa.select(Job.status)))
    assert statuses == ["done", "queued"]


def test_workers_never_run_one_job_twice(app):
    """Four workers with sessions of their own share the queue: on PostgreSQL by SKIP
    LOCKED, on SQLite (where one worker is advised) by the claim's guarded UPDATE."""
    ids = [enqueue("test.note", {"sleep": 0.005}) for _ in range(60)]
    _db.session.commit()
    counts: dict[str, Any] = {}
    start = threading.Barrier(4)

    def run(name: str) -> None:
        with app.app_context():
            try:
                start.wait(10)
                counts[name] = Worker(name=name).run(burst=True)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(seen) == ids  # each once
    assert sum(counts.values()) == 60
    assert sum(1 for ran in counts.values() if ran) >= 2  # they shared the queue
    assert set(_db.session.scalars(sa.select(Job.status))) == {"done"}
    assert {f"note-{i}" for i in ids} <= _notes()


@pytest.mark.postgres_only
def test_a_job_locked_by_another_worker_is_skipped_not_waited_for(app):
    first = enqueue("test.note", {})
    second = enqueue("test.note", {})
    _db.session.commit()
    with _db.engine.connect() as other:
        # Another worker's claim, mid-transaction: it holds the first job's row lock.
        other.execute(sa.select(Job.id).where(Job.id == first).with_for_update())
        _db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # waiting fails
        claimed = queue.claim("second-worker")
        assert claimed is not None and claimed.id == second
        other.rollback()
    assert _job(first).status == "queued"
