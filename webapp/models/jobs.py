"""The job queue's table: work written in the same transaction as its cause and run
later by ``flask --app wsgi worker`` (webapp/jobs/)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: The longest ``last_error`` kept: a traceback's last lines, not a log file.
LAST_ERROR_CHARS = 2000


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Names the handler (webapp.jobs.registry), e.g. "sentiment.refine".
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default=JobStatus.QUEUED.value)
    # Tries started (counted when claimed, so a job that kills its worker runs out too).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Not claimed before this moment: when enqueued, or the backoff after a failure.
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    locked_at: Mapped[datetime | None]
    # "host:pid" of the worker running it, for the status listing and the logs.
    locked_by: Mapped[str | None] = mapped_column(sa.String(128))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


# The next due job is the first entry of this index: it holds queued jobs alone, in the
# order they fall due (the claim's WHERE repeats the condition: SQLite uses a partial
# index only then).
QUEUED = "status = 'queued'"
sa.Index(
    "ix_jobs_due",
    Job.run_after,
    Job.id,
    postgresql_where=sa.text(QUEUED),
    sqlite_where=sa.text(QUEUED),
)
# Running jobs by when they were claimed: the reclaim of a dead worker's jobs.
RUNNING = "status = 'running'"
sa.Index(
    "ix_jobs_running",
    Job.locked_at,
    postgresql_where=sa.text(RUNNING),
    sqlite_where=sa.text(RUNNING),
)
# Finished jobs by status and time: the purge of old done jobs, the latest failures.
# Partial, so enqueueing (on the posting path) adds no entry to it.
FINISHED = "finished_at IS NOT NULL"
sa.Index(
    "ix_jobs_finished",
    Job.status,
    Job.finished_at,
    postgresql_where=sa.text(FINISHED),
    sqlite_where=sa.text(FINISHED),
)
