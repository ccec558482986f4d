"""Mail notifications (issue 21): what readers and staff asked to be told, and what is
waiting to be told.

- ``notification_settings``: one row per account that changed anything (no row: the
  defaults, every mail off except the replies to comments the reader subscribed).
- ``reply_subscriptions``: the comments whose author wants a mail when someone replies.
- ``pending_reply_notices``: a published reply to a subscribed comment, waiting for
  the next batch mail to its subscriber. Written by database triggers in the statement
  that publishes the reply (posted published, or approved by a moderator: every path,
  the app's or a console's; webapp/models/notification_triggers.py), so a notice exists
  exactly when the reply does, in its transaction.
- ``staff_alert_marks``: what the staff alerts remember between passes (a queue is over
  a moderator's size, a poll's shares moved, the last audit entry read), so each alert
  goes once per crossing, not at every pass.
- ``poll_share_snapshots``: a poll's counted votes per answer, taken hourly, so the
  shares of a day before can be compared with today's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, utcnow


class NotificationSettings(Base):
    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # Whether the comment form's "Mail me when someone replies" starts ticked.
    reply_default: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Reply mails at all (the unsubscribe link turns this off; subscriptions are kept).
    replies_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # When the last reply mail was written: at most one per MAIL_REPLY_BATCH_MINUTES.
    last_reply_mail_at: Mapped[datetime | None]
    # Moderators: a mail when the queue holds more than this many (None: no mail).
    pending_threshold: Mapped[int | None]
    reported_threshold: Mapped[int | None]
    daily_digest: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The day (UTC) of the last digest written: one a day.
    last_digest_on: Mapped[date | None]
    # Editors: a poll's shares moved outside their interval of a day before; votes
    # set aside by the integrity checks.
    poll_shift_alerts: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    set_aside_alerts: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReplySubscription(Base):
    """The comment's author wants a mail when someone replies to it."""

    __tablename__ = "reply_subscriptions"

    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingReplyNotice(Base):
    """A reply waiting for the next batch mail to ``user_id`` (written by trigger)."""

    __tablename__ = "pending_reply_notices"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "reply_id"),
        # The batch chore's question: whose oldest notice has waited long enough.
        sa.Index("ix_pending_reply_notices_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    reply_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffAlertMark(Base):
    """One remembered fact of the staff alerts, by key: ``queue:pending:<user id>``
    (1 while the queue is over that moderator's size), ``poll_shift:<poll id>`` (1 while
    its shares are outside), ``set_aside:last_action`` (the last audit entry read)."""

    __tablename__ = "staff_alert_marks"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollShareSnapshot(Base):
    """A poll's counted votes per answer ({option id: votes}) at ``taken_at``."""

    __tablename__ = "poll_share_snapshots"
    __table_args__ = (sa.Index("ix_poll_share_snapshots_poll_id_taken_at", "poll_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    votes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
