"""Common ground (issue 20): how readers of each poll answer value each comment, and
how readers' answers moved.

- ``CommentAnswerReaction``: per comment and per poll answer, the up and down reactions
  of signed-in readers whose counted vote in the article's poll is that answer, and the
  smoothed approval they give it. Anonymous reactions, readers without a vote and
  set-aside votes count nowhere. Kept by database triggers on ``comment_reactions``
  and ``votes`` (webapp/models/common_ground_triggers.py), which also keep the
  comment's ``common_ground`` and ``divisiveness`` (webapp/models/comments.py) in the
  same statement; the formula is in webapp/services/comments/common_ground.py.
- ``VoteChange``: every first vote, move and withdrawal of a poll vote, appended by a
  trigger on ``votes`` in the statement that made it: the editor's "minds changed".
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, utcnow


class CommentAnswerReaction(Base):
    __tablename__ = "comment_answer_reactions"

    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    option_id: Mapped[int] = mapped_column(
        sa.ForeignKey("poll_options.id", ondelete="CASCADE"), primary_key=True
    )
    # The comment's article, so an answer's most valued comments are one index range.
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    ups: Mapped[int] = mapped_column(default=0, server_default="0")
    downs: Mapped[int] = mapped_column(default=0, server_default="0")
    # The smoothed approval of this answer's readers (the formula's, kept with the counts).
    approval: Mapped[float] = mapped_column(default=0.5, server_default="0.5")
    # True when the comment's author holds this answer (a counted vote): the row says
    # how the author's own side values the comment ("what each side is saying").
    author_side: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


# An answer's comments as valued by that answer's own readers, best first.
_AUTHOR_SIDE = "author_side"
sa.Index(
    "ix_comment_answer_reactions_own_side",
    CommentAnswerReaction.article_id,
    CommentAnswerReaction.option_id,
    CommentAnswerReaction.approval.desc(),
    CommentAnswerReaction.comment_id,
    postgresql_where=sa.text(_AUTHOR_SIDE),
    sqlite_where=sa.text(_AUTHOR_SIDE),
)


class VoteChange(Base):
    __tablename__ = "vote_changes"
    __table_args__ = (sa.Index("ix_vote_changes_poll_id_changed_at", "poll_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id", ondelete="CASCADE"))
    # The vote's id (no foreign key: a withdrawn vote's row is gone, its history stays).
    vote_id: Mapped[int] = mapped_column(index=True)
    # None: a first vote (from) or a withdrawal (to).
    from_option_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("poll_options.id", ondelete="CASCADE")
    )
    to_option_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("poll_options.id", ondelete="CASCADE")
    )
    signed_in: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The vote is set aside by the integrity checks: its history is left out.
    set_aside: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
