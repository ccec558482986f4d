"""An editor's decision on a group of votes: set aside, restore, clear."""

from __future__ import annotations

from datetime import datetime

from webapp.models import IntegrityGroup, User

ACTIONS = ("set_aside", "restore", "clear")


def decide(
    group_id: int,
    poll_id: int,
    action: str,
    actor: User,
    reason: str | None,
    moment: datetime | None = None,
    *,
    automatic: bool = False,
) -> IntegrityGroup:
    """Apply ``action`` ("set_aside", "restore" or "clear") to the group.

    Raises NotFound for an unknown group or one of another poll, InvalidInput for a
    bad action. Writes the audit log entry (SET_ASIDE_VOTES / RESTORE_VOTES /
    CLEAR_VOTES with the article, poll and group ids in details), sets or clears
    votes.set_aside_at (a vote stays set aside while any set-aside group holds it),
    starts the poll's "under attack" time when a group is set aside and the poll
    has signed_in_only_under_attack, and drops the poll's cached results (now and
    again after the commit). The caller commits.

    ``automatic`` is the integrity pass's own decision (detection); the entry then
    carries details {"automatic": true}."""
    raise NotImplementedError
