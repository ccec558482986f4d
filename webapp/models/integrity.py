"""Poll integrity: groups of votes that share an origin, found by the integrity pass
(webapp/services/integrity/), and the editors' decisions on them.

A group is one origin in one poll (an address, a network, a burst of fresh voter
cookies, a cohort of accounts created together, a burst of votes far above the poll's
own rate): its ``kind`` and ``origin`` name it, so each pass finds the same group
again and a decision on it stands. Its members are listed in ``integrity_group_votes``;
a vote is set aside (``votes.set_aside_at``) while any set-aside group holds it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, utcnow


class GroupKind(StrEnum):
    ADDRESS = "address"
    NETWORK = "network"
    FRESH_COOKIES = "fresh_cookies"
    ACCOUNT_COHORT = "account_cohort"
    RATE_BURST = "rate_burst"


class GroupStatus(StrEnum):
    SUSPECT = "suspect"
    SET_ASIDE = "set_aside"
    CLEARED = "cleared"


class IntegrityGroup(Base):
    __tablename__ = "integrity_groups"
    __table_args__ = (
        sa.UniqueConstraint("poll_id", "kind", "origin"),
        sa.CheckConstraint(
            "kind IN ('address', 'network', 'fresh_cookies', 'account_cohort', 'rate_burst')",
            name="kind",
        ),
        sa.CheckConstraint("status IN ('suspect', 'set_aside', 'cleared')", name="status"),
        # The panel: a poll's groups, the largest first.
        sa.Index("ix_integrity_groups_poll_id_votes", "poll_id", "votes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    # What the votes share: an address or network hash, a time window, ...
    origin: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(12), default=GroupStatus.SUSPECT.value)
    # One sentence a person can check, and the signals behind it.
    reason: Mapped[str] = mapped_column(sa.Text)
    signals: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    votes: Mapped[int] = mapped_column(default=0)
    # {"<option id>": votes} as the group answered.
    by_option: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    # The test of proportions: how far the group's answers are from the rest's.
    z_score: Mapped[float] = mapped_column(default=0.0)
    # Whether the pass set it aside by itself (above the confidence setting).
    automatic: Mapped[bool] = mapped_column(default=False)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last decision: who, when, why (the audit log keeps every one).
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class IntegrityGroupVote(Base):
    """Which votes a group holds (a vote may be in several: its address and network)."""

    __tablename__ = "integrity_group_votes"
    __table_args__ = (sa.Index("ix_integrity_group_votes_vote_id", "vote_id"),)

    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("integrity_groups.id", ondelete="CASCADE"), primary_key=True
    )
    vote_id: Mapped[int] = mapped_column(
        sa.ForeignKey("votes.id", ondelete="CASCADE"), primary_key=True
    )
