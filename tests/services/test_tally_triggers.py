"""The database keeps the poll tallies itself: writes made with plain SQL, outside the
app's rules, still move the option tallies and the daily rollup (tally_triggers)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from webapp.models import Article, PollDailyTally, PollOption, Vote, utcnow
from webapp.services import polls

DAY1 = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


def _tallies(db, poll) -> list[int]:
    db.session.expire_all()
    return [option.vote_count for option in poll.options]


def _rollup(db, poll) -> dict[tuple[int, str], tuple[int, int]]:
    rows = db.session.execute(
        sa.select(
            PollDailyTally.option_id,
            PollDailyTally.day,
            PollDailyTally.votes_cast,
            PollDailyTally.votes_withdrawn,
        ).where(PollDailyTally.poll_id == poll.id)
    ).all()
    return {(row[0], row[1].isoformat()): (row[2], row[3]) for row in rows}


def _insert(db, poll, option, key: str, moment: datetime) -> None:
    db.session.execute(
        Vote.__table__.insert().values(
            poll_id=poll.id,
            option_id=option.id,
            voter_key=key,
            created_at=moment,
            updated_at=moment,
        )
    )


def test_a_vote_inserted_with_plain_sql_counts_on_its_utc_day(db, make_article):
    poll = make_article(poll=True).poll
    yes, no, _ = poll.options
    _insert(db, poll, yes, "a:1", DAY1)
    _insert(db, poll, yes, "a:2", DAY2)
    _insert(db, poll, no, "a:3", DAY2)
    db.session.commit()
    assert _tallies(db, poll) == [2, 1, 0]
    assert _rollup(db, poll) == {
        (yes.id, "2026-03-01"): (1, 0),
        (yes.id, "2026-03-02"): (1, 0),
        (no.id, "2026-03-02"): (1, 0),
    }


def test_moving_a_vote_with_plain_sql_moves_both_tallies_on_the_day_of_the_move(db, make_article):
    poll = make_article(poll=True).poll
    yes, no, _ = poll.options
    _insert(db, poll, yes, "a:1", DAY1)
    db.session.commit()
    db.session.execute(
        sa.update(Vote)
        .where(Vote.voter_key == "a:1")
        .values(option_id=no.id, updated_at=DAY2)
        .execution_options(synchronize_session=False)
    )
    # A change that leaves the option alone moves nothing.
    db.session.execute(
        sa.update(Vote)
        .where(Vote.voter_key == "a:1")
        .values(voter_key="u:1")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    assert _tallies(db, poll) == [0, 1, 0]
    assert _rollup(db, poll) == {
        (yes.id, "2026-03-01"): (1, 0),
        (yes.id, "2026-03-02"): (0, 1),
        (no.id, "2026-03-02"): (1, 0),
    }


def test_deleting_a_vote_with_plain_sql_counts_a_withdrawal_today(db, make_article):
    poll = make_article(poll=True).poll
    yes = poll.options[0]
    _insert(db, poll, yes, "a:1", DAY1)
    db.session.commit()
    db.session.execute(sa.delete(Vote).execution_options(synchronize_session=False))
    db.session.commit()
    assert _tallies(db, poll) == [0, 0, 0]
    today = utcnow().date().isoformat()
    assert _rollup(db, poll)[(yes.id, today)] == (0, 1)
    assert polls.recount(poll.id) == []


def test_deleting_an_article_takes_its_votes_and_tallies_with_it(db, make_article):
    article = make_article(poll=True)
    kept = make_article(poll=True).poll
    poll = article.poll
    for n, option in enumerate(poll.options):
        _insert(db, poll, option, f"a:{n}", DAY1)
    _insert(db, kept, kept.options[0], "a:kept", DAY1)
    db.session.commit()
    db.session.execute(sa.delete(Article).where(Article.id == article.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollDailyTally)) == 1
    assert db.session.scalars(sa.select(PollOption.vote_count).order_by(PollOption.id)).all() == [
        1,
        0,
        0,
    ]
    assert polls.recount() == []


def test_the_app_and_plain_sql_together_leave_no_drift(db, make_article):
    poll = make_article(poll=True).poll
    yes, no, later = poll.options
    for n in range(5):
        polls.cast_vote(poll, polls.Voter(f"a:app{n}", None), yes.id)
    polls.cast_vote(poll, polls.Voter("a:app0", None), later.id)
    polls.withdraw_vote(poll, "a:app1")
    _insert(db, poll, no, "a:sql", utcnow())
    db.session.commit()
    assert _tallies(db, poll) == [3, 1, 1]
    assert polls.recount(poll.id) == []
