"""What moderators read to decide: the queues with their counts, each comment with its
reports, context and author's history, and the decisions the queue offers on it.

Pages are keyset-paged on a typed sort key (``AgeKey``, ``ReportedKey``); the request
layer turns cursors into those keys and back (webapp/api/moderation.py).

What a page reads is bounded by the page, never by the site or the queue: each queue
has a partial index of its own comments in its page order (the Reported queue's ranks
by ``comments.open_reports``), the queues' sizes are one row the database keeps
(webapp/models/moderation_counts.py; ``counter_drift`` checks it and the open reports
against the rows), and authors' histories are grouped for the page's authors only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    ScalarSelect,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
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
from webapp.models.moderation_counts import ModerationQueueCounts
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
    """Each queue's size, for the navigation: the one row of counts the database keeps
    with every write of a comment (webapp/models/moderation_counts.py), read by its
    primary key, whatever the size of the queues."""
    row = db.session.execute(
        select(*(getattr(ModerationQueueCounts, name) for name in QUEUES)).where(
            ModerationQueueCounts.id == 1
        )
    ).first()
    if row is None:  # no comment in any queue since the table was emptied
        return dict.fromkeys(QUEUES, 0)
    return {name: int(count) for name, count in zip(QUEUES, row, strict=True)}


def _recount() -> Select[Any]:
    """Each queue's size counted from its comments, each count from its partial index."""
    return select(
        *(
            select(func.count())
            .select_from(Comment)
            .where(_queue_filter(name))
            .scalar_subquery()
            .label(name)
            for name in QUEUES
        )
    )


def recount_queues() -> dict[str, int]:
    """Each queue's size counted from its comments: what ``queue_counts`` must say, for
    checks and repairs."""
    row = db.session.execute(_recount()).one()
    return {name: int(getattr(row, name) or 0) for name in QUEUES}


def _open_reports_now() -> ScalarSelect[int]:
    """Per comment of the enclosing query, its reports since a moderator last decided
    on it, counted from comment_flags (what ``comments.open_reports`` keeps)."""
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


def counter_drift() -> dict[str, tuple[int, int]]:
    """What the triggers keep, checked against the rows (reads every comment: for
    tests, repairs and the scale loader's check, never a page): each queue whose stored
    count differs from its comments, as (stored, counted), and under "open_reports" the
    number of comments whose open reports differ from their reports, as (that, 0).
    Empty when all is right."""
    stored, counted = queue_counts(), recount_queues()
    drift = {q: (stored[q], counted[q]) for q in QUEUES if stored[q] != counted[q]}
    wrong = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.open_reports != _open_reports_now())
    )
    if wrong:
        drift["open_reports"] = (int(wrong), 0)
    return drift


def reset_counters() -> None:
    """Set the queue counts and every comment's open reports from the rows (after a
    load written with the triggers off, or to repair drift). Flushes; the caller
    commits."""
    db.session.flush()
    refill_counters(db.session.connection())
    db.session.expire_all()  # the comments this session holds read their figures afresh


def refill_counters(connection: Connection) -> None:
    """``reset_counters`` on a connection (the scale loader's); the caller commits. On
    PostgreSQL, comments and reports take no writes until then, so none falls between
    the count and the row written from it."""
    if connection.dialect.name == "postgresql":
        # This transaction's own changes move the counts now, not at commit on top of
        # the recount (the triggers are deferred: webapp/models/moderation_counts.py).
        connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        connection.exec_driver_sql("LOCK TABLE comments, comment_flags IN SHARE ROW EXCLUSIVE MODE")
    connection.execute(
        update(Comment)
        .where(Comment.open_reports != _open_reports_now())
        .values(open_reports=_open_reports_now())
    )
    counted = connection.execute(_recount()).one()
    connection.execute(delete(ModerationQueueCounts))
    connection.execute(
        insert(ModerationQueueCounts).values(
            id=1, **{name: int(getattr(counted, name) or 0) for name in QUEUES}
        )
    )


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


def open_report_counts(comment_ids: list[int]) -> dict[int, int]:
    """Readers who reported each of these comments since a moderator last decided
    (comments out of the Reported queue have none), read from their rows."""
    if not comment_ids:
        return {}
    return {
        comment_id: int(reporters)
        for comment_id, reporters in db.session.execute(
            select(Comment.id, Comment.open_reports).where(
                Comment.id.in_(comment_ids),
                Comment.reported_at.is_not(None),
                Comment.open_reports > 0,
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
    # The queue in its page order is its partial index (ix_comments_reported_queue_ranked:
    # open_reports DESC, reported_at, id), so a page is one range of it read in order:
    # after a key, the rest of the key's rank (same open reports, later in the queue),
    # then, if that runs out before the page is full, the ranks below it.
    def page(*conditions: ColumnElement[bool], rows: int) -> list[Comment]:
        return list(
            db.session.scalars(
                select(Comment)
                .where(_queue_filter("reported"), *conditions)
                .options(selectinload(Comment.author), selectinload(Comment.article))
                .order_by(Comment.open_reports.desc(), Comment.reported_at, Comment.id)
                .limit(rows)
            )
        )

    if after is None:
        found = page(rows=limit + 1)
    else:
        if len(after) != 3:
            raise ValueError("the Reported queue pages by (open reports, reported_at, id)")
        count, when, last_id = after
        found = page(
            Comment.open_reports == count,
            tuple_(Comment.reported_at, Comment.id) > (when, last_id),
            rows=limit + 1,
        )
        if len(found) <= limit:
            found += page(Comment.open_reports < count, rows=limit + 1 - len(found))
    next_key = None
    if len(found) > limit:
        found = found[:limit]
        last = found[-1]
        assert last.reported_at is not None
        next_key = (last.open_reports, last.reported_at, last.id)
    return found, {c.id: c.open_reports for c in found}, next_key


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


# --- Filtered pages: by article, by reason, by author or text ---------------------------

#: The reasons a moderator can filter a queue by: why a comment was held (the start of
#: one of its ``reasons_held``, as ``rules.assess`` words them) or what readers reported
#: it for. Key → (label, how it is matched).
HELD_REASONS: dict[str, tuple[str, str]] = {
    "premoderated": ("Held: article is premoderated", '%"article is premoderated%'),
    "suspect_words": ("Held: suspect words", '%"suspect words: %'),
    "links": ("Held: too many links", "% links (more than %"),
    "toxicity": ("Held: toxicity", '%"toxicity %'),
    "new_author": ("Held: new author", '%"new author %'),
    "author_rejected": ("Held: author often rejected", '%"author rejected %'),
}
REPORT_REASONS: dict[str, str] = {
    "spam": "Reported: spam",
    "abuse": "Reported: abuse",
    "off_topic": "Reported: off topic",
    "other": "Reported: other",
}
#: Every reason to filter by, in the order the form lists them: key → label.
REASON_FILTERS: dict[str, str] = {
    **{key: label for key, (label, _) in HELD_REASONS.items()},
    **REPORT_REASONS,
}
#: The longest search text taken (longer is cut, not refused: it is a filter).
MAX_SEARCH = 100
#: How many entries of a queue one filtered page looks through at most: a filter reads
#: a bounded stretch of the queue's own index, never the whole queue or table, and the
#: page says when it stopped looking so the moderator can look further.
SEARCH_WINDOW = 1000


@dataclass(frozen=True)
class QueueFilters:
    """What a moderator narrowed a queue to; every field None is the whole queue."""

    article_id: int | None = None
    reason: str | None = None
    search: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.article_id or self.reason or self.search)


def queue_filters(
    article_id: int | None = None, reason: str | None = None, search: str | None = None
) -> QueueFilters:
    """Filters from what a request sent: an unknown reason or a blank search is no
    filter (a filter is a view, never an error); a search is cut to MAX_SEARCH."""
    text = " ".join((search or "").split())[:MAX_SEARCH]
    return QueueFilters(
        article_id=article_id,
        reason=reason if reason in REASON_FILTERS else None,
        search=text or None,
    )


@dataclass
class QueuePage:
    """One page of a queue as the moderator asked for it."""

    items: list[QueueItem]
    #: Where the next page starts; None when the queue has no more.
    next_key: QueueKey | None
    #: True when a filtered page stopped at SEARCH_WINDOW entries of the queue rather
    #: than at the page size: what follows may still match.
    stopped_looking: bool = False


def _like(text: str) -> str:
    """``text`` as a LIKE pattern that matches it anywhere, its wildcards escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filter_conditions(filters: QueueFilters) -> list[ColumnElement[bool]]:
    """The conditions ``filters`` put on a queue's comments. Each reads the comment's
    own row or rows found by key (its author by primary key, its reports by the index
    led by comment_id), so applied to a bounded set of comments they stay bounded."""
    conditions: list[ColumnElement[bool]] = []
    if filters.article_id is not None:
        conditions.append(Comment.article_id == filters.article_id)
    if filters.reason in HELD_REASONS:
        _, pattern = HELD_REASONS[filters.reason]
        conditions.append(cast(Comment.reasons_held, Text).like(pattern))
    elif filters.reason in REPORT_REASONS:
        conditions.append(
            exists().where(
                CommentFlag.comment_id == Comment.id, CommentFlag.reason == filters.reason
            )
        )
    if filters.search:
        pattern = _like(filters.search)
        conditions.append(
            or_(
                func.lower(Comment.body).like(pattern, escape="\\"),
                exists().where(
                    User.id == Comment.author_id,
                    func.lower(User.display_name).like(pattern, escape="\\"),
                ),
            )
        )
    return conditions


def _window(status: str, after: QueueKey | None) -> list[tuple[Any, ...]]:
    """The sort keys of the next SEARCH_WINDOW entries of queue ``status`` after
    ``after``, read in order from the queue's partial index (its keys alone)."""
    if status != "reported":
        query = select(Comment.created_at, Comment.id).where(_queue_filter(status))
        if after is not None:
            if len(after) != 2:
                raise ValueError("the queues page by (created_at, id)")
            query = query.where(tuple_(Comment.created_at, Comment.id) > tuple(after))
        return [
            tuple(row)
            for row in db.session.execute(
                query.order_by(Comment.created_at, Comment.id).limit(SEARCH_WINDOW)
            )
        ]

    def ranks(*conditions: ColumnElement[bool], rows: int) -> list[tuple[Any, ...]]:
        return [
            tuple(row)
            for row in db.session.execute(
                select(Comment.open_reports, Comment.reported_at, Comment.id)
                .where(_queue_filter("reported"), *conditions)
                .order_by(Comment.open_reports.desc(), Comment.reported_at, Comment.id)
                .limit(rows)
            )
        ]

    if after is None:
        return ranks(rows=SEARCH_WINDOW)
    if len(after) != 3:
        raise ValueError("the Reported queue pages by (open reports, reported_at, id)")
    count, when, last_id = after
    found = ranks(
        Comment.open_reports == count,
        tuple_(Comment.reported_at, Comment.id) > (when, last_id),
        rows=SEARCH_WINDOW,
    )
    if len(found) < SEARCH_WINDOW:
        found += ranks(Comment.open_reports < count, rows=SEARCH_WINDOW - len(found))
    return found


def _key_of(status: str, comment: Comment) -> QueueKey:
    if status == "reported":
        assert comment.reported_at is not None
        return (comment.open_reports, comment.reported_at, comment.id)
    return (comment.created_at, comment.id)


def queue_page(
    status: str = "pending",
    limit: int = 20,
    after: QueueKey | None = None,
    filters: QueueFilters | None = None,
) -> QueuePage:
    """One page of queue ``status`` narrowed by ``filters``, in the queue's order.

    Unfiltered, this is ``queue``. Filtered, the page is the matches among the next
    SEARCH_WINDOW entries of the queue (read from its index), so however big the
    queue and however rare the match a page reads a bounded number of rows; when the
    window runs out first the page says so and its key continues after the window."""
    _queue_filter(status)  # an unknown queue is refused before anything is read
    if filters is None or not filters.active:
        items, last = queue(status, limit, after)
        return QueuePage(items, last)
    window = _window(status, after)
    if not window:
        return QueuePage([], None)
    order = (
        (Comment.open_reports.desc(), Comment.reported_at, Comment.id)
        if status == "reported"
        else (Comment.created_at, Comment.id)
    )
    rows = list(
        db.session.scalars(
            select(Comment)
            .where(Comment.id.in_([key[-1] for key in window]), *_filter_conditions(filters))
            .options(selectinload(Comment.author), selectinload(Comment.article))
            .order_by(*order)
            .limit(limit + 1)
        )
    )
    next_key: QueueKey | None = None
    stopped = False
    if len(rows) > limit:
        rows = rows[:limit]
        next_key = _key_of(status, rows[-1])
    elif len(window) == SEARCH_WINDOW:
        next_key, stopped = tuple(window[-1]), True
    reporters = (
        {c.id: c.open_reports for c in rows}
        if status == "reported"
        else (open_report_counts([c.id for c in rows if c.reported_at is not None]))
    )
    return QueuePage(_items(rows, reporters), next_key, stopped)


def in_queue(comment: Comment, status: str) -> bool:
    """Whether ``comment`` as it stands belongs in queue ``status`` (what
    ``_queue_filter`` selects), so a page can drop what a decision moved out."""
    live = comment.deleted_at is None
    if status == "pending":
        return live and comment.status == CommentStatus.PENDING
    if status == "reported":
        return live and comment.reported_at is not None and comment.status != CommentStatus.REJECTED
    if status == "rejected":
        return live and comment.status == CommentStatus.REJECTED
    if status == "approved":
        return (
            live and comment.status == CommentStatus.PUBLISHED and comment.moderated_at is not None
        )
    return False


def recent_articles(limit: int = 30, include: int | None = None) -> list[Article]:
    """The articles a moderator is offered to filter a queue by: the ``limit`` most
    recently published (from the index on published_at), and ``include`` if it is
    another (the one the filter holds now)."""
    found = list(
        db.session.scalars(
            select(Article)
            .where(Article.published_at.is_not(None))
            .order_by(Article.published_at.desc(), Article.id.desc())
            .limit(limit)
        )
    )
    if include is not None and all(a.id != include for a in found):
        chosen = db.session.get(Article, include)
        if chosen is not None:
            found.append(chosen)
    return found
