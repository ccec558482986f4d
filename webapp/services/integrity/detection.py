"""The integrity pass: find groups of a poll's votes that share an origin and answer
unlike the rest of the poll.

Five kinds of group (``GroupKind``), each named by what its votes share (``origin``),
so the next pass finds the same group again and a decision on it stands:

=================  =========================================================  =========
kind               the votes share                                            at least
=================  =========================================================  =========
``address``        one address hash (votes.client_hash)                       50 votes
``network``        one network hash (/24, /48) from two or more addresses;    100 votes
                   addresses large enough to be groups of their own are
                   judged as such and left out
``fresh_cookies``  anonymous votes whose voter cookie was minted under        30 votes
                   2 minutes before, from one network in one 10-minute        (network)
                   window, or from one browser family in one window           100 (browser)
``account_cohort`` votes of accounts under 2 days old at the vote, created    10 votes
                   in one 15-minute window
``rate_burst``     one 10-minute window with at least 200 votes and 10 times  200 votes
                   the poll's usual rate (the median of its windows with
                   votes)
=================  =========================================================  =========

Why these sizes: an office, a school or a campus behind one address (NAT) plausibly
sends some tens of votes to one poll, so one address becomes concentrated at 50; a
network (a company, a campus, a mobile carrier's pool) holds up to hundreds of honest
readers, so 100, and its votes must come from more than one address (else it is
the address group again). New visitors from one network are fewer still, so 30
fresh cookies from one network in ten minutes is a crowd; a browser family is shared
by millions, so 100. Accounts cost an e-mail each: ten created within fifteen minutes
and voting within two days is a cohort. A window of votes is a burst only far above
the poll's own rate (ten times its median window) and never below 200 votes, since
a poll's first hour is always busier than the rest.

Size alone is never enough: a group is *suspect* only when its leading answer's
share differs from the rest of the poll's share of that answer by
``|z| >= INTEGRITY_SUSPECT_Z`` (the pooled two-proportion z-test, ``stats``), the
rest being the poll's counted votes outside the group. An office of 40 is not even
looked at; a campus of 300 answering like everyone is looked at and not suspect.
Groups that are not suspect are not stored.

At ``|z| >= INTEGRITY_AUTO_SET_ASIDE_Z`` the pass sets a new group aside by itself
(``decisions.decide(..., automatic=True)``, audit entry with details
``{"automatic": true}``), except rate bursts and fresh cookies in one browser
family: they share no origin narrower than a moment (and a browser millions use),
so they hold honest readers too, and a crowd that arrived together from one link
(or one time zone's morning) can answer unlike the day's other readers; they wait
for an editor (a brigade's votes in them are in its address, network or
network-cookie groups anyway). A person's decision stands: the pass never sets
aside by itself a group an editor restored or cleared, and never changes a status
except that a cleared group found again with at least ``REFLAG_FACTOR`` (2) times
the votes it had when cleared, and still suspect, becomes suspect again (the editor
judged what it was, not what it became). New votes joining a set-aside group are set
aside by the pass (the decision was about the origin).

What a pass costs: for a poll of N votes, one index-only range scan of
(poll_id, client_hash, option_id) and one of (poll_id, network_hash, option_id)
(counts per hash), three grouped scans of the poll's range of (poll_id, id) with the
rows (fresh cookies by network and by browser, the windows of the rate), one of the
poll's accounts' votes through (poll_id, user_id, option_id) (cohorts), then the rows
of the candidate groups only, through the same indexes (a hash, or an id range), and
the options' tallies (the rest of the poll). So a small multiple of N rows read, all
in the database (Python holds the candidates' members only), and writes
proportional to what changed in the groups. Measured on PostgreSQL (this 2-core
machine): a poll of 103,000 votes takes 0.9 s a pass when nothing new is set aside,
so about 9 s at a million; setting 3,000 votes aside adds about 3 s, the tally
triggers' work. On SQLite the pass holds the write lock throughout (it begins
IMMEDIATE outside a request), fine for the small sites SQLite serves.
``scan_due`` passes only polls with a vote since their last pass (a probe of
(poll_id, id) per poll), so a quiet site costs nothing. Nothing here is on the
vote path, and it runs whatever RATELIMIT_ENABLED says.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import ColumnElement, func, select

from webapp.extensions import db
from webapp.models import (
    Article,
    GroupKind,
    GroupStatus,
    IntegrityGroup,
    IntegrityGroupVote,
    Poll,
    PollOption,
    User,
    Vote,
    utcnow,
)
from webapp.services.integrity.stats import Comparison, compare_with_rest
from webapp.transactions import reads_before_writes

log = logging.getLogger(__name__)

ADDRESS_MIN_VOTES = 50
NETWORK_MIN_VOTES = 100
FRESH_COOKIE_SECONDS = 120
FRESH_WINDOW_SECONDS = 600
FRESH_NETWORK_MIN_VOTES = 30
FRESH_AGENT_MIN_VOTES = 100
COHORT_YOUNG_SECONDS = 2 * 86400
COHORT_WINDOW_SECONDS = 900
COHORT_MIN_VOTES = 10
RATE_WINDOW_SECONDS = 600
RATE_MIN_VOTES = 200
RATE_FACTOR = 10.0
#: A cleared group is suspect again once it holds this many times its votes at clearing.
REFLAG_FACTOR = 2.0

_votes = Vote.__table__
_group_votes = IntegrityGroupVote.__table__

_MEMBER_COLUMNS = (
    _votes.c.id,
    _votes.c.option_id,
    _votes.c.client_hash,
    _votes.c.user_id,
    _votes.c.cookie_age_seconds,
    _votes.c.account_age_seconds,
    _votes.c.saw_article,
    _votes.c.set_aside_at,
    _votes.c.created_at,
)


@dataclass
class Candidate:
    """A concentrated group as this pass found it, before the test of its answers."""

    kind: str
    origin: str
    members: list[Any]
    #: For the reason sentence: what the origin is, in words.
    described: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def by_option(self) -> Counter[int]:
        return Counter(row.option_id for row in self.members)

    @property
    def counted_by_option(self) -> Counter[int]:
        return Counter(row.option_id for row in self.members if row.set_aside_at is None)


# --- the time windows, in the database --------------------------------------------


def _epoch(column: Any) -> ColumnElement[Any]:
    """Whole seconds since 1970 of a stored UTC time, in this database's SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(func.floor(sa.extract("epoch", column)), sa.BigInteger)
    return sa.cast(func.strftime("%s", column), sa.Integer)


def _window(seconds_expr: ColumnElement[Any], size: int) -> ColumnElement[Any]:
    # Floor division of integers on both databases (SQLAlchemy's "/" is true division).
    return seconds_expr // size


def _when(window: int, size: int) -> datetime:
    return datetime.fromtimestamp(window * size, UTC)


# --- finding the concentrated groups ----------------------------------------------


def _members(*conditions: ColumnElement[bool]) -> list[Any]:
    return list(db.session.execute(select(*_MEMBER_COLUMNS).where(*conditions)).all())


def _address_candidates(poll_id: int) -> list[Candidate]:
    hashes = db.session.execute(
        select(_votes.c.client_hash)
        .where(_votes.c.poll_id == poll_id, _votes.c.client_hash.is_not(None))
        .group_by(_votes.c.client_hash)
        .having(func.count() >= ADDRESS_MIN_VOTES)
    ).scalars()
    return [
        Candidate(
            GroupKind.ADDRESS,
            address,
            _members(_votes.c.poll_id == poll_id, _votes.c.client_hash == address),
            "from one address",
        )
        for address in hashes
    ]


def _network_candidates(poll_id: int, own_groups: set[str]) -> list[Candidate]:
    networks = db.session.execute(
        select(_votes.c.network_hash)
        .where(_votes.c.poll_id == poll_id, _votes.c.network_hash.is_not(None))
        .group_by(_votes.c.network_hash)
        .having(func.count() >= NETWORK_MIN_VOTES)
    ).scalars()
    found = []
    for network in networks:
        members = [
            row
            for row in _members(_votes.c.poll_id == poll_id, _votes.c.network_hash == network)
            if row.client_hash not in own_groups
        ]
        addresses = {row.client_hash for row in members if row.client_hash is not None}
        if len(members) < NETWORK_MIN_VOTES or len(addresses) < 2:
            continue
        found.append(
            Candidate(
                GroupKind.NETWORK,
                network,
                members,
                f"from one network ({len(addresses):,} addresses)",
                {"addresses": len(addresses)},
            )
        )
    return found


def _fresh_candidates(poll_id: int) -> list[Candidate]:
    window = _window(_epoch(_votes.c.created_at), FRESH_WINDOW_SECONDS)
    fresh = (
        _votes.c.poll_id == poll_id,
        _votes.c.user_id.is_(None),
        _votes.c.cookie_age_seconds.is_not(None),
        _votes.c.cookie_age_seconds < FRESH_COOKIE_SECONDS,
    )
    found = []
    for column, least, prefix, described in (
        (_votes.c.network_hash, FRESH_NETWORK_MIN_VOTES, "n", "from one network"),
        (_votes.c.agent_hash, FRESH_AGENT_MIN_VOTES, "b", "from one browser family"),
    ):
        rows = db.session.execute(
            select(column, window.label("w"), func.min(_votes.c.id), func.max(_votes.c.id))
            .where(*fresh, column.is_not(None))
            .group_by(column, window)
            .having(func.count() >= least)
        ).all()
        for key, w, low, high in rows:
            members = _members(*fresh, _votes.c.id.between(low, high), column == key, window == w)
            found.append(
                Candidate(
                    GroupKind.FRESH_COOKIES,
                    f"{prefix}:{key}@{w * FRESH_WINDOW_SECONDS}",
                    members,
                    f"with voter cookies under {FRESH_COOKIE_SECONDS // 60} minutes old "
                    + described,
                    {"window_start": _when(w, FRESH_WINDOW_SECONDS).isoformat()},
                )
            )
    return found


def _cohort_candidates(poll_id: int) -> list[Candidate]:
    created = _epoch(_votes.c.created_at) - _votes.c.account_age_seconds
    window = _window(created, COHORT_WINDOW_SECONDS)
    young = (
        _votes.c.poll_id == poll_id,
        _votes.c.user_id.is_not(None),
        _votes.c.account_age_seconds.is_not(None),
        _votes.c.account_age_seconds < COHORT_YOUNG_SECONDS,
    )
    rows = db.session.execute(
        select(window, func.min(_votes.c.id), func.max(_votes.c.id))
        .where(*young)
        .group_by(window)
        .having(func.count() >= COHORT_MIN_VOTES)
    ).all()
    found = []
    for w, low, high in rows:
        members = _members(*young, _votes.c.id.between(low, high), window == w)
        found.append(
            Candidate(
                GroupKind.ACCOUNT_COHORT,
                f"c@{w * COHORT_WINDOW_SECONDS}",
                members,
                f"from accounts created within {COHORT_WINDOW_SECONDS // 60} minutes of each other",
                {"accounts_created_from": _when(w, COHORT_WINDOW_SECONDS).isoformat()},
            )
        )
    return found


def _rate_candidates(poll_id: int) -> list[Candidate]:
    window = _window(_epoch(_votes.c.created_at), RATE_WINDOW_SECONDS)
    rows = db.session.execute(
        select(window, func.count(), func.min(_votes.c.id), func.max(_votes.c.id))
        .where(_votes.c.poll_id == poll_id)
        .group_by(window)
    ).all()
    if len(rows) < 2:
        return []
    baseline = statistics.median(count for _, count, _, _ in rows)
    found = []
    for w, count, low, high in rows:
        if count < RATE_MIN_VOTES or count < RATE_FACTOR * baseline:
            continue
        members = _members(_votes.c.poll_id == poll_id, _votes.c.id.between(low, high), window == w)
        times = count / baseline
        found.append(
            Candidate(
                GroupKind.RATE_BURST,
                f"r@{w * RATE_WINDOW_SECONDS}",
                members,
                f"at {times:,.0f} times the poll's usual rate",
                {"baseline_per_window": baseline, "window_seconds": RATE_WINDOW_SECONDS},
            )
        )
    return found


def find_candidates(poll_id: int) -> list[Candidate]:
    """Every concentrated group of the poll's votes, whatever their answers."""
    addresses = _address_candidates(poll_id)
    own = {candidate.origin for candidate in addresses}
    return [
        *addresses,
        *_network_candidates(poll_id, own),
        *_fresh_candidates(poll_id),
        *_cohort_candidates(poll_id),
        *_rate_candidates(poll_id),
    ]


# --- words ------------------------------------------------------------------------


def _duration(first: datetime, last: datetime) -> str:
    seconds = max(0.0, (last - first).total_seconds())
    if seconds < 90:
        value, unit = round(seconds), "second"
    elif seconds < 90 * 60:
        value, unit = round(seconds / 60), "minute"
    elif seconds < 48 * 3600:
        value, unit = round(seconds / 3600), "hour"
    else:
        value, unit = round(seconds / 86400), "day"
    return f"{value:,} {unit}{'' if value == 1 else 's'}"


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def reason_for(
    candidate: Candidate, comparison: Comparison, labels: dict[int, str], size: int
) -> str:
    """One sentence a person can check: "1,204 votes from one network in 9 minutes,
    98 % 'No'; the rest of the poll is 31 % 'No'"."""
    times = [row.created_at for row in candidate.members]
    label = labels.get(comparison.option_id, f"option {comparison.option_id}")
    noun = "vote" if size == 1 else "votes"
    return (
        f"{size:,} {noun} {candidate.described} in {_duration(min(times), max(times))}, "
        f"{_percent(comparison.group_share)} '{label}'; "
        f"the rest of the poll is {_percent(comparison.rest_share)} '{label}'"
    )


def signals_for(candidate: Candidate) -> list[str]:
    """What the group's votes have in common, as short tags for the panel."""
    signals = [
        {
            GroupKind.ADDRESS: "one address",
            GroupKind.NETWORK: "one network",
            GroupKind.FRESH_COOKIES: "fresh cookies",
            GroupKind.ACCOUNT_COHORT: "accounts created together",
            GroupKind.RATE_BURST: "burst of votes",
        }[GroupKind(candidate.kind)]
    ]
    members = candidate.members
    half = len(members) / 2
    if candidate.kind == GroupKind.FRESH_COOKIES:
        signals.append("one browser family" if candidate.origin.startswith("b:") else "one network")
    anonymous = [row for row in members if row.user_id is None]
    if candidate.kind != GroupKind.FRESH_COOKIES and (
        sum(
            1
            for row in anonymous
            if row.cookie_age_seconds is not None and row.cookie_age_seconds < FRESH_COOKIE_SECONDS
        )
        > half
    ):
        signals.append("fresh cookies")
    if candidate.kind != GroupKind.ACCOUNT_COHORT and (
        sum(
            1
            for row in members
            if row.account_age_seconds is not None
            and row.account_age_seconds < COHORT_YOUNG_SECONDS
        )
        > half
    ):
        signals.append("new accounts")
    if len(anonymous) > half:
        signals.append("signed out")
    if sum(1 for row in members if row.saw_article is False) > half:
        signals.append("article not loaded")
    return signals


# --- the pass ---------------------------------------------------------------------


def _rest(counted: dict[int, int], candidate: Candidate) -> dict[int, int]:
    mine = candidate.counted_by_option
    return {option: max(0, votes - mine.get(option, 0)) for option, votes in counted.items()}


def _sync_members(group: IntegrityGroup, vote_ids: set[int]) -> set[int]:
    """Make the group hold exactly these votes; the ids it no longer holds."""
    held = set(
        db.session.execute(
            select(_group_votes.c.vote_id).where(_group_votes.c.group_id == group.id)
        ).scalars()
    )
    added = vote_ids - held
    removed = held - vote_ids
    if removed:
        db.session.execute(
            _group_votes.delete().where(
                _group_votes.c.group_id == group.id,
                _group_votes.c.vote_id.in_(sorted(removed)),
            )
        )
    for chunk in _chunks(sorted(added), 5000):
        db.session.execute(
            _group_votes.insert(), [{"group_id": group.id, "vote_id": vote} for vote in chunk]
        )
    return removed


def _chunks(values: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _automatic_actor(poll: Poll) -> User:
    """Who an automatic decision is logged under: the poll's article's author (the
    audit log's actor must be an account); the entry says {"automatic": true}."""
    author = db.session.scalar(
        select(User)
        .join(Article, Article.author_id == User.id)
        .where(Article.id == poll.article_id)
    )
    assert author is not None  # articles.author_id is NOT NULL
    return author


def scan_poll(poll_id: int, moment: datetime | None = None) -> list[IntegrityGroup]:
    """Look at every vote of the poll; write or update its groups (members, reason,
    signals, counts, z), set aside by themselves the groups at or above
    INTEGRITY_AUTO_SET_ASIDE_Z, and mark the poll scanned (integrity_scanned_at,
    integrity_last_vote_id). Returns the poll's groups found in this pass (any
    status), largest first. The caller commits."""
    from webapp.services.integrity.decisions import apply_set_aside, decide, sync_under_attack

    moment = moment or utcnow()
    suspect_z = float(current_app.config["INTEGRITY_SUSPECT_Z"])
    auto_z = float(current_app.config["INTEGRITY_AUTO_SET_ASIDE_Z"])
    # The reads of every vote take no write lock on SQLite (reads_before_writes): the
    # votes keep coming in meanwhile; the lock is taken for the writes below only.
    with reads_before_writes():
        last_vote_id = db.session.scalar(
            select(func.max(_votes.c.id)).where(_votes.c.poll_id == poll_id)
        )
        candidates = find_candidates(poll_id)

    # Decisions and the pass serialise on the poll's row (decisions.decide takes it
    # too), so an editor's decision made during the reads above is seen below; FOR NO
    # KEY UPDATE, so votes (whose foreign key takes KEY SHARE) keep coming in.
    poll = db.session.scalar(
        select(Poll)
        .where(Poll.id == poll_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if poll is None:
        return []
    options = db.session.execute(
        select(PollOption.id, PollOption.label, PollOption.vote_count).where(
            PollOption.poll_id == poll_id
        )
    ).all()
    labels = {row.id: row.label for row in options}
    counted = {row.id: row.vote_count for row in options}
    existing = {
        (group.kind, group.origin): group
        for group in db.session.scalars(
            select(IntegrityGroup)
            .where(IntegrityGroup.poll_id == poll_id)
            .execution_options(populate_existing=True)
        )
    }

    found: list[IntegrityGroup] = []
    released: set[int] = set()
    to_set_aside: list[IntegrityGroup] = []
    for candidate in candidates:
        comparison = compare_with_rest(candidate.by_option, _rest(counted, candidate))
        if comparison is None:
            continue
        suspect = abs(comparison.z) >= suspect_z
        group = existing.get((candidate.kind, candidate.origin))
        if group is None and not suspect:
            continue
        size = len(candidate.members)
        if group is None:
            group = IntegrityGroup(
                poll_id=poll_id,
                kind=str(candidate.kind),
                origin=candidate.origin,
                status=GroupStatus.SUSPECT.value,
                detected_at=moment,
                details={},
            )
            db.session.add(group)
        elif (
            group.status == GroupStatus.CLEARED
            and suspect
            and size >= REFLAG_FACTOR * int(group.details.get("cleared_at_votes", group.votes))
        ):
            group.status = GroupStatus.SUSPECT.value
            group.details = {**group.details, "reflagged_at": moment.isoformat()}
        times = [row.created_at for row in candidate.members]
        group.reason = reason_for(candidate, comparison, labels, size)
        group.signals = signals_for(candidate)
        group.votes = size
        group.by_option = {str(option): n for option, n in sorted(candidate.by_option.items())}
        group.first_at = min(times)
        group.last_at = max(times)
        group.z_score = comparison.z
        group.updated_at = moment
        if candidate.extra:
            group.details = {**(group.details or {}), **candidate.extra}
        db.session.flush()
        released |= _sync_members(group, {row.id for row in candidate.members})
        found.append(group)
        if (
            group.status == GroupStatus.SUSPECT
            and group.decided_at is None
            and abs(comparison.z) >= auto_z
            and automatic_allowed(candidate)
        ):
            to_set_aside.append(group)

    # Votes that joined a set-aside group are set aside; votes that left one are
    # counted again unless another set-aside group holds them.
    apply_set_aside(poll_id, moment, released=released)
    if to_set_aside:
        actor = _automatic_actor(poll)
        for group in to_set_aside:
            decide(group.id, poll_id, "set_aside", actor, None, moment, automatic=True)
            log.info(
                "integrity: set aside group %s of poll %s (%s)", group.id, poll_id, group.reason
            )
    # Also when the editor asked for signed-in readers only after a group was set aside.
    sync_under_attack(poll, moment)
    poll.integrity_scanned_at = moment
    if last_vote_id is not None:
        poll.integrity_last_vote_id = max(poll.integrity_last_vote_id or 0, last_vote_id)
    db.session.flush()
    found.sort(key=lambda g: (-g.votes, g.id))
    return found


def automatic_allowed(candidate: Candidate) -> bool:
    """Whether the pass may set this kind of group aside by itself (see the module's
    docstring): not a window of everyone, nor of one browser family."""
    if candidate.kind == GroupKind.RATE_BURST:
        return False
    return not (candidate.kind == GroupKind.FRESH_COOKIES and candidate.origin.startswith("b:"))


def due_polls() -> list[int]:
    """Polls with a vote after their last pass (one probe of (poll_id, id) each)."""
    newer = (
        select(_votes.c.id)
        .where(_votes.c.poll_id == Poll.id, _votes.c.id > Poll.integrity_last_vote_id)
        .exists()
    )
    return list(db.session.scalars(select(Poll.id).where(newer).order_by(Poll.id)))


def scan_due(moment: datetime | None = None) -> int:
    """Scan every poll with votes since its last pass (a vote id above
    polls.integrity_last_vote_id), committing after each poll; returns how many polls
    were scanned. A poll that fails is logged, rolled back and left for the next pass."""
    scanned = 0
    polls = due_polls()
    db.session.commit()
    for poll_id in polls:
        try:
            scan_poll(poll_id, moment)
            db.session.commit()
            scanned += 1
        except Exception:
            db.session.rollback()
            log.exception("integrity: the pass over poll %s failed", poll_id)
    return scanned
