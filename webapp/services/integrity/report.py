"""A poll's integrity report: its counts, its groups, and results clean and raw.

It reads the options' tallies (vote_count: counted votes; set_aside_count: the
set-aside ones, both kept by the tally triggers) and the poll's rows of
integrity_groups through (poll_id, votes): never the votes, so it costs the same
for a poll of ten votes or a million.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import IntegrityGroup, Poll
from webapp.services.polls import PollResults, results, wilson_interval
from webapp.services.polls.results import OptionResult


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
    for a poll of ten votes or a million.

    ``clean`` is exactly the public results (webapp.services.polls.results); ``raw``
    has the same shape over every stored vote (counted + set aside), its shares and
    intervals over that total (its ``signed_in`` is the counted signed-in votes: the
    tallies keep no count of set-aside signed-in votes)."""
    clean = results(poll, moment)
    raw_counts = [
        (option.id, option.label, option.vote_count + option.set_aside_count)
        for option in sorted(poll.options, key=lambda o: o.position)
    ]
    raw_total = sum(votes for _, _, votes in raw_counts)
    raw_options = []
    for option_id, label, votes in raw_counts:
        low, high = wilson_interval(votes, raw_total)
        share = votes / raw_total if raw_total else 0.0
        raw_options.append(OptionResult(option_id, label, votes, share, low, high))
    raw = replace(clean, total=raw_total, options=raw_options)
    groups = list(
        db.session.scalars(
            select(IntegrityGroup)
            .where(IntegrityGroup.poll_id == poll.id)
            .order_by(IntegrityGroup.votes.desc(), IntegrityGroup.id)
        )
    )
    return IntegrityReport(
        total=raw_total,
        counted=clean.total,
        set_aside=raw_total - clean.total,
        groups=groups,
        clean=clean,
        raw=raw,
        scanned_at=poll.integrity_scanned_at,
        under_attack_since=poll.under_attack_since,
    )
