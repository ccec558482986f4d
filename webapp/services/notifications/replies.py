"""Mailing readers the replies to their comments, in batches.

Database triggers note each published reply to a subscribed comment in
``pending_reply_notices`` (webapp/models/notification_triggers.py). This chore writes
at most one mail per reader per MAIL_REPLY_BATCH_MINUTES: a reader's notices wait
until the oldest has waited that long (so a busy thread's replies gather into one
mail) and until that long after the reader's last reply mail, then all of them go in
one mail. What is no longer worth telling is dropped, not mailed: a reply deleted or
no longer published (rejected, held again), a comment of theirs deleted or on an
article no longer published, a reader who is banned or turned reply mail off.

Reply mail goes only to a confirmed address (``User.email_verified_at``): an address
nobody proved may be someone else's (a typo at registration, an address a host site
sent for its reader), and mailing it would send a stranger what a reader wrote. A
reader whose address is unconfirmed when their mail falls due gets nothing, and their
waiting notices are dropped as for a banned reader; after they confirm, a mail tells
only the replies noted since (``PendingReplyNotice.created_at`` from the confirmation
on). So confirming never releases a pile of old replies at once, and nothing waits
unseen for an address that may never be confirmed. Their subscriptions stay: the first
reply after confirming is mailed as usual. The settings page says so
(templates/auth/_notification_settings.html).

Several workers may run the chore at once: a reader's notices are taken by deleting
them (DELETE ... RETURNING), so two workers never both get them, and the mail is
written in the same transaction, so it is written exactly when they are taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select

from webapp.extensions import db
from webapp.jobs.registry import periodic
from webapp.models import Article, Comment, CommentStatus, User, utcnow
from webapp.models.notifications import NotificationSettings, PendingReplyNotice
from webapp.services.mail.outbox import enqueue
from webapp.services.notifications import settings
from webapp.services.notifications.rendering import render_mail
from webapp.services.notifications.tokens import unsubscribe_headers, unsubscribe_url
from webapp.site_address import absolute_url

#: Readers mailed per chore run: a run never does more than a moment's work.
_READERS_PER_RUN = 50
#: How much of a reply its mail quotes.
EXCERPT_CHARACTERS = 240


def batch_interval() -> timedelta:
    return timedelta(minutes=max(0, int(current_app.config.get("MAIL_REPLY_BATCH_MINUTES", 15))))


@dataclass(frozen=True)
class ReplyLine:
    """One reply as its mail lists it."""

    author_name: str
    excerpt: str
    link: str
    article_title: str
    created_at: datetime


def excerpt(text: str, limit: int = EXCERPT_CHARACTERS) -> str:
    """The reply's first ``limit`` characters on one line, cut at a word with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _due_readers(moment: datetime) -> list[int]:
    """Readers whose oldest waiting notice has waited a whole interval, and whose last
    reply mail is at least that old."""
    cutoff = moment - batch_interval()
    oldest = func.min(PendingReplyNotice.created_at)
    rows = db.session.scalars(
        select(PendingReplyNotice.user_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == PendingReplyNotice.user_id)
        .where(
            or_(
                NotificationSettings.last_reply_mail_at.is_(None),
                NotificationSettings.last_reply_mail_at <= cutoff,
            )
        )
        .group_by(PendingReplyNotice.user_id)
        .having(oldest <= cutoff)
        .order_by(oldest)
        .limit(_READERS_PER_RUN)
    )
    return list(rows)


def _worth_telling(reply: Comment, reader: User, moment: datetime) -> bool:
    if reply.status != CommentStatus.PUBLISHED or reply.deleted_at is not None:
        return False
    answered_id = reply.in_reply_to_id or reply.parent_id
    answered = db.session.get(Comment, answered_id) if answered_id is not None else None
    if answered is None or answered.deleted_at is not None or answered.author_id != reader.id:
        return False
    article = db.session.get(Article, reply.article_id)
    return article is not None and article.is_published_at(moment)


def mail_reader(user_id: int, moment: datetime | None = None) -> bool:
    """Take the reader's waiting notices and write their mail, if it is due and any
    reply is still worth telling. True when a mail was written. The caller commits."""
    moment = moment or utcnow()
    reader = db.session.get(User, user_id)
    if reader is None:
        return False
    row = settings.settings_for(user_id)
    confirmed = reader.email_verified_at
    wanted = row.replies_enabled and confirmed is not None and not reader.is_banned_at(moment)
    last = row.last_reply_mail_at
    if wanted and last is not None and last > moment - batch_interval():
        return False  # mailed within the interval: the notices wait for the next
    notices = db.session.execute(
        delete(PendingReplyNotice)
        .where(PendingReplyNotice.user_id == user_id)
        .returning(PendingReplyNotice.reply_id, PendingReplyNotice.created_at)
    ).all()
    if not notices or not wanted or confirmed is None:
        return False  # another worker took them, or they are dropped untold
    # Replies noted while the address was unconfirmed are not told (module's notes).
    taken = [notice.reply_id for notice in notices if notice.created_at >= confirmed]
    if not taken:
        return False
    replies = db.session.scalars(
        select(Comment).where(Comment.id.in_(taken)).order_by(Comment.created_at, Comment.id)
    ).all()
    lines = []
    for reply in replies:
        if not _worth_telling(reply, reader, moment):
            continue
        author = db.session.get(User, reply.author_id)
        article = db.session.get(Article, reply.article_id)
        assert author is not None and article is not None
        lines.append(
            ReplyLine(
                author_name=author.display_name,
                excerpt=excerpt(reply.body),
                link=absolute_url("public.comment_permalink", comment_id=reply.id),
                article_title=article.title,
                created_at=reply.created_at,
            )
        )
    if not lines:
        return False
    context = {
        "reader": reader,
        "replies": lines,
        "unsubscribe_link": unsubscribe_url(reader.id, settings.REPLY),
        "settings_link": absolute_url("notifications.settings_page"),
    }
    count = len(lines)
    subject = (
        f"{lines[0].author_name} replied to your comment"
        if count == 1
        else f"{count} new replies to your comments"
    )
    enqueue(
        kind=settings.REPLY,
        to=reader.email,
        subject=subject,
        text=render_mail("mail/replies.txt", **context),
        html=render_mail("mail/replies.html", **context),
        user_id=reader.id,
        headers=unsubscribe_headers(reader.id, settings.REPLY),
    )
    settings._row_for(reader.id).last_reply_mail_at = moment
    return True


def mail_due_replies(moment: datetime | None = None) -> int:
    """Write every due reader's reply mail (a run's worth). How many mails. The caller
    commits."""
    moment = moment or utcnow()
    written = 0
    for user_id in _due_readers(moment):
        written += mail_reader(user_id, moment)
    return written


@periodic("notifications.reply_mails", every_seconds=60.0)
def reply_mail_chore() -> int:
    """The job worker's chore: the due reply mails, each with its notices taken in
    one transaction. Commits."""
    written = mail_due_replies()
    db.session.commit()
    return written
