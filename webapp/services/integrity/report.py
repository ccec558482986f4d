"""A poll's integrity report: its counts, its groups, and results clean and raw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webapp.models import IntegrityGroup, Poll
from webapp.services.polls import PollResults


@dataclass(frozen=True)
class IntegrityReport:
    #: Every stored vote; the counted ones (in public results); the set-aside ones.
    total: int
    counted: int
    set_aside: int
    #: The poll's groups, the largest first (any status).
    groups: list[IntegrityGroup]
    #: Results over counted votes (as the public sees them) and over all stored votes,
    #: in the shape of webapp.services.polls.results.
    clean: PollResults
    raw: PollResults
    #: When the last pass looked at this poll (None: never), and since when it is
    #: under attack (None: not).
    scanned_at: datetime | None
    under_attack_since: datetime | None


def integrity_report(poll: Poll, moment: datetime | None = None) -> IntegrityReport:
    """The report from the options' tallies and the groups table only: the same cost
    for a poll of ten votes or a million."""
    raise NotImplementedError
