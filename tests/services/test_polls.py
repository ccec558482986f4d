from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.errors import InvalidInput
from webapp.models import PollOption, Vote, utcnow
from webapp.services import polls
from webapp.services.polls import Voter, wilson_interval


def test_wilson_interval_matches_known_values():
    low, high = wilson_interval(50, 100)
    assert round(low, 4) == 0.4038 and round(high, 4) == 0.5962
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson_interval(10, 10)
    assert round(low, 4) == 0.7225 and high == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 0.0)


def _counts(db, poll):
    db.session.expire_all()
    return {option.label: option.vote_count for option in poll.options}


def _voter(n: int) -> Voter:
    return Voter(f"a:voter{n}", None)


def test_first_vote_counts_and_voting_again_moves_the_vote(app, db, make_article):
    poll = make_article(poll=True).poll
    yes, no, _ = poll.options
    first = polls.cast_vote(poll, _voter(1), yes.id)
    db.session.commit()
    assert first.created and first.changed
    assert _counts(db, poll) == {"Yes": 1, "No": 0, "Too early to tell": 0}
    moved = polls.cast_vote(poll, _voter(1), no.id)
    db.session.commit()
    assert not moved.created and moved.changed
    assert _counts(db, poll) == {"Yes": 0, "No": 1, "Too early to tell": 0}
    same = polls.cast_vote(poll, _voter(1), no.id)
    db.session.commit()
    assert not same.changed
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1


def test_withdrawing_removes_the_vote_and_its_tally(app, db, make_article):
    poll = make_article(poll=True).poll
    polls.cast_vote(poll, _voter(1), poll.options[0].id)
    db.session.commit()
    assert polls.withdraw_vote(poll, "a:voter1") is True
    db.session.commit()
    assert _counts(db, poll)["Yes"] == 0
    assert polls.withdraw_vote(poll, "a:voter1") is False


def test_tallies_equal_a_recount_after_many_moves_and_withdrawals(app, db, make_article):
    poll = make_article(poll=True).poll
    ids = [option.id for option in poll.options]
    for n in range(30):
        polls.cast_vote(poll, _voter(n), ids[n % 3])
    for n in range(0, 30, 2):
        polls.cast_vote(poll, _voter(n), ids[(n + 1) % 3])
    for n in range(0, 30, 5):
        polls.withdraw_vote(poll, f"a:voter{n}")
    db.session.commit()
    assert polls.recount() == []
    counted = dict(
        db.session.execute(select(Vote.option_id, func.count()).group_by(Vote.option_id))
        .tuples()
        .all()
    )
    db.session.expire_all()
    assert {o.id: o.vote_count for o in poll.options} == {i: counted.get(i, 0) for i in ids}


def test_recount_repairs_and_reports_drift(app, db, make_article):
    poll = make_article(poll=True).poll
    polls.cast_vote(poll, _voter(1), poll.options[0].id)
    db.session.commit()
    poll.options[0].vote_count = 7  # corrupted by hand
    db.session.commit()
    drifts = polls.recount()
    db.session.commit()
    assert [(d.stored, d.counted) for d in drifts] == [(7, 1)]
    assert _counts(db, poll)["Yes"] == 1


def test_a_vote_for_an_option_of_another_poll_is_refused(app, db, make_article):
    poll = make_article(poll=True).poll
    other = make_article(poll=True).poll
    with pytest.raises(InvalidInput):
        polls.cast_vote(poll, _voter(1), other.options[0].id)
    db.session.rollback()


def test_the_database_itself_refuses_a_cross_poll_vote_and_a_second_vote(app, db, make_article):
    poll = make_article(poll=True).poll
    other = make_article(poll=True).poll
    now = utcnow()
    db.session.add(
        Vote(
            poll_id=poll.id,
            option_id=other.options[0].id,
            voter_key="a:x",
            created_at=now,
            updated_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(
        Vote(
            poll_id=poll.id,
            option_id=poll.options[0].id,
            voter_key="a:y",
            created_at=now,
            updated_at=now,
        )
    )
    db.session.commit()
    db.session.add(
        Vote(
            poll_id=poll.id,
            option_id=poll.options[1].id,
            voter_key="a:y",
            created_at=now,
            updated_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_closed_poll_refuses_votes_and_withdrawals(app, db, make_article):
    poll = make_article(poll={"closes_at": utcnow() + timedelta(hours=1)}).poll
    polls.cast_vote(poll, _voter(1), poll.options[0].id)
    db.session.commit()
    later = utcnow() + timedelta(hours=2)
    with pytest.raises(polls.PollClosed):
        polls.cast_vote(poll, _voter(2), poll.options[0].id, moment=later)
    with pytest.raises(polls.PollClosed):
        polls.withdraw_vote(poll, "a:voter1", moment=later)
    assert polls.results(poll, later).closed is True


def test_results_shares_and_intervals(app, db, make_article):
    poll = make_article(poll=True).poll
    for n in range(4):
        polls.cast_vote(poll, _voter(n), poll.options[0].id if n < 3 else poll.options[1].id)
    db.session.commit()
    result = polls.results(poll)
    assert result.total == 4
    yes, no, later = result.options
    assert (yes.votes, yes.share) == (3, 0.75)
    assert (no.votes, no.share) == (1, 0.25)
    assert (later.votes, later.share, later.ci_low) == (0, 0.0, 0.0)
    assert (yes.ci_low, yes.ci_high) == wilson_interval(3, 4)
    assert result.leader.label == "Yes"


@pytest.mark.parametrize(
    "visibility, voted, closed, expected",
    [
        ("always", False, False, True),
        ("after_vote", False, False, False),
        ("after_vote", True, False, True),
        ("after_vote", False, True, True),
        ("after_close", True, False, False),
        ("after_close", False, True, True),
    ],
)
def test_results_visibility_for_readers(
    app, make_article, make_user, visibility, voted, closed, expected
):
    poll = make_article(
        poll={
            "results_visibility": visibility,
            "closes_at": utcnow() - timedelta(days=1) if closed else None,
        }
    ).poll
    assert polls.results_visible(poll, make_user(), voted) is expected
    assert polls.results_visible(poll, None, voted) is expected


def test_editors_and_moderators_always_see_results(app, make_article, make_user):
    poll = make_article(poll={"results_visibility": "after_close"}).poll
    for role in ("editor", "moderator", "admin"):
        assert polls.results_visible(poll, make_user(role=role), False)


def test_anonymous_vote_becomes_the_accounts_vote_unless_it_already_voted(
    app, db, make_article, make_user
):
    first = make_article(poll=True).poll
    second = make_article(poll=True).poll
    user = make_user()
    polls.cast_vote(first, Voter("a:visitor", None), first.options[0].id)
    polls.cast_vote(second, Voter("a:visitor", None), second.options[0].id)
    polls.cast_vote(second, Voter(polls.user_voter_key(user), user.id), second.options[1].id)
    db.session.commit()
    assert polls.adopt_anonymous_vote("a:visitor", user) == 1
    db.session.commit()
    assert polls.my_vote(first, polls.user_voter_key(user)) == first.options[0].id
    assert polls.my_vote(second, polls.user_voter_key(user)) == second.options[1].id
    assert polls.recount() == []


def test_timeline_counts_votes_per_option_per_day(app, db, make_article):
    poll = make_article(poll=True).poll
    yes, no, _ = poll.options
    day1 = utcnow() - timedelta(days=2)
    day2 = utcnow() - timedelta(days=1)
    polls.cast_vote(poll, _voter(1), yes.id, moment=day1)
    polls.cast_vote(poll, _voter(2), yes.id, moment=day1)
    polls.cast_vote(poll, _voter(3), no.id, moment=day2)
    polls.cast_vote(poll, _voter(1), no.id, moment=day2)  # moves from yes to no
    db.session.commit()
    days = polls.timeline(poll)
    assert [d.day for d in days] == [day1.date(), day2.date()]
    assert days[0].cast == {yes.id: 2, no.id: 0, poll.options[2].id: 0}
    assert days[0].standing[yes.id] == 2
    assert days[1].cast[no.id] == 2
    assert days[1].standing == {yes.id: 1, no.id: 2, poll.options[2].id: 0}
    assert days[1].share(no.id) == pytest.approx(2 / 3)


def test_export_rows_have_no_personal_data(app, db, make_article, make_user):
    poll = make_article(poll=True).poll
    user = make_user()
    polls.cast_vote(poll, Voter(polls.user_voter_key(user), user.id, "hash"), poll.options[0].id)
    polls.cast_vote(poll, _voter(9), poll.options[1].id)
    db.session.commit()
    rows = list(polls.export_rows(poll.id, {o.id: o.label for o in poll.options}))
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, "Yes", "account"), (2, "No", "anonymous")]
    assert all(len(row) == 5 for row in rows)
    flat = " ".join(str(value) for row in rows for value in row)
    assert user.email not in flat and user.display_name not in flat and "hash" not in flat


def test_option_tallies_never_go_negative(app, db, make_article):
    poll = make_article(poll=True).poll
    option = db.session.get(PollOption, poll.options[0].id)
    option.vote_count = -1
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_who_may_vote_is_one_rule_in_the_order_a_vote_reports(app, db, make_article, make_user):
    from webapp.errors import Banned
    from webapp.services.polls import Refusal

    closed_draft = make_article(
        status="draft", poll={"closes_at": utcnow() - timedelta(days=1)}
    ).poll
    banned = make_user()
    banned.banned_at = utcnow()
    reader = make_user()
    db.session.flush()
    assert polls.refusals(closed_draft, None) == (
        Refusal.SIGN_IN,
        Refusal.NOT_PUBLISHED,
        Refusal.CLOSED,
    )
    assert polls.refusals(closed_draft, banned) == (
        Refusal.BANNED,
        Refusal.NOT_PUBLISHED,
        Refusal.CLOSED,
    )
    assert polls.refusals(closed_draft, reader) == (Refusal.NOT_PUBLISHED, Refusal.CLOSED)
    open_poll = make_article(poll={"allow_anonymous": True}).poll
    assert polls.refusals(open_poll, None) == () and polls.refusals(open_poll, reader) == ()
    with pytest.raises(Banned):
        polls.ensure_may_vote(closed_draft, banned)
    with pytest.raises(polls.AnonymousVotingNotAllowed):
        polls.ensure_may_vote(closed_draft, None)
    with pytest.raises(polls.PollNotPublished):
        polls.ensure_may_vote(closed_draft, reader)


def test_a_visitor_gets_an_anonymous_id_only_when_their_vote_is_let_through(app, db, make_article):
    minted = []

    def mint() -> str:
        minted.append("x")
        return "visitor"

    accounts_only = make_article(poll=True).poll
    with pytest.raises(polls.AnonymousVotingNotAllowed):
        polls.voter_for(accounts_only, polls.Visitor(None, mint, "hash"))
    assert minted == []
    anyone = make_article(poll={"allow_anonymous": True}).poll
    assert polls.voter_for(anyone, polls.Visitor(None, mint, "hash")) == Voter(
        "a:visitor", None, "hash"
    )
    assert minted == ["x"]


def test_the_page_view_carries_every_fact_the_poll_section_shows(app, db, make_article, make_user):
    poll = make_article(poll={"results_visibility": "after_vote"}).poll
    signed_out = polls.view_of(poll, None, None)
    assert signed_out.sign_in_to_vote and not signed_out.can_vote and not signed_out.closed
    assert signed_out.results is None and signed_out.results_after_vote
    reader = make_user()
    db.session.flush()
    polls.cast_vote(poll, Voter(polls.user_voter_key(reader), reader.id), poll.options[1].id)
    mine = polls.view_for(poll, reader, polls.user_voter_key(reader))
    assert mine.can_vote and not mine.sign_in_to_vote and mine.my_vote == poll.options[1].id
    assert mine.results is not None and mine.results.total == 1
    later = utcnow() + timedelta(days=1)
    poll.closes_at = later - timedelta(hours=1)
    closed = polls.view_of(poll, reader, None, later)
    assert closed.closed and closed.refusals == (polls.Refusal.CLOSED,)
    assert closed.results is not None  # after the close, for everyone


def test_withdrawing_takes_the_readers_own_vote_and_refuses_the_banned(
    app, db, make_article, make_user
):
    from webapp.errors import Banned

    poll = make_article(poll={"allow_anonymous": True}).poll
    polls.cast_vote(poll, Voter("a:visitor", None), poll.options[0].id)
    assert polls.withdraw(poll, None, None) is False  # no cookie: no vote to take back
    assert polls.withdraw(poll, None, "visitor") is True
    assert polls.withdraw(poll, None, "visitor") is False
    banned = make_user()
    banned.banned_at = utcnow()
    db.session.flush()
    with pytest.raises(Banned):
        polls.withdraw(poll, banned, None)
