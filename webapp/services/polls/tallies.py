"""Tallies: each option's stored vote count, read back after a vote, checked against
the vote rows, and followed over time (the daily rollup) or exported.

The tallies move with the vote rows in the same statement, by the triggers in
webapp/models/tally_triggers.py; nothing here writes them except :func:`recount`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, select, update

from webapp.extensions import db
from webapp.models import Poll, PollDailyTally, PollOption, Vote

_options = PollOption.__table__

_TALLIES_OF = select(_options.c.id, _options.c.vote_count).where(
    _options.c.id.in_(bindparam("b_options", expanding=True))
)

_TALLY_OF = select(_options.c.vote_count).where(_options.c.id == bindparam("b_option"))


def tally_now(option_id: int) -> int:
    """One option's tally as stored now, with this transaction's vote in it (as
    :func:`tallies_now`, cheaper for the one option a first vote moves)."""
    tally: int = db.session.execute(_TALLY_OF, {"b_option": option_id}).scalar_one()
    return tally


def tallies_now(option_ids: list[int]) -> tuple[tuple[int, int], ...]:
    """The options' tallies as stored now, this transaction's writes included: exact,
    since the vote's own tally update holds each row until it commits (PostgreSQL
    waits for, then adds to, the latest committed tally; SQLite has one writer).
    A snapshot read before the vote could be behind by votes committed meanwhile
    (what "what I read, plus me" got wrong), or, after a move, by the voter's own
    other requests (a tally read as 0 and moved away from would show as -1)."""
    rows = db.session.execute(_TALLIES_OF, {"b_options": sorted(option_ids)}).tuples()
    return tuple(sorted(rows))


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


#: One exported vote: (vote number, option label, "account" or "anonymous", cast at,
#: changed at).
ExportRow = tuple[int, str, str, datetime, datetime]


#: Votes read per query by :func:`export_rows`: a few hundred kilobytes of rows.
EXPORT_BATCH = 2000
#: Votes read by the first query: few, so the file's first piece leaves as soon on a
#: poll of a million votes as on one of a hundred.
FIRST_EXPORT_BATCH = 200


def export_rows(
    poll_id: int, labels: dict[int, str], batch_size: int | None = None
) -> Iterator[ExportRow]:
    """Every vote as (vote number, option, voter kind, cast at, changed at): no personal data.

    Reads in keyset batches of ``batch_size`` votes (default :data:`EXPORT_BATCH`,
    the first of :data:`FIRST_EXPORT_BATCH` at most): ``id > last id read``, never
    OFFSET, each fetched whole and handed on before the next is read. So a poll of
    millions of votes costs the memory of one batch, the first rows are out after one
    short query, and no server-side cursor stays open while a slow client reads, the
    same on PostgreSQL and SQLite. Takes plain values, not the Poll, because a
    streamed response outlives its session's objects.
    """
    batch_size = EXPORT_BATCH if batch_size is None else batch_size
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    query = (
        select(Vote.id, Vote.option_id, Vote.user_id, Vote.created_at, Vote.updated_at)
        .where(Vote.poll_id == poll_id)
        .order_by(Vote.id)
    )
    number, last_id = 0, 0
    size = min(batch_size, FIRST_EXPORT_BATCH)
    while True:
        batch = db.session.execute(query.where(Vote.id > last_id).limit(size)).tuples().all()
        for _vote_id, option_id, user_id, created_at, updated_at in batch:
            number += 1
            yield (
                number,
                labels.get(option_id, ""),
                "account" if user_id else "anonymous",
                created_at,
                updated_at,
            )
        if len(batch) < size:
            return
        last_id = batch[-1][0]
        size = batch_size
