"""Delivering the outbox: a chore of the job worker (``flask --app wsgi worker``) that
takes the due messages and sends them over SMTP, every couple of seconds.

One pass (``deliver_due``):

1. **Claim**, in a short transaction: up to MAIL_BATCH pending messages whose time
   has come, plus "sending" ones whose claim is older than MAIL_STALE_SECONDS and
   whose attempt never began (a worker that died before it got to them). On
   PostgreSQL they are read ``FOR UPDATE SKIP LOCKED``, so several workers take
   different messages and never wait for each other; SQLite runs one worker, and the
   claim's guarded UPDATE still keeps a second from taking a message the first holds.
   They are marked "sending" under this worker's name, and committed.
2. **Each message**, outside any transaction while talking to the server:
   - its attempt is *begun* in a tiny transaction (``attempt_started_at``, one more
     attempt), only if this worker still holds it;
   - it is sent;
   - it is marked "sent", or "pending" again after a backoff (MAIL_RETRY_SECONDS x
     2^(attempts-1), plus up to a tenth more so that a burst does not come back as a
     burst), or "failed" after MAIL_MAX_ATTEMPTS.

What is sent twice, and what never: a message whose attempt began and then nothing
was recorded (the worker was killed between the server's "250 OK" and the "sent"
mark, or in the middle of the conversation) may or may not have been delivered.
Pulse does not send it again by itself: after MAIL_STALE_SECONDS it is marked
"failed" saying so, and an admin retries it (``flask mail retry`` or /admin/mail)
after a look. So each attempt is at most once; a message is never silently dropped
(it is sent, or pending, or failed where admins see it). A message retried by hand is
sent with the same Message-ID, which lets receivers that de-duplicate recognise it.

Permanent errors: a recipient the server refuses with a 5xx code, and a message that
cannot be written (a line break in a header, a bad address), fail at once: a later
attempt would get the same answer. Everything else (the server away, 4xx answers,
refused sign-in, a 5xx to the sender or the content) is retried to the limit, since a
fixed setting makes it go.

Without SMTP_URL (development) each message is written to the log at INFO instead
and kept with the status "logged" (``flask mail list --status logged`` shows it).
"""

from __future__ import annotations

import logging
import os
import random
import smtplib
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import CursorResult

from webapp.extensions import db
from webapp.jobs.registry import periodic
from webapp.jobs.runner import summary, worker_name
from webapp.models import utcnow
from webapp.models.mail import MailStatus, OutboxMessage
from webapp.services.mail.smtp import (
    Letter,
    SmtpConnectionError,
    SmtpSettings,
    build_message,
    connect,
    envelope_sender,
    parse_smtp_url,
)

log = logging.getLogger(__name__)

#: How often the worker looks for due mail, seconds.
DELIVER_EVERY_SECONDS = 2.0
#: The longest last_error kept.
LAST_ERROR_CHARS = 2000
#: The SQL of the due index's condition (SQLite uses a partial index only when a query
#: repeats it literally).
_PENDING = sa.text("status = 'pending'")
_OUTBOX = OutboxMessage.__table__
UNKNOWN_OUTCOME = (
    "the worker stopped during this attempt (after it began, before its outcome was "
    "recorded): it may have been delivered, so it is not sent again by itself; retry "
    "it if it did not arrive"
)

_workers: dict[tuple[int, int], str] = {}


def this_worker() -> str:
    """This worker's name in claims: one per process (a new one after a fork) and
    thread (the tests run two workers as threads)."""
    key = (os.getpid(), threading.get_ident())
    name = _workers.get(key)
    if name is None:
        name = _workers[key] = f"mail:{worker_name()}"
    return name


@dataclass
class PassReport:
    """What one pass did, by message id."""

    sent: list[int] = field(default_factory=list)
    logged: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # taken over by another worker

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.logged) + len(self.retrying) + len(self.failed)


def _config(name: str) -> Any:
    return current_app.config[name]


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _truncate(error: str) -> str:
    if len(error) <= LAST_ERROR_CHARS:
        return error
    return error[: LAST_ERROR_CHARS - 3] + "..."


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2 x base, 4 x base, ...
    plus up to a tenth more at random."""
    seconds = base_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=seconds * (1 + random.uniform(0, 0.1)))  # noqa: S311  # nosec B311 (jitter, not a secret)


def abandon_unknown(now: datetime, stale_before: datetime) -> list[int]:
    """Mark failed the messages whose attempt began before ``stale_before`` and never
    ended (their worker died mid-attempt); the caller commits."""
    result = db.session.execute(
        sa.update(_OUTBOX)
        .where(
            _OUTBOX.c.status == MailStatus.SENDING.value,
            _OUTBOX.c.attempt_started_at.is_not(None),
            _OUTBOX.c.attempt_started_at < stale_before,
        )
        .values(
            status=MailStatus.FAILED.value,
            last_error=UNKNOWN_OUTCOME,
            claimed_by=None,
            claimed_at=None,
            attempt_started_at=None,
        )
        .returning(_OUTBOX.c.id)
    )
    ids = [row.id for row in result]
    for message_id in ids:
        log.warning("mail: message %s: %s", message_id, UNKNOWN_OUTCOME)
    return ids


def claim(worker: str, now: datetime, batch: int, stale_seconds: float) -> list[int]:
    """Take up to ``batch`` due messages for ``worker`` (marked "sending"), committed;
    their ids in order."""
    stale_before = now - timedelta(seconds=stale_seconds)
    due = (
        sa.select(_OUTBOX.c.id)
        .where(_PENDING, _OUTBOX.c.next_attempt_at <= now)
        .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
        .limit(batch)
    )
    stale = (
        sa.select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.status == MailStatus.SENDING.value,
            _OUTBOX.c.attempt_started_at.is_(None),
            _OUTBOX.c.claimed_at < stale_before,
        )
        .order_by(_OUTBOX.c.id)
        .limit(batch)
    )
    if _is_postgres():
        due = due.with_for_update(skip_locked=True)
        stale = stale.with_for_update(skip_locked=True)
    try:
        abandon_unknown(now, stale_before)
        candidates = list(db.session.scalars(stale)) + list(db.session.scalars(due))
        claimed: list[int] = []
        if candidates:
            # Guarded: a message another worker took between the read and this UPDATE
            # (possible only without SKIP LOCKED, on SQLite) is not taken again.
            result = db.session.execute(
                sa.update(_OUTBOX)
                .where(
                    _OUTBOX.c.id.in_(candidates[:batch]),
                    sa.or_(
                        _OUTBOX.c.status == MailStatus.PENDING.value,
                        sa.and_(
                            _OUTBOX.c.status == MailStatus.SENDING.value,
                            _OUTBOX.c.attempt_started_at.is_(None),
                            _OUTBOX.c.claimed_at < stale_before,
                        ),
                    ),
                )
                .values(status=MailStatus.SENDING.value, claimed_by=worker, claimed_at=now)
                .returning(_OUTBOX.c.id)
            )
            claimed = sorted(row.id for row in result)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return claimed


def _ours(message_id: int, worker: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        _OUTBOX.c.id == message_id,
        _OUTBOX.c.status == MailStatus.SENDING.value,
        _OUTBOX.c.claimed_by == worker,
    )


def begin_attempt(message_id: int, worker: str, now: datetime) -> tuple[Letter, int] | None:
    """Record that this attempt begins (committed before a byte goes to the server)
    and read the message; None when another worker took it over meanwhile."""
    try:
        result = cast(
            CursorResult[Any],
            db.session.execute(
                sa.update(_OUTBOX)
                .where(_ours(message_id, worker), _OUTBOX.c.attempt_started_at.is_(None))
                .values(attempt_started_at=now, attempts=_OUTBOX.c.attempts + 1)
            ),
        )
        row = None
        if result.rowcount == 1:
            row = db.session.execute(sa.select(_OUTBOX).where(_OUTBOX.c.id == message_id)).one()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if row is None:
        return None
    letter = Letter(
        id=row.id,
        kind=row.kind,
        to_address=row.to_address,
        subject=row.subject,
        text_body=row.text_body,
        html_body=row.html_body,
        headers=dict(row.headers or {}),
        message_id=row.message_id,
        created_at=row.created_at,
    )
    return letter, int(row.attempts)


def _finish(message_id: int, worker: str, values: dict[str, Any]) -> bool:
    values = {"claimed_by": None, "claimed_at": None, "attempt_started_at": None, **values}
    try:
        result = cast(
            CursorResult[Any],
            db.session.execute(sa.update(_OUTBOX).where(_ours(message_id, worker)).values(values)),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result.rowcount == 1


def mark_sent(message_id: int, worker: str, now: datetime, status: str = "sent") -> bool:
    return _finish(message_id, worker, {"status": status, "sent_at": now, "last_error": None})


def mark_attempt_failed(
    message_id: int, worker: str, attempts: int, error: str, now: datetime, *, permanent: bool
) -> str:
    """Pending again after the backoff, or failed (at the limit, or ``permanent``):
    which of the two."""
    if permanent or attempts >= int(_config("MAIL_MAX_ATTEMPTS")):
        values: dict[str, Any] = {"status": MailStatus.FAILED.value}
    else:
        delay = retry_delay(attempts, float(_config("MAIL_RETRY_SECONDS")))
        values = {"status": MailStatus.PENDING.value, "next_attempt_at": now + delay}
    values["last_error"] = _truncate(error)
    _finish(message_id, worker, values)
    return str(values["status"])


def release(message_id: int, worker: str) -> None:
    """Give back a claimed message whose attempt has not begun (pending, due now)."""
    _finish(message_id, worker, {"status": MailStatus.PENDING.value})


def is_permanent(error: Exception) -> bool:
    """A refusal that a later attempt would get again (see the module's notes)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    return False


def _log_letter(letter: Letter) -> None:
    log.info(
        "mail (not sent: no SMTP_URL) #%s %s to %s\nSubject: %s\n%s",
        letter.id,
        letter.kind,
        letter.to_address,
        letter.subject,
        letter.text_body,
    )


def deliver_due(now: datetime | None = None, worker: str | None = None) -> PassReport:
    """One delivery pass: claim, send, record (see the module's notes). ``now`` is the
    claim's time (tests pass a later one to find retries due)."""
    worker = worker or this_worker()
    report = PassReport()
    started = now or utcnow()
    claimed = claim(
        worker,
        started,
        int(_config("MAIL_BATCH")),
        float(_config("MAIL_STALE_SECONDS")),
    )
    if not claimed:
        return report
    smtp_url = _config("SMTP_URL")
    if not smtp_url:
        _log_all(claimed, worker, report)
        return report
    # SMTP_CA_FILE: read with get, so an app whose config predates it still starts.
    ca_file = current_app.config.get("SMTP_CA_FILE") or None
    settings = parse_smtp_url(smtp_url, float(_config("MAIL_TIMEOUT")), ca_file=ca_file)
    _send_all(claimed, worker, settings, report)
    return report


def _log_all(claimed: list[int], worker: str, report: PassReport) -> None:
    for message_id in claimed:
        begun = begin_attempt(message_id, worker, utcnow())
        if begun is None:
            report.skipped.append(message_id)
            continue
        letter, _ = begun
        _log_letter(letter)
        mark_sent(message_id, worker, utcnow(), status=MailStatus.LOGGED.value)
        report.logged.append(message_id)


def _send_all(claimed: list[int], worker: str, settings: SmtpSettings, report: PassReport) -> None:
    mail_from = str(_config("MAIL_FROM"))
    sender = envelope_sender(mail_from)
    session: smtplib.SMTP | None = None
    connection: AbstractContextManager[smtplib.SMTP] | None = None
    remaining = list(claimed)
    try:
        while remaining:
            message_id = remaining.pop(0)
            begun = begin_attempt(message_id, worker, utcnow())
            if begun is None:
                report.skipped.append(message_id)
                continue
            letter, attempts = begun
            try:
                message = build_message(letter, mail_from)
            except (ValueError, TypeError) as error:
                _record_failure(message_id, worker, attempts, error, report, permanent=True)
                continue
            try:
                if session is None:
                    connection = connect(settings)
                    session = connection.__enter__()
                session.send_message(message, from_addr=sender, to_addrs=[letter.to_address])
            except SmtpConnectionError as error:
                # The server is away: this attempt failed, and so would the others'
                # now. They wait their backoff too (one attempt each, recorded).
                _record_failure(message_id, worker, attempts, error, report, permanent=False)
                for other in remaining:
                    other_begun = begin_attempt(other, worker, utcnow())
                    if other_begun is None:
                        report.skipped.append(other)
                        continue
                    _record_failure(other, worker, other_begun[1], error, report, permanent=False)
                remaining = []
                connection = session = None
                break
            except (OSError, smtplib.SMTPException) as error:
                _record_failure(
                    message_id, worker, attempts, error, report, permanent=is_permanent(error)
                )
                if isinstance(error, OSError | smtplib.SMTPServerDisconnected):
                    # The conversation is over: the next message opens a new one.
                    if connection is not None:
                        _close(connection)
                    connection = session = None
                else:
                    _reset(session)
                continue
            if mark_sent(message_id, worker, utcnow()):
                report.sent.append(message_id)
                log.info("mail: message %s sent to %s", message_id, letter.to_address)
    finally:
        # Stopped part-way (an exception out of the database): the rest is given back.
        for message_id in remaining:
            try:
                release(message_id, worker)
            except Exception:
                log.exception("mail: could not give back message %s", message_id)
        if connection is not None:
            _close(connection)


def _close(connection: AbstractContextManager[smtplib.SMTP]) -> None:
    try:
        connection.__exit__(None, None, None)
    except Exception:  # noqa: BLE001 (closing a broken conversation)
        log.debug("mail: closing the SMTP session failed", exc_info=True)


def _reset(session: smtplib.SMTP | None) -> None:
    """After a refused message, RSET so that the next starts a clean transaction."""
    if session is None:
        return
    try:
        session.rset()
    except (OSError, smtplib.SMTPException):
        log.debug("mail: RSET failed", exc_info=True)


def _record_failure(
    message_id: int,
    worker: str,
    attempts: int,
    error: Exception,
    report: PassReport,
    *,
    permanent: bool,
) -> None:
    text = summary(error)
    outcome = mark_attempt_failed(message_id, worker, attempts, text, utcnow(), permanent=permanent)
    if outcome == MailStatus.FAILED.value:
        report.failed.append(message_id)
        log.warning("mail: message %s failed (attempt %s): %s", message_id, attempts, text)
    else:
        report.retrying.append(message_id)
        log.info("mail: message %s will be retried (attempt %s): %s", message_id, attempts, text)


@periodic("mail.deliver", every_seconds=DELIVER_EVERY_SECONDS)
def deliver_chore() -> None:
    """The worker's chore: a pass or a few, while full batches keep coming."""
    batch = int(_config("MAIL_BATCH"))
    for _ in range(5):
        report = deliver_due()
        if report.handled + len(report.skipped) < batch:
            break
