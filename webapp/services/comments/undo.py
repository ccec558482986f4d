"""Deleting with a moment to take it back, and posting that a retry cannot double.

- ``delete_undoable``: the comment's text goes at once (as ``actions.delete`` takes it),
  kept aside in a ``CommentDeletion`` for COMMENT_UNDO_SECONDS; ``undo`` puts it back.
  ``finish_deletions`` then does what ``actions.delete`` would have done at once: a
  comment without replies goes, one with replies stays as "comment deleted".
- ``posted_with_key`` / ``claim_key``: a comment form's idempotency key (or an API
  client's ``Idempotency-Key`` header), per author, so a POST sent again (a
  double click, a retry after a lost answer, the browser's resubmit) finds the comment
  the first one stored.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError

from webapp.caching import THREADS
from webapp.errors import Conflict, Forbidden, NotFound
from webapp.extensions import db
from webapp.jobs.registry import periodic
from webapp.models import Comment, User, utcnow
from webapp.models.comment_actions import CommentDeletion, CommentPostKey
from webapp.services import moderation
from webapp.services.accounts import ensure_can_write
from webapp.services.cache_purge import purge_article_after_commit
from webapp.services.comments import storage
from webapp.services.comments.rules import can_delete

#: What a key may look like: what a script makes (a UUID, random URL-safe text).
_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,80}")
#: Deletions finished per call: a call never does more than a moment's work.
_FINISH_BATCH = 50


class UndoTooLate(Conflict):
    code, message = "undo_too_late", "This deletion can no longer be undone."


def undo_seconds() -> int:
    return max(0, int(current_app.config.get("COMMENT_UNDO_SECONDS", 10)))


def clean_key(raw: str | None) -> str | None:
    """An idempotency key as kept, or None for none or one that is not a key (then the
    POST is simply not protected: a malformed header never refuses a comment)."""
    if raw and _KEY.fullmatch(raw.strip()):
        return raw.strip()
    return None


def posted_with_key(author_id: int, key: str | None) -> Comment | None:
    """The comment this author already stored with ``key``, if any."""
    if key is None:
        return None
    found = db.session.scalar(
        select(Comment)
        .join(CommentPostKey, CommentPostKey.comment_id == Comment.id)
        .where(CommentPostKey.author_id == author_id, CommentPostKey.key == key)
    )
    return found


def claim_key(comment: Comment, key: str | None, moment: datetime | None = None) -> bool:
    """Tie ``key`` to the comment just stored (in its transaction). False when another
    request of the same author claimed it first: the caller rolls back and answers
    with ``posted_with_key``."""
    if key is None:
        return True
    try:
        with db.session.begin_nested():
            db.session.add(
                CommentPostKey(
                    author_id=comment.author_id,
                    key=key,
                    comment_id=comment.id,
                    created_at=moment or utcnow(),
                )
            )
    except IntegrityError:
        return False
    return True


def delete_undoable(comment: Comment, actor: User, moment: datetime | None = None) -> datetime:
    """Delete the comment as ``actions.delete`` does, but undoable until the moment
    returned. Its text is gone from every page and answer at once. Flushes."""
    moment = moment or utcnow()
    if not can_delete(comment, actor):
        raise Forbidden("You can only delete your own comments.")
    if comment.deleted_at is not None:
        raise NotFound("No such comment.")
    if comment.author_id == actor.id:
        ensure_can_write(actor)
    else:
        moderation.record(
            actor,
            "delete",
            comment=comment,
            target_user_id=comment.author_id,
            details={"body": comment.body[:500]},
        )
    until = moment + timedelta(seconds=undo_seconds())
    db.session.add(
        CommentDeletion(
            comment_id=comment.id,
            deleted_by=actor.id,
            undo_until=until,
            body=comment.body,
            html=comment.html,
            featured_at=comment.featured_at,
        )
    )
    comment.deleted_at = moment
    comment.body = ""
    comment.html = ""
    comment.featured_at = None
    THREADS.changed()
    purge_article_after_commit(comment.article_id)
    db.session.flush()
    return until


def undo(comment_id: int, actor: User, moment: datetime | None = None) -> Comment:
    """Put back a comment ``actor`` deleted, within the undo window. Flushes."""
    moment = moment or utcnow()
    deletion = db.session.get(CommentDeletion, comment_id)
    if deletion is None or deletion.deleted_by != actor.id:
        raise NotFound("No deletion of yours to undo.")
    if deletion.undo_until < moment:
        raise UndoTooLate()
    comment = db.session.get(Comment, comment_id)
    if comment is None:  # pragma: no cover - the deletion row goes with the comment
        raise NotFound("No such comment.")
    if comment.author_id != actor.id:
        # The log said a moderator deleted it; it says as plainly that it came back.
        moderation.record(actor, "undelete", comment=comment, target_user_id=comment.author_id)
    comment.deleted_at = None
    comment.body = deletion.body
    comment.html = deletion.html
    comment.featured_at = deletion.featured_at
    db.session.delete(deletion)
    THREADS.changed()
    purge_article_after_commit(comment.article_id)
    db.session.flush()
    return comment


def finish_deletions(moment: datetime | None = None) -> int:
    """Finish the deletions whose undo window is over, a batch at a time: a comment no
    reply hangs on goes entirely. How many were finished. Flushes."""
    moment = moment or utcnow()
    due = db.session.scalars(
        select(CommentDeletion)
        .where(CommentDeletion.undo_until < moment)
        .order_by(CommentDeletion.undo_until)
        .limit(_FINISH_BATCH)
    ).all()
    for deletion in due:
        comment_id = deletion.comment_id
        db.session.delete(deletion)
        db.session.flush()
        comment = db.session.get(Comment, comment_id)
        if comment is not None and comment.deleted_at is not None and comment.reply_count <= 0:
            purge_article_after_commit(comment.article_id)
            storage.remove(comment)
    if due:
        THREADS.changed()
    return len(due)


@periodic("comments.finish_deletions", every_seconds=5.0)
def finish_due_deletions() -> int:
    """The job worker's chore: finish deletions as their undo window closes, so a
    deleted comment without replies goes within seconds, not at the next reader's
    comment action (which also finishes them). Commits."""
    finished = finish_deletions()
    db.session.commit()
    return finished


#: How long a comment's idempotency key finds it: far longer than any client retries.
POST_KEY_DAYS = 1


@periodic("comments.forget_post_keys", every_seconds=3600.0)
def forget_old_post_keys(moment: datetime | None = None) -> int:
    """The job worker's hourly chore: forget idempotency keys older than a day (a
    retry comes within seconds or minutes; the table would otherwise hold one row per
    comment ever posted with a key). How many went. Commits."""
    cutoff = (moment or utcnow()) - timedelta(days=POST_KEY_DAYS)
    gone = cast(
        CursorResult[Any],
        db.session.execute(delete(CommentPostKey).where(CommentPostKey.created_at < cutoff)),
    ).rowcount
    db.session.commit()
    return int(gone or 0)
