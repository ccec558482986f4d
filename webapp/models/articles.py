from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, utcnow
from webapp.models.users import User

if TYPE_CHECKING:
    from webapp.models.polls import Poll


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CommentMode(StrEnum):
    OPEN = "open"
    PREMODERATED = "premoderated"
    CLOSED = "closed"


article_labels = sa.Table(
    "article_labels",
    Base.metadata,
    sa.Column("article_id", sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "label_id", sa.ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Label(Base):
    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)

    articles: Mapped[list[Article]] = relationship(
        secondary=article_labels, back_populates="labels"
    )


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'published')", name="status"),
        sa.CheckConstraint(
            "comment_mode IN ('open', 'premoderated', 'closed')", name="comment_mode"
        ),
        sa.Index("ix_articles_status_published_at", "status", "published_at", "id"),
        # Every article newest first, drafts too (the editors' overview and its CSV,
        # a running question's trend): SQLite's descending scan puts NULLs last.
        sa.Index("ix_articles_published_at_id", "published_at", "id"),
        # The editor dashboard, last changed first, by keyset (updated_at, id).
        sa.Index("ix_articles_updated_at_id", "updated_at", "id"),
        # Site search on PostgreSQL (models/search_index.py sets the column).
        sa.Index("ix_articles_search_document", "search_document", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    body: Mapped[str] = mapped_column(sa.Text)
    # Rendered and sanitised once on save, never on read.
    html: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=ArticleStatus.DRAFT.value)
    comment_mode: Mapped[str] = mapped_column(sa.String(16), default=CommentMode.OPEN.value)
    author_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    # False for the thread of a page on an embedding site, made by its first view
    # (issue 22, services/embed/threads.py): readers comment on it in the frame, but
    # Pulse's own lists (front page, topics, feeds, search, neighbours) leave it out.
    listed: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Published comments, kept in step by triggers on comments (models/comment_triggers.py).
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The lead image (services/media): where its renditions are stored (a key prefix),
    # the widths made, the largest one's size, and its text alternative (required).
    lead_image_key: Mapped[str | None] = mapped_column(sa.String(200))
    lead_image_widths: Mapped[str | None] = mapped_column(sa.String(60))
    lead_image_width: Mapped[int | None]
    lead_image_height: Mapped[int | None]
    lead_image_alt: Mapped[str | None] = mapped_column(sa.String(300))
    # The site search's words on PostgreSQL, set by a trigger (models/search_index.py);
    # NULL on SQLite, whose FTS5 table holds them. Never loaded with the article.
    search_document: Mapped[str | None] = mapped_column(
        sa.Text().with_variant(TSVECTOR(), "postgresql"), deferred=True
    )

    author: Mapped[User] = relationship()
    labels: Mapped[list[Label]] = relationship(
        secondary=article_labels, back_populates="articles", order_by="Label.name"
    )
    poll: Mapped[Poll | None] = relationship(
        back_populates="article", cascade="all, delete-orphan", uselist=False
    )

    @property
    def is_published(self) -> bool:
        """Whether readers see it now: published, and its publication time has come
        (a scheduled article is published with a time still ahead)."""
        return self.is_published_at(utcnow())

    def is_published_at(self, moment: datetime) -> bool:
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at <= moment
        )

    @property
    def is_scheduled(self) -> bool:
        """Published for a time still ahead: readers do not see it yet."""
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at > utcnow()
        )


def public_articles_at(moment: datetime | sa.BindParameter[datetime]) -> sa.ColumnElement[bool]:
    """The SQL condition of an article Pulse's lists show at ``moment``: published, its
    publication time reached, and listed. Status and time lead
    ix_articles_status_published_at, so a list newest first reads the index from
    ``moment`` down (no background job turns a scheduled article public: every read
    compares with its own now)."""
    # ``listed``: an embedded page's thread is public but in none of Pulse's own lists.
    return sa.and_(
        Article.status == ArticleStatus.PUBLISHED.value,
        Article.published_at <= moment,
        Article.listed,
    )


# The search index's triggers join the metadata with the articles table.
from webapp.models import search_index  # noqa: E402,F401
