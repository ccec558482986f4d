"""The mail outbox (issue 21): every message Pulse sends is first a row here, written
in the same transaction as what caused it (a reply, a reset request), so a message is
never sent for something that rolled back, and never lost when the mail server is
down. The job worker delivers it (webapp/services/mail/)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, utcnow


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS; admins see it
    # Written to the log instead (no SMTP_URL: development), kept to be read with
    # ``flask mail list``; never sent later, even once SMTP_URL is set.
    LOGGED = "logged"


class OutboxMessage(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'logged')", name="status"
        ),
        sa.Index("ix_mail_outbox_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What kind of mail (``reply``, ``password_reset``, ``verify_address``, ...): the
    # outbox's lists and the reader's settings go by it.
    kind: Mapped[str] = mapped_column(sa.String(32))
    to_address: Mapped[str] = mapped_column(sa.String(320))
    # The account it is for, if any (gone with the account: ``SET NULL``).
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(sa.String(300))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    # Extra headers (``List-Unsubscribe``, ``List-Unsubscribe-Post``, ...).
    headers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default=MailStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Not before this (backoff after a failure); the claim's order.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who holds a "sending" message and since when (a worker killed mid-send leaves
    # one, reclaimed after a while).
    claimed_by: Mapped[str | None] = mapped_column(sa.String(100))
    claimed_at: Mapped[datetime | None]
    # When the claiming worker began this attempt's SMTP conversation (committed before
    # it begins): a stale claim without it was never tried and is taken over; one with
    # it may have been delivered, so it is not sent again by itself (delivery.py).
    attempt_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # The Message-ID it went out with (the same on every attempt).
    message_id: Mapped[str] = mapped_column(sa.String(200))


# The messages due to go, in the order they were written.
_DUE = "status = 'pending'"
sa.Index(
    "ix_mail_outbox_due",
    OutboxMessage.next_attempt_at,
    OutboxMessage.id,
    postgresql_where=sa.text(_DUE),
    sqlite_where=sa.text(_DUE),
)
