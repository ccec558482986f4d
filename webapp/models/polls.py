from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, utcnow

if TYPE_CHECKING:
    from webapp.models.articles import Article


class ResultsVisibility(StrEnum):
    ALWAYS = "always"
    AFTER_VOTE = "after_vote"
    AFTER_CLOSE = "after_close"


class Poll(Base):
    __tablename__ = "polls"
    __table_args__ = (
        sa.CheckConstraint(
            "results_visibility IN ('always', 'after_vote', 'after_close')",
            name="results_visibility",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), unique=True
    )
    question: Mapped[str] = mapped_column(sa.String(300))
    closes_at: Mapped[datetime | None]
    # Set when an editor closes the poll by hand, before or without closes_at.
    closed_at: Mapped[datetime | None]
    results_visibility: Mapped[str] = mapped_column(
        sa.String(16), default=ResultsVisibility.ALWAYS.value
    )
    allow_anonymous: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Poll integrity (webapp/services/integrity/). The editor's choice: once a group of
    # votes is set aside, take votes from signed-in readers only ...
    signed_in_only_under_attack: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    # ... and when that happened (None: not under attack, or not chosen).
    under_attack_since: Mapped[datetime | None]
    # The integrity pass: the last vote id it has seen and when it last ran here.
    integrity_scanned_at: Mapped[datetime | None]
    integrity_last_vote_id: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the votes' address, network and user-agent hashes were dropped (retention).
    signals_dropped_at: Mapped[datetime | None]

    article: Mapped[Article] = relationship(back_populates="poll")
    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll",
        cascade="all, delete-orphan",
        order_by="PollOption.position",
    )

    def is_closed_at(self, moment: datetime) -> bool:
        if self.closed_at is not None and self.closed_at <= moment:
            return True
        return self.closes_at is not None and self.closes_at <= moment


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (
        sa.UniqueConstraint("poll_id", "position"),
        # Lets votes reference (option, poll) together, so a vote can never
        # point at an option of another poll.
        sa.UniqueConstraint("id", "poll_id"),
        sa.CheckConstraint("vote_count >= 0", name="vote_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(200))
    # The tally, kept in step with the vote rows in the same transaction: counted votes
    # only (a vote set aside by the integrity checks is not counted) ...
    vote_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # ... of which from signed-in readers (the results' methodology line) ...
    signed_in_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # ... and the votes for this option set aside (raw results: vote_count + these).
    set_aside_count: Mapped[int] = mapped_column(default=0, server_default="0")

    poll: Mapped[Poll] = relationship(back_populates="options")


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (
        sa.UniqueConstraint("poll_id", "voter_key"),
        sa.ForeignKeyConstraint(
            ["option_id", "poll_id"],
            ["poll_options.id", "poll_options.poll_id"],
            ondelete="CASCADE",
            name="fk_votes_option_of_poll",
        ),
        # A poll's votes in the order they came: the CSV export's keyset batches.
        sa.Index("ix_votes_poll_id_id", "poll_id", "id"),
        # An account's vote in one poll: the commenters' answers beside a thread page
        # and comment tone by vote (the option read from the index alone). Accounts'
        # votes only: a poll's range is its signed-in voters, however many voted
        # anonymously.
        sa.Index(
            "ix_votes_poll_id_user_id",
            "poll_id",
            "user_id",
            "option_id",
            postgresql_where=sa.text("user_id IS NOT NULL"),
            sqlite_where=sa.text("user_id IS NOT NULL"),
        ),
        # The integrity pass groups a poll's votes by address and by network (the
        # option read from the index alone); votes whose hashes retention dropped
        # are not in them.
        sa.Index(
            "ix_votes_poll_id_client_hash",
            "poll_id",
            "client_hash",
            "option_id",
            postgresql_where=sa.text("client_hash IS NOT NULL"),
            sqlite_where=sa.text("client_hash IS NOT NULL"),
        ),
        sa.Index(
            "ix_votes_poll_id_network_hash",
            "poll_id",
            "network_hash",
            "option_id",
            postgresql_where=sa.text("network_hash IS NOT NULL"),
            sqlite_where=sa.text("network_hash IS NOT NULL"),
        ),
        # A visitor's anonymous votes, adopted when they sign in: the unique
        # (poll_id, voter_key) serves no lookup by voter_key alone. Anonymous votes
        # are those without a user (adopting one sets both), and only they are indexed.
        sa.Index(
            "ix_votes_anonymous_voter_key",
            "voter_key",
            postgresql_where=sa.text("user_id IS NULL"),
            sqlite_where=sa.text("user_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(index=True)
    # "u:<user id>" for an account, "a:<random id>" for an anonymous visitor.
    voter_key: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Integrity signals (webapp/services/integrity/), none of them personal data:
    # keyed hash of the client address (key derived from SECRET_KEY), never the address;
    client_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # keyed hash of its network (/24 for IPv4, /48 for IPv6);
    network_hash: Mapped[str | None] = mapped_column(sa.String(32))
    # hash of the user agent's family (browser and major version, or the tool's name);
    agent_hash: Mapped[str | None] = mapped_column(sa.String(16))
    # the account's age at the vote, in seconds (None: signed out);
    account_age_seconds: Mapped[int | None]
    # the voter cookie's age at the vote, in seconds (0: minted by this vote; None:
    # signed in, or a cookie older than the mint time it now carries);
    cookie_age_seconds: Mapped[int | None]
    # whether the voter loaded the article's page before voting (None: unknown).
    saw_article: Mapped[bool | None]
    # Set aside by the integrity checks: kept, not counted in any public answer.
    set_aside_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollDailyTally(Base):
    """Votes cast and withdrawn per option per day: the timeline without scanning votes."""

    __tablename__ = "poll_daily_tallies"

    option_id: Mapped[int] = mapped_column(
        sa.ForeignKey("poll_options.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    votes_cast: Mapped[int] = mapped_column(default=0, server_default="0")
    votes_withdrawn: Mapped[int] = mapped_column(default=0, server_default="0")
