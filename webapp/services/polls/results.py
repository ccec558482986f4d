"""Results: the pure maths (shares, the Wilson interval, the methodology a reader is
shown with them) and who may see them.

Nothing here touches the database: the results come from the stored tallies the
poll was read with (each option's counted votes, the signed-in ones among them and
its votes set aside by the integrity checks), so they cost the same for ten votes or
ten million.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context

from webapp.models import ResultsVisibility, Role, User
from webapp.services.polls.state import AnyPoll, is_closed

Z_95 = 1.959963984540054
#: Below this many counted votes, results show counts but no shares (the
#: POLL_MIN_VOTES_FOR_SHARES setting; this outside an app).
MIN_VOTES_FOR_SHARES = 30


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


@dataclass(frozen=True)
class OptionResult:
    id: int
    label: str
    votes: int
    share: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Methodology:
    """What kind of number the results are, as a reader is told under them."""

    #: The votes the results count (not set aside).
    counted: int
    #: The share of those from signed-in readers (0 when none are counted).
    signed_in_share: float
    #: The largest Wilson half-width among the options, as a share (0.028: ±2.8 points).
    margin_of_error: float
    #: Whether there are enough counted votes to show shares (POLL_MIN_VOTES_FOR_SHARES);
    #: below, pages show counts without percentages or bars.
    shares_shown: bool

    @property
    def margin_points(self) -> int:
        """The margin of error in whole percentage points, as readers are told it
        ("± 4 points"): rounded, and never 0 while there is any margin at all, which
        would read as certainty."""
        if self.margin_of_error <= 0:
            return 0
        return max(1, round(self.margin_of_error * 100))


def margin_of_error(options: list[OptionResult]) -> float:
    """The largest half-width of the options' 95 % Wilson intervals; 0 without votes."""
    return max(((o.ci_high - o.ci_low) / 2 for o in options), default=0.0)


def min_votes_for_shares() -> int:
    if has_app_context():
        minimum: int = current_app.config.get("POLL_MIN_VOTES_FOR_SHARES", MIN_VOTES_FOR_SHARES)
        return minimum
    return MIN_VOTES_FOR_SHARES


@dataclass(frozen=True)
class PollResults:
    #: Counted votes: set-aside ones are in none of these figures.
    total: int
    options: list[OptionResult]
    closed: bool
    #: Votes set aside by the integrity checks.
    set_aside: int = 0
    #: Counted votes from signed-in readers.
    signed_in: int = 0
    #: The least counted votes for shares to be shown (POLL_MIN_VOTES_FOR_SHARES).
    min_votes_for_shares: int = MIN_VOTES_FOR_SHARES

    @property
    def leader(self) -> OptionResult | None:
        """The option with the most votes; None without votes or when two or more
        share the most (a tie has no leader, and pages must not paint one)."""
        if self.total == 0:
            return None
        most = max(o.votes for o in self.options)
        top = [o for o in self.options if o.votes == most]
        return top[0] if len(top) == 1 else None

    @property
    def tied(self) -> list[OptionResult]:
        """The options sharing the most votes when two or more do; empty otherwise."""
        if self.total == 0:
            return []
        most = max(o.votes for o in self.options)
        top = [o for o in self.options if o.votes == most]
        return top if len(top) > 1 else []

    @property
    def methodology(self) -> Methodology:
        return Methodology(
            counted=self.total,
            signed_in_share=min(1.0, self.signed_in / self.total) if self.total else 0.0,
            margin_of_error=margin_of_error(self.options),
            shares_shown=self.total >= self.min_votes_for_shares,
        )


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
    return PollResults(
        total=total,
        options=options,
        closed=is_closed(poll, moment),
        set_aside=sum(option.set_aside_count for option in poll.options),
        signed_in=sum(option.signed_in_count for option in poll.options),
        min_votes_for_shares=min_votes_for_shares(),
    )


def results_visible(
    poll: AnyPoll, viewer: User | None, has_voted: bool, moment: datetime | None = None
) -> bool:
    """Whether ``viewer`` (None: signed out), who has voted or not, may see the results:
    editors and moderators always; readers as the poll's ``results_visibility`` says."""
    if viewer is not None and viewer.has_role(Role.EDITOR, Role.MODERATOR):
        return True
    if poll.results_visibility == ResultsVisibility.ALWAYS:
        return True
    if poll.results_visibility == ResultsVisibility.AFTER_VOTE:
        return has_voted or is_closed(poll, moment)
    return is_closed(poll, moment)


def results_wait_for_a_vote(poll: AnyPoll) -> bool:
    """Whether hidden results show once the reader votes (else: once the poll closes)."""
    return poll.results_visibility == ResultsVisibility.AFTER_VOTE
