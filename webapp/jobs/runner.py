"""The worker's loop: claim one due job at a time, run its handler, record the outcome.

``flask --app wsgi worker`` runs it (webapp/jobs/cli.py). Each job is claimed in a
transaction of its own (webapp/jobs/queue.py), then its handler runs and its writes are
committed together with the "done" mark; when the handler raises, its writes are rolled
back and the failure is recorded in a transaction of its own (retried with backoff,
failed after JOBS_MAX_ATTEMPTS). Between jobs it reclaims jobs a killed worker left
running and, now and then, purges old done jobs. SIGTERM and SIGINT let the current
job finish, then the loop ends.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType
from typing import Any

from flask import current_app

from webapp.extensions import db
from webapp.jobs import queue
from webapp.jobs.registry import handler_for, load_handlers, periodic_chores

log = logging.getLogger(__name__)

#: How often the loop looks for jobs a killed worker left running, and purges.
RECLAIM_EVERY_SECONDS = 30.0
PURGE_EVERY_SECONDS = 600.0


def worker_name() -> str:
    """host:pid:random, unique per worker even across containers with equal pids."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def summary(error: BaseException) -> str:
    """The error's type and the first line of its message."""
    lines = traceback.format_exception_only(type(error), error)[-1].strip().splitlines()
    return lines[0] if lines else type(error).__name__


@dataclass
class Outcome:
    """What one ``run_one`` did: nothing due, or a job and how it ended."""

    job_id: int | None = None
    kind: str | None = None
    status: str = "idle"  # idle | done | retry | failed | lost


@dataclass
class Worker:
    """One worker in an app context. ``stop`` ends ``run`` after the current job."""

    name: str = field(default_factory=worker_name)
    stop: threading.Event = field(default_factory=threading.Event)
    _last_reclaim: float = float("-inf")
    _last_purge: float = float("-inf")
    # When each periodic chore (registry.periodic) last ran, by name.
    _last_chores: dict[str, float] = field(default_factory=dict)

    def settings(self, name: str) -> Any:
        return current_app.config[name]

    def run_one(self) -> Outcome:
        """Claim and run one due job, if any."""
        job = queue.claim(self.name)
        if job is None:
            return Outcome()
        started = time.perf_counter()
        status = "done"
        error: str | None = None
        try:
            handler_for(job.kind)(job)
            if queue.mark_done(job, self.name):
                db.session.commit()
            else:
                db.session.rollback()
                status = "lost"
        except Exception as raised:
            db.session.rollback()
            # The whole traceback, then the error's own first line (what status and the
            # log show; a long error keeps its end).
            error = traceback.format_exc() + summary(raised)
            failure = queue.mark_failed(
                job,
                self.name,
                error,
                max_attempts=int(self.settings("JOBS_MAX_ATTEMPTS")),
                backoff_seconds=float(self.settings("JOBS_BACKOFF_SECONDS")),
            )
            if failure is None:
                status = "lost"
            else:
                status = "failed" if failure.retry_at is None else "retry"
        except BaseException:
            # KeyboardInterrupt or SystemExit mid-job: nothing of the handler's is
            # kept; the job stays running until it is reclaimed as stale.
            db.session.rollback()
            raise
        elapsed_ms = (time.perf_counter() - started) * 1000
        last_line = (error or "").strip().splitlines()[-1:] or [""]
        message = "job %s %s: %s in %.0f ms (try %s)%s"
        arguments = (job.id, job.kind, status, elapsed_ms, job.attempts)
        suffix = f": {last_line[0]}" if error else ""
        if status == "done":
            log.info(message, *arguments, suffix)
        elif status == "lost":
            log.warning(message + " (its claim was reclaimed meanwhile; not kept)", *arguments, "")
        else:
            log.warning(message, *arguments, suffix)
        return Outcome(job_id=job.id, kind=job.kind, status=status)

    def housekeeping(self, force: bool = False) -> None:
        """Reclaim stale running jobs and purge old done ones, each at most so often."""
        now = time.monotonic()
        if force or now - self._last_reclaim >= RECLAIM_EVERY_SECONDS:
            self._last_reclaim = now
            queue.reclaim_stale(
                float(self.settings("JOBS_STALE_SECONDS")), int(self.settings("JOBS_MAX_ATTEMPTS"))
            )
        for chore in periodic_chores():
            if (
                force
                or now - self._last_chores.get(chore.name, float("-inf")) >= chore.every_seconds
            ):
                self._last_chores[chore.name] = now
                try:
                    chore.function()
                except Exception:
                    # Another worker took the same rows, say: this run is lost, not the next.
                    log.exception("jobs: the periodic chore %s failed", chore.name)
                    db.session.rollback()
        keep_hours = float(self.settings("JOBS_KEEP_DONE_HOURS"))
        if keep_hours > 0 and (force or now - self._last_purge >= PURGE_EVERY_SECONDS):
            self._last_purge = now
            purged = queue.purge(timedelta(hours=keep_hours))
            if purged:
                log.info("jobs: purged %s done job(s) older than %s h", purged, keep_hours)

    def run(self, *, burst: bool = False, max_jobs: int | None = None) -> int:
        """Run jobs until stopped (or, with ``burst``, until none is due; or after
        ``max_jobs``); how many ran."""
        load_handlers()
        poll = float(self.settings("JOBS_POLL_SECONDS"))
        ran = 0
        log.info("jobs: worker %s started", self.name)
        self.housekeeping(force=True)
        while not self.stop.is_set():
            if max_jobs is not None and ran >= max_jobs:
                break
            try:
                self.housekeeping()
                outcome = self.run_one()
            except Exception:
                # The database away, say: log, wait, try again (a job's own errors
                # are caught in run_one).
                log.exception("jobs: the worker's loop failed; trying again")
                db.session.rollback()
                db.session.remove()
                if burst:
                    raise
                self.stop.wait(max(poll, 1.0))
                continue
            if outcome.job_id is not None:
                ran += 1
                continue
            if burst:
                break
            self.stop.wait(poll)
        log.info("jobs: worker %s stopped after %s job(s)", self.name, ran)
        return ran


@contextmanager
def stop_on_signals(worker: Worker) -> Iterator[None]:
    """SIGTERM and SIGINT set ``worker.stop``: the job running finishes, then the loop
    ends. Main thread only (where Python delivers signals); elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("jobs: %s received; stopping after the current job", signal.Signals(signum).name)
        worker.stop.set()

    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}
    for received in (signal.SIGTERM, signal.SIGINT):
        previous[received] = signal.getsignal(received)
        signal.signal(received, stop)
    try:
        yield
    finally:
        for received, handler in previous.items():
            signal.signal(received, handler if handler is not None else signal.SIG_DFL)
