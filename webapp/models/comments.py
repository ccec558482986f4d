from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.articles import Article
from webapp.models.base import Base, utcnow
from webapp.models.users import User


class CommentStatus(StrEnum):
    PUBLISHED = "published"
    PENDING = "pending"
    REJECTED = "rejected"


class FlagReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        sa.CheckConstraint("status IN ('published', 'pending', 'rejected')", name="status"),
        sa.CheckConstraint(
            "sentiment_label IS NULL OR sentiment_label IN ('positive', 'neutral', 'negative')",
            name="sentiment_label",
        ),
        # The replies of a thread page's comments, a level at a time (by article,
        # status and parent); its top-level comments have the indexes below the class.
        sa.Index("ix_comments_article_thread", "article_id", "status", "parent_id", "created_at"),
        sa.Index("ix_comments_author_id_created_at", "author_id", "created_at"),
        # Sentiment results (webapp/services/insights/): per article, the published
        # comments in tone order (the most positive and negative examples without a
        # sort), and across articles, counts and mean tone grouped by article from the
        # index alone (deleted_at is here so that filter needs no table rows either).
        sa.Index("ix_comments_tone", "status", "article_id", "sentiment", "deleted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # Where the comment hangs in the shown thread (at most three levels deep).
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    # The comment actually answered, when deeper than the shown levels allow.
    in_reply_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="SET NULL")
    )
    depth: Mapped[int] = mapped_column(default=0, server_default="0")
    body: Mapped[str] = mapped_column(sa.Text)
    # Rendered and sanitised once when written, never on read.
    html: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=CommentStatus.PUBLISHED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    featured_at: Mapped[datetime | None]
    score: Mapped[int] = mapped_column(default=0, server_default="0")
    flag_count: Mapped[int] = mapped_column(default=0, server_default="0")
    reply_count: Mapped[int] = mapped_column(default=0, server_default="0")
    toxicity: Mapped[float | None]
    sentiment: Mapped[float | None]
    sentiment_label: Mapped[str | None] = mapped_column(sa.String(10))
    reasons_held: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Set when the comment enters the Reported queue; cleared by a decision.
    reported_at: Mapped[datetime | None]
    moderated_at: Mapped[datetime | None]
    # Readers who reported it since a moderator last decided on it: kept by triggers on
    # comment_flags and on moderated_at (webapp/models/moderation_counts.py); the
    # Reported queue's rank.
    open_reports: Mapped[int] = mapped_column(default=0, server_default="0")
    # True while a background re-score by the slow analyser is queued (the job runner,
    # webapp/services/insights/refine.py); the stored score is the fast one meanwhile.
    tone_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Common ground (issue 20), kept by triggers from comment_answer_reactions
    # (webapp/models/common_ground.py): above 0 only when readers of two or more poll
    # answers approve of it ...
    common_ground: Mapped[float] = mapped_column(default=0.0, server_default="0")
    # ... and how sharply the answers' readers split over it (the moderators' watch list).
    divisiveness: Mapped[float] = mapped_column(default=0.0, server_default="0")

    article: Mapped[Article] = relationship()
    author: Mapped[User] = relationship()

    def __init__(self, **values: object) -> None:
        # Every column set on a new comment, as posting's one-statement INSERT wants
        # (webapp/services/comments/storage.py, ``_insert``): a new comment has no reports.
        values.setdefault("open_reports", 0)
        values.setdefault("tone_pending", False)
        values.setdefault("common_ground", 0.0)
        values.setdefault("divisiveness", 0.0)
        super().__init__(**values)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# The thread (webapp/services/comments/thread.py) reads a page of top-level comments
# as a few index ranges, each one status of one article, already in the page's order,
# so a page reads its own rows and no more however long the thread. The condition of
# each partial index is written into the thread's queries as it stands here (SQLite
# uses a partial index only then); they index top-level comments alone.
_TOP_LEVEL = "parent_id IS NULL"
# Oldest and newest first: by id (ids grow with posting time).
sa.Index(
    "ix_comments_thread_roots",
    Comment.article_id,
    Comment.status,
    Comment.id,
    postgresql_where=sa.text(_TOP_LEVEL),
    sqlite_where=sa.text(_TOP_LEVEL),
)
# Top first: by score, highest first, then oldest first, as the page's cursor (score, id).
sa.Index(
    "ix_comments_thread_top",
    Comment.article_id,
    Comment.status,
    Comment.score.desc(),
    Comment.id,
    postgresql_where=sa.text(_TOP_LEVEL),
    sqlite_where=sa.text(_TOP_LEVEL),
)
# Common ground first (issue 20): by common-ground score, then score, then oldest first,
# as the page's cursor (common_ground, score, id).
sa.Index(
    "ix_comments_thread_common_ground",
    Comment.article_id,
    Comment.status,
    Comment.common_ground.desc(),
    Comment.score.desc(),
    Comment.id,
    postgresql_where=sa.text(_TOP_LEVEL),
    sqlite_where=sa.text(_TOP_LEVEL),
)
# The moderators' watch list of divisive comments, most divisive first: only comments
# the answers' readers split over are in it.
_DIVISIVE = "divisiveness > 0"
sa.Index(
    "ix_comments_divisive",
    Comment.divisiveness.desc(),
    Comment.id,
    postgresql_where=sa.text(_DIVISIVE),
    sqlite_where=sa.text(_DIVISIVE),
)
# The featured comments alone (few), for the page's "featured" filter, in both orders.
# The parent is a key column (not in the condition) so that SQLite, which plans
# without statistics, counts "parent_id IS NULL" as one more equality and prefers these
# small indexes to the whole thread's above.
_FEATURED = "featured_at IS NOT NULL"
sa.Index(
    "ix_comments_thread_featured",
    Comment.article_id,
    Comment.status,
    Comment.parent_id,
    Comment.id,
    postgresql_where=sa.text(_FEATURED),
    sqlite_where=sa.text(_FEATURED),
)
sa.Index(
    "ix_comments_thread_featured_top",
    Comment.article_id,
    Comment.status,
    Comment.parent_id,
    Comment.score.desc(),
    Comment.id,
    postgresql_where=sa.text(_FEATURED),
    sqlite_where=sa.text(_FEATURED),
)
# The deep replies that answer a comment: what its deletion sets to NULL (ON DELETE SET
# NULL), found without reading every comment. Only deep replies have one.
_ANSWERS = "in_reply_to_id IS NOT NULL"
sa.Index(
    "ix_comments_in_reply_to_id",
    Comment.in_reply_to_id,
    postgresql_where=sa.text(_ANSWERS),
    sqlite_where=sa.text(_ANSWERS),
)
# A signed-in reader also sees their own held and rejected comments: found by author,
# among the (few) unpublished top-level comments.
_UNPUBLISHED = f"{_TOP_LEVEL} AND status <> 'published'"
sa.Index(
    "ix_comments_own_unpublished_roots",
    Comment.author_id,
    Comment.article_id,
    Comment.id,
    postgresql_where=sa.text(_UNPUBLISHED),
    sqlite_where=sa.text(_UNPUBLISHED),
)

# The moderation lists (webapp/services/moderation/queues.py): each queue oldest first
# by keyset (created_at, id). Led by the status, so that SQLite (no statistics) takes
# them for a status's comments.
_LIVE = "deleted_at IS NULL"
for _name, _condition in (
    ("ix_comments_pending_queue", f"status = 'pending' AND {_LIVE}"),
    ("ix_comments_rejected_queue", f"status = 'rejected' AND {_LIVE}"),
    (
        "ix_comments_approved_queue",
        f"status = 'published' AND moderated_at IS NOT NULL AND {_LIVE}",
    ),
):
    sa.Index(
        _name,
        Comment.status,
        Comment.created_at,
        Comment.id,
        postgresql_where=sa.text(_condition),
        sqlite_where=sa.text(_condition),
    )
# The Reported queue in its page order: most open reports first, then the longest
# waiting, then id; its page (keyset) and its members are ranges of this index.
_REPORTED = f"reported_at IS NOT NULL AND {_LIVE} AND status <> 'rejected'"
sa.Index(
    "ix_comments_reported_queue_ranked",
    Comment.open_reports.desc(),
    Comment.reported_at,
    Comment.id,
    postgresql_where=sa.text(_REPORTED),
    sqlite_where=sa.text(_REPORTED),
)
# A queue item's author history (comments, published, rejected, reports received),
# for the authors on the page, from the index alone.
sa.Index("ix_comments_author_history", Comment.author_id, Comment.status, Comment.flag_count)


class CommentFlag(Base):
    __tablename__ = "comment_flags"
    __table_args__ = (
        sa.UniqueConstraint("comment_id", "user_id"),
        # A queued comment's open reports (those since its last decision), counted
        # from the index alone.
        sa.Index("ix_comment_flags_comment_id_created_at", "comment_id", "created_at"),
        sa.CheckConstraint("reason IN ('spam', 'abuse', 'off_topic', 'other')", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.Text)
    # How much this report counts toward hiding the comment automatically: less for
    # accounts too new or without a published comment (webapp/services/comments/rules.py).
    weight: Mapped[float] = mapped_column(default=1.0, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentReaction(Base):
    """One up or down vote per reader per comment."""

    __tablename__ = "comment_reactions"
    __table_args__ = (sa.CheckConstraint("value IN (-1, 1)", name="value"),)

    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The shown comments of an article still waiting for their refined score ("N comments
# still waiting", webapp/services/insights/refine.py, whose query repeats the condition
# as SQLite wants): only those rows are in it, so it stays small and counting is one range.
TONE_PENDING = "tone_pending AND status = 'published' AND deleted_at IS NULL"
sa.Index(
    "ix_comments_tone_pending",
    Comment.article_id,
    postgresql_where=sa.text(TONE_PENDING),
    sqlite_where=sa.text(TONE_PENDING),
)
