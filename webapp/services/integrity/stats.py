"""The statistics of the integrity pass: pure functions, no database.

A group of votes is compared with the rest of the poll by the pooled two-proportion
z-test on the group's leading answer: is the share of that answer among the group's
votes further from its share among the other votes than chance would take it?
"""

from __future__ import annotations

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
    """Pooled two-proportion z statistic of x1/n1 against x2/n2.

    0.0 when either sample is empty or the pooled share is 0 or 1 (no variance:
    both samples answered alike)."""
    raise NotImplementedError


def compare_with_rest(group: dict[int, int], poll: dict[int, int]) -> Comparison | None:
    """The group's leading answer tested against the rest of the poll.

    ``group`` and ``poll`` map option id to votes; ``poll`` includes the group's votes
    (the rest is ``poll - group``). None when the group is empty."""
    raise NotImplementedError
