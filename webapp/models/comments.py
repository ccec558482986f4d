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
        # The thread page: top-level comments of one article in time order.
        sa.Index("ix_comments_article_thread", "article_id", "status", "parent_id", "created_at"),
        # The moderation queues: oldest first per status.
        sa.Index("ix_comments_status_created_at", "status", "created_at"),
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

    article: Mapped[Article] = relationship()
    author: Mapped[User] = relationship()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class CommentFlag(Base):
    __tablename__ = "comment_flags"
    __table_args__ = (
        sa.UniqueConstraint("comment_id", "user_id"),
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
