"""``flask --app wsgi mail``: list, retry and purge the outbox; send a test message."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app

from webapp.extensions import db
from webapp.services.mail import manage
from webapp.services.mail.outbox import enqueue
from webapp.services.mail.smtp import SmtpUrlError, parse_smtp_url


@click.group("mail")
def mail() -> None:
    """The mail outbox: every message Pulse sends, delivered by the worker."""


@mail.command("list")
@click.option("--status", "statuses", type=click.Choice(manage.STATUSES), multiple=True,
              help="Only these (repeat for several); all by default.")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--body", is_flag=True, help="Print each message's text too.")
def list_messages(statuses: tuple[str, ...], limit: int, body: bool) -> None:
    """The newest messages first: id, status, attempts, kind, address, subject."""
    counts = manage.counts()
    click.echo(", ".join(f"{status} {counts[status]}" for status in manage.STATUSES))
    for message in manage.listing(statuses, limit):
        when = message.sent_at or message.next_attempt_at
        click.echo(
            f"#{message.id} {message.status} attempts={message.attempts} "
            f"{when:%Y-%m-%d %H:%M:%S} {message.kind} {message.to_address} "
            f"{message.subject!r}"
        )
        if message.last_error:
            click.echo(f"    error: {message.last_error}")
        if body:
            click.echo("    " + message.text_body.replace("\n", "\n    "))


@mail.command("retry")
@click.argument("ids", type=int, nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="Every failed message.")
def retry(ids: tuple[int, ...], all_failed: bool) -> None:
    """Send failed (or waiting) messages again, attempts counted from zero."""
    if not ids and not all_failed:
        raise click.UsageError("name message ids, or --failed")
    changed = manage.retry(ids, all_failed=all_failed)
    db.session.commit()
    click.echo(f"{len(changed)} message(s) queued again: {', '.join(map(str, changed)) or '-'}")
    missing = sorted(set(ids) - set(changed))
    if missing:
        click.echo(f"not failed or pending (left alone): {', '.join(map(str, missing))}")


@mail.command("purge")
@click.option("--sent-older-than", "days", type=click.FloatRange(min=0), default=30.0,
              show_default=True, help="Days since it was sent (or logged).")  # fmt: skip
def purge(days: float) -> None:
    """Delete messages sent longer ago than that; failed and pending ones stay."""
    deleted = manage.purge(timedelta(days=days))
    db.session.commit()
    click.echo(f"{deleted} sent message(s) purged")


@mail.command("send-test")
@click.argument("address")
def send_test(address: str) -> None:
    """Put a test message to ADDRESS in the outbox (the worker sends it)."""
    smtp_url = current_app.config.get("SMTP_URL")
    if smtp_url:
        try:
            where = parse_smtp_url(
                smtp_url, ca_file=current_app.config.get("SMTP_CA_FILE")
            ).describe()
        except SmtpUrlError as error:
            raise click.ClickException(str(error)) from error
    else:
        where = "the log (SMTP_URL is not set)"
    message = enqueue(
        kind="test",
        to=address,
        subject="Pulse test message",
        text="This is a test message from Pulse: mail delivery works.\n",
    )
    db.session.commit()
    click.echo(f"message #{message.id} queued for {address}; the worker sends it to {where}")
