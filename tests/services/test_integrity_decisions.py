"""Editors' decisions on groups of votes (webapp.services.integrity.decisions) and the
integrity report (webapp.services.integrity.report)."""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.integrity_data import ALL_NO, START, Answers, add_votes, tallies
from webapp.caching import results as results_cache
from webapp.errors import InvalidInput, NotFound
from webapp.models import IntegrityGroup, ModerationAction, Poll, Vote
from webapp.services import integrity
from webapp.services import polls as poll_rules

MOMENT = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def poll(make_article):
    return make_article(poll={"allow_anonymous": True}).poll


@pytest.fixture
def editor(make_user):
    return make_user("editor")


def _suspect_address(db, poll, votes: int = 60) -> IntegrityGroup:
    """1,000 honest votes and ``votes`` from one address, three in four 'No': a group
    the pass flags and leaves to an editor."""
    add_votes(poll, 1000)
    add_votes(poll, votes, Answers((0.0, 0.75)), address="suspect")
    (group,) = integrity.scan_poll(poll.id)
    db.session.commit()
    assert group.status == "suspect"
    return group


def _entries(db, action: str) -> list[ModerationAction]:
    return list(
        db.session.scalars(
            select(ModerationAction)
            .where(ModerationAction.action == action)
            .order_by(ModerationAction.id)
        )
    )


def _set_aside_votes(db, poll) -> int:
    return db.session.scalar(
        select(func.count()).where(Vote.poll_id == poll.id, Vote.set_aside_at.is_not(None))
    )


def test_setting_a_group_aside_takes_its_votes_out_of_the_counts_and_logs_it(db, poll, editor):
    group = _suspect_address(db, poll)
    before = tallies(poll)
    decided = integrity.decide(group.id, poll.id, "set_aside", editor, "One office", MOMENT)
    db.session.commit()
    assert decided.status == "set_aside" and not decided.automatic
    assert decided.decided_by_id == editor.id and decided.decision_reason == "One office"
    after = tallies(poll)
    assert after["No"] == (before["No"][0] - 45, 45)
    assert after["Too early to tell"] == (before["Too early to tell"][0] - 15, 15)
    assert after["Yes"] == before["Yes"]
    assert _set_aside_votes(db, poll) == 60
    (entry,) = _entries(db, "set_aside_votes")
    assert entry.actor_id == editor.id and entry.reason == "One office"
    assert entry.details == {
        "article_id": poll.article_id,
        "article_slug": poll.article.slug,
        "poll_id": poll.id,
        "group_id": group.id,
        "kind": "address",
        "votes": 60,
    }
    # The public results count only what is left.
    shown = poll_rules.results(db.session.get(Poll, poll.id))
    assert shown.total == 1000


def test_restoring_counts_the_votes_again_and_the_pass_respects_it(db, poll, editor):
    add_votes(poll, 1000)
    add_votes(poll, 3000, ALL_NO, address="bot")
    (group,) = integrity.scan_poll(poll.id)
    db.session.commit()
    assert group.status == "set_aside" and group.automatic
    integrity.decide(group.id, poll.id, "restore", editor, "A real campaign office", MOMENT)
    db.session.commit()
    assert tallies(poll)["No"] == (310 + 3000, 0)
    assert _set_aside_votes(db, poll) == 0
    (entry,) = _entries(db, "restore_votes")
    assert entry.actor_id == editor.id
    # The next pass finds the group again and leaves the editor's decision alone.
    add_votes(poll, 10, ALL_NO, address="bot", start=START + timedelta(hours=11))
    (again,) = integrity.scan_poll(poll.id)
    db.session.commit()
    assert again.id == group.id and again.status == "suspect" and again.votes == 3010
    assert _set_aside_votes(db, poll) == 0


def test_a_vote_stays_set_aside_while_any_set_aside_group_holds_it(db, poll, editor):
    add_votes(poll, 1000)
    # One address in a burst: an address group (set aside by the pass) and a rate
    # burst holding the same votes and the window's honest ones.
    add_votes(
        poll,
        3000,
        ALL_NO,
        address="bot",
        start=START + timedelta(hours=2, minutes=1),
        spread=timedelta(minutes=8),
    )
    groups = {g.kind: g for g in integrity.scan_poll(poll.id)}
    db.session.commit()
    assert groups["address"].status == "set_aside"
    burst = groups["rate_burst"]
    assert burst.status == "suspect" and burst.votes > 3000
    integrity.decide(burst.id, poll.id, "set_aside", editor, None, MOMENT)
    db.session.commit()
    assert _set_aside_votes(db, poll) == burst.votes
    integrity.decide(groups["address"].id, poll.id, "restore", editor, None, MOMENT)
    db.session.commit()
    # Still held by the burst.
    assert _set_aside_votes(db, poll) == burst.votes
    integrity.decide(burst.id, poll.id, "restore", editor, None, MOMENT)
    db.session.commit()
    assert _set_aside_votes(db, poll) == 0
    assert sum(counted for counted, _ in tallies(poll).values()) == 4000


def test_a_cleared_group_is_flagged_again_only_when_it_doubles(db, poll, editor):
    group = _suspect_address(db, poll)
    integrity.decide(group.id, poll.id, "clear", editor, "A newsroom", MOMENT)
    db.session.commit()
    assert group.status == "cleared" and group.details["cleared_at_votes"] == 60
    assert [e.reason for e in _entries(db, "clear_votes")] == ["A newsroom"]
    assert _set_aside_votes(db, poll) == 0
    # Grown by half: still cleared (its numbers follow).
    add_votes(poll, 30, Answers((0.0, 0.75)), address="suspect", offset=60)
    (again,) = integrity.scan_poll(poll.id)
    db.session.commit()
    assert again.id == group.id and again.status == "cleared" and again.votes == 90
    # Twice its size at clearing: suspect again, for an editor to look at once more.
    add_votes(poll, 30, Answers((0.0, 0.75)), address="suspect", offset=90)
    (again,) = integrity.scan_poll(poll.id)
    db.session.commit()
    assert again.status == "suspect" and again.votes == 120
    assert "reflagged_at" in again.details
    assert _set_aside_votes(db, poll) == 0


def test_setting_aside_switches_a_willing_poll_to_signed_in_readers_only(db, poll, editor):
    group = _suspect_address(db, poll)
    poll.signed_in_only_under_attack = True
    db.session.commit()
    integrity.decide(group.id, poll.id, "set_aside", editor, None, MOMENT)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Poll, poll.id).under_attack_since == MOMENT
    integrity.decide(group.id, poll.id, "clear", editor, None, MOMENT + timedelta(hours=1))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Poll, poll.id).under_attack_since is None


def test_a_poll_that_did_not_ask_for_it_stays_open_to_everyone(db, poll, editor):
    group = _suspect_address(db, poll)
    integrity.decide(group.id, poll.id, "set_aside", editor, None, MOMENT)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Poll, poll.id).under_attack_since is None


def test_unknown_groups_and_actions_are_refused(db, poll, editor, make_article):
    group = _suspect_address(db, poll)
    other = make_article(poll=True).poll
    with pytest.raises(NotFound):
        integrity.decide(group.id, other.id, "set_aside", editor, None)
    with pytest.raises(NotFound):
        integrity.decide(group.id + 1000, poll.id, "set_aside", editor, None)
    with pytest.raises(InvalidInput):
        integrity.decide(group.id, poll.id, "delete", editor, None)
    db.session.rollback()
    assert _set_aside_votes(db, poll) == 0
    assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == 0


def _cached_total(slug: str) -> int:
    return sum(o.vote_count for o in poll_rules.cached_poll_for_article(slug, None).options)


def _read_elsewhere(app, slug: str) -> int:
    """A request of another reader, in its own app context and session."""
    with app.test_request_context("/", method="GET"):
        return _cached_total(slug)


def test_no_answer_shows_a_set_aside_vote_after_the_decision(app, db, poll, editor):
    app.config["RESULTS_CACHE_SECONDS"] = 60.0
    results_cache.clear()
    try:
        group = _suspect_address(db, poll)
        slug = poll.article.slug
        assert _cached_total(slug) == 1060
        integrity.decide(group.id, poll.id, "set_aside", editor, None, MOMENT)
        # Another reader, before the commit, reads the figures from before and
        # caches them...
        assert contextvars.Context().run(_read_elsewhere, app, slug) == 1060
        db.session.commit()
        # ...but no answer after the commit shows them.
        assert _cached_total(slug) == 1000
        integrity.decide(group.id, poll.id, "restore", editor, None, MOMENT)
        db.session.commit()
        assert _cached_total(slug) == 1060
    finally:
        results_cache.clear()


def test_the_report_reads_the_tallies_and_the_groups(db, poll, count_queries):
    add_votes(poll, 1000)
    add_votes(
        poll,
        3000,
        ALL_NO,
        address="bot",
        start=START + timedelta(hours=2, minutes=1),
        spread=timedelta(minutes=8),
    )
    integrity.scan_poll(poll.id)
    db.session.commit()
    db.session.expire_all()
    fresh = db.session.get(Poll, poll.id)
    with count_queries() as queries:
        report = integrity.integrity_report(fresh)
    assert not any("FROM votes" in q for q in queries)
    assert report.total == 4000 and report.counted == 1000 and report.set_aside == 3000
    assert [g.kind for g in report.groups] == ["rate_burst", "address"]
    assert [g.votes for g in report.groups] == sorted(
        (g.votes for g in report.groups), reverse=True
    )
    clean = {o.label: o for o in report.clean.options}
    raw = {o.label: o for o in report.raw.options}
    assert report.clean.total == 1000 and report.raw.total == 4000
    assert clean["No"].votes == 310 and clean["No"].share == pytest.approx(0.31)
    assert raw["No"].votes == 3310 and raw["No"].share == pytest.approx(3310 / 4000)
    assert clean["Yes"].ci_low < 0.6 < clean["Yes"].ci_high
    # The clean results are the public ones.
    assert report.clean == poll_rules.results(fresh)
    assert report.scanned_at is not None and report.under_attack_since is None


def test_asking_for_signed_in_readers_after_a_set_aside_takes_effect_at_the_next_pass(
    db, poll, editor
):
    group = _suspect_address(db, poll)
    integrity.decide(group.id, poll.id, "set_aside", editor, None, MOMENT)
    db.session.commit()
    poll.signed_in_only_under_attack = True
    db.session.commit()
    add_votes(poll, 5, ALL_NO, address="suspect", start=START + timedelta(hours=11))
    assert integrity.scan_due(MOMENT + timedelta(minutes=1)) == 1
    db.session.expire_all()
    assert db.session.get(Poll, poll.id).under_attack_since == MOMENT + timedelta(minutes=1)
