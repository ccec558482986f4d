"""How long the votes' hashes are kept: until their poll has been closed for
INTEGRITY_SIGNAL_RETENTION_DAYS days (setting, default 30). Then the address,
network and user-agent hashes of its votes are set to NULL and the poll is marked
(``polls.signals_dropped_at``), once. What is left of a vote (its option, time,
whether it was signed in, the ages, whether the page was loaded, whether it was set
aside) says nothing of where it came from. The integrity pass runs this (the
runner, and ``flask --app wsgi integrity drop-signals``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from webapp.extensions import db
from webapp.models import Poll, Vote, utcnow


def drop_expired_signals(moment: datetime | None = None) -> int:
    """NULL the three hashes of the votes of every poll closed (by hand or by its
    closing time) more than INTEGRITY_SIGNAL_RETENTION_DAYS before ``moment`` (now
    when not given) whose signals are not dropped yet, and mark those polls; returns
    how many polls. One UPDATE of votes per poll, through its votes' (poll_id, ...)
    indexes. The caller commits."""
    moment = moment or utcnow()
    cutoff = moment - timedelta(days=current_app.config["INTEGRITY_SIGNAL_RETENTION_DAYS"])
    due = db.session.scalars(
        select(Poll.id)
        .where(
            Poll.signals_dropped_at.is_(None),
            or_(
                and_(Poll.closed_at.is_not(None), Poll.closed_at <= cutoff),
                and_(Poll.closes_at.is_not(None), Poll.closes_at <= cutoff),
            ),
        )
        .order_by(Poll.id)
    ).all()
    for poll_id in due:
        db.session.execute(
            update(Vote)
            .where(
                Vote.poll_id == poll_id,
                or_(
                    Vote.client_hash.is_not(None),
                    Vote.network_hash.is_not(None),
                    Vote.agent_hash.is_not(None),
                ),
            )
            .values(client_hash=None, network_hash=None, agent_hash=None)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(signals_dropped_at=moment)
            .execution_options(synchronize_session=False)
        )
    return len(due)
