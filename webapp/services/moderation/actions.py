"""Moderators' decisions on comments and readers: each operation writes its own entry
to the moderation log (``audit.record``) in the same transaction.

The operations take typed values (the API and the HTML forms read the request);
what they refuse is a domain error: a value not allowed (InvalidInput, 422), a
comment in the wrong state (Conflict, 409), a reader one may not ban (Forbidden).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from webapp.caching import THREADS
from webapp.errors import Conflict, Forbidden, InvalidInput, NotFound
from webapp.extensions import db
from webapp.ids import is_id
from webapp.models import (
    Article,
    Comment,
    CommentStatus,
    ModerationActionKind,
    Role,
    User,
    utcnow,
)
from webapp.services.accounts import end_sessions
from webapp.services.cache_purge import purge_article_after_commit
from webapp.services.moderation.audit import record
from webapp.text import clean_line

COMMENT_ACTIONS = ("approve", "reject", "feature", "unfeature")
MAX_REASON = 1000
#: The most comments one bulk decision takes.
MAX_BULK = 200


def _may_feature(comment: Comment) -> bool:
    return comment.status == CommentStatus.PUBLISHED


def offered_actions(comment: Comment) -> tuple[str, ...]:
    """The decisions the queue offers on ``comment`` as it stands: approve what is not
    published, reject what is not rejected, feature or unfeature what is published."""
    offered: list[str] = []
    if comment.status != CommentStatus.PUBLISHED:
        offered.append("approve")
    if comment.status != CommentStatus.REJECTED:
        offered.append("reject")
    if _may_feature(comment):
        offered.append("unfeature" if comment.featured_at else "feature")
    return tuple(offered)


def _clean_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = clean_line(reason)
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            f"Reasons can be at most {MAX_REASON} characters.",
            fields={"reason": f"at most {MAX_REASON} characters"},
        )
    return reason or None


def decide(
    comment: Comment,
    actor: User,
    action: str,
    reason: str | None = None,
    moment: datetime | None = None,
) -> Comment:
    """Approve, reject, feature or unfeature one comment, and log it. Flushes; the
    caller commits."""
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
        if not _may_feature(comment):
            raise Conflict("Only published comments can be featured; approve it first.")
        comment.featured_at = comment.featured_at or moment
    else:
        comment.featured_at = None
    # The article's comment_count and the author's last_rejected_at move with the row
    # (webapp/models/comment_triggers.py); what readers see of the thread changed.
    THREADS.changed()
    purge_article_after_commit(comment.article_id)
    record(
        actor,
        action,
        comment=comment,
        target_user_id=comment.author_id,
        reason=reason,
        details={"status_before": before, "status_after": comment.status},
    )
    db.session.flush()
    if action in ("approve", "reject"):
        # A decision (a new moderated_at) set its open reports afresh in the database
        # (webapp/models/moderation_counts.py): read them again when next asked.
        db.session.expire(comment, ["open_reports"])
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


def _lock_in_order(comments: list[Comment]) -> None:
    """Take the rows the decisions will write, before writing any: the comments, then
    their articles (whose comment counts move), then their authors (whose last
    rejection moves), each in id order (PostgreSQL; SQLite has one writer at a time).

    A decision on one comment writes its row, its article's and its author's, in that
    order, from the triggers (webapp/models/comment_triggers.py); several decided one
    after the other would hold one comment's article while waiting for another's
    author, which a concurrent decision may hold while waiting for that article: a
    deadlock. Taken up front and in order, two bulk decisions wait for each other in
    turn, and a single decision never waits for a row while holding one a bulk
    decision still needs. (The queue counts are moved at commit, last:
    webapp/models/moderation_counts.py.)"""
    ids = sorted(c.id for c in comments)
    articles = sorted({c.article_id for c in comments})
    authors = sorted({c.author_id for c in comments})
    for table, keys in ((Comment, ids), (Article, articles), (User, authors)):
        db.session.execute(
            select(table.id)
            .where(table.id.in_(keys))
            .order_by(table.id)
            .with_for_update(key_share=True)
        ).all()


def decide_many(
    comment_ids: Iterable[int], actor: User, action: str, reason: str | None = None
) -> list[Comment]:
    """The same decision on several comments at once, all or none; each is logged."""
    ids = list(comment_ids)
    if not ids:
        raise InvalidInput("Choose at least one comment.", fields={"ids": "a list of comment ids"})
    if len(ids) > MAX_BULK:
        raise InvalidInput(
            f"At most {MAX_BULK} comments at once.", fields={"ids": f"at most {MAX_BULK}"}
        )
    ids_in_range = [i for i in ids if is_id(i)]
    found = {
        c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_(ids_in_range)))
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"No comment with id {missing[0]}.")
    _lock_in_order(list(found.values()))
    return [decide(found[i], actor, action, reason) for i in dict.fromkeys(ids)]


def ban(
    user: User,
    actor: User,
    reason: str | None,
    until: datetime | None = None,
    moment: datetime | None = None,
) -> User:
    """Ban a reader from writing, until ``until`` or for good, and log it. Signs them
    out everywhere. Flushes; the caller commits."""
    moment = moment or utcnow()
    if user.id == actor.id:
        raise Forbidden("You cannot ban yourself.")
    if user.role == Role.ADMIN or (user.role != Role.READER and actor.role != Role.ADMIN):
        raise Forbidden("Only an admin can ban staff, and admins cannot be banned.")
    reason = _clean_reason(reason)
    if not reason:
        raise InvalidInput("Please give a reason for the ban.", fields={"reason": "required"})
    if until is not None and until <= moment:
        raise InvalidInput(
            "A ban must end in the future (or leave it open).",
            fields={"until": "must be in the future"},
        )
    user.banned_at = moment
    user.banned_until = until
    user.ban_reason = reason
    end_sessions(user)  # a ban signs them out everywhere; signing in again is allowed
    record(
        actor,
        ModerationActionKind.BAN.value,
        target_user_id=user.id,
        reason=reason,
        details={"until": until.isoformat() if until else None},
    )
    db.session.flush()
    return user


def may_unban(user: User) -> bool:
    """Whether there is a ban to lift (one that ran out is still on record)."""
    return user.banned_at is not None


def unban(user: User, actor: User, reason: str | None = None) -> User:
    """Lift a ban, and log it. Flushes; the caller commits."""
    if not may_unban(user):
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
