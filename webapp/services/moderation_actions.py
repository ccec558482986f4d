"""Moderators' decisions on comments and readers, each written to the audit log.

The log is append-only: nothing here updates or deletes a ModerationAction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from webapp.errors import Conflict, Forbidden, InvalidInput, NotFound
from webapp.extensions import db
from webapp.ids import is_id
from webapp.models import (
    Comment,
    CommentStatus,
    ModerationAction,
    ModerationActionKind,
    Role,
    User,
    utcnow,
)
from webapp.services.accounts import end_sessions
from webapp.services.thread_cache import thread_changed
from webapp.text import clean_line

COMMENT_ACTIONS = ("approve", "reject", "feature", "unfeature")
MAX_REASON = 1000


def record(
    actor: User,
    action: str,
    *,
    comment: Comment | None = None,
    target_user_id: int | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> ModerationAction:
    entry = ModerationAction(
        actor_id=actor.id,
        action=action,
        comment_id=comment.id if comment is not None else None,
        target_user_id=target_user_id,
        reason=reason,
        details=details or {},
    )
    db.session.add(entry)
    return entry


def _clean_reason(reason: Any) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise InvalidInput("reason must be text.", fields={"reason": "must be text"})
    reason = clean_line(reason)
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            f"Reasons can be at most {MAX_REASON} characters.",
            fields={"reason": f"at most {MAX_REASON} characters"},
        )
    return reason or None


def decide(
    comment: Comment, actor: User, action: Any, reason: Any = None, moment: datetime | None = None
) -> Comment:
    """Approve, reject, feature or unfeature one comment. Flushes; the caller commits."""
    if action not in COMMENT_ACTIONS:
        raise InvalidInput(
            "action must be approve, reject, feature or unfeature.",
            fields={"action": "approve, reject, feature or unfeature"},
        )
    if comment.deleted_at is not None:
        raise Conflict("This comment was deleted by its author.")
    moment = moment or utcnow()
    reason = _clean_reason(reason)
    before = comment.status
    if action == "approve":
        comment.status = CommentStatus.PUBLISHED.value
        comment.rejection_reason = None
        comment.reported_at = None
        comment.moderated_at = moment
    elif action == "reject":
        comment.status = CommentStatus.REJECTED.value
        comment.rejection_reason = reason
        comment.reported_at = None
        comment.featured_at = None
        comment.moderated_at = moment
    elif action == "feature":
        if comment.status != CommentStatus.PUBLISHED:
            raise Conflict("Only published comments can be featured; approve it first.")
        comment.featured_at = comment.featured_at or moment
    else:
        comment.featured_at = None
    # The article's comment_count and the author's last_rejected_at move with the row
    # (webapp/models/comment_triggers.py); what readers see of the thread changed.
    thread_changed()
    record(
        actor,
        action,
        comment=comment,
        target_user_id=comment.author_id,
        reason=reason,
        details={"status_before": before, "status_after": comment.status},
    )
    db.session.flush()
    if action == "reject":
        _forget_last_rejection(comment.author_id)
    return comment


def _forget_last_rejection(user_id: int) -> None:
    """The trigger moved the author's last_rejected_at in the database: a copy of the
    author this session holds reads it afresh when next asked, so a comment of theirs
    checked later in the same transaction sees the rejection."""
    author = db.session.identity_map.get(db.session.identity_key(User, user_id))
    if author is not None:
        db.session.expire(author, ["last_rejected_at"])


def decide_many(
    comment_ids: Iterable[Any], actor: User, action: Any, reason: Any = None
) -> list[Comment]:
    """The same decision on several comments at once, all or none."""
    ids = list(comment_ids)
    if not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInput("Choose at least one comment.", fields={"ids": "a list of comment ids"})
    if len(ids) > 200:
        raise InvalidInput("At most 200 comments at once.", fields={"ids": "at most 200"})
    ids_in_range = [i for i in ids if is_id(i)]
    found = {
        c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_(ids_in_range)))
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"No comment with id {missing[0]}.")
    return [decide(found[i], actor, action, reason) for i in dict.fromkeys(ids)]


def _parse_until(until: Any, moment: datetime) -> datetime | None:
    from webapp.services.articles import parse_datetime

    if until in (None, ""):
        return None
    if not isinstance(until, str):
        raise InvalidInput("until must be an ISO 8601 time.", fields={"until": "ISO 8601 time"})
    value = parse_datetime(until, "until")
    if value <= moment:
        raise InvalidInput(
            "A ban must end in the future (or leave it open).",
            fields={"until": "must be in the future"},
        )
    return value


def ban(
    user: User, actor: User, reason: Any, until: Any = None, moment: datetime | None = None
) -> User:
    """Ban a reader from writing, until a date or for good."""
    moment = moment or utcnow()
    if user.id == actor.id:
        raise Forbidden("You cannot ban yourself.")
    if user.role == Role.ADMIN or (user.role != Role.READER and actor.role != Role.ADMIN):
        raise Forbidden("Only an admin can ban staff, and admins cannot be banned.")
    reason = _clean_reason(reason)
    if not reason:
        raise InvalidInput("Please give a reason for the ban.", fields={"reason": "required"})
    ends = _parse_until(until, moment)
    user.banned_at = moment
    user.banned_until = ends
    user.ban_reason = reason
    end_sessions(user)  # a ban signs them out everywhere; signing in again is allowed
    record(
        actor,
        ModerationActionKind.BAN.value,
        target_user_id=user.id,
        reason=reason,
        details={"until": ends.isoformat() if ends else None},
    )
    db.session.flush()
    return user


def unban(user: User, actor: User, reason: Any = None) -> User:
    if user.banned_at is None:
        raise Conflict("This reader is not banned.")
    user.banned_at = None
    user.banned_until = None
    user.ban_reason = None
    record(
        actor,
        ModerationActionKind.UNBAN.value,
        target_user_id=user.id,
        reason=_clean_reason(reason),
    )
    db.session.flush()
    return user
