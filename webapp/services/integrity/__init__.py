"""Poll integrity (issue 16): the signals kept with each vote, the pass that finds
groups of votes sharing an origin and answering unlike the rest, the editors'
decisions on them, and the report.

- ``stats``: the two-proportion z-test, pure;
- ``detection``: ``scan_poll`` and ``scan_due`` (the integrity pass);
- ``decisions``: ``decide`` (set aside, restore, clear), with its audit entry;
- ``report``: ``integrity_report``, from the tallies and the groups only;
- ``signals``: what each vote keeps (keyed hashes, ages, the page token), ``VoteSignals``;
- ``retention``: ``drop_expired_signals``, the hashes dropped after a poll closes.

Callers use the names below: ``from webapp.services import integrity``.
"""

from __future__ import annotations

from webapp.services.integrity.decisions import ACTIONS, decide
from webapp.services.integrity.detection import scan_due, scan_poll
from webapp.services.integrity.report import IntegrityReport, integrity_report
from webapp.services.integrity.retention import drop_expired_signals
from webapp.services.integrity.signals import (
    VoteSignals,
    address_hash,
    agent_family,
    agent_hash,
    network_hash,
    page_token,
    saw_article,
)
from webapp.services.integrity.stats import (
    Comparison,
    compare_with_rest,
    leading_option,
    two_proportion_z,
)

__all__ = [
    "ACTIONS",
    "Comparison",
    "IntegrityReport",
    "VoteSignals",
    "address_hash",
    "agent_family",
    "agent_hash",
    "compare_with_rest",
    "decide",
    "drop_expired_signals",
    "integrity_report",
    "leading_option",
    "network_hash",
    "page_token",
    "saw_article",
    "scan_due",
    "scan_poll",
    "two_proportion_z",
]
