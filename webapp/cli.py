"""Operator commands: ``flask --app wsgi seed-demo``, ``users create`` and friends."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from webapp.demo.loader import DEMO_ACCOUNTS, load_demo
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.models import Comment, Role, User
from webapp.services import accounts, names
from webapp.services import polls as poll_rules
from webapp.services.insights.sentiment import rescore_comments


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(users)
    app.cli.add_command(polls)
    app.cli.add_command(sentiment)


@click.command("seed-demo")
def seed_demo() -> None:
    """Load the demo article, its poll and accounts to try them with (safe to re-run)."""

    report = load_demo()
    db.session.commit()
    if report.created_article:
        click.echo(f"Loaded the demo article: /articles/{report.article_slug}")
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
def create_user(email: str, role: str, password: str, display_name: str | None) -> None:
    """Create an account with the given role."""

    try:
        user = accounts.create_user(email, password, Role(role), display_name)
    except DomainError as error:
        details = "; ".join(f"{k}: {v}" for k, v in (error.fields or {}).items())
        raise click.ClickException(f"{error.message} {details}".strip()) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


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
            f"option {drift.option_id}: stored {drift.stored}, counted {drift.counted}"
            f" (fixed, {drift.counted - drift.stored:+d})"
        )
    click.echo(f"Fixed {len(drifts)} drifted tall{'y' if len(drifts) == 1 else 'ies'}.")


@click.group()
def sentiment() -> None:
    """Comment sentiment maintenance."""


@sentiment.command("rescore")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Comments scored and committed together.",
)
def rescore(batch_size: int) -> None:
    """Re-score every comment's sentiment (after changing the analyser); safe to interrupt."""

    total = db.session.scalar(select(func.count()).select_from(Comment)) or 0
    # The service commits each batch itself, so an interrupted run keeps its work.
    with click.progressbar(length=total, label="Re-scoring comments") as bar:
        scored = rescore_comments(batch_size=batch_size, progress=bar.update)
    click.echo(f"Re-scored {scored} comment{'' if scored == 1 else 's'}.")
