"""The moderation log: every moderator's action, written by the operation that did it.

The log is append-only: nothing here (or anywhere) updates or deletes a
ModerationAction. The operations (``actions``, ``terms``, ``settings``, and a
moderator deleting a comment in ``webapp.services.comments``) call :func:`record`
inside their own transaction, so no caller can change something without a trace.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Comment, ModerationAction, Role, User


def record(
    actor: User,
    action: str,
    *,
    comment: Comment | None = None,
    target_user_id: int | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> ModerationAction:
    """Add the actor's entry to the log (the caller's transaction commits it)."""
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


def audit_log(
    limit: int = 50,
    after: int | None = None,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    user_id: int | None = None,
    comment_id: int | None = None,
) -> tuple[list[ModerationAction], int | None]:
    """Newest first; filter by action, moderator, reader or comment.

    Each entry comes with its actor and target user loaded, so a page can name them
    without a query per row. ``after`` is the id of the last entry of the previous
    page; the second value returned is the one to ask the next page with."""
    query = select(ModerationAction).options(
        selectinload(ModerationAction.actor), selectinload(ModerationAction.target_user)
    )
    if action:
        query = query.where(ModerationAction.action == action)
    if actor_id is not None:
        query = query.where(ModerationAction.actor_id == actor_id)
    if user_id is not None:
        query = query.where(ModerationAction.target_user_id == user_id)
    if comment_id is not None:
        query = query.where(ModerationAction.comment_id == comment_id)
    if after is not None:
        query = query.where(ModerationAction.id < after)
    rows = list(db.session.scalars(query.order_by(ModerationAction.id.desc()).limit(limit + 1)))
    next_key = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_key = rows[-1].id
    return rows, next_key


def moderators() -> list[User]:
    """Who can act as a moderator (moderators and admins, by their role), by name, for
    the log's filter: read from the accounts through the index on (role,
    display_name), never from the log, which only grows."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_((Role.MODERATOR.value, Role.ADMIN.value)))
            .order_by(User.display_name, User.id)
        )
    )
