"""Synthetic votes for the integrity tests, written with plain SQL: each vote's signal
columns are set directly, as the vote path (webapp.services.integrity.signals) would
have written them, so these tests depend on nothing but the schema and the triggers."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import PollOption, Vote

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

_keys = itertools.count(1)


@dataclass(frozen=True)
class Answers:
    """How a crowd answers, as shares per option position (the rest: the last option)."""

    shares: Sequence[float]

    def option_for(self, index: int, options: Sequence[PollOption]) -> PollOption:
        """The i-th voter's answer, spread evenly: any slice of a crowd answers in
        nearly the crowd's shares, so honest groups are honest in every test run."""
        position = (index * 37) % 100 / 100  # a full cycle every 100 voters
        bound = 0.0
        for option, share in zip(options, self.shares, strict=False):
            bound += share
            if position < bound:
                return option
        return options[len(self.shares)] if len(self.shares) < len(options) else options[-1]


#: The honest readers of the tests' poll: 60 % Yes, 31 % No, 9 % Too early to tell.
HONEST = Answers((0.60, 0.31))
ALL_NO = Answers((0.0, 1.0))


def options_of(poll: Any) -> list[PollOption]:
    return list(
        db.session.scalars(
            sa.select(PollOption).where(PollOption.poll_id == poll.id).order_by(PollOption.position)
        )
    )


def add_votes(
    poll: Any,
    count: int,
    answers: Answers = HONEST,
    *,
    start: datetime = START,
    spread: timedelta = timedelta(hours=10),
    address: str | None = None,
    addresses: int | None = None,
    network: str | None = None,
    agent: str | None = "chrome-131",
    cookie_age: int | None = 86_400,
    users: Sequence[Any] = (),
    account_age: int | None = None,
    saw_article: bool | None = True,
    offset: int = 0,
) -> list[int]:
    """``count`` votes, evenly over ``spread`` from ``start``. Each comes from its own
    address and network unless ``address`` (one for all), ``addresses`` (that many,
    in turn) or ``network`` says otherwise. With ``users``, the i-th vote is the
    i-th user's (signed in, no cookie age). Returns the new votes' ids."""
    options = options_of(poll)
    step = spread / max(1, count)
    rows = []
    for i in range(count):
        n = next(_keys)
        user = users[i] if users else None
        if address is not None:
            client = address
        elif addresses is not None:
            client = f"{network or 'net'}-addr-{i % addresses}"
        else:
            client = f"addr-{n}"
        moment = start + step * i
        rows.append(
            {
                "poll_id": poll.id,
                "option_id": answers.option_for(i + offset, options).id,
                "voter_key": f"u:{user.id}" if user is not None else f"a:synthetic-{n}",
                "user_id": user.id if user is not None else None,
                "client_hash": client,
                "network_hash": network or f"net-{n}",
                "agent_hash": agent,
                "cookie_age_seconds": None if user is not None else cookie_age,
                "account_age_seconds": account_age if user is not None else None,
                "saw_article": saw_article,
                "created_at": moment,
                "updated_at": moment,
            }
        )
    if rows:
        db.session.execute(Vote.__table__.insert(), rows)
    db.session.commit()
    return list(
        db.session.scalars(
            sa.select(Vote.id).where(Vote.voter_key.in_([row["voter_key"] for row in rows]))
        )
    )


def tallies(poll: Any) -> dict[str, tuple[int, int]]:
    """{label: (counted, set aside)} as the tally triggers keep them."""
    db.session.expire_all()
    return {
        option.label: (option.vote_count, option.set_aside_count) for option in options_of(poll)
    }
