"""The vote history (issue 20, "minds changed"): the database appends a row for every
first vote, move and withdrawal in the statement that made it, keeps set-aside votes'
rows out of the flow, and the service counts the moves between answers by day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from webapp.csv_export import text as csv_text
from webapp.models import Vote, VoteChange, utcnow
from webapp.services import polls
from webapp.services.polls import Voter
from webapp.services.polls.minds_changed import csv_table, minds_changed

DAY1 = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
DAY3 = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def _history(db, poll) -> list[tuple[str | None, str | None, bool, bool]]:
    """(from, to, signed_in, set_aside) of the poll's history rows, by label, in order."""
    labels = {option.id: option.label for option in poll.options}
    rows = db.session.execute(
        sa.select(
            VoteChange.from_option_id,
            VoteChange.to_option_id,
            VoteChange.signed_in,
            VoteChange.set_aside,
        )
        .where(VoteChange.poll_id == poll.id)
        .order_by(VoteChange.id)
    ).all()
    return [
        (labels.get(source) if source else None, labels.get(target) if target else None, si, sa_)
        for source, target, si, sa_ in rows
    ]


def _voter(n: int) -> Voter:
    return Voter(f"a:voter{n}", None)


def _set_aside(db, poll, keys: list[str], when: datetime | None) -> None:
    """As the integrity decisions do it: one set-based UPDATE of many votes."""
    db.session.execute(
        sa.update(Vote)
        .where(Vote.poll_id == poll.id, Vote.voter_key.in_(keys))
        .values(set_aside_at=when)
        .execution_options(synchronize_session=False)
    )


def test_first_vote_move_withdrawal_and_revote_each_append_one_row(db, make_article):
    poll = make_article(poll=True).poll
    yes, no, early = poll.options
    polls.cast_vote(poll, _voter(1), yes.id, DAY1)
    db.session.commit()
    assert _history(db, poll) == [(None, "Yes", False, False)]

    polls.cast_vote(poll, _voter(1), no.id, DAY2)
    polls.cast_vote(poll, _voter(1), no.id, DAY2)  # the same answer again: no change
    db.session.commit()
    assert _history(db, poll)[1:] == [("Yes", "No", False, False)]

    assert polls.withdraw_vote(poll, "a:voter1") is True
    db.session.commit()
    polls.cast_vote(poll, _voter(1), early.id, DAY3)
    db.session.commit()
    assert _history(db, poll)[2:] == [
        ("No", None, False, False),
        (None, "Too early to tell", False, False),
    ]

    changed_at = db.session.scalars(
        sa.select(VoteChange.changed_at)
        .where(VoteChange.poll_id == poll.id)
        .order_by(VoteChange.id)
    ).all()
    assert changed_at[0] == DAY1  # the first vote: its created_at
    assert changed_at[1] == DAY2  # the move: the vote's new updated_at
    before = utcnow()
    assert abs((changed_at[2] - before).total_seconds()) < 60  # the withdrawal: the database's now
    assert changed_at[3] == DAY3


def test_a_signed_in_vote_is_marked_and_an_adoption_writes_no_row(db, make_article, make_user):
    poll = make_article(
        poll=True,
    ).poll
    yes, no, _ = poll.options
    reader = make_user()
    polls.cast_vote(poll, Voter(f"u:{reader.id}", reader.id), yes.id, DAY1)
    polls.cast_vote(poll, Voter("a:visitor", None), no.id, DAY1)
    db.session.commit()
    newcomer = make_user()
    assert polls.adopt_anonymous_vote("a:visitor", newcomer) == 1
    db.session.commit()
    assert _history(db, poll) == [(None, "Yes", True, False), (None, "No", False, False)]
    # The adopted vote's next move is an account's.
    polls.cast_vote(poll, Voter(f"u:{newcomer.id}", newcomer.id), yes.id, DAY2)
    db.session.commit()
    assert _history(db, poll)[-1] == ("No", "Yes", True, False)


def test_setting_aside_marks_the_votes_history_and_restoring_clears_it(db, make_article):
    poll = make_article(poll=True).poll
    yes, no, _ = poll.options
    for n in (1, 2, 3):
        polls.cast_vote(poll, _voter(n), yes.id, DAY1)
        polls.cast_vote(poll, _voter(n), no.id, DAY2)
    db.session.commit()
    assert minds_changed(poll).moves == {(yes.id, no.id): 3}

    _set_aside(db, poll, ["a:voter1", "a:voter2"], DAY3)
    db.session.commit()
    assert [row[3] for row in _history(db, poll)] == [True, True, True, True, False, False]
    changed = minds_changed(poll)
    assert changed.moves == {(yes.id, no.id): 1}
    assert changed.readers_who_moved == 1

    # A set-aside vote that moves again writes its row set aside; restored, all count.
    polls.cast_vote(poll, _voter(1), yes.id, DAY3)
    db.session.commit()
    assert _history(db, poll)[-1] == ("No", "Yes", False, True)
    _set_aside(db, poll, ["a:voter1"], None)
    db.session.commit()
    changed = minds_changed(poll)
    assert changed.moves == {(yes.id, no.id): 2, (no.id, yes.id): 1}
    assert changed.readers_who_moved == 2


def test_a_set_aside_vote_withdrawn_stays_out(db, make_article):
    poll = make_article(poll=True).poll
    yes, no, _ = poll.options
    polls.cast_vote(poll, _voter(1), yes.id, DAY1)
    polls.cast_vote(poll, _voter(2), no.id, DAY1)
    db.session.commit()
    _set_aside(db, poll, ["a:voter1"], DAY2)
    db.session.commit()
    polls.withdraw_vote(poll, "a:voter1")
    polls.withdraw_vote(poll, "a:voter2")
    db.session.commit()
    assert _history(db, poll)[2:] == [("Yes", None, False, True), ("No", None, False, False)]
    assert minds_changed(poll).withdrawals == {no.id: 1}


def test_a_reused_vote_id_does_not_set_aside_the_earlier_votes_history(db, make_article):
    """SQLite gives a new row the id of the last row deleted when it was the largest:
    the earlier vote's history must not follow the new vote's set-aside."""
    poll = make_article(poll=True).poll
    yes, no, _ = poll.options
    polls.cast_vote(poll, _voter(1), yes.id, DAY1)
    polls.cast_vote(poll, _voter(1), no.id, DAY2)
    db.session.commit()
    old_id = db.session.scalar(sa.select(Vote.id).where(Vote.voter_key == "a:voter1"))
    polls.withdraw_vote(poll, "a:voter1")
    db.session.commit()
    # The same id again, as SQLite may choose (PostgreSQL never does; forced here).
    db.session.execute(
        Vote.__table__.insert().values(
            id=old_id, poll_id=poll.id, option_id=yes.id, voter_key="a:voter9",
            created_at=DAY3, updated_at=DAY3,
        )
    )  # fmt: skip
    _set_aside(db, poll, ["a:voter9"], DAY3)
    db.session.commit()
    assert [row[3] for row in _history(db, poll)] == [False, False, False, True]
    changed = minds_changed(poll)
    assert changed.moves == {(yes.id, no.id): 1}
    assert changed.withdrawals == {no.id: 1}


def test_deleting_an_option_or_the_poll_is_no_withdrawal(db, make_article):
    article = make_article(poll=True)
    poll = article.poll
    yes, no, early = poll.options
    polls.cast_vote(poll, _voter(1), early.id, DAY1)
    polls.cast_vote(poll, _voter(2), yes.id, DAY1)
    db.session.commit()
    poll_id = poll.id
    db.session.execute(sa.delete(type(early)).where(type(early).id == early.id))
    db.session.commit()
    assert _history(db, poll) == [(None, "Yes", False, False)]
    db.session.execute(sa.delete(type(poll)).where(type(poll).id == poll_id))
    db.session.commit()
    count = sa.select(sa.func.count()).select_from(VoteChange).where(VoteChange.poll_id == poll_id)
    assert db.session.scalar(count) == 0


def test_the_service_counts_moves_by_pair_and_day_and_withdrawals_apart(db, make_article):
    poll = make_article(poll=True).poll
    yes, no, early = poll.options
    for n in range(1, 6):
        polls.cast_vote(poll, _voter(n), yes.id, DAY1)  # first votes: not moves
    polls.cast_vote(poll, _voter(1), no.id, DAY1)
    polls.cast_vote(poll, _voter(2), no.id, DAY2)
    polls.cast_vote(poll, _voter(3), early.id, DAY2)
    polls.cast_vote(poll, _voter(1), yes.id, DAY3)  # voter 1 changes their mind twice
    db.session.commit()
    polls.withdraw_vote(poll, "a:voter4")
    db.session.commit()
    changed = minds_changed(poll)
    assert changed.moves == {(yes.id, no.id): 2, (yes.id, early.id): 1, (no.id, yes.id): 1}
    assert changed.total_moves == 4
    assert changed.readers_who_moved == 3
    assert changed.withdrawals == {yes.id: 1}
    assert changed.moved_from(yes.id) == 3 and changed.moved_to(yes.id) == 1
    assert [(d.day, d.total_moves) for d in changed.days[:3]] == [
        (date(2026, 3, 1), 1),
        (date(2026, 3, 2), 2),
        (date(2026, 3, 3), 1),
    ]
    assert changed.days[1].moves == {(yes.id, no.id): 1, (yes.id, early.id): 1}
    assert sum(d.total_withdrawals for d in changed.days) == 1
    assert changed.pairs() == [(yes.id, no.id, 2), (yes.id, early.id, 1), (no.id, yes.id, 1)]

    lines = csv_text(csv_table(changed)).splitlines()
    assert lines[0] == '"day","change","from_answer","to_answer","votes"'
    assert lines[1] == '"2026-03-01","move","Yes","No",1'
    assert lines[2:4] == [
        '"2026-03-02","move","Yes","No",1',
        '"2026-03-02","move","Yes","Too early to tell",1',
    ]
    assert lines[4] == '"2026-03-03","move","No","Yes",1'
    assert lines[5].endswith('"withdrawal","Yes","",1')


def test_nobody_changed_their_mind(db, make_article):
    poll = make_article(poll=True).poll
    polls.cast_vote(poll, _voter(1), poll.options[0].id, DAY1)
    db.session.commit()
    changed = minds_changed(poll)
    assert changed.nobody_changed and changed.days == [] and changed.readers_who_moved == 0


def test_the_service_reads_two_grouped_queries(db, make_article, count_queries):
    poll = make_article(poll=True).poll
    for n in range(1, 20):
        polls.cast_vote(poll, _voter(n), poll.options[n % 3].id, DAY1)
        polls.cast_vote(poll, _voter(n), poll.options[(n + 1) % 3].id, DAY2)
    db.session.commit()
    poll.options  # noqa: B018 (loaded before counting)
    with count_queries() as queries:
        minds_changed(poll)
    assert len(queries) == 2


ROUNDS = 20


@pytest.mark.postgres_only
def test_moves_and_set_asides_at_once_neither_deadlock_nor_lose_history(app, db, make_article):
    """Readers move their votes while decisions set them aside and restore them, all
    at once: no deadlock (the history trigger fires after the tally and tone triggers
    and locks only the history of the vote its statement holds), and afterwards every
    vote's last history row is its current answer, set aside exactly when it is."""
    import threading

    from webapp.extensions import db as _db
    from webapp.services.polls import lock_for_set_aside

    poll = make_article(poll=True).poll
    option_ids = [option.id for option in poll.options]
    for n in range(6):
        polls.cast_vote(poll, _voter(n), option_ids[n % 3], DAY1)
    db.session.commit()
    poll_id = poll.id
    vote_ids = sorted(db.session.scalars(sa.select(Vote.id).where(Vote.poll_id == poll_id)))

    def mover(n: int):
        def work() -> None:
            for k in range(ROUNDS):
                _db.session.execute(
                    sa.update(Vote)
                    .where(Vote.voter_key == f"a:voter{n}")
                    .values(option_id=option_ids[(n + k + 1) % 3], updated_at=utcnow())
                )
                _db.session.commit()

        return work

    def decider() -> None:
        for k in range(ROUNDS):
            lock_for_set_aside(poll_id, vote_ids)
            _db.session.execute(
                sa.update(Vote)
                .where(Vote.id.in_(vote_ids))
                .values(set_aside_at=utcnow() if k % 2 == 0 else None)
                .execution_options(synchronize_session=False)
            )
            _db.session.commit()

    works = [mover(n) for n in range(6)] + [decider, decider]
    barrier = threading.Barrier(len(works))
    errors: list[BaseException] = []

    def run(work) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work()
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors

    db.session.expire_all()
    for vote in db.session.scalars(sa.select(Vote).where(Vote.poll_id == poll_id)):
        rows = db.session.execute(
            sa.select(VoteChange.to_option_id, VoteChange.set_aside)
            .where(VoteChange.vote_id == vote.id)
            .order_by(VoteChange.id)
        ).all()
        assert len(rows) == ROUNDS + 1  # the first vote and every move
        assert rows[-1][0] == vote.option_id
        assert {aside for _, aside in rows} == {vote.set_aside_at is not None}


def test_a_drafts_tried_out_votes_leave_no_history_at_publication(db, make_article):
    """Votes an editor cast while the article was a draft go at first publication (the
    poll starts from none); their history goes with them rather than showing as
    readers withdrawing."""
    from webapp.services import articles

    article = make_article(poll=True, status="draft")
    poll = article.poll
    yes, no, _ = poll.options
    # A draft's poll takes no votes now; an older one may hold some: written directly.
    db.session.add(Vote(poll_id=poll.id, option_id=yes.id, voter_key="a:tried-out"))
    db.session.commit()
    db.session.execute(
        sa.update(Vote).where(Vote.voter_key == "a:tried-out").values(option_id=no.id)
    )
    db.session.commit()
    assert len(_history(db, poll)) == 2  # the first vote and the move
    articles.publish(article)
    db.session.commit()
    assert _history(db, poll) == []
    changed = minds_changed(poll)
    assert (changed.moves, changed.withdrawals, changed.readers_who_moved) == ({}, {}, 0)
