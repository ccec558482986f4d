"""``flask --app wsgi integrity scan [--poll ID]`` and ``integrity drop-signals``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.integrity_data import ALL_NO, add_votes
from webapp.models import IntegrityGroup, Poll, Vote


def test_scan_passes_the_polls_with_new_votes(runner, db, make_article):
    poll = make_article(poll={"allow_anonymous": True}).poll
    add_votes(poll, 1000)
    add_votes(poll, 3000, ALL_NO, address="bot")
    result = runner.invoke(args=["integrity", "scan"])
    assert result.exit_code == 0, result.output
    assert "Scanned 1 poll with new votes." in result.output
    group = db.session.scalar(select(IntegrityGroup).where(IntegrityGroup.poll_id == poll.id))
    assert group.kind == "address" and group.status == "set_aside"
    result = runner.invoke(args=["integrity", "scan"])
    assert "Scanned 0 polls with new votes." in result.output


def test_scan_one_poll_lists_its_groups(runner, db, make_article):
    poll = make_article(poll={"allow_anonymous": True}).poll
    add_votes(poll, 1000)
    add_votes(poll, 3000, ALL_NO, address="bot")
    result = runner.invoke(args=["integrity", "scan", "--poll", str(poll.id)])
    assert result.exit_code == 0, result.output
    assert f"Poll {poll.id}: 1 group found in this pass, 1 in all." in result.output
    assert "address" in result.output and "set_aside" in result.output
    assert "3,000 votes from one address" in result.output
    missing = runner.invoke(args=["integrity", "scan", "--poll", str(poll.id + 100)])
    assert missing.exit_code != 0 and f"There is no poll {poll.id + 100}." in missing.output


def test_drop_signals_forgets_where_old_votes_came_from(runner, db, make_article):
    old = make_article(poll={"allow_anonymous": True}).poll
    current = make_article(poll={"allow_anonymous": True}).poll
    add_votes(old, 20)
    add_votes(current, 20)
    db.session.get(Poll, old.id).closed_at = datetime.now(UTC) - timedelta(days=40)
    db.session.commit()
    result = runner.invoke(args=["integrity", "drop-signals"])
    assert result.exit_code == 0, result.output
    assert "Dropped the signals of 1 poll." in result.output
    db.session.expire_all()

    def hashed(poll: Poll) -> int:
        return db.session.scalar(
            select(func.count()).where(Vote.poll_id == poll.id, Vote.client_hash.is_not(None))
        )

    assert hashed(old) == 0 and hashed(current) == 20
    assert (
        "Dropped the signals of 0 polls."
        in runner.invoke(args=["integrity", "drop-signals"]).output
    )
