from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, utcnow


class Role(StrEnum):
    READER = "reader"
    MODERATOR = "moderator"
    EDITOR = "editor"
    ADMIN = "admin"


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role IN ('reader', 'moderator', 'editor', 'admin')", name="role"),
        # The staff by role in name order (the audit log's moderator filter).
        sa.Index("ix_users_role_display_name", "role", "display_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive in effect.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.READER.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A ban with banned_at set and banned_until empty lasts for good.
    banned_at: Mapped[datetime | None]
    banned_until: Mapped[datetime | None]
    ban_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The latest moderation time of this user's rejected comments (or later), kept by
    # database triggers (webapp/models/comment_triggers.py): empty when none was ever
    # rejected. The moderation check counts recent rejections only when it is recent.
    last_rejected_at: Mapped[datetime | None]
    # Part of every session's and remember-me cookie's identity (``User.get_id``):
    # raising it ends every session signed in before (logout, "sign out everywhere",
    # a password change, a ban), since their cookies then name an old generation.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # The Unicode TR39 skeleton of ``display_name`` (webapp/services/names.py): two
    # names that look alike share it, so a look-alike of another reader's name is
    # found with one indexed read.
    name_skeleton: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    # When the reader followed the link mailed to ``email`` (webapp/services/
    # account_mail.py); empty until then, and again after an address change until the
    # new address is proven (the change itself proves it: only its link makes it).
    email_verified_at: Mapped[datetime | None]
    # When the reader deleted the account: the row stays, scrubbed of everything that
    # names them (webapp/services/accounts.py ``delete_account``), because kept
    # comments and the audit log still point at it.
    deleted_at: Mapped[datetime | None]

    def get_id(self) -> str:
        """What the session and the remember-me cookie name this user by: "<id>:<generation>".

        Both cookies are signed, so the generation cannot be forged; the user loader
        (webapp/auth_setup.py) accepts the id only while the generation is current.
        """
        return f"{self.id}:{self.session_generation}"

    def has_role(self, *roles: str) -> bool:
        """Admins can do everything; everyone else needs one of ``roles``."""
        return self.role == Role.ADMIN or self.role in roles

    def is_banned_at(self, moment: datetime) -> bool:
        if self.banned_at is None:
            return False
        return self.banned_until is None or self.banned_until > moment

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
