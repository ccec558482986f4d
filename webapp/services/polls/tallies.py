"""Tallies: each option's stored vote count, read back after a vote, checked against
the vote rows, and followed over time (the daily rollup) or exported.

Each option keeps three counts: ``vote_count`` (its counted votes, those not set aside
by the integrity checks), ``signed_in_count`` (of those, accounts' votes) and
``set_aside_count``. They move with the vote rows in the same statement, by the
triggers in webapp/models/tally_triggers.py; nothing here writes them except
:func:`recount`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, select, update

from webapp.extensions import db
from webapp.models import Poll, PollDailyTally, PollOption, User, Vote

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
    #: Which of the option's counts drifted: "vote_count", "signed_in_count" or
    #: "set_aside_count".
    count: str = "vote_count"


#: The counts an option keeps, each as counted from its vote rows.
_COUNTS = ("vote_count", "signed_in_count", "set_aside_count")


def recount(poll_id: int | None = None) -> list[Drift]:
    """Rebuild the stored tallies (all three counts) from the vote rows; report every
    count that drifted, option by option."""
    counted_now = Vote.set_aside_at.is_(None)
    counted_query = select(
        Vote.option_id,
        func.count().filter(counted_now),
        func.count().filter(counted_now, Vote.user_id.is_not(None)),
        func.count().filter(Vote.set_aside_at.is_not(None)),
    ).group_by(Vote.option_id)
    options_query = select(
        PollOption.id, PollOption.vote_count, PollOption.signed_in_count, PollOption.set_aside_count
    ).order_by(PollOption.id)
    if poll_id is not None:
        counted_query = counted_query.where(Vote.poll_id == poll_id)
        options_query = options_query.where(PollOption.poll_id == poll_id)
    counted = {row[0]: tuple(row[1:]) for row in db.session.execute(counted_query).tuples().all()}
    drifts = []
    for option_id, *stored in db.session.execute(options_query).tuples():
        actual = counted.get(option_id, (0, 0, 0))
        changes = {}
        for name, was, now in zip(_COUNTS, stored, actual, strict=True):
            if was != now:
                drifts.append(Drift(option_id, was, now, name))
                changes[name] = now
        if changes:
            db.session.execute(
                update(PollOption)
                .where(PollOption.id == option_id)
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
    db.session.expire_all()
    return drifts


#: Ids per locking query of :func:`lock_for_set_aside` (PostgreSQL takes at most 65,535
#: parameters in a statement).
LOCK_BATCH = 10_000


def lock_for_set_aside(poll_id: int, vote_ids: list[int]) -> None:
    """Before one statement sets aside or restores many of a poll's votes, on
    PostgreSQL: take the locks it and its triggers will take, in one order, so it
    cannot deadlock with the votes, moves and comments written meanwhile, nor with
    another decision over some of the same votes. The caller then runs its UPDATE in
    the same transaction. SQLite has one writer: nothing to do.

    Every write of a vote locks its row first, then (its triggers run at the end of
    the statement) its options in ascending id order, then, for an account's vote,
    the author's lock (the tone counters' triggers), then tone rows. A statement of many
    rows locks its rows in the order it finds them, and its triggers take tone rows
    for one author before the next author's lock. So this takes, in order: the votes'
    rows by ascending id, the poll's options by ascending id, and the batch's authors'
    locks by ascending author; the UPDATE then finds them held. Give it every vote the
    transaction will change, once, before the first UPDATE, even when the UPDATEs go
    in batches: a later batch's authors locked after an earlier batch's tone rows could
    deadlock with their comments. Any number of ids (it queries in batches).
    """
    if db.session.get_bind().dialect.name != "postgresql" or not vote_ids:
        return
    ids = sorted(set(vote_ids))
    authors: set[int] = set()
    for start in range(0, len(ids), LOCK_BATCH):  # ascending across the batches too
        authors.update(
            author
            for author in db.session.scalars(
                select(Vote.user_id)
                .where(Vote.id.in_(ids[start : start + LOCK_BATCH]), Vote.poll_id == poll_id)
                .order_by(Vote.id)
                .with_for_update(key_share=True)  # as the UPDATE of set_aside_at will
            )
            if author is not None
        )
    db.session.execute(
        select(PollOption.id)
        .where(PollOption.poll_id == poll_id)
        .order_by(PollOption.id)
        .with_for_update(key_share=True)
    )
    signed_in = sorted(authors)
    # The authors, as the tone counters' triggers lock them: their rows, FOR NO KEY
    # UPDATE (which the votes' and comments' foreign key checks do not wait for).
    for start in range(0, len(signed_in), LOCK_BATCH):
        db.session.execute(
            select(User.id)
            .where(User.id.in_(signed_in[start : start + LOCK_BATCH]))
            .order_by(User.id)
            .with_for_update(key_share=True)
        )


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
