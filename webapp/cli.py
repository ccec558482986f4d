"""Operator commands: ``flask --app wsgi seed-demo``, ``users create`` and friends."""

from __future__ import annotations

import os

import click
from flask import Flask
from sqlalchemy import func, select

from webapp.demo.loader import DEMO_ACCOUNTS, load_demo
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.integrity_runner import integrity
from webapp.models import Comment, Role, User, utcnow
from webapp.services import accounts, names
from webapp.services import polls as poll_rules
from webapp.services.insights import counters as tone_counters
from webapp.services.insights.sentiment import rescore_comments


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(users)
    app.cli.add_command(polls)
    app.cli.add_command(sentiment)
    app.cli.add_command(integrity)
    from webapp.jobs.cli import worker  # the job runner's commands live with it

    app.cli.add_command(worker)
    from webapp.services.mail.cli import mail  # the outbox's commands live with it

    app.cli.add_command(mail)


@click.command("seed-demo")
def seed_demo() -> None:
    """Load the demo article, its poll and accounts to try them with (safe to re-run)."""

    report = load_demo()
    db.session.commit()
    if report.created_article:
        click.echo(f"Loaded the demo article: /articles/{report.article_slug}")
        talk = report.conversation
        if talk is not None:
            click.echo(
                f"  with its readers' conversation: {talk.votes} votes ({talk.moved_votes}"
                f" moved later), {talk.comments} comments ({talk.held_comments} held for"
                f" the moderators) and {talk.reactions} reactions from {talk.readers} readers"
            )
    else:
        click.echo("The demo article is already there; nothing changed.")
    click.echo("Demo accounts (change these passwords on any server others can reach):")
    for spec in DEMO_ACCOUNTS:
        click.echo(f"  {spec.role.value:<9} {spec.email:<26} password: {spec.password}")


@click.group()
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.READER.value,
    show_default=True,
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default=None, help="Display name (default: from email)")
@click.option(
    "--confirmed",
    is_flag=True,
    help="Count the address as confirmed (you know it is theirs): notification mail "
    "goes only to confirmed addresses.",
)
def create_user(
    email: str, role: str, password: str, display_name: str | None, confirmed: bool
) -> None:
    """Create an account with the given role."""

    try:
        user = accounts.create_user(email, password, Role(role), display_name)
    except DomainError as error:
        details = "; ".join(f"{k}: {v}" for k, v in (error.fields or {}).items())
        raise click.ClickException(f"{error.message} {details}".strip()) from error
    if confirmed:
        user.email_verified_at = utcnow()
    db.session.commit()
    state = "confirmed" if confirmed else "unconfirmed: they confirm it from their account page"
    click.echo(f"Created {user.role} {user.email} (id {user.id}; address {state}).")


@users.command("reskeleton")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Accounts updated and committed together.",
)
def reskeleton(batch_size: int) -> None:
    """Fill every account's name skeleton (the look-alike check's key) from its display
    name: after upgrading to it, or to new Unicode confusables data; safe to re-run."""

    total = db.session.scalar(select(func.count()).select_from(User)) or 0
    # The service commits each batch itself, so an interrupted run keeps its work.
    with click.progressbar(length=total, label="Checking names") as bar:
        changed = names.reskeleton_users(batch_size=batch_size, progress=bar.update)
    click.echo(f"Updated {changed} name skeleton{'' if changed == 1 else 's'} of {total} accounts.")


@click.group()
def polls() -> None:
    """Poll maintenance."""


@polls.command("recount")
@click.option("--poll", "poll_id", type=int, default=None, help="Only this poll (id).")
def recount(poll_id: int | None) -> None:
    """Rebuild the stored tallies from the vote rows and report any drift fixed."""

    drifts = poll_rules.recount(poll_id)
    db.session.commit()
    if not drifts:
        click.echo("Tallies match the votes; nothing to fix.")
        return
    for drift in drifts:
        click.echo(
            f"option {drift.option_id} {drift.count}: stored {drift.stored}, "
            f"counted {drift.counted}"
            f" (fixed, {drift.counted - drift.stored:+d})"
        )
    click.echo(f"Fixed {len(drifts)} drifted tall{'y' if len(drifts) == 1 else 'ies'}.")


@click.group()
def sentiment() -> None:
    """Comment sentiment maintenance."""


def _cpu_count() -> int:
    """The CPUs this process may run on (a container's or taskset's limit included)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@sentiment.command("rescore")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Comments scored and committed together.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes scoring in parallel (default: one per CPU; 1 scores in this process).",
)
@click.option(
    "--after-id",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Re-score only comments after this id: resumes a run that stopped, from the id"
    " it reported.",
)
def rescore(batch_size: int, workers: int | None, after_id: int) -> None:
    """Re-score every comment's sentiment (after changing the analyser); safe to interrupt.

    Batches are written in id order, each committed, and the bar shows the id done up
    to. A run that stops (Ctrl-C, a crash) says where; `--after-id ID` finishes the
    rest. Re-scoring writes only changed values, so rerunning from the start is also
    correct, just slower."""

    workers = workers or _cpu_count()
    after = select(func.count()).select_from(Comment).where(Comment.id > after_id)
    total = db.session.scalar(after) or 0
    done_up_to = after_id

    def finished(last_id: int) -> None:
        nonlocal done_up_to
        done_up_to = bar.current_item = last_id

    def shown(last_id: int | None) -> str | None:
        return f"up to id {last_id}" if last_id else None

    try:
        # The service commits each batch itself, so an interrupted run keeps its work.
        with click.progressbar(
            length=total,
            label=f"Re-scoring comments ({workers} worker{'' if workers == 1 else 's'})",
            item_show_func=shown,
        ) as bar:
            scored = rescore_comments(
                batch_size=batch_size,
                progress=bar.update,
                workers=workers,
                after_id=after_id,
                checkpoint=finished,
            )
    except BaseException:
        click.echo(
            f"Stopped. Comments up to id {done_up_to} are re-scored; to finish:"
            f" flask --app wsgi sentiment rescore --after-id {done_up_to}",
            err=True,
        )
        raise
    click.echo(f"Re-scored {scored} comment{'' if scored == 1 else 's'}.")


@sentiment.command("recount")
@click.option("--check", "check_only", is_flag=True, help="Report drift without fixing it.")
def recount_tone(check_only: bool) -> None:
    """Compare the tone counters and daily comment rollups with the comment rows,
    report every drift and set it right (safe to re-run; reads every comment)."""

    drifts = tone_counters.recount(fix=not check_only)
    db.session.commit()
    if not drifts:
        click.echo("Tone counters match the comments; nothing to fix.")
        return
    for drift in drifts:
        click.echo(drift.describe() + ("" if check_only else " (fixed)"))
    rows = f"{len(drifts)} drifted counter row{'' if len(drifts) == 1 else 's'}"
    if check_only:
        click.echo(f"Found {rows}; run without --check to fix them.")
        raise SystemExit(1)
    click.echo(f"Fixed {rows}.")


@sentiment.command("evaluate")
def evaluate_on_corrections() -> None:
    """Measure the configured analyser on the moderators' tone corrections: each
    corrected text scored afresh (with its article's topic words) against the
    moderator's latest label: accuracy, macro-F1 and the confusion matrix."""
    from webapp.services.insights import corrections
    from webapp.services.insights.sentiment import LABELS

    found = corrections.evaluate()
    if not found.count:
        click.echo(
            f"No tone corrections yet: nothing to measure {found.analyser} on. Moderators "
            "correct a comment's tone from the moderation queue."
        )
        return
    click.echo(f"Analyser: {found.analyser}")
    click.echo(f"Corrected comments: {found.count}")
    click.echo(f"Accuracy: {found.accuracy:.3f}")
    click.echo(f"Macro-F1: {found.macro_f1:.3f}")
    click.echo("Confusion matrix (rows: moderators' label; columns: analyser's label):")
    width = max(len(label) for label in LABELS) + 2
    click.echo(" " * width + "".join(label.rjust(width) for label in LABELS))
    for true in LABELS:
        row = "".join(str(found.confusion[true][predicted]).rjust(width) for predicted in LABELS)
        click.echo(true.ljust(width) + row)
