"""What each side is saying (issue 20): for an article's poll, each answer's most valued
comments by readers who chose it, the comments readers of several answers value (common
ground), and for editors and moderators the common-ground comments worth featuring and
the divisive ones to watch.

Everything is read from what the common-ground triggers keep
(webapp/models/common_ground_triggers.py): ``comment_answer_reactions`` (per comment and
answer, the ups, downs and smoothed approval of that answer's readers, and whether the
comment's author holds that answer) and the comments' ``common_ground`` and
``divisiveness``. So each list is one range of an index, read in its order for as many
rows as it shows, however long the thread:

- an answer's own comments: ``ix_comment_answer_reactions_own_side`` (article, answer,
  approval, comment) where the author holds the answer, all answers in one statement;
- common ground: ``ix_comments_thread_common_ground``, the list's own sort;
- the divisive watch list: ``ix_comments_divisive``.

Who may see any of it (the commenters' answers are a piece of the poll's results) is
the caller's question: the API and the article page ask the polls service first.
Nothing here reads the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select, text, union_all

from webapp.extensions import db
from webapp.models import (
    Article,
    ArticleStatus,
    Comment,
    CommentAnswerReaction,
    CommentReaction,
    CommentStatus,
    Poll,
    PollOption,
    User,
    Vote,
    utcnow,
)
from webapp.services.comments.rules import (
    can_delete,
    can_react,
    can_reply,
    can_report,
    edit_until,
)
from webapp.services.comments.storage import literal_ids
from webapp.services.comments.thread import AuthorView, CommentNode, CommentView

#: Comments shown per answer, and common-ground comments shown, on the page and in the API.
PER_SIDE = 3
COMMON_GROUND_SHOWN = 5
#: Common-ground comments offered to feature, per article.
CANDIDATES_SHOWN = 5
#: Across articles (the moderators' page): the most recently published articles with a
#: poll whose candidates are offered, so the list is a few index ranges, not the site.
CANDIDATE_ARTICLES = 10
#: A comment's approval by its own side's readers must be above what no reaction at
#: all gives (the smoothed approval's prior, (0 + 1) / (0 + 0 + 2)) to count as valued:
#: a comment its own side mostly downvotes is not what that side is saying.
NEUTRAL_APPROVAL = 0.5

_reactions = CommentAnswerReaction
# The partial index's condition, written as it stands in the index (SQLite uses a
# partial index only when the query repeats its condition).
_OWN_SIDE = text("comment_answer_reactions.author_side")

# The columns of a thread's CommentView (whatever fields it has), then the author's.
_VIEW_FIELDS = tuple(f.name for f in fields(CommentView) if f.name != "author")
_VIEW_COLUMNS = (
    *(getattr(Comment, name) for name in _VIEW_FIELDS),
    Comment.common_ground.label("cg_score"),
    User.display_name.label("author_name"),
    User.role.label("author_role"),
)


@dataclass(frozen=True)
class SideComment:
    """A comment as the section shows it: as a thread shows it (its author's answer
    included), with its common-ground score in [0, 1]."""

    node: CommentNode
    common_ground: float

    @property
    def comment(self) -> CommentView:
        return self.node.comment


@dataclass(frozen=True)
class Side:
    """One poll answer and the comments its own readers value most."""

    option_id: int
    label: str
    comments: list[SideComment]


@dataclass(frozen=True)
class Sides:
    options: list[Side]
    common_ground: list[SideComment]

    @property
    def is_empty(self) -> bool:
        return not self.common_ground and not any(side.comments for side in self.options)


def _view(row: Any) -> CommentView:
    mapping = row._mapping
    author = AuthorView(mapping["author_id"], mapping["author_name"], mapping["author_role"])
    return CommentView(author, **{name: mapping[name] for name in _VIEW_FIELDS})


def _published(*extra: Any) -> list[Any]:
    return [
        Comment.status == CommentStatus.PUBLISHED.value,
        Comment.deleted_at.is_(None),
        *extra,
    ]


def _own_side_part(article_id: Any, option_id: Any, limit: Any) -> Select[Any]:
    """One answer's own comments, best first: one range of the own-side index. The
    arguments are values or bind parameters (``_own_side_query``)."""
    return (
        select(_reactions.option_id.label("side_option"), *_VIEW_COLUMNS)
        .select_from(_reactions)
        .join(Comment, Comment.id == _reactions.comment_id)
        .join(User, User.id == Comment.author_id)
        .where(
            _reactions.article_id == article_id,
            _reactions.option_id == option_id,
            _OWN_SIDE,
            _reactions.approval > NEUTRAL_APPROVAL,
            *_published(),
        )
        .order_by(_reactions.approval.desc(), _reactions.comment_id)
        .limit(limit)
    )


# Built once per number of answers: building the statement (a range per answer,
# merged) cost the page's sides section more than running it.
@cache
def _own_side_query(answers: int) -> Any:
    """Every answer's own comments in one statement: a range per answer, each a
    subquery of its own (SQLite takes no ORDER BY or LIMIT on a compound's parts).
    Parameters: side_article, side_limit, side_option_0 ... side_option_{n-1}."""
    article = bindparam("side_article", type_=Integer)
    limit = bindparam("side_limit", type_=Integer)
    parts = [
        select(
            _own_side_part(article, bindparam(f"side_option_{n}", type_=Integer), limit).subquery()
        )
        for n in range(answers)
    ]
    return parts[0] if answers == 1 else union_all(*parts)


def _own_side_rows(article_id: int, option_ids: Sequence[int], limit: int) -> list[Any]:
    """Every answer's own comments, best first, in one statement."""
    if not option_ids or limit <= 0:
        return []
    params = {"side_article": article_id, "side_limit": limit}
    params.update({f"side_option_{n}": option_id for n, option_id in enumerate(option_ids)})
    return list(db.session.execute(_own_side_query(len(option_ids)), params).all())


def _common_ground_part(
    article_id: Any, limit: Any, unfeatured: bool, watch: bool = False
) -> Select[Any]:
    """The article's top-level comments by common ground, as ``?sort=common_ground``
    orders them (one range of its index), only those that bridge; ``watch``: with the
    editors' and moderators' columns (``_WATCH_COLUMNS``)."""
    where = [
        Comment.article_id == article_id,
        Comment.parent_id.is_(None),
        Comment.common_ground > 0,
        *_published(),
    ]
    if unfeatured:
        where.append(Comment.featured_at.is_(None))
    query = select(*(_WATCH_COLUMNS if watch else _VIEW_COLUMNS)).join(
        User, User.id == Comment.author_id
    )
    if watch:
        query = query.join(Article, Article.id == Comment.article_id)
    return (
        query.where(*where)
        .order_by(Comment.common_ground.desc(), Comment.score.desc(), Comment.id)
        .limit(limit)
    )


@cache
def _one_article_common_ground(unfeatured: bool, watch: bool) -> Select[Any]:
    """``_common_ground_part`` for one article, its id and limit bound per call: built
    once per shape, as ``_own_side_query``."""
    return _common_ground_part(
        bindparam("side_article", type_=Integer),
        bindparam("side_limit", type_=Integer),
        unfeatured,
        watch,
    )


def _common_ground_rows(
    article_ids: Sequence[int], limit: int, *, unfeatured: bool = False, watch: bool = False
) -> list[Any]:
    """The common ground of these articles, best first: a range per article, merged."""
    if not article_ids or limit <= 0:
        return []
    if len(article_ids) == 1:
        query = _one_article_common_ground(unfeatured, watch)
        params = {"side_article": article_ids[0], "side_limit": limit}
        return list(db.session.execute(query, params))
    merged = union_all(
        *(
            select(_common_ground_part(article_id, limit, unfeatured, watch).subquery())
            for article_id in article_ids
        )
    ).subquery("candidates")
    query = (
        select(merged)
        .order_by(merged.c.cg_score.desc(), merged.c.score.desc(), merged.c.id)
        .limit(limit)
    )
    return list(db.session.execute(query))


def author_answers(article_id: int, author_ids: set[int]) -> dict[int, str]:
    """How each of these commenters answered the article's poll, in one query: a
    lookup by (poll, user) per author (ix_votes_poll_id_user_id)."""
    if not author_ids:
        return {}
    poll_id = select(Poll.id).where(Poll.article_id == article_id).scalar_subquery()
    rows = db.session.execute(
        select(Vote.user_id, PollOption.label)
        .join(PollOption, PollOption.id == Vote.option_id)
        .where(Vote.poll_id == poll_id, Vote.user_id.in_(literal_ids(author_ids)))
    ).tuples()
    return {user_id: label for user_id, label in rows if user_id is not None}


def _my_reactions(viewer: User | None, comment_ids: set[int]) -> dict[int, int]:
    if viewer is None or not comment_ids:
        return {}
    rows = db.session.execute(
        select(CommentReaction.comment_id, CommentReaction.value).where(
            CommentReaction.user_id == viewer.id,
            CommentReaction.comment_id.in_(literal_ids(comment_ids)),
        )
    ).tuples()
    return dict(rows.all())


def sides(
    article: Article,
    options: Sequence[tuple[int, str]],
    viewer: User | None,
    *,
    per_side: int = PER_SIDE,
    common: int = COMMON_GROUND_SHOWN,
    moment: datetime | None = None,
) -> Sides:
    """What each side is saying on ``article``, whose poll has ``options`` ((id,
    label) in the poll's order), as ``viewer`` reads it (what they may do with each
    comment, their own reactions). The caller has checked the results are visible to
    them. Four queries at most: the answers' own comments, the common ground, the
    authors' answers, and a signed-in viewer's reactions."""
    own_rows = _own_side_rows(article.id, [option_id for option_id, _ in options], per_side)
    common_rows = _common_ground_rows([article.id], common)
    views = {row.id: _view(row) for row in [*own_rows, *common_rows]}
    answers = author_answers(article.id, {view.author_id for view in views.values()})
    mine = _my_reactions(viewer, set(views))
    moment = moment or utcnow()

    def shown(row: Any) -> SideComment:
        comment = views[row.id]
        node = CommentNode(
            comment=comment,
            author_vote=answers.get(comment.author_id),
            my_reaction=mine.get(comment.id, 0),
            can_edit_until=edit_until(comment, viewer, moment),
            can_delete=can_delete(comment, viewer),
            can_react=can_react(comment, viewer),
            can_report=can_report(comment, viewer),
            can_reply=can_reply(comment, viewer, article),
            in_reply_to=None,
        )
        return SideComment(node, float(row.cg_score))

    by_option: dict[int, list[SideComment]] = {option_id: [] for option_id, _ in options}
    for row in own_rows:
        by_option[row.side_option].append(shown(row))
    return Sides(
        options=[Side(option_id, label, by_option[option_id]) for option_id, label in options],
        common_ground=[shown(row) for row in common_rows],
    )


# --- editors and moderators ------------------------------------------------------------


@dataclass(frozen=True)
class AnswerSplit:
    """How one answer's readers reacted to a comment."""

    option_id: int
    label: str
    ups: int
    downs: int
    approval: float

    @property
    def reactions(self) -> int:
        return self.ups + self.downs


@dataclass(frozen=True)
class WatchedComment:
    """A comment on the editors' and moderators' lists: its article, its scores, its
    engagement and how each answer's readers reacted to it."""

    comment: CommentView
    article_slug: str
    article_title: str
    common_ground: float
    divisiveness: float
    reply_count: int
    flag_count: int
    author_answer: str | None
    splits: list[AnswerSplit]

    @property
    def reactions(self) -> int:
        """Reactions by readers who answered the poll (the ones that split)."""
        return sum(split.reactions for split in self.splits)


@dataclass(frozen=True)
class WatchPage:
    items: list[WatchedComment]
    page: int
    has_more: bool


_WATCH_COLUMNS = (
    *_VIEW_COLUMNS,
    Comment.divisiveness,
    Comment.reply_count,
    Comment.flag_count,
    Article.slug.label("article_slug"),
    Article.title.label("article_title"),
)


def answer_splits(comment_ids: Sequence[int]) -> dict[int, list[AnswerSplit]]:
    """Per comment, its reactions by answer, in the poll's order: one query over the
    comments' rows (the primary key's range per comment)."""
    if not comment_ids:
        return {}
    rows = db.session.execute(
        select(
            _reactions.comment_id,
            _reactions.option_id,
            PollOption.label,
            _reactions.ups,
            _reactions.downs,
            _reactions.approval,
        )
        .join(PollOption, PollOption.id == _reactions.option_id)
        .where(_reactions.comment_id.in_(literal_ids(set(comment_ids))))
        .order_by(_reactions.comment_id, PollOption.position)
    ).tuples()
    splits: dict[int, list[AnswerSplit]] = {comment_id: [] for comment_id in comment_ids}
    for comment_id, option_id, label, ups, downs, approval in rows:
        if ups or downs:
            splits[comment_id].append(AnswerSplit(option_id, label, ups, downs, approval))
    return splits


def _watched(rows: Sequence[Any]) -> list[WatchedComment]:
    """The rows (``_WATCH_COLUMNS``) with their splits and authors' answers: two queries
    (answers are looked up per article, and the lists are short)."""
    views = [_view(row) for row in rows]
    splits = answer_splits([view.id for view in views])
    answers: dict[tuple[int, int], str] = {}
    by_article: dict[int, set[int]] = {}
    for view in views:
        by_article.setdefault(view.article_id, set()).add(view.author_id)
    for article_id, authors in by_article.items():
        for author_id, label in author_answers(article_id, authors).items():
            answers[(article_id, author_id)] = label
    return [
        WatchedComment(
            comment=view,
            article_slug=row.article_slug,
            article_title=row.article_title,
            common_ground=float(row.cg_score),
            divisiveness=float(row.divisiveness),
            reply_count=row.reply_count,
            flag_count=row.flag_count,
            author_answer=answers.get((view.article_id, view.author_id)),
            splits=splits.get(view.id, []),
        )
        for row, view in zip(rows, views, strict=True)
    ]


def divisive(page: int, per_page: int, article_id: int | None = None) -> WatchPage:
    """The watch list: published comments the answers' readers split over, most
    divisive first, a page at a time (``page`` from 1); across articles, or one's.
    One range of ``ix_comments_divisive`` (only divisive comments are in it)."""
    page = max(page, 1)
    where = [Comment.divisiveness > 0, *_published()]
    if article_id is not None:
        where.append(Comment.article_id == article_id)
    rows = list(
        db.session.execute(
            select(*_WATCH_COLUMNS)
            .join(User, User.id == Comment.author_id)
            .join(Article, Article.id == Comment.article_id)
            .where(*where)
            .order_by(Comment.divisiveness.desc(), Comment.id)
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return WatchPage(_watched(rows[:per_page]), page, len(rows) > per_page)


def recent_poll_articles(limit: int = CANDIDATE_ARTICLES) -> list[int]:
    """The most recently published articles with a poll (their ids, newest first)."""
    return list(
        db.session.scalars(
            select(Article.id)
            .join(Poll, Poll.article_id == Article.id)
            .where(
                Article.status == ArticleStatus.PUBLISHED.value,
                Article.published_at <= utcnow(),
            )
            .order_by(Article.published_at.desc(), Article.id.desc())
            .limit(limit)
        )
    )


def feature_candidates(
    article_ids: Sequence[int] | None = None, limit: int = CANDIDATES_SHOWN
) -> list[WatchedComment]:
    """Common-ground comments not featured yet, best first: of these articles (one
    index range each), or of the most recently published articles with a poll."""
    if article_ids is None:
        article_ids = recent_poll_articles()
    return _watched(_common_ground_rows(list(article_ids), limit, unfeatured=True, watch=True))


@dataclass(frozen=True)
class EditorSides:
    """The editor's results page's section: what each side is saying, and the
    common-ground comments to feature."""

    sides: Sides
    candidates: list[WatchedComment]


def for_editor(article: Article, editor: User) -> EditorSides | None:
    """The section of the editor's results page (templates/editor/_sides.html): None
    when the article has no poll. Editors see it whatever the poll shows readers."""
    poll = article.poll
    if poll is None:
        return None
    options = [(option.id, option.label) for option in poll.options]
    return EditorSides(sides(article, options, editor), feature_candidates([article.id]))
