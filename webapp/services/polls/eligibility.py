"""Who may vote: the one rule (:func:`refusals`), who a voter is (their key), and the
errors a refused vote raises.

Every way in asks this rule: ``voting.vote`` (the API and the page's vote form
alike, through :func:`voter_for`), ``voting.cast_vote`` for what refuses anyone's
vote, and ``view.view_of`` for what the page shows. ``voting._CHECKED_FIRST_VOTE``
repeats it in SQL, so a first vote may start from the cached poll. Nothing here
touches the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, NoReturn

from webapp.errors import Banned, Conflict, Unauthorized
from webapp.models import ArticleStatus, User, utcnow
from webapp.services.accounts import ensure_can_write
from webapp.services.polls.state import AnyPoll, PollState, is_closed

if TYPE_CHECKING:
    # Not at run time: the integrity package reads polls' results.
    from webapp.services.integrity.signals import VoteSignals


class PollClosed(Conflict):
    code, message = "poll_closed", "This poll is closed and no longer takes votes."


class PollNotPublished(Conflict):
    code, message = (
        "poll_not_published",
        "This poll takes votes once its article is published.",
    )


class AnonymousVotingNotAllowed(Unauthorized):
    code, message = "unauthorized", "Please sign in to vote in this poll."


class SignedInOnlyUnderAttack(AnonymousVotingNotAllowed):
    """An anonymous vote while the poll is under attack and its editor chose to take
    only signed-in readers' votes then (polls.signed_in_only_under_attack)."""

    message = (
        "This poll takes votes from signed-in readers only for now, because of "
        "suspicious voting: please sign in to vote."
    )


# --- who a voter is ------------------------------------------------------------------


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


@dataclass(frozen=True)
class Voter:
    """Who casts a vote: the key that makes them one voter, and what we may store."""

    key: str
    user_id: int | None
    client_hash: str | None = None
    #: The vote's other integrity signals (None: none known, e.g. a script's vote).
    signals: VoteSignals | None = None


@dataclass(frozen=True)
class Visitor:
    """Who asks to vote, as the request knows them; :func:`voter_for` decides whether
    they may, and makes them a :class:`Voter`.

    ``anonymous_id`` gives a signed-out visitor's id, minting one (with the cookie that
    keeps it) when they have none: it is called only once their vote is let through.
    """

    user: User | None
    anonymous_id: Callable[[], str]
    client_hash: str | None = None
    #: What the request tells of the vote besides the address (webapp.voters.visitor);
    #: the account's age is added by :func:`as_voter`.
    signals: VoteSignals | None = None


# --- who may vote --------------------------------------------------------------------


class Refusal(StrEnum):
    """Why a reader may not vote, in the order a refused vote reports them."""

    BANNED = "banned"
    SIGN_IN = "sign_in"
    #: Signed-out, and the poll is under attack and takes signed-in readers only.
    UNDER_ATTACK = "under_attack"
    NOT_PUBLISHED = "not_published"
    CLOSED = "closed"


def article_status(poll: AnyPoll) -> str:
    """The status of the poll's article (a Poll loads its article for it)."""
    if isinstance(poll, PollState):
        return poll.article_status
    return poll.article.status


def signed_in_only_now(poll: AnyPoll) -> bool:
    """Whether ``poll`` takes only signed-in readers' votes for now: its editor chose
    so for when it is under attack, and it is (a group of its votes was set aside)."""
    if isinstance(poll, PollState):
        return poll.signed_in_only_now
    return bool(poll.signed_in_only_under_attack) and poll.under_attack_since is not None


def poll_refusals(poll: AnyPoll, moment: datetime) -> tuple[Refusal, ...]:
    """Why ``poll`` takes nobody's vote at ``moment``: a draft's poll takes none (not
    even an editor's), nor a closed one."""
    found = []
    if article_status(poll) != ArticleStatus.PUBLISHED:
        found.append(Refusal.NOT_PUBLISHED)
    if is_closed(poll, moment):
        found.append(Refusal.CLOSED)
    return tuple(found)


def refusals(
    poll: AnyPoll, user: User | None, moment: datetime | None = None
) -> tuple[Refusal, ...]:
    """Every reason ``user`` (None: a signed-out visitor) may not vote in ``poll`` at
    ``moment``, in the order a vote reports them; empty when they may.

    The one statement of who may vote: not a banned account (the accounts rule,
    ensure_can_write), a signed-out visitor only where the poll takes anonymous
    votes and is not under attack with signed-in readers only chosen then
    (:func:`signed_in_only_now`), and only in the poll of a published article while
    it is open.
    """
    moment = moment or utcnow()
    found: list[Refusal] = []
    if user is not None:
        try:
            ensure_can_write(user, moment)
        except Banned:
            found.append(Refusal.BANNED)
    elif not poll.allow_anonymous:
        found.append(Refusal.SIGN_IN)
    elif signed_in_only_now(poll):
        found.append(Refusal.UNDER_ATTACK)
    return (*found, *poll_refusals(poll, moment))


def refuse(refusal: Refusal, user: User | None, moment: datetime) -> NoReturn:
    """Raise the domain error that says ``refusal``: Banned 403 (saying until when),
    AnonymousVotingNotAllowed 401 (SignedInOnlyUnderAttack, saying why, while the
    poll is under attack), PollNotPublished or PollClosed 409."""
    if refusal is Refusal.BANNED:
        if user is not None:
            ensure_can_write(user, moment)
        raise Banned()
    if refusal is Refusal.SIGN_IN:
        raise AnonymousVotingNotAllowed()
    if refusal is Refusal.UNDER_ATTACK:
        raise SignedInOnlyUnderAttack()
    if refusal is Refusal.NOT_PUBLISHED:
        raise PollNotPublished()
    raise PollClosed()


def ensure_may_vote(poll: AnyPoll, user: User | None, moment: datetime | None = None) -> None:
    """Raise the error of the first of :func:`refusals`, if there is one."""
    moment = moment or utcnow()
    found = refusals(poll, user, moment)
    if found:
        refuse(found[0], user, moment)


def _account_age(user: User, moment: datetime | None) -> int | None:
    created = user.created_at
    if moment is None or created is None:
        return None
    return max(0, int((moment - created).total_seconds()))


def as_voter(visitor: Visitor, moment: datetime | None = None) -> Voter:
    """``visitor`` as a voter, without asking whether they may vote (:func:`voter_for`
    does); a signed-out visitor's id is minted here when they have none. The vote's
    signals are the visitor's, with a signed-in voter's account age at ``moment``."""
    user = visitor.user
    signals = visitor.signals
    if user is not None:
        if signals is not None:
            signals = replace(signals, account_age_seconds=_account_age(user, moment))
        return Voter(user_voter_key(user), user.id, visitor.client_hash, signals)
    key = anonymous_voter_key(visitor.anonymous_id())
    return Voter(key, None, visitor.client_hash, signals)


def voter_for(poll: AnyPoll, visitor: Visitor, moment: datetime | None = None) -> Voter:
    """``visitor`` as a voter in ``poll``, refusing those who may not vote in it
    (:func:`refusals`)."""
    moment = moment or utcnow()
    ensure_may_vote(poll, visitor.user, moment)
    return as_voter(visitor, moment)
