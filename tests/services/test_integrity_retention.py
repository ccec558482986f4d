"""Retention: a poll's votes lose their address, network and user-agent hashes
INTEGRITY_SIGNAL_RETENTION_DAYS after the poll closes, once, and keep the rest."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from webapp.models import Poll, Vote, utcnow
from webapp.services import polls
from webapp.services.integrity.retention import drop_expired_signals
from webapp.services.integrity.signals import VoteSignals


def _vote(poll, n):
    signals = VoteSignals(
        network_hash=f"net{n}", agent_hash=f"agent{n}", cookie_age_seconds=n, saw_article=True
    )
    polls.cast_vote(poll, polls.Voter(f"a:r{n}", None, f"address{n}", signals), poll.options[0].id)


def _hashes(db, poll):
    db.session.expire_all()
    return db.session.execute(
        sa.select(Vote.client_hash, Vote.network_hash, Vote.agent_hash, Vote.cookie_age_seconds)
        .where(Vote.poll_id == poll.id)
        .order_by(Vote.id)
    ).all()


def test_signals_are_dropped_when_the_poll_has_been_closed_long_enough(app, db, make_article):
    now = utcnow()
    days = app.config["INTEGRITY_SIGNAL_RETENTION_DAYS"]
    expired = make_article(poll=True).poll
    closed_by_hand = make_article(poll=True).poll
    recent = make_article(poll=True).poll
    still_open = make_article(poll={"closes_at": now + timedelta(days=3)}).poll
    never_closes = make_article(poll=True).poll
    for n, poll in enumerate([expired, closed_by_hand, recent, still_open, never_closes]):
        _vote(poll, 2 * n)
        _vote(poll, 2 * n + 1)
    expired.closes_at = now - timedelta(days=days, hours=1)
    closed_by_hand.closed_at = now - timedelta(days=days + 10)
    closed_by_hand.closes_at = now + timedelta(days=100)  # closed by hand before its time
    recent.closes_at = now - timedelta(days=days - 1)
    db.session.commit()

    assert drop_expired_signals(now) == 2
    db.session.commit()
    for poll in (expired, closed_by_hand):
        assert [tuple(row[:3]) for row in _hashes(db, poll)] == [(None, None, None)] * 2
        # what says nothing of where a vote came from is kept
        assert [row[3] for row in _hashes(db, poll)] != [None, None]
        assert db.session.get(Poll, poll.id).signals_dropped_at is not None
    for poll in (recent, still_open, never_closes):
        assert all(row[0] and row[1] and row[2] for row in _hashes(db, poll))
        assert db.session.get(Poll, poll.id).signals_dropped_at is None
    # the votes are all still there, counted as before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 10
    assert expired.options[0].vote_count == 2

    assert drop_expired_signals(now) == 0  # once per poll
    later = now + timedelta(days=2)
    assert drop_expired_signals(later) == 1  # ``recent`` is now old enough
    db.session.commit()
    assert [tuple(row[:3]) for row in _hashes(db, recent)] == [(None, None, None)] * 2


def test_the_retention_is_a_setting(make_app, make_article):
    app = make_app(INTEGRITY_SIGNAL_RETENTION_DAYS=1)
    with app.app_context():
        from webapp.extensions import db

        poll = make_article(poll=True).poll
        _vote(poll, 1)
        poll.closes_at = utcnow() - timedelta(days=2)
        db.session.commit()
        assert drop_expired_signals() == 1
        db.session.commit()
        assert _hashes(db, poll)[0][:3] == (None, None, None)
