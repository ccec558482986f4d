"""The poll as one request reads it: plain values from one query, or from the results
cache (``webapp.caching.results``), and the reader's own vote.

Everything here reads; nothing changes a vote. The rules that use these values live
in ``results`` (who sees what), ``voting`` (who may vote) and ``view`` (the poll as a
page or the API shows it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, select

from webapp.caching import results as results_cache
from webapp.errors import NotFound
from webapp.extensions import db
from webapp.models import Article, ArticleStatus, Poll, PollOption, User, Vote, utcnow
from webapp.services.articles import can_see_drafts


@dataclass(frozen=True)
class OptionState:
    """An option and its stored tallies, as :func:`poll_for_article` reads them: its
    counted votes, the signed-in ones among them, and its votes set aside."""

    id: int
    label: str
    vote_count: int
    signed_in_count: int = 0
    set_aside_count: int = 0


@dataclass(frozen=True)
class PollState:
    """A poll with its options and their tallies, read with one query into plain values.

    It has every attribute the rules of this package read from a :class:`Poll`, so each
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
    #: Whether it takes only signed-in readers' votes for now: under attack, with
    #: that chosen by its editor (eligibility.signed_in_only_now).
    signed_in_only_now: bool = False
    #: Read from the database in this transaction (True), or taken from the results
    #: cache, where it may be up to RESULTS_CACHE_SECONDS old (False).
    fresh: bool = True
    #: When this request looked in the results cache before reading this (results_cache):
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
            replace(option, vote_count=tallies[option.id]) if option.id in tallies else option
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

    def with_tallies(
        self, tallies: dict[int, int], *, fresh: bool | None = None
    ) -> ArticleWithoutPoll:
        return self


#: A poll as the rules take it: the ORM object (pages, editors) or the plain values.
AnyPoll = Poll | PollState

#: The status a poll state gives an article published for a time still ahead.
SCHEDULED = "scheduled"

_articles = Article.__table__
_NOW_TYPE = _articles.c.published_at.type
_polls = Poll.__table__
_options = PollOption.__table__
_votes = Vote.__table__

# The article's status, its poll and the poll's options with their tallies: everything
# a poll endpoint needs, in one round trip. Outer joins tell "no such article" from
# "no poll" apart.
_POLL_BY_SLUG = (
    select(
        # A scheduled article (published for a time ahead) is not public yet: its poll
        # answers as a draft's does until then (every read compares with its own now).
        case(
            (
                and_(
                    _articles.c.status == ArticleStatus.PUBLISHED.value,
                    _articles.c.published_at > bindparam("now", type_=_NOW_TYPE),
                ),
                SCHEDULED,
            ),
            else_=_articles.c.status,
        ).label("status"),
        _polls.c.id.label("poll_id"),
        _polls.c.question,
        _polls.c.closes_at,
        _polls.c.closed_at,
        _polls.c.results_visibility,
        _polls.c.allow_anonymous,
        _polls.c.signed_in_only_under_attack,
        _polls.c.under_attack_since,
        _options.c.id.label("option_id"),
        _options.c.label,
        _options.c.vote_count,
        _options.c.signed_in_count,
        _options.c.set_aside_count,
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
    rows = db.session.execute(_POLL_BY_SLUG, {"slug": slug, "now": utcnow()}).all()
    if not rows or (rows[0].status != ArticleStatus.PUBLISHED and not can_see_drafts(viewer)):
        raise NotFound("No published article has this address.")
    if rows[0].poll_id is None:
        raise NotFound("This article has no poll.")
    return _state_from_rows(rows)


def _state_from_rows(rows: Sequence[Row[Any]]) -> PollState:
    first = rows[0]
    return PollState(
        id=first.poll_id,
        question=first.question,
        closes_at=first.closes_at,
        closed_at=first.closed_at,
        results_visibility=first.results_visibility,
        allow_anonymous=first.allow_anonymous,
        options=tuple(
            OptionState(
                row.option_id, row.label, row.vote_count, row.signed_in_count, row.set_aside_count
            )
            for row in rows
            if row.option_id is not None
        ),
        article_status=first.status,
        signed_in_only_now=bool(first.signed_in_only_under_attack)
        and first.under_attack_since is not None,
    )


# --- through the results cache ------------------------------------------------------


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
        "signed_in_only_now": value.signed_in_only_now,
        "options": [
            [o.id, o.label, o.vote_count, o.signed_in_count, o.set_aside_count]
            for o in value.options
        ],
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
        # [id, label, counted, signed in, set aside]; an entry cached before the last
        # two were kept has only the first three.
        options=tuple(OptionState(*option) for option in data["options"]),
        article_status=data["status"],
        signed_in_only_now=data.get("signed_in_only_now", False),
        fresh=False,
    )


def offer_to_cache(
    slug: str, token: Any, value: PollState | ArticleWithoutPoll, *, fresh: bool
) -> Any | None:
    """Offer ``value``, read after the cache look that gave ``token``, to the results
    cache (results_cache.offer: it keeps the higher of each tally); what the entry holds
    afterwards, or None when the cache did not take it."""
    return results_cache.offer(slug, token, value, _cache_encode, _cache_decode, fresh=fresh)


def cached_poll_for_article(slug: str, viewer: User | None) -> PollState:
    """:func:`poll_for_article` through the short-lived results cache (results_cache),
    so up to RESULTS_CACHE_SECONDS old: for reading results, and for the first look
    of a vote, whose statement checks again what makes it valid (``voting.vote``).

    Its tallies are never lower than any this cache showed before this request began
    (a database read is offered to the cache, which keeps the higher of each tally)."""
    lookup = results_cache.read(slug, _cache_decode)
    cached = lookup.value
    fresh = False
    if cached is None:
        rows = db.session.execute(_POLL_BY_SLUG, {"slug": slug, "now": utcnow()}).all()
        if not rows:
            raise NotFound("No published article has this address.")
        read: PollState | ArticleWithoutPoll
        if rows[0].poll_id is None:
            read = ArticleWithoutPoll(rows[0].status)
        else:
            # What others take from the cache is not fresh for them.
            read = replace(_state_from_rows(rows), fresh=False)
            fresh = True
        cached = offer_to_cache(slug, lookup.token, read, fresh=True) or read
    if cached.article_status != ArticleStatus.PUBLISHED and not can_see_drafts(viewer):
        raise NotFound("No published article has this address.")
    if isinstance(cached, ArticleWithoutPoll):
        raise NotFound("This article has no poll.")
    # Read in this request (the offer keeps the poll as read, tallies perhaps raised).
    return replace(cached, fresh=fresh, read_token=lookup.token)


def forget_cached(slug: str) -> None:
    """Drop the cached results of the article at ``slug``: after what lowers a tally."""
    results_cache.forget(slug)


# --- the reader's own vote -----------------------------------------------------------


def autoflush() -> None:
    """What an ORM query would do first: write pending changes, unless told not to.
    The Core statements of this package skip it, and must see e.g. a user created
    just before."""
    if db.session.autoflush:
        db.session.flush()


def my_vote(poll: AnyPoll, key: str | None) -> int | None:
    """The option the voter with ``key`` chose in ``poll``; None without a vote."""
    if key is None:
        return None
    autoflush()
    chosen: int | None = db.session.execute(
        _MY_VOTE, {"poll_id": poll.id, "voter_key": key}
    ).scalar()
    return chosen


def is_closed(poll: AnyPoll, moment: datetime | None = None) -> bool:
    """Whether ``poll`` is closed at ``moment`` (now when not given)."""
    return poll.is_closed_at(moment or utcnow())
