"""Pulse embedded in other sites (issue 22): the sites allowed to frame it, their
threads by the host page's key, and the readers their own sign-in vouches for.

The rules (origins, keys, tokens) live in webapp/services/embed/; these are the tables.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.articles import Article, CommentMode
from webapp.models.base import Base, utcnow
from webapp.models.polls import ResultsVisibility
from webapp.models.users import User


class EmbedSite(Base):
    """A site registered by an admin to show Pulse's poll and thread in its pages."""

    __tablename__ = "embed_sites"
    __table_args__ = (
        sa.CheckConstraint(
            "comment_mode IN ('open', 'premoderated', 'closed')", name="comment_mode"
        ),
        sa.CheckConstraint(
            "poll_results_visibility IN ('always', 'after_vote', 'after_close')",
            name="poll_results_visibility",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # Exact origins ("https://news.example", "http://127.0.0.2:8000"), normalised on
    # write (services/embed/origins.py): the frame's frame-ancestors and the counts'
    # CORS answer name these and nothing wider.
    origins: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The HS256 key of the host's sign-in tokens; shown to admins, rotatable. A
    # rotation refuses every token signed with the old one at once.
    secret: Mapped[str] = mapped_column(sa.String(100))
    # Whether a host page's first view makes its thread; otherwise only threads an
    # editor attached can be embedded.
    create_on_first_view: Mapped[bool] = mapped_column(default=False)
    # What the articles a first view makes start with.
    comment_mode: Mapped[str] = mapped_column(sa.String(16), default=CommentMode.OPEN.value)
    poll_allow_anonymous: Mapped[bool] = mapped_column(default=False)
    poll_results_visibility: Mapped[str] = mapped_column(
        sa.String(16), default=ResultsVisibility.ALWAYS.value
    )
    # The admin who registered it: the author of record of the threads its pages'
    # first views make (an article needs one).
    created_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime | None]

    created_by: Mapped[User] = relationship()


class EmbedThread(Base):
    """A host page's thread: the page's stable id or canonical URL (normalised) on one
    site, and the article that holds its poll and comments."""

    __tablename__ = "embed_threads"
    __table_args__ = (
        # One article per page of a site, even when two first views race
        # (services/embed/threads.py retries on this constraint).
        sa.UniqueConstraint("site_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("embed_sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(500))
    # The host page's address as its first view gave it (None for a key-only thread):
    # Pulse's own page of the thread links back to it.
    url: Mapped[str | None] = mapped_column(sa.String(2000))
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The SHA-256 of the poll as the host's signed description last set it (None: the
    # host never set it). A poll whose content no longer matches was changed by an
    # editor in Pulse and is theirs from then on (services/embed/host_poll.py).
    host_poll_digest: Mapped[str | None] = mapped_column(sa.String(64))

    site: Mapped[EmbedSite] = relationship()
    article: Mapped[Article] = relationship()


class ExternalIdentity(Base):
    """A host site's reader (the token's ``sub``) and the Pulse account made for them.

    Never found by e-mail address: a host can claim any address, so matching on it
    would hand a Pulse account to whoever runs the host site."""

    __tablename__ = "external_identities"
    __table_args__ = (sa.UniqueConstraint("site_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("embed_sites.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The reader's last sign-out in the frame: tokens issued (``iat``) before it are
    # refused, so a token copied before sign-out cannot sign anyone back in.
    signed_out_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class UsedEmbedToken(Base):
    """A single-use token seen once: a host's sign-in token or a frame's sign-in code.

    ``token_key`` is a SHA-256 of what names the token (never the token itself), unique,
    so a second use fails on the constraint even when two requests race. Rows past
    ``expires_at`` name tokens refused as expired anyway, so they can go."""

    __tablename__ = "used_embed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
