"""Looking after the outbox: what ``flask mail`` and the admins' mail page do."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import CursorResult

from webapp.extensions import db
from webapp.models import utcnow
from webapp.models.mail import MailStatus, OutboxMessage

STATUSES = tuple(status.value for status in MailStatus)


def listing(statuses: Iterable[str] | None = None, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages first, of these statuses (all when None)."""
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    chosen = list(statuses or [])
    if chosen:
        query = query.where(OutboxMessage.status.in_(chosen))
    return list(db.session.scalars(query))


def counts() -> dict[str, int]:
    """How many messages have each status."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    )
    found = {status: 0 for status in STATUSES}
    found.update({status: int(count) for status, count in rows})
    return found


def retry(ids: Iterable[int] | None = None, *, all_failed: bool = False) -> list[int]:
    """Failed messages (these, or all) pending again, due now, attempts from zero;
    the caller commits. Pending ones are made due now too (an admin's "send now").
    The ids of the messages it changed."""
    query = sa.update(OutboxMessage).where(
        OutboxMessage.status.in_([MailStatus.FAILED.value, MailStatus.PENDING.value])
    )
    if not all_failed:
        wanted = list(ids or [])
        if not wanted:
            return []
        query = query.where(OutboxMessage.id.in_(wanted))
    else:
        query = query.where(OutboxMessage.status == MailStatus.FAILED.value)
    result = db.session.execute(
        query.values(
            status=MailStatus.PENDING.value,
            attempts=0,
            next_attempt_at=utcnow(),
            claimed_by=None,
            claimed_at=None,
            attempt_started_at=None,
        ).returning(OutboxMessage.id),
        execution_options={"synchronize_session": False},
    )
    return sorted(row.id for row in result)


def purge(older_than: timedelta, now: datetime | None = None) -> int:
    """Delete sent and logged messages sent longer ago than ``older_than``; the caller
    commits. How many. (Failed and pending ones stay until retried or delivered.)"""
    before = (now or utcnow()) - older_than
    result = cast(
        CursorResult[Any],
        db.session.execute(
            sa.delete(OutboxMessage).where(
                OutboxMessage.status.in_([MailStatus.SENT.value, MailStatus.LOGGED.value]),
                OutboxMessage.sent_at < before,
            ),
            execution_options={"synchronize_session": False},
        ),
    )
    return int(result.rowcount)
