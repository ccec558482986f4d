"""A poll's integrity report: its counts, its groups, and results clean and raw.

It reads the options' tallies (vote_count: counted votes; set_aside_count: the
set-aside ones, both kept by the tally triggers) and the poll's rows of
integrity_groups through (poll_id, votes): never the votes, so it costs the same
for a poll of ten votes or a million.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import IntegrityGroup, Poll, PollOption
from webapp.services.polls import PollResults, is_closed, wilson_interval
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


def _results(counts: list[tuple[int, str, int]], closed: bool) -> PollResults:
    total = sum(votes for _, _, votes in counts)
    options = []
    for option_id, label, votes in counts:
        low, high = wilson_interval(votes, total)
        share = votes / total if total else 0.0
        options.append(OptionResult(option_id, label, votes, share, low, high))
    return PollResults(total=total, options=options, closed=closed)


def integrity_report(poll: Poll, moment: datetime | None = None) -> IntegrityReport:
    """The report from the options' tallies and the groups table only: the same cost
    for a poll of ten votes or a million."""
    rows = db.session.execute(
        select(PollOption.id, PollOption.label, PollOption.vote_count, PollOption.set_aside_count)
        .where(PollOption.poll_id == poll.id)
        .order_by(PollOption.position)
    ).all()
    groups = list(
        db.session.scalars(
            select(IntegrityGroup)
            .where(IntegrityGroup.poll_id == poll.id)
            .order_by(IntegrityGroup.votes.desc(), IntegrityGroup.id)
        )
    )
    closed = is_closed(poll, moment)
    clean = _results([(r.id, r.label, r.vote_count) for r in rows], closed)
    raw = _results([(r.id, r.label, r.vote_count + r.set_aside_count) for r in rows], closed)
    return IntegrityReport(
        total=raw.total,
        counted=clean.total,
        set_aside=raw.total - clean.total,
        groups=groups,
        clean=clean,
        raw=raw,
        scanned_at=poll.integrity_scanned_at,
        under_attack_since=poll.under_attack_since,
    )
