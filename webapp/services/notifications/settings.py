"""An account's notification settings, the kinds of mail, and reply subscriptions.

An account without a row has the defaults: the comment form's reply box unticked,
reply mails on (for the comments the reader ticked it on), and no staff mail. Each
kind of mail is turned off on the settings page or by the unsubscribe link in it.
Every kind goes only to a confirmed address; the settings page says so to an account
whose address is not (``mail_waits_for_confirmation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import CTE, Insert, Integer, bindparam, delete, insert, select

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import Comment, Role, User, utcnow
from webapp.models.notifications import NotificationSettings, ReplySubscription

REPLY = "reply"
QUEUE_ALERT = "queue_alert"
DAILY_DIGEST = "daily_digest"
POLL_SHIFT = "poll_shift"
SET_ASIDE = "set_aside"

#: Every kind of notification mail, as the unsubscribe page names it.
KINDS: dict[str, str] = {
    REPLY: "replies to your comments",
    QUEUE_ALERT: "alerts when a moderation queue grows past your size",
    DAILY_DIGEST: "the moderators' daily digest",
    POLL_SHIFT: "alerts when a poll's shares move",
    SET_ASIDE: "alerts when integrity checks set votes aside",
}

#: The largest queue size a moderator may choose (a typo's 10000000 is refused).
MAX_THRESHOLD = 100_000


def settings_for(user_id: int) -> NotificationSettings:
    """The account's settings: its row, or unsaved defaults."""
    found = db.session.get(NotificationSettings, user_id)
    if found is not None:
        return found
    return NotificationSettings(
        user_id=user_id,
        reply_default=False,
        replies_enabled=True,
        daily_digest=False,
        poll_shift_alerts=False,
        set_aside_alerts=False,
    )


def _row_for(user_id: int) -> NotificationSettings:
    row = settings_for(user_id)
    if row not in db.session:
        db.session.add(row)
    row.updated_at = utcnow()
    return row


def is_moderator(user: User) -> bool:
    return user.has_role(Role.MODERATOR)


def is_editor(user: User) -> bool:
    return user.has_role(Role.EDITOR)


@dataclass(frozen=True)
class SettingsChange:
    """What the settings form sends; the staff's fields only count for their roles."""

    reply_default: bool
    replies_enabled: bool
    pending_threshold: int | None = None
    reported_threshold: int | None = None
    daily_digest: bool = False
    poll_shift_alerts: bool = False
    set_aside_alerts: bool = False


def parse_threshold(raw: str | None, field: str) -> int | None:
    """A queue size from the form: empty for none, else a whole number 1..MAX."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_THRESHOLD:
        raise InvalidInput(
            "A queue size is a whole number from 1 up, or empty for no alert.",
            fields={field: f"Enter a whole number from 1 to {MAX_THRESHOLD}, or leave it empty."},
        )
    return int(text)


def update(user: User, change: SettingsChange) -> NotificationSettings:
    """Save the account's settings (the caller commits). A reader's form cannot turn
    on staff mail: those fields are kept as they are for anyone without the role."""
    row = _row_for(user.id)
    row.reply_default = change.reply_default
    row.replies_enabled = change.replies_enabled
    if is_moderator(user):
        row.pending_threshold = change.pending_threshold
        row.reported_threshold = change.reported_threshold
        row.daily_digest = change.daily_digest
    if is_editor(user):
        row.poll_shift_alerts = change.poll_shift_alerts
        row.set_aside_alerts = change.set_aside_alerts
    return row


def turn_off(user_id: int, kind: str) -> None:
    """Stop one kind of mail for the account (the unsubscribe link; the caller commits)."""
    if kind not in KINDS:
        raise InvalidInput("There is no such kind of mail.")
    row = _row_for(user_id)
    if kind == REPLY:
        row.replies_enabled = False
        row.reply_default = False
    elif kind == QUEUE_ALERT:
        row.pending_threshold = None
        row.reported_threshold = None
    elif kind == DAILY_DIGEST:
        row.daily_digest = False
    elif kind == POLL_SHIFT:
        row.poll_shift_alerts = False
    elif kind == SET_ASIDE:
        row.set_aside_alerts = False


def is_on(row: NotificationSettings, kind: str) -> bool:
    """Whether the account gets this kind of mail now."""
    return {
        REPLY: bool(row.replies_enabled),
        QUEUE_ALERT: row.pending_threshold is not None or row.reported_threshold is not None,
        DAILY_DIGEST: bool(row.daily_digest),
        POLL_SHIFT: bool(row.poll_shift_alerts),
        SET_ASIDE: bool(row.set_aside_alerts),
    }.get(kind, False)


def can_be_mailed(user: User) -> bool:
    """Whether the account's address could receive mail at all: not under ``.invalid``
    (RFC 2606), where a host site's reader without a usable address is put
    (webapp/services/embed/host_sign_in.py)."""
    domain = user.email.rpartition("@")[2].lower()
    return bool(domain) and domain != "invalid" and not domain.endswith(".invalid")


def mail_waits_for_confirmation(user: User) -> bool:
    """Whether some notification mail is on for the account but none can go, because
    its address is unconfirmed (every notification goes to confirmed addresses only:
    replies.py, staff.py)."""
    if user.email_verified_at is not None:
        return False
    row = settings_for(user.id)
    return any(is_on(row, kind) for kind in KINDS)


def wants_replies_by_default(user: User) -> bool:
    """Whether the comment form's "Mail me when someone replies" starts ticked."""
    row = settings_for(user.id)
    return bool(row.reply_default and row.replies_enabled)


def reply_mail_choice(form: Mapping[str, str]) -> bool | None:
    """The comment form's "Mail me when someone replies": ticked or not when the form
    offered it (its hidden ``notify_replies_offered``), None (the account's default)
    for a form that did not (a page from before the box)."""
    if not form.get("notify_replies_offered"):
        return None
    return form.get("notify_replies") in ("y", "on", "1", "true")


_subscriptions = ReplySubscription.__table__
_settings = NotificationSettings.__table__
#: The settings that tick the reply box by default (and let reply mail go).
_TICKED_BY_DEFAULT = (_settings.c.reply_default.is_(True), _settings.c.replies_enabled.is_(True))
#: Subscribes a comment's author when their settings tick the reply box by default.
_SUBSCRIBE_BY_DEFAULT = insert(_subscriptions).from_select(
    ["comment_id", "user_id", "created_at"],
    select(
        bindparam("b_comment", type_=Integer),
        _settings.c.user_id,
        bindparam("b_moment", type_=_subscriptions.c.created_at.type),
    ).where(_settings.c.user_id == bindparam("b_user", type_=Integer), *_TICKED_BY_DEFAULT),
)


def default_subscription_of(stored: CTE) -> Insert:
    """``subscribe_by_default`` for a comment that a data-modifying WITH stores in the
    same statement (``stored`` returns its ``id``, ``author_id`` and ``created_at``):
    on PostgreSQL the comment and its author's subscription are one statement
    (webapp.services.comments.storage)."""
    return insert(_subscriptions).from_select(
        ["comment_id", "user_id", "created_at"],
        select(stored.c.id, _settings.c.user_id, stored.c.created_at)
        .join_from(stored, _settings, _settings.c.user_id == stored.c.author_id)
        .where(*_TICKED_BY_DEFAULT),
    )


def subscribe_by_default(comment: Comment) -> None:
    """Subscribe a stored comment's author to its replies if their settings tick the box
    by default. The database decides as it subscribes: one statement on the posting path
    instead of reading the settings first."""
    db.session.execute(
        _SUBSCRIBE_BY_DEFAULT,
        {"b_comment": comment.id, "b_user": comment.author_id, "b_moment": utcnow()},
    )


def follows_account_default(wanted: object) -> bool:
    """Whether a post's reply choice (the form's box, the API's ``notify_replies``) is
    left to the account's default: not said, or not a boolean (from the API)."""
    return not isinstance(wanted, bool)


def remember_reply_choice(comment: Comment, author: User, wanted: object) -> None:
    """After a comment is stored: subscribe its author to replies when they asked
    (``wanted``), or, when the form or API call did not say (None), when their account
    settings tick the box by default. Ticking it turns reply mails back on. In the
    comment's transaction; the caller commits."""
    if follows_account_default(wanted):
        subscribe_by_default(comment)
        return
    if not wanted:
        return
    db.session.merge(ReplySubscription(comment_id=comment.id, user_id=comment.author_id))
    row = settings_for(comment.author_id)
    if not row.replies_enabled:
        _row_for(comment.author_id).replies_enabled = True
    db.session.flush()


def unsubscribe_comment(comment_id: int, user_id: int) -> None:
    db.session.execute(
        delete(ReplySubscription).where(
            ReplySubscription.comment_id == comment_id, ReplySubscription.user_id == user_id
        )
    )


def is_subscribed(comment_id: int) -> bool:
    found = db.session.scalar(
        select(ReplySubscription.comment_id).where(ReplySubscription.comment_id == comment_id)
    )
    return found is not None
