"""The staff's mail: moderators' queue alerts and daily digest, editors' poll alerts.

Each is a periodic chore of the job worker, and each alert goes once per crossing:
``staff_alert_marks`` remembers that a queue is over a moderator's size (or a poll's
shares are outside their interval, or which audit entries were read), and a mail is
written only by the pass that flips the mark, with a conditional UPDATE, so two
workers passing at once write it once. A queue that falls back to its size (a poll
whose shares come back inside) re-arms the alert.

- Queue alerts: the Pending or Reported queue holds more than the size a moderator
  chose (the queue counts the database keeps, webapp/models/moderation_counts.py).
- Daily digest: once per UTC day, the queue sizes, the reports and comments of the
  last day, and what moderators and editors did (the audit log's entries by kind).
- Poll shifts: hourly, each open poll's counted votes are kept (poll_share_snapshots);
  when an answer's share now lies outside the 95 % Wilson interval of its share a day
  before (webapp/services/polls/results.py), editors who asked are told.
- Votes set aside: each new ``set_aside_votes`` entry of the audit log (written by
  webapp/services/integrity/decisions.py, by an editor or by the integrity pass).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.jobs.registry import periodic
from webapp.models import (
    Article,
    Comment,
    CommentFlag,
    ModerationAction,
    ModerationActionKind,
    Poll,
    Role,
    User,
    utcnow,
)
from webapp.models.notifications import NotificationSettings, PollShareSnapshot, StaffAlertMark
from webapp.services.mail.outbox import enqueue
from webapp.services.moderation.queues import queue_counts
from webapp.services.notifications import settings
from webapp.services.notifications.rendering import render_mail
from webapp.services.notifications.tokens import unsubscribe_headers, unsubscribe_url
from webapp.services.polls.results import min_votes_for_shares, wilson_interval
from webapp.site_address import absolute_url

ALERTED_QUEUES = ("pending", "reported")
#: How long a day-before snapshot may be older than a day and still count.
SNAPSHOT_SLACK = timedelta(hours=24)
SNAPSHOT_EVERY = timedelta(minutes=55)
SNAPSHOTS_KEPT = timedelta(days=3)
SET_ASIDE_KEY = "set_aside:last_action"


# --- marks ------------------------------------------------------------------------


def _ensure_mark(key: str, value: int = 0) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(StaffAlertMark)
        .values(key=key, value=value, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
    )


def mark_value(key: str) -> int | None:
    found: int | None = db.session.scalar(
        select(StaffAlertMark.value).where(StaffAlertMark.key == key)
    )
    return found


def _flip(key: str, to: int, expected: int | None = None) -> bool:
    """Set the mark to ``to`` unless it already is (or, with ``expected``, only if it is
    that); True when this call changed it: the caller then writes the alert. One
    conditional UPDATE, so of two workers only one sees True."""
    _ensure_mark(key)
    condition = (
        StaffAlertMark.value == expected if expected is not None else StaffAlertMark.value != to
    )
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(StaffAlertMark)
            .where(StaffAlertMark.key == key, condition)
            .values(value=to, updated_at=utcnow())
        ),
    )
    return result.rowcount == 1


# --- recipients -------------------------------------------------------------------


def _staff(roles: tuple[str, ...], *conditions: Any) -> list[tuple[User, NotificationSettings]]:
    """Accounts with one of ``roles`` (or admins) whose settings meet ``conditions``,
    not banned now, whose address is confirmed: as with reply mail
    (webapp/services/notifications/replies.py), an address nobody proved gets none.
    An unconfirmed account is passed over, not queued for: its queue alert's mark is
    not set (so once it confirms, a queue still over its size is told once), its
    digest day is not taken (it gets the next digest), and poll and set-aside alerts
    that went out meanwhile are not sent to it later."""
    moment = utcnow()
    query: Select[tuple[User, NotificationSettings]] = (
        select(User, NotificationSettings)
        .join(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(
            User.role.in_((*roles, Role.ADMIN.value)),
            User.email_verified_at.is_not(None),
            *conditions,
        )
        .order_by(User.id)
    )
    return [
        (user, row)
        for user, row in db.session.execute(query).tuples()
        if not user.is_banned_at(moment)
    ]


def _send(user: User, kind: str, subject: str, template: str, **context: Any) -> None:
    context.update(
        user=user,
        unsubscribe_link=unsubscribe_url(user.id, kind),
        settings_link=absolute_url("notifications.settings_page"),
    )
    enqueue(
        kind=kind,
        to=user.email,
        subject=subject,
        text=render_mail(template, **context),
        user_id=user.id,
        headers=unsubscribe_headers(user.id, kind),
    )


# --- queue alerts -----------------------------------------------------------------

_QUEUE_NAMES = {"pending": "Pending", "reported": "Reported"}


def check_queues() -> int:
    """Alert each moderator whose queue just went over their size. How many mails.
    The caller commits."""
    counts = queue_counts()
    sent = 0
    for user, row in _staff(
        (Role.MODERATOR.value,),
        or_(
            NotificationSettings.pending_threshold.is_not(None),
            NotificationSettings.reported_threshold.is_not(None),
        ),
    ):
        for queue in ALERTED_QUEUES:
            threshold = getattr(row, f"{queue}_threshold")
            key = f"queue:{queue}:{user.id}"
            if threshold is None:
                continue
            if counts[queue] > threshold:
                if _flip(key, 1):
                    _send(
                        user,
                        settings.QUEUE_ALERT,
                        f"The {_QUEUE_NAMES[queue]} queue holds {counts[queue]} comments",
                        "mail/queue_alert.txt",
                        queue_name=_QUEUE_NAMES[queue],
                        size=counts[queue],
                        threshold=threshold,
                        queue_link=absolute_url("moderation.queue", status=queue),
                    )
                    sent += 1
            elif mark_value(key) == 1:
                _flip(key, 0)  # back within the size: the next crossing is told again
    return sent


@periodic("notifications.queue_alerts", every_seconds=60.0)
def queue_alert_chore() -> int:
    sent = check_queues()
    db.session.commit()
    return sent


# --- daily digest -----------------------------------------------------------------


def digest_figures(moment: datetime) -> dict[str, Any]:
    """What a day's digest says: the queues now, and the last 24 hours."""
    since = moment - timedelta(days=1)
    actions = db.session.execute(
        select(ModerationAction.action, func.count())
        .where(ModerationAction.created_at > since)
        .group_by(ModerationAction.action)
        .order_by(ModerationAction.action)
    ).all()
    return {
        "queues": queue_counts(),
        "reports": db.session.scalar(
            select(func.count()).select_from(CommentFlag).where(CommentFlag.created_at > since)
        )
        or 0,
        "comments": db.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.created_at > since)
        )
        or 0,
        "held": db.session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.created_at > since, Comment.status == "pending")
        )
        or 0,
        "actions": [(str(action), int(count)) for action, count in actions],
        "since": since,
    }


def send_digests(moment: datetime | None = None) -> int:
    """Each moderator who asked gets today's digest once (the UTC day). How many mails.
    The caller commits."""
    moment = moment or utcnow()
    today = moment.date()
    waiting = _staff(
        (Role.MODERATOR.value,),
        NotificationSettings.daily_digest.is_(True),
        or_(
            NotificationSettings.last_digest_on.is_(None),
            NotificationSettings.last_digest_on < today,
        ),
    )
    if not waiting:
        return 0
    figures = digest_figures(moment)
    sent = 0
    for user, _row in waiting:
        # The conditional UPDATE takes the day: another worker's pass sends none.
        taken = cast(
            CursorResult[Any],
            db.session.execute(
                update(NotificationSettings)
                .where(
                    NotificationSettings.user_id == user.id,
                    or_(
                        NotificationSettings.last_digest_on.is_(None),
                        NotificationSettings.last_digest_on < today,
                    ),
                )
                .values(last_digest_on=today)
            ),
        )
        if taken.rowcount != 1:
            continue
        _send(
            user,
            settings.DAILY_DIGEST,
            f"Moderation digest for {today.isoformat()}",
            "mail/daily_digest.txt",
            day=today,
            queue_link=absolute_url("moderation.queue", status="pending"),
            log_link=absolute_url("moderation.log"),
            **figures,
        )
        sent += 1
    return sent


@periodic("notifications.daily_digest", every_seconds=600.0)
def digest_chore() -> int:
    sent = send_digests()
    db.session.commit()
    return sent


# --- poll shifts ------------------------------------------------------------------


def _counted(poll: Poll) -> dict[str, int]:
    return {str(option.id): option.vote_count for option in poll.options}


def _open_polls(moment: datetime) -> list[Poll]:
    polls = db.session.scalars(
        select(Poll)
        .join(Article, Article.id == Poll.article_id)
        .where(or_(Poll.closed_at.is_(None), Poll.closed_at > moment))
        .where(or_(Poll.closes_at.is_(None), Poll.closes_at > moment))
        .order_by(Poll.id)
    ).all()
    return [poll for poll in polls if poll.article.is_published_at(moment)]


def shifted_options(
    before: dict[str, int], now: dict[str, int], minimum: int
) -> list[tuple[str, float, float, float]]:
    """The options whose share now lies outside the 95 % Wilson interval of their share
    before: (option id, share now, low, high). None when either side has fewer than
    ``minimum`` counted votes (shares are not shown below it either)."""
    total_before = sum(before.values())
    total_now = sum(now.values())
    if total_before < max(1, minimum) or total_now < max(1, minimum):
        return []
    moved = []
    for option_id, votes in now.items():
        low, high = wilson_interval(before.get(option_id, 0), total_before)
        share = votes / total_now
        # A hair of float slack: the interval of 0 votes starts a rounding error above 0.
        if share < low - 1e-9 or share > high + 1e-9:
            moved.append((option_id, share, low, high))
    return moved


def check_polls(moment: datetime | None = None) -> int:
    """Snapshot each open poll (hourly), compare with a day before, alert editors once
    per crossing. How many mails. The caller commits."""
    moment = moment or utcnow()
    db.session.execute(
        delete(PollShareSnapshot).where(PollShareSnapshot.taken_at < moment - SNAPSHOTS_KEPT)
    )
    editors = _staff((Role.EDITOR.value,), NotificationSettings.poll_shift_alerts.is_(True))
    minimum = min_votes_for_shares()
    sent = 0
    for poll in _open_polls(moment):
        now = _counted(poll)
        latest = db.session.scalar(
            select(func.max(PollShareSnapshot.taken_at)).where(PollShareSnapshot.poll_id == poll.id)
        )
        if latest is None or latest <= moment - SNAPSHOT_EVERY:
            db.session.add(PollShareSnapshot(poll_id=poll.id, taken_at=moment, votes=now))
        day_before = db.session.scalar(
            select(PollShareSnapshot)
            .where(
                PollShareSnapshot.poll_id == poll.id,
                PollShareSnapshot.taken_at <= moment - timedelta(days=1),
                PollShareSnapshot.taken_at >= moment - timedelta(days=1) - SNAPSHOT_SLACK,
            )
            .order_by(PollShareSnapshot.taken_at.desc())
            .limit(1)
        )
        if day_before is None:
            continue
        moved = shifted_options(
            {key: int(value) for key, value in day_before.votes.items()}, now, minimum
        )
        key = f"poll_shift:{poll.id}"
        if not moved:
            if mark_value(key) == 1:
                _flip(key, 0)
            continue
        if not _flip(key, 1):
            continue
        labels = {str(option.id): option.label for option in poll.options}
        lines = [
            (labels.get(option_id, option_id), share, low, high)
            for option_id, share, low, high in moved
        ]
        for user, _row in editors:
            _send(
                user,
                settings.POLL_SHIFT,
                f"Poll shares moved: {poll.question}",
                "mail/poll_shift.txt",
                poll=poll,
                article=poll.article,
                moved=lines,
                results_link=absolute_url("editor.results", article_id=poll.article_id),
            )
            sent += 1
    return sent


@periodic("notifications.poll_shifts", every_seconds=3600.0)
def poll_shift_chore() -> int:
    sent = check_polls()
    db.session.commit()
    return sent


# --- votes set aside --------------------------------------------------------------


def check_set_asides() -> int:
    """Tell editors who asked about each new set_aside_votes entry of the audit log.
    The first pass only notes where the log is (nothing from before is mailed). How
    many mails. The caller commits."""
    newest = db.session.scalar(
        select(func.max(ModerationAction.id)).where(
            ModerationAction.action == ModerationActionKind.SET_ASIDE_VOTES.value
        )
    )
    if mark_value(SET_ASIDE_KEY) is None:
        _ensure_mark(SET_ASIDE_KEY, newest or 0)
        return 0
    last = mark_value(SET_ASIDE_KEY) or 0
    if newest is None or newest <= last:
        return 0
    if not _flip(SET_ASIDE_KEY, newest, expected=last):
        return 0  # another worker took these entries
    entries = db.session.scalars(
        select(ModerationAction)
        .where(
            ModerationAction.action == ModerationActionKind.SET_ASIDE_VOTES.value,
            ModerationAction.id > last,
            ModerationAction.id <= newest,
        )
        .order_by(ModerationAction.id)
    ).all()
    decisions = []
    for entry in entries:
        details = entry.details or {}
        article_id = details.get("article_id")
        decisions.append(
            {
                "votes": details.get("votes"),
                "automatic": bool(details.get("automatic")),
                "reason": entry.reason,
                "article_slug": details.get("article_slug"),
                "link": absolute_url("editor.integrity_page", article_id=article_id)
                if isinstance(article_id, int)
                else None,
                "at": entry.created_at,
            }
        )
    sent = 0
    for user, _row in _staff((Role.EDITOR.value,), NotificationSettings.set_aside_alerts.is_(True)):
        _send(
            user,
            settings.SET_ASIDE,
            "Integrity checks set poll votes aside"
            if len(decisions) > 1
            else "Integrity checks set a group of poll votes aside",
            "mail/set_aside.txt",
            decisions=decisions,
        )
        sent += 1
    return sent


@periodic("notifications.set_aside_alerts", every_seconds=60.0)
def set_aside_chore() -> int:
    sent = check_set_asides()
    db.session.commit()
    return sent
