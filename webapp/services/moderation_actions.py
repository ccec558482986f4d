"""The audit log: every moderation action is written once and never changed."""

from __future__ import annotations

from typing import Any

from webapp.extensions import db
from webapp.models import Comment, ModerationAction, User


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
