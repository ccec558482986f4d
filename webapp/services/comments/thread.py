"""Reading a thread: one page of top-level comments with their replies, each with what
its reader may do with it, ready for the page and the API alike.

A page costs a fixed number of queries whatever its size, and builds no ORM object
per comment: comments come as ``CommentView`` rows with their author's name. Each query
reads index ranges, whatever the thread's length (tests/services/test_thread_plans.py
checks the databases' plans).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    UnaryExpression,
    and_,
    bindparam,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from webapp.errors import InvalidInput, NotFound
from webapp.extensions import db
from webapp.models import (
    Article,
    Comment,
    CommentReaction,
    Poll,
    PollOption,
    User,
    Vote,
    utcnow,
)
from webapp.services import polls
from webapp.services.articles import can_see_drafts
from webapp.services.comments.rules import (
    DEEPEST_SHOWN,
    SORTS,
    STAFF_TITLES,
    can_delete,
    can_react,
    can_reply,
    can_report,
    comments_open,
    edit_until,
)
from webapp.services.comments.storage import (
    article_by_slug,
    literal_ids,
    page_order,
    page_starts,
    root_parts,
    statuses_seen,
    viewer_kind,
    visible_to,
)

#: Where a page of top-level comments ends: (score, id) for "top", (0, id) for "oldest"
#: and "newest", (common_ground, score, id) for "common_ground".
ThreadKey = tuple[int, int] | tuple[float, int, int]


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

    author: AuthorView
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
    #: Above 0 when readers of two or more poll answers approve of it (issue 20).
    common_ground: float

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass
class CommentNode:
    """A comment in a thread with what this reader may do with it, as the rules
    decide (``rules``): the page shows a form only where its fact says so."""

    comment: CommentView
    author_vote: str | None
    my_reaction: int
    #: Until when this reader may edit it (its author, in the edit window), else None.
    can_edit_until: datetime | None
    can_delete: bool
    can_react: bool
    can_report: bool
    can_reply: bool
    in_reply_to: tuple[int, str] | None
    replies: list[CommentNode] = field(default_factory=list)


@dataclass
class ThreadPage:
    items: list[CommentNode]
    next_cursor: ThreadKey | None
    sort: str
    #: The article takes new comments (its comment mode is not "closed").
    comments_open: bool


# The columns of a CommentView after its author, in its order, then the author's name
# and role.
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
    Comment.common_ground,
    User.display_name,
    User.role,
)
_COMMENT_COLUMNS = _VIEW_COLUMNS[:-2]


def _views(query: Select[Any], params: dict[str, Any] | None = None) -> list[CommentView]:
    return [
        CommentView(AuthorView(row[2], row[-2], row[-1]), *row[:-2])
        for row in db.session.execute(query, params).tuples()
    ]


def article_for_comments(slug: str, viewer: User | None) -> Article:
    """The article a comment request is about, answering 404 exactly as
    ``articles.get_article`` does, in one query: without the labels, poll and options
    that get_article loads for the article page and no comment request uses."""
    article = article_by_slug(slug)
    if article is None or (not article.is_published and not can_see_drafts(viewer)):
        raise NotFound("No published article has this address.")
    return article


def thread(
    article: Article,
    viewer: User | None,
    *,
    sort: str = "oldest",
    limit: int = 20,
    after: ThreadKey | None = None,
    featured_only: bool = False,
    moment: datetime | None = None,
    answers_visible: bool | None = None,
) -> ThreadPage:
    """One page of top-level comments with all their replies, ready to show; ``after``
    is the ``next_cursor`` of the page before.

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
        raise InvalidInput(
            "sort must be oldest, newest, top or common_ground.", fields={"sort": "unknown"}
        )
    visible = visible_to(viewer)
    roots = _roots(article, viewer, sort, limit, after, featured_only)
    next_cursor = None
    if len(roots) > limit:
        roots = roots[:limit]
        last = roots[-1]
        next_cursor = _key_of(sort, last.common_ground, last.score, last.id)

    # The replies, a level at a time (two levels below the top), each level one
    # query through the (article, status, parent) index: replies are on their
    # parent's article, and the statuses the viewer may see any of are spelled out
    # so that each database reads just the page's replies from the index (with only
    # the visibility test, SQLite would read the article's every comment). Ids grow
    # with time, so ordering by id is ordering by posting time.
    replies: list[CommentView] = []
    parent_ids = [c.id for c in roots]
    statuses = statuses_seen(viewer)
    for _level in range(DEEPEST_SHOWN):
        if not parent_ids:
            break
        level = _views(
            select(*_VIEW_COLUMNS)
            .join(User, User.id == Comment.author_id)
            .where(
                Comment.article_id == article.id,
                Comment.status.in_(statuses),
                Comment.parent_id.in_(literal_ids(parent_ids)),
                visible,
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
    names = _names_answered(replies, {c.id: c.author.display_name for c in everyone})
    moment = moment or utcnow()

    def node(comment: CommentView) -> CommentNode:
        target = comment.in_reply_to_id
        return CommentNode(
            comment=comment,
            author_vote=votes.get(comment.author_id),
            my_reaction=mine.get(comment.id, 0),
            can_edit_until=edit_until(comment, viewer, moment),
            can_delete=can_delete(comment, viewer),
            can_react=can_react(comment, viewer),
            can_report=can_report(comment, viewer),
            can_reply=can_reply(comment, viewer, article),
            in_reply_to=(target, names.get(target, "a comment")) if target else None,
        )

    nodes = {c.id: node(c) for c in everyone}
    for reply in replies:
        assert reply.parent_id is not None
        nodes[reply.parent_id].replies.append(nodes[reply.id])
    return ThreadPage([nodes[c.id] for c in roots], next_cursor, sort, comments_open(article))


def _roots(
    article: Article,
    viewer: User | None,
    sort: str,
    limit: int,
    after: ThreadKey | None,
    featured_only: bool,
) -> list[CommentView]:
    """One page of the thread's top-level comments (and one more, to know whether a
    page follows), in one query whatever the thread's length (``_roots_query``)."""
    kind = viewer_kind(viewer)
    params: dict[str, Any] = {"thread_article": article.id, "thread_limit": limit + 1}
    if viewer is not None and kind == "reader":
        params["thread_viewer"] = viewer.id
    if after is not None:
        if sort == "common_ground":
            if len(after) != 3:
                raise InvalidInput("This cursor is not of this sort.", fields={"cursor": "sort"})
            params["thread_common_ground"] = after[0]
        params["thread_score"], params["thread_last"] = after[-2], after[-1]
    return _views(_roots_query(kind, sort, after is not None, featured_only), params)


# Built once per shape: building the merged query costs more than running it.
_ROOTS_QUERIES: dict[tuple[str, str, bool, bool], Select[Any]] = {}


def _roots_query(kind: str, sort: str, after: bool, featured_only: bool) -> Select[Any]:
    """Each part of what the viewer sees (``root_parts``) from where the page starts
    (``page_starts``) is a range of an index read in the page's order for at most a
    page; the page is the first of their rows, merged. A signed-out reader's page is
    one range. Parameters: thread_article, thread_limit (and those of the parts)."""
    key = (kind, sort, after, featured_only)
    query = _ROOTS_QUERIES.get(key)
    if query is not None:
        return query
    where = [
        Comment.article_id == bindparam("thread_article", type_=Integer),
        Comment.parent_id.is_(None),
    ]
    if featured_only:
        where.append(Comment.featured_at.is_not(None))
    limit = bindparam("thread_limit", type_=Integer)
    ranges = [[part, *start] for part in root_parts(kind) for start in _page_starts(sort, after)]
    if featured_only and sort == "common_ground":
        # The featured comments (a few) in the order of their own index, then sorted:
        # no index holds them by common ground, and SQLite, planning without
        # statistics, would read the whole thread's common-ground index for its order.
        featured = (
            select(*_COMMENT_COLUMNS)
            .where(*where, or_(*(and_(*conditions) for conditions in ranges)))
            .order_by(Comment.score.desc(), Comment.id.asc())
            .offset(0)  # read as it stands, not merged into the query around it
            .subquery("featured")
        )
        query = (
            select(*(featured.c[c.key] for c in _COMMENT_COLUMNS), User.display_name, User.role)
            .select_from(featured)
            .join(User, User.id == featured.c.author_id)
            .order_by(*_page_order(sort, featured.c.common_ground, featured.c.score, featured.c.id))
            .limit(limit)
        )
    elif len(ranges) == 1:
        query = (
            select(*_VIEW_COLUMNS)
            .join(User, User.id == Comment.author_id)
            .where(*where, *ranges[0])
            .order_by(*_page_order(sort, Comment.common_ground, Comment.score, Comment.id))
            .limit(limit)
        )
    else:
        # Each range a subquery of its own: SQLite takes no ORDER BY or LIMIT on a
        # compound's parts.
        parts = [
            select(
                select(*_COMMENT_COLUMNS)
                .where(*where, *conditions)
                .order_by(*_page_order(sort, Comment.common_ground, Comment.score, Comment.id))
                .limit(limit)
                .subquery()
            )
            for conditions in ranges
        ]
        merged = union_all(*parts).subquery("roots")
        query = (
            select(*(merged.c[c.key] for c in _COMMENT_COLUMNS), User.display_name, User.role)
            .select_from(merged)
            .join(User, User.id == merged.c.author_id)
            .order_by(*_page_order(sort, merged.c.common_ground, merged.c.score, merged.c.id))
            .limit(limit)
        )
    _ROOTS_QUERIES[key] = query
    return query


def _names_answered(replies: list[CommentView], names: dict[int, str]) -> dict[int, str]:
    """``names`` (comment id -> its author's name) with the authors of the comments
    the deepest replies answer that are not on the page, in one query."""
    missing = {
        c.in_reply_to_id for c in replies if c.in_reply_to_id and c.in_reply_to_id not in names
    }
    if missing:
        names.update(
            db.session.execute(
                select(Comment.id, User.display_name)
                .join(User, User.id == Comment.author_id)
                .where(Comment.id.in_(literal_ids(missing)))
            )
            .tuples()
            .all()
        )
    return names


def _answers_visible(article: Article, viewer: User | None) -> bool:
    key = polls.user_voter_key(viewer) if viewer is not None else None
    return polls.answers_visible_to(article.slug, viewer, key)


def _author_votes(article: Article, author_ids: set[int]) -> dict[int, str]:
    """How each commenter answered this article's poll, in one query (no poll loaded):
    a lookup by (poll, user) for each author on the page (ix_votes_poll_id_user_id),
    never a walk through the poll's votes."""
    if not author_ids:
        return {}
    poll_id = select(Poll.id).where(Poll.article_id == article.id).scalar_subquery()
    rows = (
        db.session.execute(
            select(Vote.user_id, PollOption.label)
            .join(PollOption, PollOption.id == Vote.option_id)
            .where(Vote.poll_id == poll_id, Vote.user_id.in_(literal_ids(author_ids)))
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
                CommentReaction.comment_id.in_(literal_ids(comment_ids)),
            )
        )
        .tuples()
        .all()
    )


def page_holding(
    article: Article, viewer: User | None, comment: Comment, sort: str, per_page: int
) -> ThreadKey | None:
    """Where the thread page holding ``comment`` starts for ``viewer`` (the ``after`` of
    ``thread``; None for the first page), however deep it is: a link to any comment
    opens the page that shows it. Counts the top-level comments before its thread's
    top comment, in the sort's order, in one query."""
    if sort not in SORTS:
        sort = "oldest"
    root = comment
    if root.parent_id is not None:
        parent = db.session.get(Comment, root.parent_id)
        root = parent if parent is not None else root
        if root.parent_id is not None:
            top = db.session.get(Comment, root.parent_id)
            root = top if top is not None else root
    if sort == "common_ground":
        before = or_(
            Comment.common_ground > root.common_ground,
            and_(
                Comment.common_ground == root.common_ground,
                or_(
                    Comment.score > root.score,
                    and_(Comment.score == root.score, Comment.id < root.id),
                ),
            ),
        )
    elif sort == "top":
        before = or_(
            Comment.score > root.score, and_(Comment.score == root.score, Comment.id < root.id)
        )
    elif sort == "newest":
        before = Comment.id > root.id
    else:
        before = Comment.id < root.id
    rows = db.session.execute(
        select(Comment.common_ground, Comment.score, Comment.id)
        .where(
            Comment.article_id == article.id,
            Comment.parent_id.is_(None),
            visible_to(viewer),
            before,
        )
        .order_by(*_page_order(sort, Comment.common_ground, Comment.score, Comment.id))
    ).all()
    start = (len(rows) // per_page) * per_page
    if start == 0:
        return None
    common_ground, score, last_id = rows[start - 1]
    return _key_of(sort, common_ground, score, last_id)


def _key_of(sort: str, common_ground: float, score: int, comment_id: int) -> ThreadKey:
    """The sort key a page ending at this comment carries (``ThreadKey``)."""
    if sort == "common_ground":
        return (common_ground, score, comment_id)
    return (score if sort == "top" else 0, comment_id)


def _page_starts(sort: str, after: bool) -> list[list[ColumnElement[bool]]]:
    """``storage.page_starts``, and for "common ground" (common_ground down, score down,
    id up; the parameters ``thread_common_ground``, ``thread_score``, ``thread_last``)
    three ranges of ix_comments_thread_common_ground: the rest of the cursor's score
    within its common ground, the lower scores of it, then the lower common grounds."""
    if sort != "common_ground" or not after:
        return page_starts(sort, after)
    common_ground = bindparam("thread_common_ground", type_=Float)
    score = bindparam("thread_score", type_=Integer)
    last_id = bindparam("thread_last", type_=Integer)
    return [
        [Comment.common_ground == common_ground, Comment.score == score, Comment.id > last_id],
        [Comment.common_ground == common_ground, Comment.score < score],
        [Comment.common_ground < common_ground],
    ]


def _page_order(
    sort: str, common_ground: Any, score: Any, comment_id: Any
) -> tuple[UnaryExpression[Any], ...]:
    """``storage.page_order``, and "common ground" first: by common-ground score, then
    score, highest first, then oldest first (the order of the contract)."""
    if sort == "common_ground":
        return (common_ground.desc(), score.desc(), comment_id.asc())
    return page_order(sort, score, comment_id)
