"""The integrity pass: find groups of a poll's votes that share an origin and answer
unlike the rest of the poll (see the module's full docstring once written)."""

from __future__ import annotations

from datetime import datetime

from webapp.models import IntegrityGroup


def scan_poll(poll_id: int, moment: datetime | None = None) -> list[IntegrityGroup]:
    """Look at every vote of the poll; write or update its groups (members, reason,
    signals, counts, z), set aside by themselves the groups at or above
    INTEGRITY_AUTO_SET_ASIDE_Z, and mark the poll scanned (integrity_scanned_at,
    integrity_last_vote_id). Returns the poll's groups found in this pass (any
    status), largest first. The caller commits."""
    raise NotImplementedError


def scan_due(moment: datetime | None = None) -> int:
    """Scan every poll with votes since its last pass (a vote id above
    polls.integrity_last_vote_id), committing after each poll; returns how many polls
    were scanned."""
    raise NotImplementedError
