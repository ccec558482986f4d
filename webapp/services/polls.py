"""Polls: who may see results, what a voter chose, and the results themselves."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError

from webapp.errors import Conflict, InvalidInput, NotFound, Unauthorized
from webapp.extensions import db
from webapp.models import (
    Article,
    ArticleStatus,
    Poll,
    PollDailyTally,
    PollOption,
    ResultsVisibility,
    Role,
    User,
    Vote,
    utcnow,
)
from webapp.services.articles import can_see_drafts

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


# --- the poll as one request sees it ------------------------------------------------


@dataclass(frozen=True)
class OptionState:
    """An option and its stored tally, as :func:`poll_for_article` reads them."""

    id: int
    label: str
    vote_count: int


@dataclass(frozen=True)
class PollState:
    """A poll with its options and their tallies, read with one query into plain values.

    It has every attribute the rules in this module read from a :class:`Poll`, so each
    rule takes either; the API's poll endpoints use this, and so touch no ORM objects.
    """

    id: int
    question: str
    closes_at: datetime | None
    closed_at: datetime | None
    results_visibility: str
    allow_anonymous: bool
    options: tuple[OptionState, ...]
    #: The status of the poll's article, as read with it.
    article_status: str = ArticleStatus.PUBLISHED
    #: Read from the database in this transaction (True), or taken from the results
    #: cache, where it may be up to RESULTS_CACHE_SECONDS old (False).
    fresh: bool = True
    #: When this request looked in the results cache before reading this (poll_cache):
    #: what its vote's offer to the cache is ordered by. None when it did not look.
    read_token: Any = field(default=None, compare=False)

    def is_closed_at(self, moment: datetime) -> bool:
        # The same rule as Poll.is_closed_at.
        if self.closed_at is not None and self.closed_at <= moment:
            return True
        return self.closes_at is not None and self.closes_at <= moment

    def with_tallies(self, tallies: dict[int, int], *, fresh: bool | None = None) -> PollState:
        """This poll with the given options' tallies changed (and, if given, ``fresh``)."""
        options = tuple(
            OptionState(option.id, option.label, tallies[option.id])
            if option.id in tallies
            else option
            for option in self.options
        )
        return replace(self, options=options, fresh=self.fresh if fresh is None else fresh)

    def tallies(self) -> dict[int, int]:
        return {option.id: option.vote_count for option in self.options}


@dataclass(frozen=True)
class ArticleWithoutPoll:
    """What the results cache keeps for an article that has no poll: its status, so
    that it answers 404 exactly as :func:`poll_for_article` would."""

    article_status: str

    def tallies(self) -> dict[int, int]:
        return {}

    def with_tallies(self, tallies: dict[int, int], *, fresh: bool | None = None) -> Any:
        return self


AnyPoll = Poll | PollState

_articles = Article.__table__
_polls = Poll.__table__
_options = PollOption.__table__
_votes = Vote.__table__

# The article's status, its poll and the poll's options with their tallies: everything
# a poll endpoint needs, in one round trip. Outer joins tell "no such article" from
# "no poll" apart.
_POLL_BY_SLUG = (
    select(
        _articles.c.status,
        _polls.c.id.label("poll_id"),
        _polls.c.question,
        _polls.c.closes_at,
        _polls.c.closed_at,
        _polls.c.results_visibility,
        _polls.c.allow_anonymous,
        _options.c.id.label("option_id"),
        _options.c.label,
        _options.c.vote_count,
    )
    .select_from(
        _articles.outerjoin(_polls, _polls.c.article_id == _articles.c.id).outerjoin(
            _options, _options.c.poll_id == _polls.c.id
        )
    )
    .where(_articles.c.slug == bindparam("slug"))
    .order_by(_options.c.position)
)

_MY_VOTE = select(_votes.c.option_id).where(
    _votes.c.poll_id == bindparam("poll_id"), _votes.c.voter_key == bindparam("voter_key")
)


def poll_for_article(slug: str, viewer: User | None) -> PollState:
    """The closing poll of the article at ``slug``, options and tallies included.

    404 exactly as for the article itself (unknown, or a draft this viewer may not
    see), and 404 when the article has no poll.
    """
    rows = db.session.execute(_POLL_BY_SLUG, {"slug": slug}).all()
    if not rows or (rows[0].status != ArticleStatus.PUBLISHED and not can_see_drafts(viewer)):
        raise NotFound("No published article has this address.")
    if rows[0].poll_id is None:
        raise NotFound("This article has no poll.")
    return _state_from_rows(rows, viewer)


def _state_from_rows(rows: Any, viewer: User | None) -> PollState:
    first = rows[0]
    return PollState(
        id=first.poll_id,
        question=first.question,
        closes_at=first.closes_at,
        closed_at=first.closed_at,
        results_visibility=first.results_visibility,
        allow_anonymous=first.allow_anonymous,
        options=tuple(
            OptionState(row.option_id, row.label, row.vote_count)
            for row in rows
            if row.option_id is not None
        ),
        article_status=first.status,
    )


def _cache_encode(value: PollState | ArticleWithoutPoll) -> dict[str, Any]:
    """A cached value as JSON, for Redis."""
    if isinstance(value, ArticleWithoutPoll):
        return {"status": value.article_status}
    return {
        "status": value.article_status,
        "id": value.id,
        "question": value.question,
        "closes_at": value.closes_at.isoformat() if value.closes_at else None,
        "closed_at": value.closed_at.isoformat() if value.closed_at else None,
        "results_visibility": value.results_visibility,
        "allow_anonymous": value.allow_anonymous,
        "options": [[o.id, o.label, o.vote_count] for o in value.options],
    }


def _cache_decode(data: dict[str, Any]) -> PollState | ArticleWithoutPoll:
    """A value read back from Redis; a poll comes back marked not fresh."""
    if "id" not in data:
        return ArticleWithoutPoll(data["status"])

    def when(raw: str | None) -> datetime | None:
        return datetime.fromisoformat(raw) if raw else None

    return PollState(
        id=data["id"],
        question=data["question"],
        closes_at=when(data["closes_at"]),
        closed_at=when(data["closed_at"]),
        results_visibility=data["results_visibility"],
        allow_anonymous=data["allow_anonymous"],
        options=tuple(OptionState(i, label, count) for i, label, count in data["options"]),
        article_status=data["status"],
        fresh=False,
    )


def cached_poll_for_article(slug: str, viewer: User | None) -> PollState:
    """:func:`poll_for_article` through the short-lived results cache (poll_cache),
    so up to RESULTS_CACHE_SECONDS old: for reading results, and for the first look
    of a vote, whose statement checks again what makes it valid (:func:`vote`).

    Its tallies are never lower than any this cache showed before this request began
    (a database read is offered to the cache, which keeps the higher of each tally)."""
    from webapp.services import poll_cache

    lookup = poll_cache.read(slug, _cache_decode)
    cached = lookup.value
    fresh = False
    if cached is None:
        rows = db.session.execute(_POLL_BY_SLUG, {"slug": slug}).all()
        if not rows:
            raise NotFound("No published article has this address.")
        read: PollState | ArticleWithoutPoll
        if rows[0].poll_id is None:
            read = ArticleWithoutPoll(rows[0].status)
        else:
            # What others take from the cache is not fresh for them.
            read = replace(_state_from_rows(rows, viewer), fresh=False)
            fresh = True
        cached = (
            poll_cache.offer(slug, lookup.token, read, _cache_encode, _cache_decode, fresh=True)
            or read
        )
    if cached.article_status != ArticleStatus.PUBLISHED and not can_see_drafts(viewer):
        raise NotFound("No published article has this address.")
    if isinstance(cached, ArticleWithoutPoll):
        raise NotFound("This article has no poll.")
    # Read in this request (the offer keeps the poll as read, tallies perhaps raised).
    return replace(cached, fresh=fresh, read_token=lookup.token)


def forget_cached(slug: str) -> None:
    from webapp.services import poll_cache

    poll_cache.forget(slug)


def vote_committed(slug: str, poll: PollState, outcome: VoteOutcome) -> PollState:
    """After the vote's commit: the poll with the vote counted, to show the voter,
    which the cached results show at once.

    That is the poll as the vote read it with the chosen option's tally as the
    database counted it with this vote in, offered to the results cache (poll_cache),
    which keeps the higher of each tally: so neither this answer nor any later one
    shows less than an answer that finished before it, and concurrent votes never
    write back each other's older tallies. A first vote made on the cached poll
    keeps the entry's expiry, so the cache is never more than RESULTS_CACHE_SECONDS
    behind the database. A moved vote lowers a tally, which an offer never does: it
    clears the entry instead.
    """
    from webapp.services import poll_cache

    after = poll.with_tallies(dict(outcome.tallies), fresh=False)
    if not outcome.changed:
        return after
    if not outcome.created:
        poll_cache.forget(slug)
        return after
    shown = poll_cache.offer(
        slug, poll.read_token, after, _cache_encode, _cache_decode, fresh=poll.fresh
    )
    return shown or after


def answers_visible_to(slug: str, viewer: User | None, key: str | None) -> bool:
    """Whether this reader may see how commenters answered the poll of the article at
    ``slug``: exactly when they may see its results (an answer beside a name is a
    piece of the results). False when it has no poll: there is nothing to show."""
    try:
        poll = cached_poll_for_article(slug, viewer)
    except NotFound:
        return False
    return results_visible_to(poll, viewer, key)


def _autoflush() -> None:
    """What an ORM query would do first: write pending changes, unless told not to.
    The Core statements below skip it, and must see e.g. a user created just before."""
    if db.session.autoflush:
        db.session.flush()


def my_vote(poll: AnyPoll, key: str | None) -> int | None:
    if key is None:
        return None
    _autoflush()
    return db.session.execute(  # type: ignore[no-any-return]
        _MY_VOTE, {"poll_id": poll.id, "voter_key": key}
    ).scalar()


def is_closed(poll: AnyPoll, moment: datetime | None = None) -> bool:
    return poll.is_closed_at(moment or utcnow())


def results_visible(
    poll: AnyPoll, viewer: User | None, has_voted: bool, moment: datetime | None = None
) -> bool:
    if viewer is not None and viewer.has_role(Role.EDITOR, Role.MODERATOR):
        return True
    if poll.results_visibility == ResultsVisibility.ALWAYS:
        return True
    if poll.results_visibility == ResultsVisibility.AFTER_VOTE:
        return has_voted or is_closed(poll, moment)
    return is_closed(poll, moment)


def results_visible_to(
    poll: AnyPoll, viewer: User | None, key: str | None, moment: datetime | None = None
) -> bool:
    """:func:`results_visible` for the voter with ``key``, looking up their vote only
    when the answer depends on it (results after voting, poll still open)."""
    moment = moment or utcnow()
    if results_visible(poll, viewer, False, moment):
        return True
    if not results_visible(poll, viewer, True, moment):
        return False
    return my_vote(poll, key) is not None


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


def results(poll: AnyPoll, moment: datetime | None = None) -> PollResults:
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


class PollNotPublished(Conflict):
    code, message = (
        "poll_not_published",
        "This poll takes votes once its article is published.",
    )


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
    # (option id, stored tally) of each option this vote moved, as written.
    tallies: tuple[tuple[int, int], ...] = field(default=(), compare=False)


# Prepared once, values bound per call. Plain SQL because ON CONFLICT reads the same
# on PostgreSQL and SQLite (3.35+), and SQLAlchemy recompiles its dialect ON CONFLICT
# constructs on every execution. The tallies and the day's rollup move with it, in
# the same statement, by the triggers in webapp/models/tally_triggers.py. Whether a
# row was stored is the statement's row count (1 or 0; rows the triggers write are
# not counted on either database), which costs less than a RETURNING row.
_FIRST_VOTE = text(
    "INSERT INTO votes "
    "(poll_id, option_id, voter_key, user_id, client_hash, created_at, updated_at) "
    "VALUES (:b_poll, :b_option, :b_key, :b_user, :b_hash, :b_moment, :b_moment) "
    "ON CONFLICT (poll_id, voter_key) DO NOTHING"
).bindparams(bindparam("b_moment", type_=_votes.c.created_at.type))


# A first vote made on the poll as the results cache holds it (up to a second old),
# so it must not trust that copy: the statement itself stores the row only while
# the option belongs to the poll, the poll to the article, the article is published
# (a draft's poll takes no votes, not even an editor's), the poll is open and the
# voter may vote in it. When any of that no
# longer holds (or the voter already voted) it stores nothing, and :func:`vote`
# reads the poll afresh to say why, or to move the vote.
_CHECKED_FIRST_VOTE = text(
    "INSERT INTO votes "
    "(poll_id, option_id, voter_key, user_id, client_hash, created_at, updated_at) "
    "SELECT o.poll_id, o.id, :b_key, :b_user, :b_hash, :b_moment, :b_moment "
    "FROM poll_options AS o JOIN polls AS p ON p.id = o.poll_id "
    "JOIN articles AS a ON a.id = p.article_id "
    "WHERE o.id = :b_option AND o.poll_id = :b_poll AND a.slug = :b_slug "
    "AND a.status = 'published' "
    "AND (p.closed_at IS NULL OR p.closed_at > :b_moment) "
    "AND (p.closes_at IS NULL OR p.closes_at > :b_moment) "
    "AND (p.allow_anonymous OR :b_signed_in) "
    "ON CONFLICT (poll_id, voter_key) DO NOTHING"
).bindparams(bindparam("b_moment", type_=_votes.c.created_at.type))


def _first_vote_may_pass(
    poll: PollState, viewer: User | None, option_id: int, moment: datetime
) -> bool:
    """Whether a first vote on ``poll`` as read would be taken (the statement checks
    the same against the database)."""
    return (
        poll.article_status == ArticleStatus.PUBLISHED
        and not poll.is_closed_at(moment)
        and any(option.id == option_id for option in poll.options)
        and (viewer is not None or poll.allow_anonymous)
    )


def _store_first_vote(statement: Any, params: dict[str, Any]) -> bool:
    """Run one of the first-vote statements; True when it stored the row, False when
    it stored nothing (the voter already voted, or the checked one found the poll no
    longer takes the vote).

    The unique constraint on (poll, voter) decides, so a concurrent request of the
    same voter makes this a no-op instead of an error. An IntegrityError is not that
    constraint: the option went away meanwhile, and the caller rolls back.
    """
    try:
        return db.session.execute(statement, params).rowcount == 1  # type: ignore[attr-defined, no-any-return]
    except IntegrityError as exc:
        raise Conflict("Your vote could not be recorded; please try again.") from exc


def _voter_params(voter: Voter, poll_id: int, option_id: int, moment: datetime) -> dict[str, Any]:
    return {
        "b_poll": poll_id,
        "b_option": option_id,
        "b_key": voter.key,
        "b_user": voter.user_id,
        "b_hash": voter.client_hash,
        "b_moment": moment,
    }


def _insert_checked_first_vote(
    slug: str, poll: PollState, viewer: User | None, voter: Voter, option_id: int, moment: datetime
) -> bool:
    _autoflush()
    params = _voter_params(voter, poll.id, option_id, moment)
    params.update(b_slug=slug, b_signed_in=viewer is not None)
    return _store_first_vote(_CHECKED_FIRST_VOTE, params)


def vote(
    slug: str,
    poll: PollState,
    viewer: User | None,
    option_id: int,
    voter_for: Callable[[PollState], Voter],
    moment: datetime | None = None,
) -> tuple[PollState, VoteOutcome]:
    """Record a vote in the poll of the article at ``slug``, starting from ``poll`` as
    :func:`cached_poll_for_article` gave it; returns the poll the vote was made on
    and the outcome. ``voter_for`` names the voter (and refuses those who may not
    vote, e.g. anonymous visitors where the poll wants accounts).

    A voter's first vote, the common case, is one statement that checks everything
    again in the database (``_CHECKED_FIRST_VOTE``), so a cached poll is enough for
    it. Anything else (a vote to move, a closed poll, an option of another poll, a
    cached poll that changed) reads the poll afresh and goes through
    :func:`cast_vote`, which says exactly what is wrong. The caller commits.
    """
    moment = moment or utcnow()
    if not poll.fresh:
        if _first_vote_may_pass(poll, viewer, option_id, moment):
            voter = voter_for(poll)
            if _insert_checked_first_vote(slug, poll, viewer, voter, option_id, moment):
                written = ((option_id, _tally_now(option_id)),)
                return poll, VoteOutcome(option_id, created=True, changed=True, tallies=written)
        poll = replace(poll_for_article(slug, viewer), read_token=poll.read_token)
    return poll, cast_vote(poll, voter_for(poll), option_id, moment)


_TALLIES_OF = select(_options.c.id, _options.c.vote_count).where(
    _options.c.id.in_(bindparam("b_options", expanding=True))
)


_TALLY_OF = select(_options.c.vote_count).where(_options.c.id == bindparam("b_option"))


def _tally_now(option_id: int) -> int:
    """One option's tally as stored now, with this transaction's vote in it (as
    :func:`_tallies_now`, cheaper for the one option a first vote moves)."""
    return db.session.execute(_TALLY_OF, {"b_option": option_id}).scalar_one()  # type: ignore[no-any-return]


def _tallies_now(option_ids: list[int]) -> tuple[tuple[int, int], ...]:
    """The options' tallies as stored now, this transaction's writes included: exact,
    since the vote's own tally update holds each row until it commits (PostgreSQL
    waits for, then adds to, the latest committed tally; SQLite has one writer).
    A snapshot read before the vote could be behind by votes committed meanwhile
    (what "what I read, plus me" got wrong), or, after a move, by the voter's own
    other requests (a tally read as 0 and moved away from would show as -1)."""
    rows = db.session.execute(_TALLIES_OF, {"b_options": sorted(option_ids)}).tuples()
    return tuple(sorted(rows))


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
    vote row, in the same statement (tally_triggers); the caller commits."""
    moment = moment or utcnow()
    if _article_status(poll) != ArticleStatus.PUBLISHED:
        raise PollNotPublished()
    if is_closed(poll, moment):
        raise PollClosed()
    if option_id not in {option.id for option in poll.options}:
        raise InvalidInput(
            "That option is not part of this poll.",
            fields={"option_id": "not an option of this poll"},
        )
    # Insert first: most votes are a voter's first, and then that is the only look.
    # When the voter has a vote already the insert does nothing and we move it; when
    # another request of theirs deletes it between the two, we try again.
    _autoflush()
    existing = None
    for _attempt in range(5):
        if _insert_first_vote(poll, voter, option_id, moment):
            written = ((option_id, _tally_now(option_id)),)
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
    if voter.client_hash:
        existing.client_hash = voter.client_hash
    db.session.flush()
    _expire_tallies(poll)
    written = _tallies_now([previous, option_id])
    return VoteOutcome(option_id, created=False, changed=True, tallies=written)


def _article_status(poll: AnyPoll) -> str:
    if isinstance(poll, PollState):
        return poll.article_status
    return poll.article.status


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


def _expire_tallies(poll: AnyPoll) -> None:
    """A Poll's loaded options re-read their tallies; a PollState is a snapshot and
    :func:`current_results` reads them afresh."""
    if isinstance(poll, Poll):
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
