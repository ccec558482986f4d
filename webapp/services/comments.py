"""Comments: posting, replying, editing, deleting, reactions, reports and the thread.

Each comment is rendered, sanitised, scored and checked once, when it is written;
reading a thread only fetches stored HTML, so a long thread costs what a short
one does per page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Integer, and_, bindparam, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from webapp.errors import Conflict, Forbidden, InvalidInput, MalformedRequest, NotFound
from webapp.extensions import db
from webapp.ids import is_id
from webapp.models import (
    Article,
    ArticleStatus,
    Comment,
    CommentFlag,
    CommentMode,
    CommentReaction,
    CommentStatus,
    FlagReason,
    Poll,
    PollOption,
    Role,
    User,
    Vote,
    utcnow,
)
from webapp.services import thread_cache
from webapp.services.accounts import ensure_can_write
from webapp.services.markup import render_comment
from webapp.pagination import cursor_int
from webapp.services.thread_cache import thread_changed
from webapp.text import clean_block

MAX_BODY = 5000
MAX_NOTE = 1000
EDIT_WINDOW = timedelta(minutes=15)
#: Depths 0, 1 and 2: three levels shown; deeper replies hang at the third.
DEEPEST_SHOWN = 2
SORTS = ("oldest", "newest", "top")


class CommentsClosed(Conflict):
    code, message = "comments_closed", "Comments are closed on this article."


class EditWindowOver(Forbidden):
    code = "edit_window_over"
    message = "Comments can be edited for 15 minutes after posting; this one no longer can."


def is_public(comment: Comment) -> bool:
    return comment.status == CommentStatus.PUBLISHED and comment.deleted_at is None


def is_moderator(user: User | None) -> bool:
    return user is not None and user.has_role(Role.MODERATOR)


def _check_body(body: Any) -> str:
    if not isinstance(body, str):
        raise MalformedRequest("body must be a string.", fields={"body": "must be a string"})
    text = clean_block(body).strip()
    if not text:
        raise InvalidInput("Please write something before posting.", fields={"body": "empty"})
    if len(text) > MAX_BODY:
        raise InvalidInput(
            f"Comments can be at most {MAX_BODY:,} characters; this one has {len(text):,}.",
            fields={"body": f"at most {MAX_BODY} characters"},
        )
    return text


_COMMENTS = Comment.__table__
# Built once: a reply moves its parent's count on every post.
_BUMP_REPLY_COUNT = (
    update(_COMMENTS)
    .where(_COMMENTS.c.id == bindparam("thread_parent"))
    .values(reply_count=_COMMENTS.c.reply_count + 1)
)


def _apply_text(
    comment: Comment, text: str, author: User, article: Article, moment: datetime
) -> None:
    """Render, score and check ``text`` into ``comment`` (status, reasons, scores)."""
    from webapp.services import moderation
    from webapp.services.insights.sentiment import analyse

    assessment = moderation.assess(
        text, author, article, exclude_comment_id=comment.id, moment=moment
    )
    feeling = analyse(text)
    comment.body = text
    comment.html = render_comment(text)
    comment.status = assessment.status
    comment.reasons_held = assessment.reasons_held
    comment.toxicity = assessment.toxicity
    comment.sentiment = feeling.score
    comment.sentiment_label = feeling.label


def submit(
    article: Article,
    author: User,
    body: Any,
    parent_id: int | None = None,
    moment: datetime | None = None,
) -> Comment:
    """Post a comment or a reply. Flushes; the caller commits."""
    return store(prepare(article, author, body, parent_id, moment))


def prepare(
    article: Article,
    author: User,
    body: Any,
    parent_id: int | None = None,
    moment: datetime | None = None,
) -> Comment:
    """A new comment or reply, checked, rendered, scored and assessed, not yet stored.

    Only reads (the parent, the author's record): a view can end its read
    transaction after this and write the comment with ``store`` in a transaction of
    its own, so the scoring never runs inside the write transaction.
    """
    moment = moment or utcnow()
    ensure_can_write(author)
    if not article.is_published:
        raise NotFound("No published article has this address.")
    if article.comment_mode == CommentMode.CLOSED:
        raise CommentsClosed()
    text = _check_body(body)
    parent = None
    if parent_id is not None:
        if isinstance(parent_id, bool) or not isinstance(parent_id, int):
            raise MalformedRequest(
                "parent_id must be a whole number.", fields={"parent_id": "must be a whole number"}
            )
        parent = db.session.get(Comment, parent_id) if is_id(parent_id) else None
        if (
            parent is None
            or parent.article_id != article.id
            or parent.deleted_at is not None
            or not can_see(parent, author)
        ):
            raise _not_a_parent()
    comment = Comment(
        article_id=article.id, author_id=author.id, created_at=moment, body="", html=""
    )
    if parent is not None:
        if parent.depth >= DEEPEST_SHOWN:
            # Shown beside its target at the deepest level, naming whom it answers.
            comment.parent_id = parent.parent_id
            comment.in_reply_to_id = parent.id
            comment.depth = DEEPEST_SHOWN
        else:
            comment.parent_id = parent.id
            comment.depth = parent.depth + 1
    _apply_text(comment, text, author, article, moment)
    return comment


def _not_a_parent() -> InvalidInput:
    return InvalidInput(
        "You can only reply to a comment on this article.",
        fields={"parent_id": "not a comment on this article"},
    )


def store(comment: Comment) -> Comment:
    """Write a comment from ``prepare``: its row and its parent's reply count (the
    article's count moves with the row, by trigger). Flushes; the caller commits.
    The parent is checked again here, as it may have gone since it was read (when
    prepared in an earlier transaction)."""
    _store(comment, None)
    return comment


def _bump_parent(comment: Comment) -> None:
    """One more reply on the comment's thread parent, which must still be there (and
    so must the comment it answers)."""
    moved = db.session.execute(_BUMP_REPLY_COUNT, {"thread_parent": comment.parent_id})
    answered = comment.in_reply_to_id
    if moved.rowcount != 1 or (
        answered is not None
        and db.session.scalar(select(Comment.id).where(Comment.id == answered)) is None
    ):
        raise _not_a_parent()


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


def store_if_unchanged(comment: Comment, article: PostingArticle | Article) -> bool:
    """``store`` a comment from ``prepare``, prepared against ``article`` as
    ``article_for_posting`` gave it: written only if the article is still published
    under that slug with that comment mode, which the INSERT itself checks. False,
    with nothing written, when it changed meanwhile: read it afresh and prepare the
    comment again. Flushes; the caller commits."""
    return _store(comment, article if isinstance(article, PostingArticle) else None)


def _store(comment: Comment, guard: PostingArticle | None) -> bool:
    """The parent's reply count, then the row (guarded, see ``_insert``); False, with
    the reply count put back, when the guard stopped the row."""
    if comment.parent_id is not None:
        _bump_parent(comment)
    if not _insert(comment, guard):
        if comment.parent_id is not None:
            db.session.execute(_UNBUMP_REPLY_COUNT, {"thread_parent": comment.parent_id})
        return False
    # The article's comment_count moves with the row (webapp/models/comment_triggers.py).
    thread_changed()
    return True


_UNBUMP_REPLY_COUNT = (
    update(_COMMENTS)
    .where(_COMMENTS.c.id == bindparam("thread_parent"))
    .values(reply_count=_COMMENTS.c.reply_count - 1)
)


def _insert(comment: Comment, guard: PostingArticle | None = None) -> bool:
    """INSERT the comment's row with one statement and add the object to the session
    as the stored row, every column set (the unit of work would cost more than the
    INSERT itself). A column this does not know goes the ORM's way.

    With ``guard``, the row is written only if that article is still published
    under its slug with its comment mode (checked in the same statement); False
    when it is not, and nothing was written."""
    state = comment.__dict__
    for key, value in _NEW_COMMENT.items():
        if key not in state:
            setattr(comment, key, value)
    if any(key not in state for key in _COLUMNS):
        if guard is not None and not _still(guard):
            return False
        db.session.add(comment)
        db.session.flush()
        return True
    row = {key: state[key] for key in _COLUMNS}
    if guard is None:
        result = db.session.execute(_INSERT_COMMENT, row)
        comment.id = result.inserted_primary_key[0]
    else:
        row.update(guard_article=guard.id, guard_slug=guard.slug, guard_mode=guard.comment_mode)
        new_id = db.session.execute(_guarded_insert(), row).scalar()
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


def _still_condition() -> Any:
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


_GUARDED_INSERTS: dict[str, Any] = {}


def _guarded_insert() -> Any:
    """INSERT INTO comments (...) SELECT <the values> WHERE EXISTS (<the article as
    read>) RETURNING id, built once per database kind. PostgreSQL does not carry the
    columns' types to the parameters of a SELECT, so there each value is cast."""
    dialect = db.session.get_bind().dialect.name
    statement = _GUARDED_INSERTS.get(dialect)
    if statement is None:
        values = []
        for key in _COLUMNS:
            column = _COMMENTS.c[key]
            value = bindparam(key, type_=column.type)
            values.append(cast(value, column.type) if dialect == "postgresql" else value)
        still = select(_ARTICLES.c.id).where(_still_condition()).exists()
        statement = (
            _COMMENTS.insert()
            .from_select(_COLUMNS, select(*values).where(still))
            .returning(_COMMENTS.c.id)
        )
        _GUARDED_INSERTS[dialect] = statement
    return statement


def can_edit(
    comment: Comment | CommentView, user: User | None, moment: datetime | None = None
) -> bool:
    return (
        user is not None
        and comment.author_id == user.id
        and comment.deleted_at is None
        and (moment or utcnow()) - comment.created_at <= EDIT_WINDOW
    )


def edit(comment: Comment, user: User, body: Any, moment: datetime | None = None) -> Comment:
    """The author changes their words within the edit window; checks run again."""
    moment = moment or utcnow()
    ensure_can_write(user)
    if comment.author_id != user.id or comment.deleted_at is not None:
        raise Forbidden("Only its author can edit a comment.")
    if not can_edit(comment, user, moment):
        raise EditWindowOver()
    text = _check_body(body)
    article = db.session.get(Article, comment.article_id)
    assert article is not None
    if comment.status == CommentStatus.REJECTED:
        raise Forbidden("A rejected comment cannot be edited.")
    # Held while reported: readers' reports hid it, so only a moderator's decision
    # brings it back; rewriting it must not slip it past them.
    held_by_reports = comment.status == CommentStatus.PENDING and comment.reported_at is not None
    _apply_text(comment, text, user, article, moment)
    if held_by_reports:
        reporters, _weight = _reports_since_review(comment)
        comment.status = CommentStatus.PENDING.value
        comment.reasons_held = [_report_hold_reason(reporters), *comment.reasons_held]
    comment.edited_at = moment
    thread_changed()
    db.session.flush()
    return comment


def delete(comment: Comment, actor: User, moment: datetime | None = None) -> None:
    """Authors delete their own comments, moderators any. A comment that replies hang
    on keeps its place as "comment deleted"; one without replies goes entirely."""
    from webapp.services.moderation_actions import record

    moment = moment or utcnow()
    own = comment.author_id == actor.id
    if not own and not is_moderator(actor):
        raise Forbidden("You can only delete your own comments.")
    if own:
        ensure_can_write(actor)
    else:
        record(
            actor,
            "delete",
            comment=comment,
            target_user_id=comment.author_id,
            details={"body": comment.body[:500]},
        )
    thread_changed()
    if comment.reply_count > 0:
        comment.deleted_at = moment
        comment.body = ""
        comment.html = ""
        comment.featured_at = None
        db.session.flush()
        return
    _remove(comment)


def _remove(comment: Comment) -> None:
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
    # A "comment deleted" placeholder whose last reply went has nothing left to hold.
    if parent is not None and parent.deleted_at is not None and parent.reply_count <= 0:
        _remove(parent)


def react(comment: Comment, user: User, value: Any) -> int:
    """One up (+1) or down (-1) vote per reader per comment; 0 takes it back."""
    if isinstance(value, bool) or value not in (-1, 0, 1):
        raise InvalidInput("value must be 1, -1 or 0.", fields={"value": "1, -1 or 0"})
    ensure_can_write(user)
    if not is_public(comment):
        raise NotFound("No such comment.")
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
        thread_changed()
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment.id)
            .values(score=Comment.score + (value - before))
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    db.session.refresh(comment, ["score"])
    return comment.score


#: How much one report counts toward hiding a comment automatically (``hide_reported``
#: with ``report_threshold``). Accounts cost nothing to make, so a report from one that
#: is new (younger than the ``new_account_hours`` setting) or has never had a comment
#: published counts a quarter: three accounts made a minute ago cannot hide a comment,
#: while readers with a history still can. Every report, whatever its weight, puts the
#: comment in front of moderators in the Reported queue.
FULL_REPORT_WEIGHT = 1.0
NEW_ACCOUNT_REPORT_WEIGHT = 0.25


def report_weight(user: User, new_account_hours: int, moment: datetime | None = None) -> float:
    """What a report by ``user`` counts toward the automatic hide (see the constants)."""
    moment = moment or utcnow()
    if moment - user.created_at < timedelta(hours=new_account_hours):
        return NEW_ACCOUNT_REPORT_WEIGHT
    has_published = db.session.scalar(
        select(Comment.id)
        .where(
            Comment.author_id == user.id,
            Comment.status == CommentStatus.PUBLISHED,
            Comment.deleted_at.is_(None),
        )
        .limit(1)
    )
    return FULL_REPORT_WEIGHT if has_published is not None else NEW_ACCOUNT_REPORT_WEIGHT


def _report_hold_reason(reporters: int) -> str:
    return f"reported by {reporters} reader{'' if reporters == 1 else 's'}"


def flag(
    comment: Comment, user: User, reason: Any, note: Any = None, moment: datetime | None = None
) -> bool:
    """A reader reports a comment; a second report by the same reader counts once.
    Returns True for a new report.

    The first report since a moderator last decided puts the comment in the Reported
    queue (``reported_at``); with ``hide_reported``, reports whose weights add up to
    ``report_threshold`` also hide it from readers until a moderator decides."""
    from webapp.services.site_settings import moderation_settings

    if not isinstance(reason, str) or reason not in {r.value for r in FlagReason}:
        raise InvalidInput(
            "Choose a reason: spam, abuse, off_topic or other.",
            fields={"reason": "spam, abuse, off_topic or other"},
        )
    if note is not None and not isinstance(note, str):
        raise MalformedRequest("note must be a string.", fields={"note": "must be a string"})
    note = clean_block(note or "").strip()[:MAX_NOTE] or None
    ensure_can_write(user)
    if not is_public(comment):
        raise NotFound("No such comment.")
    moment = moment or utcnow()
    settings = moderation_settings()
    report = CommentFlag(
        comment_id=comment.id,
        user_id=user.id,
        reason=reason,
        note=note,
        weight=report_weight(user, settings.new_account_hours, moment),
        created_at=moment,
    )
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        return False
    # The UPDATE holds the comment's row until commit, so reports arriving together
    # are summed one after the other, each seeing the ones before it.
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(flag_count=Comment.flag_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(
        comment, ["flag_count", "status", "reasons_held", "reported_at", "moderated_at"]
    )
    thread_changed()
    if comment.reported_at is None:
        # The oldest report still open: the Reported queue serves these first.
        comment.reported_at = moment
    if settings.hide_reported and comment.status == CommentStatus.PUBLISHED:
        reporters, weight = _reports_since_review(comment)
        if weight >= settings.report_threshold:
            comment.status = CommentStatus.PENDING.value
            comment.reasons_held = [*comment.reasons_held, _report_hold_reason(reporters)]
    db.session.flush()
    return True


def _reports_since_review(comment: Comment) -> tuple[int, float]:
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


# --- reading ---------------------------------------------------------------------------


def can_see(comment: Comment, viewer: User | None) -> bool:
    if comment.status == CommentStatus.PUBLISHED:
        return True
    return viewer is not None and (comment.author_id == viewer.id or is_moderator(viewer))


def get_comment(comment_id: int, viewer: User | None) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or not can_see(comment, viewer):
        raise NotFound("No such comment.")
    article = db.session.get(Article, comment.article_id)
    if article is None or not article.is_published:
        raise NotFound("No such comment.")
    return comment


# The roles whose comments carry a badge saying so: a badge comes from the account's
# role, which no reader can choose, and never from a name (webapp/services/names.py).
STAFF_TITLES: dict[str, str] = {
    Role.MODERATOR.value: "Moderator",
    Role.EDITOR.value: "Editor",
    Role.ADMIN.value: "Admin",
}


@dataclass(frozen=True, slots=True)
class AuthorView:
    id: int
    display_name: str
    role: str

    @property
    def staff_title(self) -> str | None:
        return STAFF_TITLES.get(self.role)


@dataclass(frozen=True, slots=True)
class CommentView:
    """A comment as a thread shows it: read-only, with its author's name, loaded from
    one row of one query (no ORM object to build, track and expire per comment)."""

    id: int
    article_id: int
    author_id: int
    parent_id: int | None
    in_reply_to_id: int | None
    depth: int
    body: str
    html: str
    status: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    featured_at: datetime | None
    score: int
    rejection_reason: str | None
    author: AuthorView

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# The columns of a CommentView, in its order, then the author's name and role.
_VIEW_COLUMNS = (
    Comment.id,
    Comment.article_id,
    Comment.author_id,
    Comment.parent_id,
    Comment.in_reply_to_id,
    Comment.depth,
    Comment.body,
    Comment.html,
    Comment.status,
    Comment.created_at,
    Comment.edited_at,
    Comment.deleted_at,
    Comment.featured_at,
    Comment.score,
    Comment.rejection_reason,
    User.display_name,
    User.role,
)


def _ids(values: Any) -> Any:
    """Ids read from the database, for ``IN``, written into the SQL as numbers: binding
    a page's hundred ids one parameter each costs PostgreSQL's driver more than the
    query itself. (Integers only, so nothing a reader typed is ever written in.)"""
    return bindparam(
        None, [int(v) for v in values], type_=Integer, expanding=True, literal_execute=True,
        unique=True,
    )  # fmt: skip


def _views(query: Any) -> list[CommentView]:
    return [
        CommentView(*row[:-2], author=AuthorView(row[2], row[-2], row[-1]))  # type: ignore[misc]
        for row in db.session.execute(query).tuples()
    ]


@dataclass
class CommentNode:
    comment: CommentView
    author_vote: str | None
    my_reaction: int
    editable: bool
    in_reply_to: tuple[int, str] | None
    replies: list[CommentNode] = field(default_factory=list)


@dataclass
class ThreadPage:
    items: list[CommentNode]
    next_cursor: list[Any] | None
    sort: str


def _visible(viewer: User | None):  # type: ignore[no-untyped-def]
    if viewer is None:
        return Comment.status == CommentStatus.PUBLISHED
    if is_moderator(viewer):
        return Comment.status != CommentStatus.REJECTED
    return or_(Comment.status == CommentStatus.PUBLISHED, Comment.author_id == viewer.id)


# Built once: building and keying a statement costs more than running this one.
_ARTICLE_BY_SLUG = select(Article).where(Article.slug == bindparam("article_slug"))


def article_for_comments(slug: str, viewer: User | None) -> Article:
    """The article a comment request is about, answering 404 exactly as
    ``articles.get_article`` does, in one query: without the labels, poll and options
    that get_article loads for the article page and no comment request uses."""
    from webapp.services.articles import can_see_drafts

    article = db.session.scalar(_ARTICLE_BY_SLUG, {"article_slug": slug})
    if article is None or (not article.is_published and not can_see_drafts(viewer)):
        raise NotFound("No published article has this address.")
    return article


@dataclass(frozen=True, slots=True)
class PostingArticle:
    """What posting a comment needs of a published article, as this worker read it
    (``article_for_posting``): the comment's INSERT checks it still holds."""

    id: int
    slug: str
    comment_mode: str

    @property
    def is_published(self) -> bool:
        return True  # only published articles are kept


def article_for_posting(slug: str, viewer: User | None) -> PostingArticle | Article:
    """The published article ``slug`` names, for a new comment, read at most once a
    moment per worker (``thread_cache.ARTICLES``): every comment to it needs the same.

    It may be a moment old: ``store_if_unchanged`` writes the comment only if the
    article is still published under this slug with this comment mode, so a comment
    prepared against an older state is never stored. An article that is not published,
    or whose comments are closed, is read afresh (``article_for_comments``), so a
    comment is refused only for what the article is now.
    """
    try:
        found = thread_cache.ARTICLES.get_or_build(("posting", slug), partial(_posting, slug))
    except _NotPublished:
        return article_for_comments(slug, viewer)
    if found.comment_mode == CommentMode.CLOSED:
        return article_for_comments(slug, viewer)  # refused only as it is now
    return found


class _NotPublished(Exception):
    pass


def _posting(slug: str) -> PostingArticle:
    row = db.session.execute(_POSTING_ARTICLE, {"article_slug": slug}).first()
    if row is None:
        raise _NotPublished
    return PostingArticle(*row)


_ARTICLES = Article.__table__
_POSTING_ARTICLE = select(_ARTICLES.c.id, _ARTICLES.c.slug, _ARTICLES.c.comment_mode).where(
    _ARTICLES.c.slug == bindparam("article_slug"),
    _ARTICLES.c.status == ArticleStatus.PUBLISHED.value,
)


def thread(
    article: Article,
    viewer: User | None,
    *,
    sort: str = "oldest",
    limit: int = 20,
    after: list[Any] | None = None,
    featured_only: bool = False,
    moment: datetime | None = None,
    answers_visible: bool | None = None,
) -> ThreadPage:
    """One page of top-level comments with all their replies, ready to show.

    Each commenter's poll answer comes only when the poll's results are visible to
    this reader (``answers_visible``; when not given, decided for ``viewer`` by their
    account alone, so a signed-out reader's own vote is not known): an answer beside
    a name is a piece of the results.

    A page costs a fixed number of queries whatever its size: the top-level
    comments, their replies at each of the two levels below, the commenters' poll
    answers, and for a signed-in viewer their reactions; each comment comes with its
    author's name, and none is built into an ORM object.
    """
    if sort not in SORTS:
        raise InvalidInput("sort must be oldest, newest or top.", fields={"sort": "unknown"})
    visible = _visible(viewer)
    query = (
        select(*_VIEW_COLUMNS)
        .join(User, User.id == Comment.author_id)
        .where(Comment.article_id == article.id, Comment.parent_id.is_(None), visible)
    )
    if featured_only:
        query = query.where(Comment.featured_at.is_not(None))
    if sort == "top":
        order = (Comment.score.desc(), Comment.id.asc())
        if after is not None:
            score, last_id = _cursor_values(after, int)
            query = query.where(
                or_(Comment.score < score, and_(Comment.score == score, Comment.id > last_id))
            )
    elif sort == "newest":
        order = (Comment.id.desc(),)
        if after is not None:
            query = query.where(Comment.id < _cursor_values(after, int)[1])
    else:
        order = (Comment.id.asc(),)
        if after is not None:
            query = query.where(Comment.id > _cursor_values(after, int)[1])
    roots = _views(query.order_by(*order).limit(limit + 1))
    next_cursor = None
    if len(roots) > limit:
        roots = roots[:limit]
        last = roots[-1]
        next_cursor = [last.score if sort == "top" else 0, last.id]

    # The replies, a level at a time (two levels below the top), each level one
    # query through the (article, status, parent) index: replies are on their
    # parent's article. Ids grow with time, so ordering by id is ordering by posting
    # time.
    replies: list[CommentView] = []
    parent_ids = [c.id for c in roots]
    for _level in range(DEEPEST_SHOWN):
        if not parent_ids:
            break
        level = _views(
            select(*_VIEW_COLUMNS)
            .join(User, User.id == Comment.author_id)
            .where(
                Comment.article_id == article.id, Comment.parent_id.in_(_ids(parent_ids)), visible
            )
            .order_by(Comment.id)
        )
        replies.extend(level)
        parent_ids = [c.id for c in level]

    everyone = roots + replies
    if answers_visible is None:
        answers_visible = _answers_visible(article, viewer)
    votes = _author_votes(article, {c.author_id for c in everyone}) if answers_visible else {}
    mine = _my_reactions(viewer, [c.id for c in everyone])
    names = {c.id: c.author.display_name for c in everyone}
    missing = {
        c.in_reply_to_id for c in replies if c.in_reply_to_id and c.in_reply_to_id not in names
    }
    if missing:
        names.update(
            db.session.execute(
                select(Comment.id, User.display_name)
                .join(User, User.id == Comment.author_id)
                .where(Comment.id.in_(_ids(missing)))
            )
            .tuples()
            .all()
        )
    moment = moment or utcnow()

    def node(comment: CommentView) -> CommentNode:
        target = comment.in_reply_to_id
        return CommentNode(
            comment=comment,
            author_vote=votes.get(comment.author_id),
            my_reaction=mine.get(comment.id, 0),
            editable=can_edit(comment, viewer, moment),
            in_reply_to=(target, names.get(target, "a comment")) if target else None,
        )

    nodes = {c.id: node(c) for c in everyone}
    for reply in replies:
        assert reply.parent_id is not None
        nodes[reply.parent_id].replies.append(nodes[reply.id])
    return ThreadPage([nodes[c.id] for c in roots], next_cursor, sort)


def _cursor_values(after: list[Any], kind: type) -> tuple[Any, int]:
    try:
        return kind(cursor_int(after[0])), cursor_int(after[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise MalformedRequest("The cursor is not valid.") from exc


def _answers_visible(article: Article, viewer: User | None) -> bool:
    from webapp.services import polls as poll_rules

    key = poll_rules.user_voter_key(viewer) if viewer is not None else None
    return poll_rules.answers_visible_to(article.slug, viewer, key)


def _author_votes(article: Article, author_ids: set[int]) -> dict[int, str]:
    """How each commenter answered this article's poll, in one query (no poll loaded)."""
    if not author_ids:
        return {}
    rows = (
        db.session.execute(
            select(Vote.user_id, PollOption.label)
            .join(PollOption, PollOption.id == Vote.option_id)
            .join(Poll, Poll.id == Vote.poll_id)
            .where(Poll.article_id == article.id, Vote.user_id.in_(_ids(author_ids)))
        )
        .tuples()
        .all()
    )
    return {user_id: label for user_id, label in rows if user_id is not None}


def _my_reactions(viewer: User | None, comment_ids: list[int]) -> dict[int, int]:
    if viewer is None or not comment_ids:
        return {}
    return dict(
        db.session.execute(
            select(CommentReaction.comment_id, CommentReaction.value).where(
                CommentReaction.user_id == viewer.id,
                CommentReaction.comment_id.in_(_ids(comment_ids)),
            )
        )
        .tuples()
        .all()
    )


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
