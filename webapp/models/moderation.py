from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, utcnow
from webapp.models.users import User


class ModerationActionKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    FEATURE = "feature"
    UNFEATURE = "unfeature"
    DELETE = "delete"
    # A moderator took back their own deletion within its undo window (issue 19).
    UNDELETE = "undelete"
    BAN = "ban"
    UNBAN = "unban"
    SETTINGS = "settings"
    # An editor's decision on a group of poll votes (webapp/services/integrity/).
    SET_ASIDE_VOTES = "set_aside_votes"
    RESTORE_VOTES = "restore_votes"
    CLEAR_VOTES = "clear_votes"
    # A moderator's correction of a comment's tone label (webapp/models/tone_corrections.py).
    CORRECT_TONE = "correct_tone"


class ModerationAction(Base):
    """The audit log: written once, never updated."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        sa.Index("ix_moderation_actions_created_at", "created_at"),
        # The audit log, newest first by id, filtered by one of these (each also
        # serves its foreign key).
        sa.Index("ix_moderation_actions_action_id", "action", "id"),
        sa.Index("ix_moderation_actions_actor_id_id", "actor_id", "id"),
        sa.Index("ix_moderation_actions_target_user_id_id", "target_user_id", "id"),
        sa.Index("ix_moderation_actions_comment_id_id", "comment_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(sa.String(16))
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="SET NULL")
    )
    target_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])


class TermKind(StrEnum):
    BANNED = "banned"
    SUSPECT = "suspect"


class ModerationTerm(Base):
    """A word moderators keep: banned words reject a comment, suspect words hold it."""

    __tablename__ = "moderation_terms"
    __table_args__ = (sa.CheckConstraint("kind IN ('banned', 'suspect')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(100), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiteSetting(Base):
    """Site-wide settings moderators change in the app (thresholds, hold rules)."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
