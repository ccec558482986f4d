"""The SQL behind the comment operations: the row's INSERT (guarded or not), the
counters moved in place, and the few reads the operations need.

Only the operations (``posting``, ``actions``) and the thread call these. Each speed
trick says what it saves; ``bench/comments.py`` measures posting, and the tests in
tests/services/test_comments.py and tests/api/test_comment_posting_cache.py pin what
they must keep (a parent gone meanwhile, an article closed or moved meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CursorResult,
    Executable,
    Integer,
    UnaryExpression,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.selectable import Select

from webapp.caching import THREADS
from webapp.extensions import db
from webapp.models import (
    Article,
    ArticleStatus,
    Comment,
    CommentFlag,
    CommentStatus,
    User,
    utcnow,
)
from webapp.services.comments.rules import is_moderator, not_a_parent
from webapp.services.notifications import settings as reply_settings
from webapp.transactions import lone_write

_COMMENTS = Comment.__table__
_ARTICLES = Article.__table__


@dataclass(frozen=True, slots=True)
class PostingArticle:
    """What posting a comment needs of a published article, as this worker read it
    (``posting.article_for_posting``): the comment's guarded INSERT checks it still
    holds."""

    id: int
    slug: str
    comment_mode: str

    @property
    def is_published(self) -> bool:
        return True  # only published articles are kept


# Built once: a reply moves its parent's count on every post.
_BUMP_REPLY_COUNT = (
    update(_COMMENTS)
    .where(_COMMENTS.c.id == bindparam("thread_parent"))
    .values(reply_count=_COMMENTS.c.reply_count + 1)
)
_UNBUMP_REPLY_COUNT = (
    update(_COMMENTS)
    .where(_COMMENTS.c.id == bindparam("thread_parent"))
    .values(reply_count=_COMMENTS.c.reply_count - 1)
)

# What a new comment starts with in the columns ``prepare`` leaves unset.
_NEW_COMMENT = {
    "parent_id": None,
    "in_reply_to_id": None,
    "depth": 0,
    "edited_at": None,
    "deleted_at": None,
    "featured_at": None,
    "score": 0,
    "flag_count": 0,
    "reply_count": 0,
    "rejection_reason": None,
    "reported_at": None,
    "moderated_at": None,
}
_COLUMNS = [column.key for column in _COMMENTS.columns if column.key != "id"]
_INSERT_COMMENT = _COMMENTS.insert()


def store_row(
    comment: Comment, guard: PostingArticle | None = None, subscribe_by_default: bool = False
) -> bool:
    """The parent's reply count, then the row (guarded, see ``_insert``); False, with
    the reply count put back, when the guard stopped the row. With
    ``subscribe_by_default``, the author follows the comment's replies if their account
    ticks the box by default (``notifications.settings.subscribe_by_default``). Flushes."""
    if comment.parent_id is not None:
        _bump_parent(comment)
    if not _insert(comment, guard, subscribe_by_default):
        if comment.parent_id is not None:
            db.session.execute(_UNBUMP_REPLY_COUNT, {"thread_parent": comment.parent_id})
        return False
    # The article's comment_count moves with the row (webapp/models/comment_triggers.py).
    THREADS.changed()
    return True


def _bump_parent(comment: Comment) -> None:
    """One more reply on the comment's thread parent, which must still be there (and
    so must the comment it answers)."""
    moved = cast(
        CursorResult[Any],
        db.session.execute(_BUMP_REPLY_COUNT, {"thread_parent": comment.parent_id}),
    )
    answered = comment.in_reply_to_id
    if moved.rowcount != 1 or (
        answered is not None
        and db.session.scalar(select(Comment.id).where(Comment.id == answered)) is None
    ):
        raise not_a_parent()


def _insert(
    comment: Comment, guard: PostingArticle | None = None, subscribe_by_default: bool = False
) -> bool:
    """INSERT the comment's row with one statement and add the object to the session
    as the stored row, every column set (the unit of work would cost more than the
    INSERT itself). A column this does not know goes the ORM's way.

    With ``guard``, the row is written only if that article is still published
    under its slug with its comment mode (checked in the same statement); False
    when it is not, and nothing was written. With ``subscribe_by_default``, the author
    follows the replies if their account ticks the box by default: on PostgreSQL in
    the guarded statement itself (a data-modifying WITH), so a posted comment is one
    statement, not two; otherwise by a second statement."""
    state = comment.__dict__
    for key, value in _NEW_COMMENT.items():
        if key not in state:
            setattr(comment, key, value)
    subscribed = False
    if any(key not in state for key in _COLUMNS):
        if guard is not None and not _still(guard):
            return False
        db.session.add(comment)
        db.session.flush()
    else:
        subscribed = subscribe_by_default and guard is not None and _dialect() == "postgresql"
        # Its INSERT is all this writes: no parent's count before it, no subscription
        # after it. If the request writes nothing else either, it may run alone.
        alone = comment.parent_id is None and (subscribed or not subscribe_by_default)
        if not _insert_row(comment, guard, subscribed, alone):
            return False
    if subscribe_by_default and not subscribed:
        reply_settings.subscribe_by_default(comment)
    return True


def _insert_row(
    comment: Comment, guard: PostingArticle | None, subscribing: bool, alone: bool = False
) -> bool:
    """``_insert``'s one statement for a comment whose every column is known; False
    when the guard stopped it. ``alone``: that statement is all the comment writes, so
    it runs in autocommit when the request said it writes nothing else
    (``transactions.lone_write``)."""
    row = {key: comment.__dict__[key] for key in _COLUMNS}
    if guard is None:
        result = cast(CursorResult[Any], db.session.execute(_INSERT_COMMENT, row))
        primary_key = result.inserted_primary_key
        assert primary_key is not None
        comment.id = primary_key[0]
    else:
        row.update(guard_article=guard.id, guard_slug=guard.slug, guard_mode=guard.comment_mode)
        new_id = _run_guarded_insert(_guarded_insert(subscribing), row, alone)
        if new_id is None:
            return False
        comment.id = new_id
    make_transient_to_detached(comment)
    # An object the session still holds for a deleted row whose id the database
    # has given again (SQLite reuses the highest) is stale: the new row replaces it,
    # as the unit of work would.
    stale = db.session.identity_map.get(db.session.identity_key(Comment, comment.id))
    if stale is not None:
        db.session.expunge(stale)
    db.session.add(comment)
    return True


def _run_guarded_insert(statement: Executable, row: dict[str, Any], alone: bool) -> int | None:
    """The new comment's id, or None when the guard stopped the row; on a connection of
    its own when ``alone`` and the request writes nothing else."""
    with lone_write() if alone else nullcontext() as connection:
        runner = db.session if connection is None else connection
        new_id: int | None = runner.execute(statement, row).scalar()
        return new_id


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _still_condition() -> ColumnElement[bool]:
    """The article is published under the slug, with the comment mode, as read."""
    return and_(
        _ARTICLES.c.id == bindparam("guard_article"),
        _ARTICLES.c.slug == bindparam("guard_slug"),
        _ARTICLES.c.status == ArticleStatus.PUBLISHED.value,
        _ARTICLES.c.comment_mode == bindparam("guard_mode"),
    )


def _still(guard: PostingArticle) -> bool:
    found = db.session.scalar(
        select(_ARTICLES.c.id).where(_still_condition()),
        {"guard_article": guard.id, "guard_slug": guard.slug, "guard_mode": guard.comment_mode},
    )
    return found is not None


def _guarded_insert(subscribing: bool = False) -> ReturningInsert[tuple[int]] | Select[tuple[int]]:
    """INSERT INTO comments (...) SELECT <the values> WHERE EXISTS (<the article as
    read>) RETURNING id, built once per database kind. PostgreSQL does not carry the
    columns' types to the parameters of a SELECT, so there each value is cast.

    ``subscribing`` (PostgreSQL only) wraps it in a WITH whose second part subscribes
    the author by default (``reply_settings.default_subscription_of``), which
    PostgreSQL runs to completion whether or not the outer SELECT reads it; the outer
    SELECT returns the new id, or nothing when the guard stopped the row (and then
    the subscription has no row to follow)."""
    return _guarded_insert_on(_dialect(), subscribing)


@cache
def _guarded_insert_on(
    dialect: str, subscribing: bool
) -> ReturningInsert[tuple[int]] | Select[tuple[int]]:
    values: list[ColumnElement[Any]] = []
    for key in _COLUMNS:
        column = _COMMENTS.c[key]
        value = bindparam(key, type_=column.type)
        values.append(sql_cast(value, column.type) if dialect == "postgresql" else value)
    still = select(_ARTICLES.c.id).where(_still_condition()).exists()
    insert_row = _COMMENTS.insert().from_select(_COLUMNS, select(*values).where(still))
    if not subscribing:
        return insert_row.returning(_COMMENTS.c.id)
    stored = insert_row.returning(
        _COMMENTS.c.id, _COMMENTS.c.author_id, _COMMENTS.c.created_at
    ).cte("stored_comment")
    subscribed = reply_settings.default_subscription_of(stored).cte("subscribed")
    return select(stored.c.id).add_cte(subscribed)


# Built once: building and keying a statement costs more than running these.
_POSTING_ARTICLE = select(_ARTICLES.c.id, _ARTICLES.c.slug, _ARTICLES.c.comment_mode).where(
    _ARTICLES.c.slug == bindparam("article_slug"),
    _ARTICLES.c.status == ArticleStatus.PUBLISHED.value,
    # A scheduled article (published for a time ahead) takes no comments before it.
    _ARTICLES.c.published_at <= bindparam("now", type_=_ARTICLES.c.published_at.type),
)
_ARTICLE_BY_SLUG = select(Article).where(Article.slug == bindparam("article_slug"))


def posting_article(slug: str) -> PostingArticle | None:
    """The published article ``slug`` names, as a posted comment needs it; one row
    of three columns, no ORM object."""
    row = db.session.execute(_POSTING_ARTICLE, {"article_slug": slug, "now": utcnow()}).first()
    return None if row is None else PostingArticle(*row)


def article_by_slug(slug: str) -> Article | None:
    """The article alone: none of the labels, poll and options ``articles.get_article``
    loads for the article page."""
    return db.session.scalar(_ARTICLE_BY_SLUG, {"article_slug": slug})


def literal_ids(values: Iterable[int]) -> BindParameter[int]:
    """Ids read from the database, for ``IN``, written into the SQL as numbers: binding
    a page's hundred ids one parameter each costs PostgreSQL's driver more than the
    query itself. (Integers only, so nothing a reader typed is ever written in.)"""
    return bindparam(
        None, [int(v) for v in values], type_=Integer, expanding=True, literal_execute=True,
        unique=True,
    )  # fmt: skip


def remove(comment: Comment) -> None:
    """Delete the comment's row and take it off its parent's reply count; a "comment
    deleted" placeholder whose last reply went has nothing left to hold, and goes too."""
    parent_id = comment.parent_id
    db.session.delete(comment)
    db.session.flush()
    if parent_id is None:
        return
    db.session.execute(
        update(Comment)
        .where(Comment.id == parent_id)
        .values(reply_count=Comment.reply_count - 1)
        .execution_options(synchronize_session=False)
    )
    parent = db.session.get(Comment, parent_id, populate_existing=True)
    if parent is not None and parent.deleted_at is not None and parent.reply_count <= 0:
        remove(parent)


def move_score(comment: Comment, change: int) -> None:
    """Add ``change`` to the comment's score in place, with no read of it first."""
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(score=Comment.score + change)
        .execution_options(synchronize_session=False)
    )


def count_report(comment: Comment) -> None:
    """One more report on the comment, counted in place, and its moderation fields read
    again. The UPDATE holds the comment's row until commit, so reports arriving
    together are summed one after the other, each seeing the ones before it."""
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(flag_count=Comment.flag_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(
        comment, ["flag_count", "status", "reasons_held", "reported_at", "moderated_at"]
    )


def reports_since_review(comment: Comment) -> tuple[int, float]:
    """How many readers reported the comment since a moderator last decided on it, and
    what their reports weigh together: once approved, it takes fresh reports to hide it
    again or send it back to the Reported queue."""
    query = select(func.count(), func.coalesce(func.sum(CommentFlag.weight), 0.0)).where(
        CommentFlag.comment_id == comment.id
    )
    if comment.moderated_at is not None:
        query = query.where(CommentFlag.created_at > comment.moderated_at)
    reporters, weight = db.session.execute(query).one()
    return int(reporters), float(weight)


def has_published_comment(user_id: int) -> bool:
    found = db.session.scalar(
        select(Comment.id)
        .where(
            Comment.author_id == user_id,
            Comment.status == CommentStatus.PUBLISHED,
            Comment.deleted_at.is_(None),
        )
        .limit(1)
    )
    return found is not None


def count_for(article: Article) -> int:
    return article.comment_count


def recount_article(article_id: int) -> int:
    """The published-comment count from the rows (for repairs and tests)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(
                Comment.article_id == article_id,
                Comment.status == CommentStatus.PUBLISHED,
                Comment.deleted_at.is_(None),
            )
        )
        or 0
    )


# --- what a thread shows: who sees which comments, as the indexes can read them ------


def visible_to(viewer: User | None) -> ColumnElement[bool]:
    """The comments ``viewer`` sees in a thread."""
    if viewer is None:
        return Comment.status == CommentStatus.PUBLISHED
    if is_moderator(viewer):
        return Comment.status != CommentStatus.REJECTED
    return or_(Comment.status == CommentStatus.PUBLISHED, Comment.author_id == viewer.id)


# Spelled into the SQL as it stands in the partial index's condition
# (ix_comments_own_unpublished_roots), which a database only uses when it can see the
# query asks for no more than the index holds.
_PUBLISHED = literal(CommentStatus.PUBLISHED.value, literal_execute=True)


def statuses_seen(viewer: User | None) -> list[str]:
    """The statuses of the comments ``viewer`` may see any of (``visible_to`` says which)."""
    if viewer is None:
        return [CommentStatus.PUBLISHED.value]
    if is_moderator(viewer):
        return [s.value for s in CommentStatus if s != CommentStatus.REJECTED]
    return [s.value for s in CommentStatus]


def viewer_kind(viewer: User | None) -> str:
    """Which of the thread's readings ``viewer`` gets: "anonymous", "moderator" (every
    comment but the rejected) or "reader" (the published and their own)."""
    if viewer is None:
        return "anonymous"
    return "moderator" if is_moderator(viewer) else "reader"


def root_parts(kind: str) -> list[ColumnElement[bool]]:
    """The top-level comments a viewer of ``kind`` sees (``visible_to``) as disjoint
    parts, each one range of an index in the page's order: a part per status they see
    (by ix_comments_thread_roots, _top, _featured or _featured_top), and for a reader a
    part of their own comments that are not published (ix_comments_own_unpublished_roots;
    the reader's id is the parameter ``thread_viewer``)."""
    if kind != "reader":
        # (The statuses' CHECK allows no other than CommentStatus.)
        statuses = [CommentStatus.PUBLISHED.value]
        if kind == "moderator":
            statuses = [s.value for s in CommentStatus if s != CommentStatus.REJECTED]
        return [Comment.status == status for status in statuses]
    return [
        Comment.status == CommentStatus.PUBLISHED,
        and_(
            Comment.status != _PUBLISHED,
            Comment.author_id == bindparam("thread_viewer", type_=Integer),
        ),
    ]


def page_starts(sort: str, after: bool) -> list[list[ColumnElement[bool]]]:
    """Where the page after a cursor (the parameters ``thread_score`` and ``thread_last``)
    starts, as ranges of the sort's index; ``[[]]`` for a first page. For "top", whose
    order (score down, id up) no row comparison can express, two: the rest of the
    cursor's score, then the lower scores."""
    if not after:
        return [[]]
    score = bindparam("thread_score", type_=Integer)
    last_id = bindparam("thread_last", type_=Integer)
    if sort == "top":
        return [[Comment.score == score, Comment.id > last_id], [Comment.score < score]]
    if sort == "newest":
        return [[Comment.id < last_id]]
    return [[Comment.id > last_id]]


def page_order(sort: str, score: Any, comment_id: Any) -> tuple[UnaryExpression[int], ...]:
    """A thread page's order, of the comments' columns or a subquery's."""
    if sort == "top":
        return (score.desc(), comment_id.asc())
    if sort == "newest":
        return (comment_id.desc(),)
    return (comment_id.asc(),)
