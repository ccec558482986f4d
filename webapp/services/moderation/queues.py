"""What moderators read to decide: the queues with their counts, each comment with its
reports, context and author's history, and the decisions the queue offers on it.

Pages are keyset-paged on a typed sort key (``AgeKey``, ``ReportedKey``); the request
layer turns cursors into those keys and back (webapp/api/moderation.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Subquery, and_, func, or_, select
from sqlalchemy.orm import selectinload

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import (
    Article,
    Comment,
    CommentFlag,
    CommentStatus,
    User,
    utcnow,
)
from webapp.services.moderation.actions import offered_actions

QUEUES = ("pending", "reported", "rejected", "approved")

#: Where a page of the Pending, Rejected or Approved queue ended: (created_at, id).
AgeKey = tuple[datetime, int]
#: Where a page of the Reported queue ended: (open reports, reported_at, id).
ReportedKey = tuple[int, datetime, int]
QueueKey = AgeKey | ReportedKey


def _queue_filter(status: str) -> ColumnElement[bool]:
    live = Comment.deleted_at.is_(None)
    if status == "pending":
        return and_(live, Comment.status == CommentStatus.PENDING)
    if status == "reported":
        # reported_at is set by a comment's first report since a moderator last decided
        # on it and cleared by the next decision (webapp/services/comments/actions.py, flag).
        return and_(
            live, Comment.reported_at.is_not(None), Comment.status != CommentStatus.REJECTED
        )
    if status == "rejected":
        return and_(live, Comment.status == CommentStatus.REJECTED)
    if status == "approved":
        return and_(
            live, Comment.status == CommentStatus.PUBLISHED, Comment.moderated_at.is_not(None)
        )
    raise InvalidInput(
        "status must be pending, reported, rejected or approved.",
        fields={"status": "pending, reported, rejected or approved"},
    )


def queue_counts() -> dict[str, int]:
    """Counts for the navigation, in one query."""
    row = db.session.execute(
        select(
            *(func.count().filter(_queue_filter(name)).label(name) for name in QUEUES)
        ).select_from(Comment)
    ).one()
    return {name: int(getattr(row, name) or 0) for name in QUEUES}


@dataclass
class AuthorHistory:
    comments: int
    published: int
    rejected: int
    flags_received: int
    joined_at: datetime
    banned: bool
    banned_until: datetime | None

    def account_age_days(self, moment: datetime | None = None) -> int:
        return max(0, ((moment or utcnow()) - self.joined_at).days)


@dataclass
class QueueItem:
    """A comment with all a moderator needs to decide, loaded together: the comment's
    author, its article, and the parent's author are read, so showing the item asks
    the database nothing more."""

    comment: Comment
    article: Article
    parent: Comment | None
    flags: list[tuple[str, int]]
    author: AuthorHistory
    #: (reason, note) of each report that came with a note, oldest first.
    notes: list[tuple[str, str]] = field(default_factory=list)
    #: Readers who reported it since a moderator last decided (Reported queue only).
    open_reports: int = 0
    #: The decisions the queue offers on it now (``actions.offered_actions``).
    actions: tuple[str, ...] = ()


def author_histories(user_ids: set[int]) -> dict[int, AuthorHistory]:
    if not user_ids:
        return {}
    counts = {
        row.author_id: row
        for row in db.session.execute(
            select(
                Comment.author_id,
                func.count().label("comments"),
                func.count().filter(Comment.status == CommentStatus.PUBLISHED).label("published"),
                func.count().filter(Comment.status == CommentStatus.REJECTED).label("rejected"),
                func.coalesce(func.sum(Comment.flag_count), 0).label("flags"),
            )
            .where(Comment.author_id.in_(user_ids))
            .group_by(Comment.author_id)
        )
    }
    now = utcnow()
    histories = {}
    for user in db.session.scalars(select(User).where(User.id.in_(user_ids))):
        row = counts.get(user.id)
        histories[user.id] = AuthorHistory(
            comments=row.comments if row else 0,
            published=row.published if row else 0,
            rejected=row.rejected if row else 0,
            flags_received=int(row.flags) if row else 0,
            joined_at=user.created_at,
            banned=user.is_banned_at(now),
            banned_until=user.banned_until,
        )
    return histories


def recent_comments(user: User, limit: int = 20) -> list[Comment]:
    """The reader's latest comments, newest first, whatever their state."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.author_id == user.id)
            .order_by(Comment.created_at.desc())
            .limit(limit)
        )
    )


def _open_reports() -> Subquery:
    """Per comment, the readers who reported it since a moderator last decided on it."""
    return (
        select(CommentFlag.comment_id, func.count().label("reporters"))
        .join(Comment, Comment.id == CommentFlag.comment_id)
        .where(
            Comment.reported_at.is_not(None),
            or_(Comment.moderated_at.is_(None), CommentFlag.created_at > Comment.moderated_at),
        )
        .group_by(CommentFlag.comment_id)
        .subquery()
    )


def open_report_counts(comment_ids: list[int]) -> dict[int, int]:
    """Readers who reported each of these comments since a moderator last decided."""
    if not comment_ids:
        return {}
    open_reports = _open_reports()
    return {
        comment_id: int(reporters)
        for comment_id, reporters in db.session.execute(
            select(open_reports.c.comment_id, open_reports.c.reporters).where(
                open_reports.c.comment_id.in_(comment_ids)
            )
        ).tuples()
    }


def _page_by_age(
    status: str, limit: int, after: QueueKey | None
) -> tuple[list[Comment], AgeKey | None]:
    query = (
        select(Comment)
        .where(_queue_filter(status))
        .options(selectinload(Comment.author), selectinload(Comment.article))
        .order_by(Comment.created_at, Comment.id)
    )
    if after is not None:
        if len(after) != 2:
            raise ValueError("the queues page by (created_at, id)")
        when, last_id = after
        query = query.where(
            or_(Comment.created_at > when, and_(Comment.created_at == when, Comment.id > last_id))
        )
    rows = list(db.session.scalars(query.limit(limit + 1)))
    next_key = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_key = (rows[-1].created_at, rows[-1].id)
    return rows, next_key


def _reported_page(
    limit: int, after: QueueKey | None
) -> tuple[list[Comment], dict[int, int], ReportedKey | None]:
    open_reports = _open_reports()
    # An outer join: the page lists exactly what the queue's count in the navigation
    # counts (_queue_filter), even a comment whose open reports could not be matched.
    reporters = func.coalesce(open_reports.c.reporters, 0)
    query = (
        select(Comment, reporters)
        .outerjoin(open_reports, open_reports.c.comment_id == Comment.id)
        .where(_queue_filter("reported"))
        .options(selectinload(Comment.author), selectinload(Comment.article))
        .order_by(reporters.desc(), Comment.reported_at, Comment.id)
    )
    if after is not None:
        if len(after) != 3:
            raise ValueError("the Reported queue pages by (open reports, reported_at, id)")
        count, when, last_id = after
        query = query.where(
            or_(
                reporters < count,
                and_(reporters == count, Comment.reported_at > when),
                and_(reporters == count, Comment.reported_at == when, Comment.id > last_id),
            )
        )
    found = list(db.session.execute(query.limit(limit + 1)).tuples())
    next_key = None
    if len(found) > limit:
        found = found[:limit]
        last, last_count = found[-1]
        assert last.reported_at is not None
        next_key = (last_count, last.reported_at, last.id)
    return [c for c, _ in found], {c.id: n for c, n in found}, next_key


def queue(
    status: str = "pending", limit: int = 20, after: QueueKey | None = None
) -> tuple[list[QueueItem], QueueKey | None]:
    """One page of a queue, each comment with all a moderator needs to decide, and
    the key to ask the next page with (None on the last page).

    Oldest first, except the Reported queue: the comments most readers reported
    first, then the one whose oldest open report has waited longest. ``after`` is
    the key the previous page returned: a ``ReportedKey`` for the Reported queue,
    an ``AgeKey`` for the others."""
    next_key: QueueKey | None
    if status == "reported":
        rows, reporters, next_key = _reported_page(limit, after)
    else:
        rows, next_key = _page_by_age(status, limit, after)
        reporters = open_report_counts([c.id for c in rows if c.reported_at is not None])
    return _items(rows, reporters), next_key


def queue_items(comments: Sequence[Comment]) -> list[QueueItem]:
    """These comments as the queue shows them (say, after a decision), in this order."""
    for comment in comments:
        # Read here rather than while the item is shown (from the session if it holds them).
        _ = comment.author, comment.article
    return _items(list(comments), open_report_counts([c.id for c in comments]))


def _items(rows: list[Comment], reporters: dict[int, int]) -> list[QueueItem]:
    """The queue items of ``rows`` (loaded with their author and article): their
    reports, notes, parents and authors' histories, a query each for all rows."""
    ids = [c.id for c in rows]
    flags: dict[int, list[tuple[str, int]]] = {}
    if ids:
        for comment_id, reason, count in db.session.execute(
            select(CommentFlag.comment_id, CommentFlag.reason, func.count())
            .where(CommentFlag.comment_id.in_(ids))
            .group_by(CommentFlag.comment_id, CommentFlag.reason)
            .order_by(CommentFlag.comment_id, func.count().desc(), CommentFlag.reason)
        ).tuples():
            flags.setdefault(comment_id, []).append((reason, count))
    notes: dict[int, list[tuple[str, str]]] = {}
    if ids:
        for comment_id, reason, note in db.session.execute(
            select(CommentFlag.comment_id, CommentFlag.reason, CommentFlag.note)
            .where(CommentFlag.comment_id.in_(ids), CommentFlag.note.is_not(None))
            .order_by(CommentFlag.created_at)
        ).tuples():
            assert note is not None
            notes.setdefault(comment_id, []).append((reason, note))
    parent_ids = {c.in_reply_to_id or c.parent_id for c in rows} - {None}
    parents = (
        {
            c.id: c
            for c in db.session.scalars(
                select(Comment)
                .where(Comment.id.in_(parent_ids))
                .options(selectinload(Comment.author))
            )
        }
        if parent_ids
        else {}
    )
    histories = author_histories({c.author_id for c in rows})
    return [
        QueueItem(
            comment=c,
            article=c.article,
            parent=parents.get(c.in_reply_to_id or c.parent_id or -1),
            flags=flags.get(c.id, []),
            author=histories[c.author_id],
            notes=notes.get(c.id, []),
            open_reports=reporters.get(c.id, 0),
            actions=offered_actions(c),
        )
        for c in rows
    ]
