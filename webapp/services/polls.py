"""Polls: who may see results, what a voter chose, and the results themselves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from webapp.errors import Conflict, InvalidInput, Unauthorized
from webapp.extensions import db
from webapp.models import (
    Poll,
    PollDailyTally,
    PollOption,
    ResultsVisibility,
    Role,
    User,
    Vote,
    utcnow,
)

Z_95 = 1.959963984540054


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """95 % Wilson score interval of a share; (0, 0) when nobody voted."""
    if total <= 0:
        return 0.0, 0.0
    p = successes / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def user_voter_key(user: User) -> str:
    return f"u:{user.id}"


def anonymous_voter_key(anonymous_id: str) -> str:
    return f"a:{anonymous_id}"


def voter_key(user: User | None, anonymous_id: str | None) -> str | None:
    if user is not None:
        return user_voter_key(user)
    if anonymous_id:
        return anonymous_voter_key(anonymous_id)
    return None


def my_vote(poll: Poll, key: str | None) -> int | None:
    if key is None:
        return None
    return db.session.scalar(
        select(Vote.option_id).where(Vote.poll_id == poll.id, Vote.voter_key == key)
    )


def is_closed(poll: Poll, moment: datetime | None = None) -> bool:
    return poll.is_closed_at(moment or utcnow())


def results_visible(
    poll: Poll, viewer: User | None, has_voted: bool, moment: datetime | None = None
) -> bool:
    if viewer is not None and viewer.has_role(Role.EDITOR, Role.MODERATOR):
        return True
    if poll.results_visibility == ResultsVisibility.ALWAYS:
        return True
    if poll.results_visibility == ResultsVisibility.AFTER_VOTE:
        return has_voted or is_closed(poll, moment)
    return is_closed(poll, moment)


@dataclass(frozen=True)
class OptionResult:
    id: int
    label: str
    votes: int
    share: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class PollResults:
    total: int
    options: list[OptionResult]
    closed: bool

    @property
    def leader(self) -> OptionResult | None:
        if self.total == 0:
            return None
        return max(self.options, key=lambda o: o.votes)


def results(poll: Poll, moment: datetime | None = None) -> PollResults:
    """Results from the stored tallies: the same cost for ten votes or ten million."""
    counts = [(option.id, option.label, option.vote_count) for option in poll.options]
    total = sum(votes for _, _, votes in counts)
    options = []
    for option_id, label, votes in counts:
        low, high = wilson_interval(votes, total)
        options.append(
            OptionResult(option_id, label, votes, votes / total if total else 0.0, low, high)
        )
    return PollResults(total=total, options=options, closed=is_closed(poll, moment))


# --- voting -----------------------------------------------------------------------


class PollClosed(Conflict):
    code, message = "poll_closed", "This poll is closed and no longer takes votes."


class AnonymousVotingNotAllowed(Unauthorized):
    code, message = "unauthorized", "Please sign in to vote in this poll."


@dataclass(frozen=True)
class Voter:
    """Who casts a vote: the key that makes them one voter, and what we may store."""

    key: str
    user_id: int | None
    client_hash: str | None = None


@dataclass(frozen=True)
class VoteOutcome:
    option_id: int
    created: bool
    changed: bool


def _bump_tally(option_id: int, delta: int) -> None:
    db.session.execute(
        update(PollOption)
        .where(PollOption.id == option_id)
        .values(vote_count=PollOption.vote_count + delta)
        .execution_options(synchronize_session=False)
    )


def _bump_day(
    poll_id: int, option_id: int, day: date, *, cast: int = 0, withdrawn: int = 0
) -> None:
    """Add to the day's rollup with one portable upsert (PostgreSQL and SQLite)."""
    dialect = db.session.get_bind().dialect.name
    insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_fn(PollDailyTally).values(
        option_id=option_id, day=day, poll_id=poll_id, votes_cast=cast, votes_withdrawn=withdrawn
    )
    statement = statement.on_conflict_do_update(
        index_elements=[PollDailyTally.option_id, PollDailyTally.day],
        set_={
            "votes_cast": PollDailyTally.votes_cast + statement.excluded.votes_cast,
            "votes_withdrawn": PollDailyTally.votes_withdrawn + statement.excluded.votes_withdrawn,
        },
    )
    db.session.execute(statement)


def _apply_tallies(poll: Poll, day: date, changes: dict[int, int]) -> None:
    """Move the stored tallies and the day's rollup by ``changes`` (option id -> +1/-1).

    Rows are always touched in ascending option id order, so two voters moving in
    opposite directions at once queue up instead of deadlocking on PostgreSQL.
    """
    ordered = sorted(changes.items())
    for option_id, delta in ordered:
        _bump_tally(option_id, delta)
    for option_id, delta in ordered:
        if delta > 0:
            _bump_day(poll.id, option_id, day, cast=delta)
        else:
            _bump_day(poll.id, option_id, day, withdrawn=-delta)
    _expire_tallies(poll)


def _existing_vote(poll: Poll, key: str) -> Vote | None:
    # FOR UPDATE on PostgreSQL: two concurrent moves by one voter queue up here
    # instead of both moving the tally. SQLite serialises writers by itself.
    return db.session.scalar(
        select(Vote)
        .where(Vote.poll_id == poll.id, Vote.voter_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def cast_vote(
    poll: Poll, voter: Voter, option_id: int, moment: datetime | None = None
) -> VoteOutcome:
    """Record ``voter``'s choice, moving an earlier vote. The tallies change in the
    same transaction as the vote row; the caller commits."""
    moment = moment or utcnow()
    if is_closed(poll, moment):
        raise PollClosed()
    if option_id not in {option.id for option in poll.options}:
        raise InvalidInput(
            "That option is not part of this poll.",
            fields={"option_id": "not an option of this poll"},
        )
    existing = _existing_vote(poll, voter.key)
    # Another request of the same voter may insert (or delete) the row between our
    # look and our insert; the unique constraint tells us, and we look again.
    for _attempt in range(5):
        if existing is not None:
            break
        vote = Vote(
            poll_id=poll.id,
            option_id=option_id,
            voter_key=voter.key,
            user_id=voter.user_id,
            client_hash=voter.client_hash,
            created_at=moment,
            updated_at=moment,
        )
        try:
            with db.session.begin_nested():
                db.session.add(vote)
        except IntegrityError:
            existing = _existing_vote(poll, voter.key)
        else:
            _apply_tallies(poll, moment.date(), {option_id: +1})
            return VoteOutcome(option_id, created=True, changed=True)
    if existing is None:
        raise Conflict("Your vote could not be recorded; please try again.")
    if existing.option_id == option_id:
        return VoteOutcome(option_id, created=False, changed=False)
    previous = existing.option_id
    existing.option_id = option_id
    existing.updated_at = moment
    if voter.client_hash:
        existing.client_hash = voter.client_hash
    db.session.flush()
    _apply_tallies(poll, moment.date(), {previous: -1, option_id: +1})
    return VoteOutcome(option_id, created=False, changed=True)


def withdraw_vote(poll: Poll, key: str, moment: datetime | None = None) -> bool:
    """Remove the voter's vote; False when they had none."""
    moment = moment or utcnow()
    if is_closed(poll, moment):
        raise PollClosed()
    existing = _existing_vote(poll, key)
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    _apply_tallies(poll, moment.date(), {existing.option_id: -1})
    return True


def adopt_anonymous_vote(anonymous_key: str, user: User) -> int:
    """When a visitor signs in, their anonymous votes become their account's,
    except in polls where the account already voted. Returns how many moved."""
    user_key = user_voter_key(user)
    moved = 0
    for vote in db.session.scalars(select(Vote).where(Vote.voter_key == anonymous_key)):
        already = db.session.scalar(
            select(Vote.id).where(Vote.poll_id == vote.poll_id, Vote.voter_key == user_key)
        )
        if already is not None:
            continue
        vote.voter_key = user_key
        vote.user_id = user.id
        moved += 1
    db.session.flush()
    return moved


def _expire_tallies(poll: Poll) -> None:
    for option in poll.options:
        db.session.expire(option, ["vote_count"])


# --- keeping tallies honest ----------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    option_id: int
    stored: int
    counted: int


def recount(poll_id: int | None = None) -> list[Drift]:
    """Rebuild the stored tallies from the vote rows; report every option that drifted."""
    counted_query = select(Vote.option_id, func.count()).group_by(Vote.option_id)
    options_query = select(PollOption.id, PollOption.vote_count)
    if poll_id is not None:
        counted_query = counted_query.where(Vote.poll_id == poll_id)
        options_query = options_query.where(PollOption.poll_id == poll_id)
    counted = dict(db.session.execute(counted_query).tuples().all())
    drifts = []
    for option_id, stored in db.session.execute(options_query).tuples():
        actual = counted.get(option_id, 0)
        if actual != stored:
            drifts.append(Drift(option_id, stored, actual))
            db.session.execute(
                update(PollOption)
                .where(PollOption.id == option_id)
                .values(vote_count=actual)
                .execution_options(synchronize_session=False)
            )
    db.session.expire_all()
    return drifts


# --- over time and export -------------------------------------------------------------


@dataclass(frozen=True)
class TimelineDay:
    day: date
    cast: dict[int, int]  # votes cast that day per option (moves count as cast)
    standing: dict[int, int]  # votes held per option at the end of that day

    @property
    def total(self) -> int:
        return sum(self.standing.values())

    def share(self, option_id: int) -> float:
        return self.standing.get(option_id, 0) / self.total if self.total else 0.0


def timeline(poll: Poll) -> list[TimelineDay]:
    """Day by day, from the daily rollup (a few rows per day, never the vote rows)."""
    rows = (
        db.session.execute(
            select(
                PollDailyTally.day,
                PollDailyTally.option_id,
                PollDailyTally.votes_cast,
                PollDailyTally.votes_withdrawn,
            )
            .where(PollDailyTally.poll_id == poll.id)
            .order_by(PollDailyTally.day)
        )
        .tuples()
        .all()
    )
    option_ids = [option.id for option in poll.options]
    standing = dict.fromkeys(option_ids, 0)
    days: list[TimelineDay] = []
    by_day: dict[date, list[tuple[int, int, int]]] = {}
    for day, option_id, cast, withdrawn in rows:
        by_day.setdefault(day, []).append((option_id, cast, withdrawn))
    for day in sorted(by_day):
        cast_today = dict.fromkeys(option_ids, 0)
        for option_id, cast, withdrawn in by_day[day]:
            cast_today[option_id] = cast_today.get(option_id, 0) + cast
            standing[option_id] = standing.get(option_id, 0) + cast - withdrawn
        days.append(TimelineDay(day, cast_today, dict(standing)))
    return days


def export_rows(poll_id: int, labels: dict[int, str]):  # type: ignore[no-untyped-def]
    """Every vote as (vote number, option, voter kind, cast at, changed at): no personal data.

    Streams in batches, so a poll with millions of votes never sits in memory. Takes
    plain values, not the Poll, because a streamed response outlives its session.
    """
    result = db.session.execute(
        select(Vote.option_id, Vote.user_id, Vote.created_at, Vote.updated_at)
        .where(Vote.poll_id == poll_id)
        .order_by(Vote.id)
        .execution_options(yield_per=2000)
    )
    for number, (option_id, user_id, created_at, updated_at) in enumerate(result, start=1):
        yield (
            number,
            labels.get(option_id, ""),
            "account" if user_id else "anonymous",
            created_at,
            updated_at,
        )
