"""``flask --app wsgi worker``: run queued jobs; ``worker status`` and ``worker purge``
for operators."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app

from webapp.extensions import db
from webapp.jobs import queue
from webapp.jobs.runner import Worker, stop_on_signals
from webapp.models.jobs import JobStatus


@click.group("worker", invoke_without_command=True)
@click.option(
    "--once",
    "--burst",
    "burst",
    is_flag=True,
    help="Run the jobs that are due, then exit (instead of waiting for more).",
)
@click.option(
    "--max-jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Exit after running this many jobs.",
)
@click.pass_context
def worker(ctx: click.Context, burst: bool, max_jobs: int | None) -> None:
    """Run queued jobs (background sentiment refinement, and later mail) until stopped.

    One job at a time; run several workers for more (PostgreSQL), one on SQLite.
    SIGTERM or Ctrl-C lets the current job finish, then exits. Settings:
    JOBS_POLL_SECONDS, JOBS_MAX_ATTEMPTS, JOBS_BACKOFF_SECONDS, JOBS_STALE_SECONDS,
    JOBS_KEEP_DONE_HOURS."""
    if ctx.invoked_subcommand is not None:
        return
    runner = Worker()
    with stop_on_signals(runner):
        ran = runner.run(burst=burst, max_jobs=max_jobs)
    if burst or max_jobs is not None:
        click.echo(f"Ran {ran} job{'' if ran == 1 else 's'}.")


@worker.command("status")
@click.option("--failures", type=click.IntRange(min=0), default=10, show_default=True)
def status(failures: int) -> None:
    """Jobs by kind and status, and the latest that failed for good."""
    counts = queue.counts()
    db.session.commit()
    if not counts:
        click.echo("No jobs.")
    else:
        click.echo(f"{'kind':<28} {'status':<8} {'jobs':>8}")
        for row in counts:
            click.echo(f"{row.kind:<28} {row.status:<8} {row.count:>8}")
    failed = queue.latest_failures(failures) if failures else []
    db.session.commit()
    if failed:
        click.echo("Latest failures:")
        for job in failed:
            last = (job.last_error or "").strip().splitlines()[-1:] or ["(no error kept)"]
            when = job.finished_at.isoformat(timespec="seconds") if job.finished_at else "?"
            click.echo(f"  #{job.id} {job.kind} after {job.attempts} tries, {when}: {last[0]}")


@worker.command("purge")
@click.option(
    "--hours",
    type=click.FloatRange(min=0),
    default=None,
    help="Delete jobs finished longer ago than this (default JOBS_KEEP_DONE_HOURS).",
)
@click.option("--failed", is_flag=True, help="Delete failed jobs too, not only done ones.")
def purge(hours: float | None, failed: bool) -> None:
    """Delete finished jobs (safe to re-run)."""
    keep = float(current_app.config["JOBS_KEEP_DONE_HOURS"]) if hours is None else hours
    statuses = (JobStatus.DONE, JobStatus.FAILED) if failed else (JobStatus.DONE,)
    deleted = queue.purge(timedelta(hours=keep), statuses=statuses)
    click.echo(f"Deleted {deleted} job{'' if deleted == 1 else 's'}.")
