"""The statistics of the integrity pass: pure functions, no database.

A group of votes is compared with the rest of the poll by the pooled two-proportion
z-test on the group's leading answer: is the share of that answer among the group's
votes further from its share among the other votes than chance would take it? Under
the hypothesis that the group's voters answer like everyone else, z is roughly
standard normal, so |z| >= 4 happens by chance about once in 16,000 groups, and
|z| >= 8 practically never (about 1 in 10^15).

The test says "these votes answer unlike the rest"; it cannot say why. That is why
a group must also be concentrated (one address, one network, one burst: see
``detection``) before the pass calls it suspect, and why an editor decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    """A group's leading answer against the rest of the poll."""

    #: The option the group chose most (ties: the lowest id).
    option_id: int
    #: The group's share of that option, and the rest's.
    group_share: float
    rest_share: float
    #: The pooled two-proportion z statistic (positive: the group chose it more).
    z: float


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> float:
    """Pooled two-proportion z statistic of x1/n1 against x2/n2:
    (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with p = (x1 + x2) / (n1 + n2).

    0.0 when either sample is empty, or when the pooled share is 0 or 1 (both samples
    answered alike: nothing to tell apart)."""
    if n1 <= 0 or n2 <= 0:
        return 0.0
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 0.0
    return (x1 / n1 - x2 / n2) / math.sqrt(variance)


def leading_option(counts: Mapping[int, int]) -> int | None:
    """The option with the most votes (ties: the lowest id); None without votes."""
    best: int | None = None
    for option_id in sorted(counts):
        if counts[option_id] > 0 and (best is None or counts[option_id] > counts[best]):
            best = option_id
    return best


def compare_with_rest(group: Mapping[int, int], rest: Mapping[int, int]) -> Comparison | None:
    """The group's leading answer tested against the rest of the poll.

    ``group`` and ``rest`` map option id to votes (the rest: the poll's counted votes
    outside the group). None when the group is empty."""
    lead = leading_option(group)
    if lead is None:
        return None
    n1 = sum(group.values())
    n2 = sum(rest.values())
    x1 = group[lead]
    x2 = rest.get(lead, 0)
    return Comparison(
        option_id=lead,
        group_share=x1 / n1,
        rest_share=x2 / n2 if n2 else 0.0,
        z=two_proportion_z(x1, n1, x2, n2),
    )
