"""Moderators' corrections of a comment's tone label (issue 17).

Each row is one moderator's verdict on one comment, kept as labelled data: the text
as it stood, the label the moderator chose, and what the analyser had said (its name,
label and score), so ``flask --app wsgi sentiment evaluate`` can measure any analyser
on them later. A comment may be corrected more than once; the latest row is its
label. A comment with a row here is "corrected": its stored label is the
moderator's, and background re-scoring (the job runner, ``sentiment rescore``)
leaves it alone (``has_correction``, the one condition every such statement uses).

The rows go with their comment (a comment erased is erased from the data too); a
moderator's account going keeps their corrections, without the name.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from webapp.models.base import Base, utcnow


class ToneCorrection(Base):
    __tablename__ = "tone_corrections"
    __table_args__ = (
        sa.CheckConstraint("label IN ('positive', 'neutral', 'negative')", name="label"),
        # A comment's latest correction (and "is it corrected?") by one index walk.
        sa.Index("ix_tone_corrections_comment_id_id", "comment_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(sa.String(10))
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the analyser had said when the moderator corrected it: its "module:Class",
    # its score and label (None when the comment had not been scored).
    analyser: Mapped[str] = mapped_column(sa.String(200))
    analyser_score: Mapped[float | None]
    analyser_label: Mapped[str | None] = mapped_column(sa.String(10))
    # The comment's text at that moment: the labelled example, whatever edits follow.
    body: Mapped[str] = mapped_column(sa.Text)


def has_correction(comment_id: sa.ColumnElement[int] | InstrumentedAttribute[int]) -> sa.Exists:
    """The comment whose id is ``comment_id`` (a column of the statement, e.g.
    ``Comment.id``) has a moderator's correction: one walk of
    ix_tone_corrections_comment_id_id."""
    return sa.exists().where(ToneCorrection.comment_id == comment_id)
