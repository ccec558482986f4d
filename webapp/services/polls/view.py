"""The poll as one reader sees it: every fact a page or the API shows about it (is it
closed, may this reader vote and if not why, their choice, the results if they may
see them), decided here once, so templates and serializers only read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webapp.errors import NotFound
from webapp.models import User, utcnow
from webapp.services.polls.eligibility import Refusal, refusals
from webapp.services.polls.results import (
    PollResults,
    results,
    results_visible,
    results_wait_for_a_vote,
)
from webapp.services.polls.state import (
    AnyPoll,
    cached_poll_for_article,
    is_closed,
    my_vote,
)


@dataclass(frozen=True)
class PollView:
    """A poll and what one reader may do with it and see of it."""

    poll: AnyPoll
    #: The option this reader chose; None when they have not voted.
    my_vote: int | None
    closed: bool
    #: Why this reader may not vote (eligibility.refusals), in the order a vote says
    #: them; empty when they may.
    refusals: tuple[Refusal, ...]
    #: None when the results are hidden from this reader.
    results: PollResults | None
    #: Whether hidden results show once the reader votes (else: when the poll closes).
    results_after_vote: bool

    @property
    def can_vote(self) -> bool:
        return not self.refusals

    @property
    def sign_in_to_vote(self) -> bool:
        """A signed-out reader where the poll takes only accounts' votes."""
        return Refusal.SIGN_IN in self.refusals

    @property
    def signed_in_only_now(self) -> bool:
        """A signed-out reader while the poll, under attack, takes signed-in readers'
        votes only (its editor's choice)."""
        return Refusal.UNDER_ATTACK in self.refusals


def view_of(
    poll: AnyPoll,
    viewer: User | None,
    chosen: int | None,
    moment: datetime | None = None,
) -> PollView:
    """``poll`` as ``viewer`` (None: signed out), who chose ``chosen``, sees it."""
    moment = moment or utcnow()
    visible = results_visible(poll, viewer, chosen is not None, moment)
    return PollView(
        poll=poll,
        my_vote=chosen,
        closed=is_closed(poll, moment),
        refusals=refusals(poll, viewer, moment),
        results=results(poll, moment) if visible else None,
        results_after_vote=results_wait_for_a_vote(poll),
    )


def view_for(poll: AnyPoll, viewer: User | None, key: str | None) -> PollView:
    """``poll`` as the reader with voter ``key`` sees it: looks up their vote."""
    return view_of(poll, viewer, my_vote(poll, key))


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


def answers_visible_to(slug: str, viewer: User | None, key: str | None) -> bool:
    """Whether this reader may see how commenters answered the poll of the article at
    ``slug``: exactly when they may see its results (an answer beside a name is a
    piece of the results). False when it has no poll: there is nothing to show."""
    try:
        poll = cached_poll_for_article(slug, viewer)
    except NotFound:
        return False
    return results_visible_to(poll, viewer, key)
