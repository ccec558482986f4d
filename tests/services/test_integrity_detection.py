"""The integrity pass finds groups of votes that share an origin and answer unlike the
rest of the poll, and leaves honest crowds alone (webapp.services.integrity.detection)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tests.integrity_data import ALL_NO, START, Answers, add_votes, tallies
from webapp.models import (
    IntegrityGroup,
    IntegrityGroupVote,
    ModerationAction,
    Poll,
    PollOption,
    Vote,
)
from webapp.services import integrity
from webapp.services.integrity import detection


@pytest.fixture
def poll(make_article):
    return make_article(poll={"allow_anonymous": True}).poll


def _groups(db, poll) -> list[IntegrityGroup]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(IntegrityGroup)
            .where(IntegrityGroup.poll_id == poll.id)
            .order_by(IntegrityGroup.votes.desc())
        )
    )


def _members(db, group) -> int:
    return db.session.scalar(select(func.count()).where(IntegrityGroupVote.group_id == group.id))


def test_an_honest_poll_has_no_suspect_group(db, poll, make_user):
    add_votes(poll, 1500)
    # Crowds that share an origin but answer like everyone: an office of 40 behind one
    # address, a campus of 120 behind one, a carrier's network of 150 readers, a
    # morning's new visitors in one browser, ten colleagues who joined together.
    add_votes(poll, 40, address="office", offset=7)
    add_votes(poll, 120, address="campus", offset=3)
    add_votes(poll, 150, network="carrier", addresses=60, offset=11)
    add_votes(poll, 120, cookie_age=20, spread=timedelta(minutes=8), offset=5)
    colleagues = [make_user() for _ in range(10)]
    add_votes(poll, 10, users=colleagues, account_age=3600, spread=timedelta(minutes=5))
    assert integrity.scan_poll(poll.id) == []
    db.session.commit()
    assert _groups(db, poll) == []
    assert db.session.get(Poll, poll.id).integrity_scanned_at is not None


def test_the_office_is_never_looked_at_but_a_large_address_answering_otherwise_is(db, poll):
    add_votes(poll, 1000)
    # 40 votes all one way from one address: an office that agrees, not concentrated.
    add_votes(poll, 40, ALL_NO, address="office")
    # 60 votes, three in four 'No' against the rest's 31 %: suspect, not beyond doubt.
    add_votes(poll, 60, Answers((0.0, 0.75)), address="suspect")
    found = integrity.scan_poll(poll.id)
    db.session.commit()
    assert [(g.kind, g.origin) for g in found] == [("address", "suspect")]
    group = found[0]
    assert 4 <= group.z_score < 8
    assert group.status == "suspect" and not group.automatic
    assert group.votes == 60 and _members(db, group) == 60
    assert "60 votes from one address" in group.reason
    assert "75 % 'No'" in group.reason
    # Nothing set aside: an editor decides.
    assert tallies(poll)["No"][1] == 0


def test_three_thousand_votes_from_one_address_are_set_aside_by_themselves(db, poll):
    add_votes(poll, 1000)
    no_before = tallies(poll)["No"][0]
    add_votes(
        poll,
        3000,
        ALL_NO,
        address="bot",
        start=START + timedelta(hours=2),
        spread=timedelta(minutes=9),
        cookie_age=0,
        saw_article=False,
    )
    assert tallies(poll)["No"] == (no_before + 3000, 0)
    found = integrity.scan_poll(poll.id)
    db.session.commit()
    address = next(g for g in found if g.kind == "address")
    assert address.status == "set_aside" and address.automatic
    assert address.z_score >= 8
    assert address.reason == (
        "3,000 votes from one address in 9 minutes, 100 % 'No'; the rest of the poll is 31 % 'No'"
    )
    assert "one address" in address.signals
    assert "article not loaded" in address.signals and "fresh cookies" in address.signals
    assert address.by_option == {str(v.option_id): 3000 for v in [_a_vote(db, "bot")]}
    # The votes are kept, not counted: the public tallies are as before the attack.
    assert tallies(poll)["No"] == (no_before, 3000)
    assert (
        db.session.scalar(
            select(func.count()).where(Vote.poll_id == poll.id, Vote.set_aside_at.is_not(None))
        )
        == 3000
    )
    # The automatic decision is in the audit log, under the article's author.
    entry = db.session.scalar(
        select(ModerationAction).where(ModerationAction.action == "set_aside_votes")
    )
    assert entry.details["automatic"] is True
    assert entry.details["group_id"] == address.id and entry.details["poll_id"] == poll.id
    assert entry.actor_id == poll.article.author_id


def _a_vote(db, address):
    return db.session.scalars(select(Vote).where(Vote.client_hash == address)).first()


def test_a_network_of_hundreds_of_addresses(db, poll):
    add_votes(poll, 1000)
    add_votes(poll, 600, ALL_NO, network="farm", addresses=300, spread=timedelta(hours=2))
    found = integrity.scan_poll(poll.id)
    db.session.commit()
    assert [g.kind for g in found] == ["network"]
    network = found[0]
    assert network.votes == 600
    assert network.reason.startswith("600 votes from one network (300 addresses) in 2 hours")
    assert network.status == "set_aside" and network.automatic


def test_a_burst_of_fresh_cookies_from_one_network(db, poll):
    add_votes(poll, 1000)
    # 60 new visitors' votes from one network in five minutes, nine in ten 'No'.
    add_votes(
        poll,
        60,
        Answers((0.1, 0.9)),
        network="dorm",
        cookie_age=4,
        start=START + timedelta(hours=3, minutes=1),
        spread=timedelta(minutes=5),
    )
    found = integrity.scan_poll(poll.id)
    db.session.commit()
    assert [g.kind for g in found] == ["fresh_cookies"]
    burst = found[0]
    assert burst.origin.startswith("n:dorm@")
    assert burst.votes == 60
    assert "with voter cookies under 2 minutes old from one network in 5 minutes" in burst.reason
    assert burst.signals[:2] == ["fresh cookies", "one network"]


def test_a_burst_of_fresh_cookies_in_one_browser_family(db, poll):
    add_votes(poll, 1000, agent="safari-18")
    add_votes(
        poll,
        150,
        ALL_NO,
        agent="headless-1",
        cookie_age=0,
        start=START + timedelta(hours=5, minutes=1),
        spread=timedelta(minutes=7),
    )
    found = integrity.scan_poll(poll.id)
    db.session.commit()
    assert [(g.kind, g.origin.split("@")[0]) for g in found] == [("fresh_cookies", "b:headless-1")]
    # One browser is shared by millions: an editor decides, however clear the figures.
    assert found[0].status == "suspect" and found[0].z_score >= 8


def test_an_account_cohort(db, poll, make_user):
    add_votes(poll, 1000)
    cohort = [make_user() for _ in range(15)]
    # Accounts an hour old at their votes, all cast within twelve minutes: they were
    # created within those same twelve minutes.
    add_votes(
        poll,
        15,
        ALL_NO,
        users=cohort,
        account_age=3600,
        start=START + timedelta(hours=4, minutes=1),
        spread=timedelta(minutes=12),
    )
    found = integrity.scan_poll(poll.id)
    db.session.commit()
    assert [g.kind for g in found] == ["account_cohort"]
    group = found[0]
    assert group.votes == 15
    assert "from accounts created within 15 minutes of each other" in group.reason
    assert group.status == "suspect"  # 15 votes: suspect, not beyond doubt (z < 8)
    assert 4 <= group.z_score < 8


def test_a_drip_from_one_address_over_days(db, poll):
    add_votes(poll, 1000, spread=timedelta(days=4))
    add_votes(poll, 150, ALL_NO, address="patient", spread=timedelta(days=3))
    found = integrity.scan_poll(poll.id)
    db.session.commit()
    assert [g.kind for g in found] == ["address"]
    assert found[0].reason.startswith("150 votes from one address in 3 days, 100 % 'No'")


def test_a_rate_burst_waits_for_an_editor(db, poll):
    add_votes(poll, 1000)  # 17 votes per 10 minutes
    add_votes(
        poll, 400, ALL_NO, start=START + timedelta(hours=6, minutes=1), spread=timedelta(minutes=8)
    )
    found = integrity.scan_poll(poll.id)
    db.session.commit()
    assert [g.kind for g in found] == ["rate_burst"]
    burst = found[0]
    assert burst.votes >= 400  # the window's honest votes too
    assert "times the poll's usual rate" in burst.reason
    assert burst.status == "suspect" and burst.z_score >= 8


def test_a_decision_stands_and_new_votes_join_a_set_aside_group(db, poll):
    add_votes(poll, 1000)
    # Over the same ten hours as everyone: no burst, one address.
    add_votes(poll, 3000, ALL_NO, address="bot")
    (group,) = integrity.scan_poll(poll.id)
    db.session.commit()
    assert group.status == "set_aside"
    add_votes(poll, 100, ALL_NO, address="bot", start=START + timedelta(hours=11))
    assert integrity.scan_due() == 1
    (again,) = _groups(db, poll)
    assert again.id == group.id and again.status == "set_aside"
    assert again.votes == 3100 and _members(db, again) == 3100
    assert tallies(poll)["No"][1] == 3100
    # One audit entry: the decision, not one per pass.
    assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == 1


def test_scan_due_passes_only_polls_with_new_votes(db, make_article):
    quiet = make_article(poll=True).poll
    busy = make_article(poll=True).poll
    add_votes(quiet, 50)
    add_votes(busy, 50)
    assert integrity.scan_due() == 2
    assert integrity.scan_due() == 0
    add_votes(busy, 5)
    assert detection.due_polls() == [busy.id]
    assert integrity.scan_due() == 1
    last = db.session.scalar(select(func.max(Vote.id)).where(Vote.poll_id == busy.id))
    db.session.expire_all()
    assert db.session.get(Poll, busy.id).integrity_last_vote_id == last


def test_a_vote_is_stored_at_once_while_the_pass_reads_every_vote(
    app, db, poll, backend, monkeypatch
):
    """The pass's reads of every vote hold no write lock (transactions.
    reads_before_writes): on SQLite they once ran under BEGIN IMMEDIATE, and every vote
    waited for the whole pass. A writer that would give up after 0.1 s stores a vote
    while the pass is between its reads, and the pass then writes as usual."""
    add_votes(poll, 1000)
    add_votes(poll, 60, Answers((0.0, 0.75)), address="suspect")
    poll_id = poll.id
    db.session.remove()
    writer = sa.create_engine(backend.url, poolclass=sa.pool.NullPool)
    stored: list[int] = []
    real_find = detection.find_candidates

    def find_while_a_vote_comes_in(poll_id: int) -> list[detection.Candidate]:
        found = real_find(poll_id)
        with writer.connect() as connection:
            if backend.name == "sqlite":
                connection.exec_driver_sql("PRAGMA busy_timeout=100")
            else:
                connection.exec_driver_sql("SET lock_timeout = '100ms'")
            option = connection.scalar(
                sa.select(PollOption.id).where(PollOption.poll_id == poll_id).limit(1)
            )
            result = connection.execute(
                Vote.__table__.insert().values(
                    poll_id=poll_id,
                    option_id=option,
                    voter_key="a:during-the-pass",
                    created_at=START,
                    updated_at=START,
                )
            )
            connection.commit()
            stored.extend(result.inserted_primary_key or ())
        return found

    monkeypatch.setattr(detection, "find_candidates", find_while_a_vote_comes_in)
    found = integrity.scan_poll(poll_id)
    db.session.commit()
    writer.dispose()
    assert len(stored) == 1
    assert [(g.kind, g.origin) for g in found] == [("address", "suspect")]
    db.session.remove()
    assert db.session.get(Vote, stored[0]) is not None
    (group,) = db.session.scalars(select(IntegrityGroup).where(IntegrityGroup.poll_id == poll_id))
    assert _members(db, group) == 60
