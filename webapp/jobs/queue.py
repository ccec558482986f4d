"""The queue's operations on the ``jobs`` table: enqueue (in the caller's transaction),
and, for the worker, claim, finish, fail, reclaim and purge (each its own transaction).

Claiming: on PostgreSQL the next due job is read ``FOR UPDATE SKIP LOCKED`` and marked
running in the same transaction, so any number of workers take different jobs and
never wait for each other. On SQLite run one worker (the database has one writer at a
time anyway); the claim is still an ``UPDATE ... WHERE id = ? AND status = 'queued'``,
so two workers there cannot both take one job either, one of them just finds nothing.

Every statement that reads due or running jobs repeats the partial indexes' conditions
as literal SQL (``webapp.models.jobs``): SQLite uses a partial index only then.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import CursorResult

from webapp.extensions import db
from webapp.jobs.registry import RunningJob
from webapp.models import utcnow
from webapp.models.jobs import FINISHED, LAST_ERROR_CHARS, QUEUED, RUNNING, Job, JobStatus

log = logging.getLogger(__name__)

_JOBS = Job.__table__
_INSERT = _JOBS.insert()


def enqueue(kind: str, payload: dict[str, Any], *, run_after: datetime | None = None) -> int:
    """Queue a ``kind`` job in the caller's transaction (no commit): it exists exactly
    when its cause is committed, and goes with it on a rollback. One INSERT; its id.

    ``payload`` must be JSON (checked here, so a bad one fails at its cause, not in the
    worker); ``run_after`` (aware) delays it."""
    if not kind or len(kind) > 64:
        raise ValueError("a job kind is 1 to 64 characters")
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"a job's payload must be JSON: {error}") from error
    now = utcnow()
    result = cast(
        CursorResult[Any],
        db.session.execute(
            _INSERT,
            {
                "kind": kind,
                "payload": payload,
                "status": JobStatus.QUEUED.value,
                "attempts": 0,
                "run_after": run_after or now,
                "locked_at": None,
                "locked_by": None,
                "last_error": None,
                "created_at": now,
                "finished_at": None,
            },
        ),
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def claim(worker: str, now: datetime | None = None) -> RunningJob | None:
    """Take the next due job for ``worker`` and mark it running (one more attempt), in
    a transaction of its own, committed; None when nothing is due."""
    now = now or utcnow()
    due = (
        sa.select(_JOBS.c.id)
        .where(sa.text(QUEUED), _JOBS.c.run_after <= now)
        .order_by(_JOBS.c.run_after, _JOBS.c.id)
        .limit(1)
    )
    if _is_postgres():
        due = due.with_for_update(skip_locked=True)
    row = None
    # A job another worker took between the read and the UPDATE (possible only
    # without SKIP LOCKED) is skipped: read the next one, a few times at most.
    for _ in range(5):
        try:
            job_id = db.session.scalar(due)
            if job_id is not None:
                row = db.session.execute(
                    sa.update(_JOBS)
                    .where(_JOBS.c.id == job_id, sa.text(QUEUED))
                    .values(
                        status=JobStatus.RUNNING.value,
                        attempts=_JOBS.c.attempts + 1,
                        locked_at=now,
                        locked_by=worker,
                    )
                    .returning(_JOBS.c.id, _JOBS.c.kind, _JOBS.c.payload, _JOBS.c.attempts)
                ).first()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        if job_id is None or row is not None:
            break
    if row is None:
        return None
    return RunningJob(id=row.id, kind=row.kind, payload=dict(row.payload), attempts=row.attempts)


def _ours(job: RunningJob, worker: str) -> sa.ColumnElement[bool]:
    """The job is still running under this worker's claim (a reclaim ends it)."""
    return sa.and_(
        _JOBS.c.id == job.id,
        _JOBS.c.status == JobStatus.RUNNING.value,
        _JOBS.c.locked_by == worker,
        _JOBS.c.attempts == job.attempts,
    )


def mark_done(job: RunningJob, worker: str, now: datetime | None = None) -> bool:
    """Mark a claimed job done in the current transaction (with its handler's writes);
    the caller commits. False when the claim was lost meanwhile (the job ran past
    JOBS_STALE_SECONDS and was reclaimed): then roll back, the next taker does it."""
    result = cast(
        CursorResult[Any],
        db.session.execute(
            sa.update(_JOBS)
            .where(_ours(job, worker))
            .values(
                status=JobStatus.DONE.value,
                finished_at=now or utcnow(),
                locked_at=None,
                locked_by=None,
            )
        ),
    )
    return result.rowcount == 1


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """The wait after the ``attempts``-th failed try: base, 2 x base, 4 x base, ..."""
    return timedelta(seconds=base_seconds * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Failure:
    retry_at: datetime | None  # None: failed for good


def mark_failed(
    job: RunningJob,
    worker: str,
    error: str,
    *,
    max_attempts: int,
    backoff_seconds: float,
    now: datetime | None = None,
) -> Failure | None:
    """Record a failed try in a transaction of its own (the handler's was rolled
    back): queued again after the backoff, or failed once ``max_attempts`` tries are
    spent. None when the claim was lost meanwhile."""
    now = now or utcnow()
    final = job.attempts >= max_attempts
    retry_at = None if final else now + backoff(job.attempts, backoff_seconds)
    values: dict[str, Any] = {
        "locked_at": None,
        "locked_by": None,
        "last_error": truncate(error),
    }
    if final:
        values.update(status=JobStatus.FAILED.value, finished_at=now)
    else:
        values.update(status=JobStatus.QUEUED.value, run_after=retry_at)
    try:
        result = cast(
            CursorResult[Any],
            db.session.execute(sa.update(_JOBS).where(_ours(job, worker)).values(**values)),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if result.rowcount != 1:
        return None
    return Failure(retry_at=retry_at)


def truncate(error: str) -> str:
    """The end of an error (a traceback's last lines say most), at most LAST_ERROR_CHARS."""
    if len(error) <= LAST_ERROR_CHARS:
        return error
    return "..." + error[-(LAST_ERROR_CHARS - 3) :]


def reclaim_stale(stale_seconds: float, max_attempts: int, now: datetime | None = None) -> int:
    """Put back the jobs left running longer than ``stale_seconds`` (their worker was
    killed): queued again at once, or failed when their tries are spent (the try that
    killed the worker counted). Its own transaction; how many."""
    now = now or utcnow()
    spent = _JOBS.c.attempts >= max_attempts
    try:
        result = cast(
            CursorResult[Any],
            db.session.execute(
                sa.update(_JOBS)
                .where(sa.text(RUNNING), _JOBS.c.locked_at < now - timedelta(seconds=stale_seconds))
                .values(
                    status=sa.case((spent, JobStatus.FAILED.value), else_=JobStatus.QUEUED.value),
                    finished_at=sa.case((spent, now), else_=None),
                    run_after=now,
                    last_error=sa.literal("reclaimed: its worker stopped while running it (")
                    + sa.func.coalesce(_JOBS.c.locked_by, "?")
                    + sa.literal(")"),
                    locked_at=None,
                    locked_by=None,
                )
            ),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if result.rowcount:
        log.warning("jobs: reclaimed %s job(s) left running by a stopped worker", result.rowcount)
    return int(result.rowcount)


def purge(
    older_than: timedelta,
    *,
    statuses: tuple[JobStatus, ...] = (JobStatus.DONE,),
    now: datetime | None = None,
    batch_size: int = 1000,
) -> int:
    """Delete jobs in ``statuses`` finished before ``now - older_than``, a batch per
    transaction (a long DELETE would keep SQLite's writers waiting); how many."""
    cutoff = (now or utcnow()) - older_than
    names = [status.value for status in statuses]
    deleted = 0
    while True:
        batch = (
            sa.select(_JOBS.c.id)
            .where(sa.text(FINISHED), _JOBS.c.status.in_(names), _JOBS.c.finished_at < cutoff)
            .limit(batch_size)
            .scalar_subquery()
        )
        try:
            result = cast(
                CursorResult[Any], db.session.execute(sa.delete(_JOBS).where(_JOBS.c.id.in_(batch)))
            )
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        deleted += result.rowcount
        if result.rowcount < batch_size:
            return deleted


@dataclass(frozen=True)
class KindCount:
    kind: str
    status: str
    count: int


def counts() -> list[KindCount]:
    """How many jobs of each kind are in each status (the status listing)."""
    rows = db.session.execute(
        sa.select(_JOBS.c.kind, _JOBS.c.status, sa.func.count())
        .group_by(_JOBS.c.kind, _JOBS.c.status)
        .order_by(_JOBS.c.kind, _JOBS.c.status)
    ).all()
    return [KindCount(kind, status, int(count)) for kind, status, count in rows]


def latest_failures(limit: int = 10) -> list[Job]:
    """The jobs that failed for good, newest first."""
    return list(
        db.session.scalars(
            sa.select(Job)
            .where(sa.text(FINISHED), Job.status == JobStatus.FAILED.value)
            .order_by(Job.finished_at.desc())
            .limit(limit)
        )
    )
