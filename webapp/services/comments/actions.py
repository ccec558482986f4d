"""What readers do to a comment once it is there: its author edits or deletes it (a
moderator deletes any), readers react to it and report it.

Each operation checks its rules (``rules``), writes, tells the thread cache, and
flushes; the caller commits. A moderator's deletion writes its own audit entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.caching import THREADS
from webapp.errors import Forbidden, NotFound
from webapp.extensions import db
from webapp.models import (
    Article,
    Comment,
    CommentFlag,
    CommentReaction,
    CommentStatus,
    User,
    utcnow,
)
from webapp.services import moderation
from webapp.services.accounts import ensure_can_write
from webapp.services.cache_purge import purge_article_after_commit
from webapp.services.comments import storage
from webapp.services.comments.posting import write_text
from webapp.services.comments.rules import (
    FULL_REPORT_WEIGHT,
    NEW_ACCOUNT_REPORT_WEIGHT,
    EditWindowOver,
    can_delete,
    can_edit,
    can_see,
    check_body,
    check_not_own,
    check_reaction,
    check_reason,
    clean_note,
    is_public,
    report_hold_reason,
)


def get_comment(comment_id: int, viewer: User | None) -> Comment:
    """The comment an action names, if ``viewer`` may see it on a published article."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or not can_see(comment, viewer):
        raise NotFound("No such comment.")
    article = db.session.get(Article, comment.article_id)
    if article is None or not article.is_published:
        raise NotFound("No such comment.")
    return comment


def edit(comment: Comment, user: User, body: str, moment: datetime | None = None) -> Comment:
    """The author changes their words within the edit window; checks run again."""
    moment = moment or utcnow()
    ensure_can_write(user)
    if comment.author_id != user.id or comment.deleted_at is not None:
        raise Forbidden("Only its author can edit a comment.")
    if not can_edit(comment, user, moment):
        raise EditWindowOver()
    text = check_body(body)
    article = db.session.get(Article, comment.article_id)
    assert article is not None
    if comment.status == CommentStatus.REJECTED:
        raise Forbidden("A rejected comment cannot be edited.")
    # Held while reported: readers' reports hid it, so only a moderator's decision
    # brings it back; rewriting it must not slip it past them.
    held_by_reports = comment.status == CommentStatus.PENDING and comment.reported_at is not None
    write_text(comment, text, user, article, moment)
    if held_by_reports:
        reporters, _weight = storage.reports_since_review(comment)
        comment.status = CommentStatus.PENDING.value
        comment.reasons_held = [report_hold_reason(reporters), *comment.reasons_held]
    comment.edited_at = moment
    THREADS.changed()
    purge_article_after_commit(comment.article_id)
    db.session.flush()
    return comment


def delete(comment: Comment, actor: User, moment: datetime | None = None) -> None:
    """Authors delete their own comments, moderators any. A comment that replies hang
    on keeps its place as "comment deleted"; one without replies goes entirely."""
    moment = moment or utcnow()
    if not can_delete(comment, actor):
        raise Forbidden("You can only delete your own comments.")
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
    THREADS.changed()
    purge_article_after_commit(comment.article_id)
    if comment.reply_count > 0:
        comment.deleted_at = moment
        comment.body = ""
        comment.html = ""
        comment.featured_at = None
        db.session.flush()
        return
    storage.remove(comment)


def react(comment: Comment, user: User, value: int) -> int:
    """One up (+1) or down (-1) vote per reader per comment; 0 takes it back. The
    comment's score after it."""
    check_reaction(value)
    ensure_can_write(user)
    if not is_public(comment):
        raise NotFound("No such comment.")
    check_not_own(comment, user)
    existing = db.session.scalar(
        select(CommentReaction)
        .where(CommentReaction.comment_id == comment.id, CommentReaction.user_id == user.id)
        .with_for_update()
    )
    before = existing.value if existing else 0
    if value == 0 and existing is not None:
        db.session.delete(existing)
    elif value != 0 and existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(CommentReaction(comment_id=comment.id, user_id=user.id, value=value))
        except IntegrityError:  # the same reader's other request got there first
            return react(comment, user, value)
    elif existing is not None:
        existing.value = value
    if value != before:
        THREADS.changed()
        storage.move_score(comment, value - before)
    db.session.flush()
    db.session.refresh(comment, ["score"])
    return comment.score


def report_weight(user: User, new_account_hours: int, moment: datetime | None = None) -> float:
    """What a report by ``user`` counts toward the automatic hide (see
    ``rules.FULL_REPORT_WEIGHT``)."""
    moment = moment or utcnow()
    if moment - user.created_at < timedelta(hours=new_account_hours):
        return NEW_ACCOUNT_REPORT_WEIGHT
    if storage.has_published_comment(user.id):
        return FULL_REPORT_WEIGHT
    return NEW_ACCOUNT_REPORT_WEIGHT


def flag(
    comment: Comment,
    user: User,
    reason: str,
    note: str | None = None,
    moment: datetime | None = None,
) -> bool:
    """A reader reports a comment; a second report by the same reader counts once.
    Returns True for a new report.

    The first report since a moderator last decided puts the comment in the Reported
    queue (``reported_at``); with ``hide_reported``, reports whose weights add up to
    ``report_threshold`` also hide it from readers until a moderator decides."""
    check_reason(reason)
    kept_note = clean_note(note)
    ensure_can_write(user)
    if not is_public(comment):
        raise NotFound("No such comment.")
    check_not_own(comment, user)
    moment = moment or utcnow()
    settings = moderation.moderation_settings()
    report = CommentFlag(
        comment_id=comment.id,
        user_id=user.id,
        reason=reason,
        note=kept_note,
        weight=report_weight(user, settings.new_account_hours, moment),
        created_at=moment,
    )
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        return False
    storage.count_report(comment)
    THREADS.changed()
    if comment.reported_at is None:
        # The oldest report still open: the Reported queue serves these first.
        comment.reported_at = moment
    if settings.hide_reported and comment.status == CommentStatus.PUBLISHED:
        reporters, weight = storage.reports_since_review(comment)
        if weight >= settings.report_threshold:
            comment.status = CommentStatus.PENDING.value
            comment.reasons_held = [*comment.reasons_held, report_hold_reason(reporters)]
            purge_article_after_commit(comment.article_id)
    db.session.flush()
    # The report's trigger moved the comment's open reports (the Reported queue's rank,
    # webapp/models/moderation_counts.py): read afresh when next asked.
    db.session.expire(comment, ["open_reports"])
    return True
