"""Results: the pure maths (shares, the Wilson interval) and who may see them.

Nothing here touches the database: the results come from the stored tallies the
poll was read with, so they cost the same for ten votes or ten million.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from webapp.models import ResultsVisibility, Role, User
from webapp.services.polls.state import AnyPoll, is_closed

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
