"""What moderators read to decide: the queues with their counts, each comment with its
reports, context and author's history, and the decisions the queue offers on it.

Pages are keyset-paged on a typed sort key (``AgeKey``, ``ReportedKey``); the request
layer turns cursors into those keys and back (webapp/api/moderation.py).

What a page reads is bounded by the page and its queue, never by the site: each queue
(and its count) has a partial index of its own comments, reports are counted per
comment on the page (or in the Reported queue), and authors' histories are grouped
for the page's authors only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import selectinload

from webapp.caching import QUEUE_COUNTS
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


def _status(value: CommentStatus) -> BindParameter[str]:
    """A status written into the statement rather than sent as a parameter, so that
    PostgreSQL plans every execution with it and picks the queue's partial index (a
    generic plan for ``status = $1`` cannot know the index covers it)."""
    return bindparam(None, value.value, literal_execute=True)


def _queue_filter(status: str) -> ColumnElement[bool]:
    """The comments in queue ``status``: each filter is the condition of that queue's
    partial index, so its page and its count read only the queue's own entries."""
    live = Comment.deleted_at.is_(None)
    if status == "pending":
        return and_(Comment.status == _status(CommentStatus.PENDING), live)
    if status == "reported":
        # reported_at is set by a comment's first report since a moderator last decided
        # on it and cleared by the next decision (webapp/services/comments/actions.py, flag).
        return and_(
            Comment.reported_at.is_not(None),
            live,
            Comment.status != _status(CommentStatus.REJECTED),
        )
    if status == "rejected":
        return and_(Comment.status == _status(CommentStatus.REJECTED), live)
    if status == "approved":
        return and_(
            Comment.status == _status(CommentStatus.PUBLISHED),
            Comment.moderated_at.is_not(None),
            live,
        )
    raise InvalidInput(
        "status must be pending, reported, rejected or approved.",
        fields={"status": "pending, reported, rejected or approved"},
    )


def queue_counts() -> dict[str, int]:
    """Each queue's size, for the navigation: one statement, each count read from the
    queue's partial index alone (it grows with the queue, not with the comments)."""
    row = db.session.execute(
        select(
            *(
                select(func.count())
                .select_from(Comment)
                .where(_queue_filter(name))
                .scalar_subquery()
                .label(name)
                for name in QUEUES
            )
        )
    ).one()
    return {name: int(getattr(row, name) or 0) for name in QUEUES}


def navigation_counts() -> dict[str, int]:
    """``queue_counts`` as the navigation of every moderator's page shows them: each
    worker keeps them for QUEUE_COUNTS_CACHE_SECONDS (``webapp.caching.QUEUE_COUNTS``),
    and a decision made from a moderation page drops this worker's copy. The queues
    and the API's counts read them fresh."""
    return dict(QUEUE_COUNTS.get_or_build("navigation", queue_counts))


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
    """What the queue shows of each author: their comments by status and the reports
    they received, grouped for these authors only and read from the index on
    (author_id, status, flag_count), with their accounts, in one query."""
    if not user_ids:
        return {}
    counts = (
        select(
            Comment.author_id,
            func.count().label("comments"),
            func.count().filter(Comment.status == CommentStatus.PUBLISHED).label("published"),
            func.count().filter(Comment.status == CommentStatus.REJECTED).label("rejected"),
            func.coalesce(func.sum(Comment.flag_count), 0).label("flags"),
        )
        .where(Comment.author_id.in_(user_ids))
        .group_by(Comment.author_id)
        .subquery("counts")
    )
    now = utcnow()
    histories = {}
    for user, comments, published, rejected, flags in db.session.execute(
        select(User, counts.c.comments, counts.c.published, counts.c.rejected, counts.c.flags)
        .outerjoin(counts, counts.c.author_id == User.id)
        .where(User.id.in_(user_ids))
    ).tuples():
        histories[user.id] = AuthorHistory(
            comments=int(comments or 0),
            published=int(published or 0),
            rejected=int(rejected or 0),
            flags_received=int(flags or 0),
            joined_at=user.created_at,
            banned=user.is_banned_at(now),
            banned_until=user.banned_until,
        )
    return histories


def recent_comments(
    user: User, limit: int = 20, before: AgeKey | None = None
) -> tuple[list[Comment], AgeKey | None]:
    """The reader's comments, newest first, whatever their state: the ``limit`` before
    ``before`` (keyset by (created_at, id), on the index on (author_id, created_at)),
    and the key to ask for the next (older) page with; None on the last page."""
    query = select(Comment).where(Comment.author_id == user.id)
    if before is not None:
        when, last_id = before
        query = query.where(tuple_(Comment.created_at, Comment.id) < (when, last_id))
    rows = list(
        db.session.scalars(
            query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit + 1)
        )
    )
    next_key = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_key = (rows[-1].created_at, rows[-1].id)
    return rows, next_key


def _open_reporters() -> ScalarSelect[int]:
    """Per comment of the enclosing query, the readers who reported it since a
    moderator last decided on it: counted for that comment alone, from the index on
    comment_flags (comment_id, created_at)."""
    return (
        select(func.count())
        .select_from(CommentFlag)
        .where(
            CommentFlag.comment_id == Comment.id,
            or_(Comment.moderated_at.is_(None), CommentFlag.created_at > Comment.moderated_at),
        )
        .correlate(Comment)
        .scalar_subquery()
    )


def open_report_counts(comment_ids: list[int]) -> dict[int, int]:
    """Readers who reported each of these comments since a moderator last decided
    (comments out of the Reported queue have none), in one query over their reports."""
    if not comment_ids:
        return {}
    return {
        comment_id: int(reporters)
        for comment_id, reporters in db.session.execute(
            select(CommentFlag.comment_id, func.count())
            .join(Comment, Comment.id == CommentFlag.comment_id)
            .where(
                CommentFlag.comment_id.in_(comment_ids),
                Comment.reported_at.is_not(None),
                or_(
                    Comment.moderated_at.is_(None),
                    CommentFlag.created_at > Comment.moderated_at,
                ),
            )
            .group_by(CommentFlag.comment_id)
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
        # A row comparison: the queue's index on (created_at, id) starts the page at
        # the key instead of walking the pages before it.
        query = query.where(tuple_(Comment.created_at, Comment.id) > (when, last_id))
    rows = list(db.session.scalars(query.limit(limit + 1)))
    next_key = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_key = (rows[-1].created_at, rows[-1].id)
    return rows, next_key


def _reported_page(
    limit: int, after: QueueKey | None
) -> tuple[list[Comment], dict[int, int], ReportedKey | None]:
    # Every comment in the queue is ranked by its open reports, each counted from its
    # own reports (a correlated count on the flags' index), so the page reads the
    # queue and the queue's reports: never the other comments or their reports. The
    # page lists exactly what the queue's count in the navigation counts.
    reporters = _open_reporters()
    ranked = reporters.label("reporters")
    query = (
        select(Comment, ranked)
        .where(_queue_filter("reported"))
        .options(selectinload(Comment.author), selectinload(Comment.article))
        .order_by(ranked.desc(), Comment.reported_at, Comment.id)
    )
    if after is not None:
        if len(after) != 3:
            raise ValueError("the Reported queue pages by (open reports, reported_at, id)")
        count, when, last_id = after
        # One row comparison (most reports first, then oldest, then id), so each
        # comment's reports are counted once more here, not once per OR branch.
        query = query.where(
            tuple_(-reporters, Comment.reported_at, Comment.id) > (-count, when, last_id)
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
