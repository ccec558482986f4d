"""Voting: casting, moving and withdrawing a vote, with the statements that make a
voter's first vote one round trip.

Who may vote is decided in ``eligibility``; the API and the page's vote form both
call :func:`vote` with the request's ``Visitor``. The speed tricks (plain SQL, the
guarded first-vote inserts, the tallies read back) each say below what they save.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    Dialect,
    Executable,
    TextClause,
    bindparam,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeEngine

from webapp.caching import THREADS
from webapp.errors import Conflict, InvalidInput
from webapp.extensions import db
from webapp.models import Poll, User, Vote, utcnow
from webapp.models.first_vote import CALL as CHECKED_FIRST_VOTE_CALL
from webapp.models.first_vote import CHECKED_FIRST_VOTE, SIGNAL_VALUES, VOTE_COLUMNS
from webapp.services.accounts import ensure_can_write
from webapp.services.polls.eligibility import (
    PollClosed,
    Visitor,
    Voter,
    as_voter,
    poll_refusals,
    refusals,
    refuse,
    user_voter_key,
    voter_for,
    voter_key,
)
from webapp.services.polls.state import (
    AnyPoll,
    PollState,
    autoflush,
    forget_cached,
    is_closed,
    offer_to_cache,
    poll_for_article,
)
from webapp.services.polls.tallies import tallies_now, tally_now
from webapp.transactions import lone_write

_votes = Vote.__table__
_polls = Poll.__table__


# --- casting a vote ------------------------------------------------------------------


@dataclass(frozen=True)
class VoteOutcome:
    option_id: int
    created: bool
    changed: bool
    # (option id, stored tally) of each option this vote moved, as written.
    tallies: tuple[tuple[int, int], ...] = field(default=(), compare=False)


# Prepared once, values bound per call. Plain SQL because ON CONFLICT reads the same
# on PostgreSQL and SQLite (3.35+), and SQLAlchemy recompiles its dialect ON CONFLICT
# constructs on every execution. The tallies and the day's rollup move with it, in
# the same statement, by the triggers in webapp/models/tally_triggers.py. Whether a
# row was stored is the statement's row count (1 or 0; rows the triggers write are
# not counted on either database), which costs less than a RETURNING row.
#
# The vote's integrity signals (webapp.services.integrity.signals) are columns of the
# same row, written by the same statement: keeping them costs no round trip.
_FIRST_VOTE = text(
    "INSERT INTO votes " + VOTE_COLUMNS + "VALUES (:b_poll, :b_option, :b_key, :b_user, "
    f"{SIGNAL_VALUES}, :b_moment, :b_moment) "
    "ON CONFLICT (poll_id, voter_key) DO NOTHING"
).bindparams(
    bindparam("b_moment", type_=_votes.c.created_at.type),
    bindparam("b_saw", type_=_votes.c.saw_article.type),
)


# A first vote made on the poll as the results cache holds it (up to a second old),
# so it must not trust that copy: the statement itself stores the row only while the
# poll still takes the vote (webapp/models/first_vote.py says what it checks). When
# that no longer holds (or the voter already voted) it stores nothing, and
# :func:`vote` reads the poll afresh to say why, or to move the vote.
#: The types the vote parameters are bound as: the time as a UTC column stores it, the
#: booleans as booleans. The others are plain integers, strings or NULL.
_VOTE_PARAMETER_TYPES: dict[str, TypeEngine[Any]] = {
    "b_moment": _votes.c.created_at.type,
    "b_saw": _votes.c.saw_article.type,
    "b_signed_in": _polls.c.allow_anonymous.type,
}


def _with_vote_types(sql: str) -> TextClause:
    """``sql`` with the types its vote parameters are bound as."""
    return text(sql).bindparams(
        *(bindparam(name, type_=kind) for name, kind in _VOTE_PARAMETER_TYPES.items())
    )


_CHECKED_FIRST_VOTE = _with_vote_types(CHECKED_FIRST_VOTE)
# The same on PostgreSQL, with the option's tally read back in the same round trip.
_CHECKED_FIRST_VOTE_TALLIED = _with_vote_types(CHECKED_FIRST_VOTE_CALL)


def _store_first_vote(statement: Executable, params: dict[str, Any]) -> bool:
    """Run one of the first-vote INSERTs; True when it stored the row, False when it
    stored nothing (the voter already voted, or the checked one found the poll no
    longer takes the vote)."""
    return _run_vote_statement(statement, params).rowcount == 1


def _run_vote_statement(statement: Executable, params: dict[str, Any]) -> CursorResult[Any]:
    """The unique constraint on (poll, voter) decides, so a concurrent request of the
    same voter makes a first vote a no-op instead of an error. An IntegrityError is not
    that constraint: the option went away meanwhile, and the caller rolls back. (A
    first vote that is all its request writes runs as :func:`_lone_first_vote`.)"""
    try:
        return cast(CursorResult[Any], db.session.execute(statement, params))
    except IntegrityError as exc:
        raise Conflict("Your vote could not be recorded; please try again.") from exc


def _voter_params(voter: Voter, poll_id: int, option_id: int, moment: datetime) -> dict[str, Any]:
    signals = voter.signals
    if signals is None:
        return {
            "b_poll": poll_id,
            "b_option": option_id,
            "b_key": voter.key,
            "b_user": voter.user_id,
            "b_hash": voter.client_hash,
            "b_network": None,
            "b_agent": None,
            "b_account_age": None,
            "b_cookie_age": None,
            "b_saw": None,
            "b_moment": moment,
        }
    return {
        "b_poll": poll_id,
        "b_option": option_id,
        "b_key": voter.key,
        "b_user": voter.user_id,
        "b_hash": voter.client_hash,
        "b_network": signals.network_hash,
        "b_agent": signals.agent_hash,
        "b_account_age": signals.account_age_seconds,
        "b_cookie_age": signals.cookie_age_seconds,
        "b_saw": signals.saw_article,
        "b_moment": moment,
    }


def _insert_checked_first_vote(
    slug: str, poll: PollState, who: Voter, signed_in: bool, option_id: int, moment: datetime
) -> int | None:
    """The checked first vote; the option's tally as stored with it in, or None when
    it stored nothing. One round trip on PostgreSQL (``pulse_checked_first_vote``),
    the INSERT then the tally's SELECT on SQLite, where a statement costs none."""
    params = _voter_params(who, poll.id, option_id, moment)
    params.update(b_slug=slug, b_signed_in=signed_in)
    # All a first vote writes: on a connection of its own in autocommit if the request
    # writes nothing else, and then its tally is read there too, after the vote is stored.
    with lone_write() as alone:
        if alone is not None:
            return _lone_first_vote(alone, params)
    autoflush()  # (a lone write has no changes waiting: lone_write checked)
    if db.session.get_bind().dialect.name == "postgresql":
        voted = _run_vote_statement(_CHECKED_FIRST_VOTE_TALLIED, params)
        tally: int | None = voted.scalar()
        return tally
    if not _store_first_vote(_CHECKED_FIRST_VOTE, params):
        return None
    return tally_now(option_id)


# The tally's read as text for a driver cursor, as ``CHECKED_FIRST_VOTE`` already is
# (sqlite3 takes their :name parameters).
_SQLITE_TALLY_OF = "SELECT vote_count FROM poll_options WHERE id = :b_option"


@cache
def _parameter_processors(dialect: Dialect) -> dict[str, Callable[[Any], Any]]:
    """How SQLAlchemy converts each typed vote parameter for ``dialect``'s driver."""
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, kind in _VOTE_PARAMETER_TYPES.items():
        processor = kind.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    return processors


@cache
def _postgresql_call(dialect: Dialect) -> str:
    """``pulse_checked_first_vote``'s call as SQLAlchemy compiles it for the driver
    (psycopg takes %(name)s parameters): compiled once, not per vote."""
    return _CHECKED_FIRST_VOTE_TALLIED.compile(dialect=dialect).string


def _lone_first_vote(alone: Connection, params: dict[str, Any]) -> int | None:
    """A first vote that is all its request writes, on a cursor of the lone write's
    connection: on PostgreSQL the one call that stores it and reads its option's tally
    back; on SQLite the checked INSERT, then the tally's read.

    Each statement through SQLAlchemy's compiled execution costs about 25 µs in
    process (its execution context and result), as much as the whole tally read costs
    SQLite, and these run on every vote. They take SQLAlchemy's path for a statement
    it has no compiled form of (``Connection._cursor_execute``, what it runs a
    sequence's or a column default's SQL through): the same events and echo, the same
    error handling (errors wrapped as SQLAlchemy's, a broken connection discarded),
    for a few µs a statement. The values are converted by the column types
    SQLAlchemy would bind them as, so the row is stored exactly as through the
    session (tests/test_lone_writes.py compares the two)."""
    dialect = alone.dialect
    for name, process in _parameter_processors(dialect).items():
        params[name] = process(params[name])
    cursor = alone.connection.cursor()
    try:
        try:
            if dialect.name == "postgresql":
                alone._cursor_execute(cursor, _postgresql_call(dialect), params)
                # One row: the call's answer, the tally or NULL when it stored nothing.
                tally: int | None = cast(tuple[int | None], cursor.fetchone())[0]
                return tally
            alone._cursor_execute(cursor, CHECKED_FIRST_VOTE, params)
        except IntegrityError as exc:
            raise Conflict("Your vote could not be recorded; please try again.") from exc
        if cursor.rowcount != 1:
            return None
        alone._cursor_execute(cursor, _SQLITE_TALLY_OF, params)
        # A row: the INSERT just stored a vote for this option.
        return cast(tuple[int], cursor.fetchone())[0]
    finally:
        cursor.close()


def _is_option(poll: AnyPoll, option_id: int) -> bool:
    return any(option.id == option_id for option in poll.options)


def vote(
    slug: str,
    poll: PollState,
    visitor: Visitor,
    option_id: int,
    moment: datetime | None = None,
) -> tuple[PollState, VoteOutcome]:
    """Record ``visitor``'s vote in the poll of the article at ``slug``, starting from
    ``poll`` as ``cached_poll_for_article`` gave it; returns the poll the vote was made
    on and the outcome. Those who may not vote are refused (``eligibility.voter_for``).

    A voter's first vote, the common case, is one statement that checks everything
    again in the database (``_CHECKED_FIRST_VOTE``), so a cached poll is enough for
    it. Anything else (a vote to move, a refused voter, an option of another poll, a
    cached poll that changed) reads the poll afresh and goes through
    :func:`cast_vote`, which says exactly what is wrong. The caller commits.
    """
    moment = moment or utcnow()
    if not poll.fresh:
        if _is_option(poll, option_id) and not refusals(poll, visitor.user, moment):
            signed_in = visitor.user is not None
            tally = _insert_checked_first_vote(
                slug, poll, as_voter(visitor, moment), signed_in, option_id, moment
            )
            if tally is not None:
                written = ((option_id, tally),)
                _account_answer_changed(visitor.user)
                return poll, VoteOutcome(option_id, created=True, changed=True, tallies=written)
        poll = replace(poll_for_article(slug, visitor.user), read_token=poll.read_token)
    outcome = cast_vote(poll, voter_for(poll, visitor, moment), option_id, moment)
    if outcome.changed:
        _account_answer_changed(visitor.user)
    return poll, outcome


def _account_answer_changed(user: User | None) -> None:
    """An account's answer decides where its reactions count for common ground and
    which answer shows beside its comments (issue 20): the cached threads go, on the
    API's door as on the page's, as after a reaction. Anonymous votes move neither."""
    if user is not None:
        THREADS.changed()


def vote_committed(slug: str, poll: PollState, outcome: VoteOutcome) -> PollState:
    """After the vote's commit: the poll with the vote counted, to show the voter,
    which the cached results show at once.

    That is the poll as the vote read it with the chosen option's tally as the
    database counted it with this vote in, offered to the results cache (webapp.caching.results),
    which keeps the higher of each tally: so neither this answer nor any later one
    shows less than an answer that finished before it, and concurrent votes never
    write back each other's older tallies. A first vote made on the cached poll
    keeps the entry's expiry, so the cache is never more than RESULTS_CACHE_SECONDS
    behind the database. A moved vote lowers a tally, which an offer never does: it
    clears the entry instead.
    """
    after = poll.with_tallies(dict(outcome.tallies), fresh=False)
    if not outcome.changed:
        return after
    if not outcome.created:
        forget_cached(slug)
        return after
    shown: PollState | None = offer_to_cache(slug, poll.read_token, after, fresh=poll.fresh)
    return shown or after


def _existing_vote(poll: AnyPoll, key: str) -> Vote | None:
    # FOR UPDATE on PostgreSQL: two concurrent moves by one voter queue up here
    # instead of both moving the tally. SQLite serialises writers by itself.
    return db.session.scalar(
        select(Vote)
        .where(Vote.poll_id == poll.id, Vote.voter_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _insert_first_vote(poll: AnyPoll, voter: Voter, option_id: int, moment: datetime) -> bool:
    """Store ``voter``'s first vote in this poll; False when they already have one."""
    return _store_first_vote(_FIRST_VOTE, _voter_params(voter, poll.id, option_id, moment))


def cast_vote(
    poll: AnyPoll, voter: Voter, option_id: int, moment: datetime | None = None
) -> VoteOutcome:
    """Record ``voter``'s choice, moving an earlier vote. The tallies change with the
    vote row, in the same statement (tally_triggers); the caller commits.

    ``voter`` is one ``voter_for`` let through (or a script's); this refuses what
    refuses anyone's vote (``eligibility.refusals``: a draft's poll, a closed one) and an option
    of another poll."""
    moment = moment or utcnow()
    refused = poll_refusals(poll, moment)
    if refused:
        refuse(refused[0], None, moment)
    if not _is_option(poll, option_id):
        raise InvalidInput(
            "That option is not part of this poll.",
            fields={"option_id": "not an option of this poll"},
        )
    # Insert first: most votes are a voter's first, and then that is the only look.
    # When the voter has a vote already the insert does nothing and we move it; when
    # another request of theirs deletes it between the two, we try again.
    autoflush()
    existing = None
    for _attempt in range(5):
        if _insert_first_vote(poll, voter, option_id, moment):
            written = ((option_id, tally_now(option_id)),)
            _expire_tallies(poll)
            return VoteOutcome(option_id, created=True, changed=True, tallies=written)
        existing = _existing_vote(poll, voter.key)
        if existing is not None:
            break
    if existing is None:
        raise Conflict("Your vote could not be recorded; please try again.")
    if existing.option_id == option_id:
        return VoteOutcome(option_id, created=False, changed=False)
    previous = existing.option_id
    existing.option_id = option_id
    existing.updated_at = moment
    _record_signals(existing, voter)
    db.session.flush()
    _expire_tallies(poll)
    moved = tallies_now([previous, option_id])
    return VoteOutcome(option_id, created=False, changed=True, tallies=moved)


def _record_signals(existing: Vote, voter: Voter) -> None:
    """A moved vote keeps the signals of its latest move (in the same UPDATE): the
    address and agent it came from now, the ages now. Signals the move does not know
    (a script's vote) leave the stored ones as they are; so does a page token the move
    lacks, once the voter has shown one."""
    if voter.client_hash:
        existing.client_hash = voter.client_hash
    signals = voter.signals
    if signals is None:
        return
    if signals.network_hash is not None:
        existing.network_hash = signals.network_hash
    if signals.agent_hash is not None:
        existing.agent_hash = signals.agent_hash
    if signals.account_age_seconds is not None:
        existing.account_age_seconds = signals.account_age_seconds
    if signals.cookie_age_seconds is not None:
        existing.cookie_age_seconds = signals.cookie_age_seconds
    if signals.saw_article is not None and not existing.saw_article:
        existing.saw_article = signals.saw_article


# --- taking a vote back --------------------------------------------------------------


def withdraw_vote(poll: AnyPoll, key: str, moment: datetime | None = None) -> bool:
    """Remove the voter's vote; False when they had none. The withdrawal counts on the
    database's current day (tally_triggers); ``moment`` decides only whether the poll
    is closed."""
    moment = moment or utcnow()
    if is_closed(poll, moment):
        raise PollClosed()
    existing = _existing_vote(poll, key)
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    _expire_tallies(poll)
    return True


def withdraw(
    poll: AnyPoll, user: User | None, anonymous_id: str | None, moment: datetime | None = None
) -> bool:
    """Withdraw the vote of ``user`` (None: the signed-out visitor with ``anonymous_id``,
    if they have one); False when they have none. A banned account may not (403), nor
    anyone once the poll is closed (409). The caller commits, then forgets the cached
    results (a withdrawal lowers a tally)."""
    if user is not None:
        ensure_can_write(user)
    key = voter_key(user, anonymous_id)
    withdrawn = key is not None and withdraw_vote(poll, key, moment)
    if withdrawn:
        _account_answer_changed(user)
    return withdrawn


def adopt_anonymous_vote(anonymous_key: str, user: User) -> int:
    """When a visitor signs in, their anonymous votes become their account's,
    except in polls where the account already voted. Returns how many moved.

    Two reads whatever the site's size: the visitor's votes by their key (an
    anonymous vote has no user, and ix_votes_anonymous_voter_key holds just those),
    then the account's votes in those polls, by (poll, voter)."""
    user_key = user_voter_key(user)
    anonymous = db.session.scalars(
        select(Vote).where(Vote.voter_key == anonymous_key, Vote.user_id.is_(None))
    ).all()
    if not anonymous:
        return 0
    # One vote per voter per poll: each of these polls holds one of the visitor's.
    already = set(
        db.session.scalars(
            select(Vote.poll_id).where(
                Vote.poll_id.in_([vote.poll_id for vote in anonymous]),
                Vote.voter_key == user_key,
            )
        )
    )
    moved = 0
    for vote in anonymous:
        if vote.poll_id in already:
            continue
        vote.voter_key = user_key
        vote.user_id = user.id
        moved += 1
    db.session.flush()
    if moved:
        _account_answer_changed(user)
    return moved


def _expire_tallies(poll: AnyPoll) -> None:
    """A Poll's loaded options re-read their tallies; a PollState is a snapshot and
    the results read them afresh."""
    if isinstance(poll, Poll):
        for option in poll.options:
            db.session.expire(option, ["vote_count", "signed_in_count", "set_aside_count"])
