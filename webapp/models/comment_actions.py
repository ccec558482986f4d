"""What makes commenting safe to retry and to take back (issue 19).

- ``CommentPostKey``: the idempotency key a comment form (or an API client's
  ``Idempotency-Key`` header) sent with a comment, so a retried POST finds the comment
  the first one stored instead of storing a second.
- ``CommentDeletion``: a deletion a reader may still undo. The comment's text is
  blanked at once (it is gone from every page and answer) and kept here until
  ``undo_until``; after that the deletion is finished (the row goes, or stays as
  "comment deleted" when replies hang on it) and this row with it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base


class CommentPostKey(Base):
    __tablename__ = "comment_post_keys"

    author_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Keys are per author: another reader's key can never find this reader's comment.
    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]


class CommentDeletion(Base):
    __tablename__ = "comment_deletions"

    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    deleted_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # Finished deletions are found by this, oldest first.
    undo_until: Mapped[datetime] = mapped_column(index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text)
    featured_at: Mapped[datetime | None]
