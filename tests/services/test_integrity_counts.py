"""Poll integrity's counts (issue 16), kept by the database in the vote's own statement:
each option's counted votes (``vote_count``, what every public answer shows), the
signed-in ones among them, and its set-aside votes; the daily rollups of counted votes;
comment tone by vote, where an author whose vote is set aside has no vote. Votes are
cast, moved, withdrawn and adopted as the app does it, and set aside and restored by
the plain SQL UPDATE of ``votes.set_aside_at`` the integrity decisions are built on.
``polls recount`` finds and fixes a drift in each count."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from tests.insight_data import D1, D2, D3, add_comment, vote
from webapp.extensions import db as _db
from webapp.models import Article, PollDailyTally, PollOption, Vote, utcnow
from webapp.models.tone_counters import NO_VOTE, ArticleToneCount
from webapp.services import polls
from webapp.services.insights import counters, tone_by_vote
from webapp.services.polls import tallies


def _counts(db, poll) -> list[tuple[int, int, int]]:
    """(counted, signed in, set aside) per option, in the options' order."""
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(PollOption.vote_count, PollOption.signed_in_count, PollOption.set_aside_count)
            .where(PollOption.poll_id == poll.id)
            .order_by(PollOption.position)
        )
    ]


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


def _rollups_add_up(db, poll) -> None:
    """The invariant: over an option's days, cast - withdrawn is its counted votes."""
    standing: dict[int, int] = defaultdict(int)
    for (option_id, _day), (cast, withdrawn) in _rollup(db, poll).items():
        standing[option_id] += cast - withdrawn
    counted = {option.id: option.vote_count for option in poll.options}
    assert {o: standing.get(o, 0) for o in counted} == counted


def _set_aside(db, where, moment: datetime | None = None) -> None:
    db.session.execute(
        sa.update(Vote)
        .where(where)
        .values(set_aside_at=moment or utcnow())
        .execution_options(synchronize_session=False)
    )


def _restore(db, where) -> None:
    db.session.execute(
        sa.update(Vote)
        .where(where)
        .values(set_aside_at=None)
        .execution_options(synchronize_session=False)
    )


def _anonymous(n: int) -> polls.Voter:
    return polls.Voter(f"a:{n}", None)


def test_votes_cast_moved_withdrawn_and_adopted_keep_the_three_counts(db, make_article, make_user):
    poll = make_article(poll=True).poll
    yes, no, later = poll.options
    readers = [make_user() for _ in range(3)]
    vote(poll, readers[0], yes, D1)
    vote(poll, readers[1], yes, D1)
    vote(poll, readers[2], no, D1)
    polls.cast_vote(poll, _anonymous(1), yes.id, moment=D1)
    polls.cast_vote(poll, _anonymous(2), no.id, moment=D1)
    db.session.commit()
    assert _counts(db, poll) == [(3, 2, 0), (2, 1, 0), (0, 0, 0)]

    vote(poll, readers[1], later, D2)  # a signed-in move
    polls.cast_vote(poll, _anonymous(1), later.id, moment=D2)  # an anonymous move
    db.session.commit()
    assert _counts(db, poll) == [(1, 1, 0), (2, 1, 0), (2, 1, 0)]

    polls.withdraw_vote(poll, polls.user_voter_key(readers[2]))
    db.session.commit()
    assert _counts(db, poll) == [(1, 1, 0), (1, 0, 0), (2, 1, 0)]

    # The anonymous voter of "a:2" signs in: their vote becomes their account's.
    newcomer = make_user()
    assert polls.adopt_anonymous_vote("a:2", newcomer) == 1
    db.session.commit()
    assert _counts(db, poll) == [(1, 1, 0), (1, 1, 0), (2, 1, 0)]
    _rollups_add_up(db, poll)
    assert polls.recount(poll.id) == []


def test_setting_aside_and_restoring_votes_moves_counts_and_rollups(db, make_article, make_user):
    poll = make_article(poll=True).poll
    yes, no, _later = poll.options
    reader = make_user()
    vote(poll, reader, yes, D1)
    for n in range(4):
        polls.cast_vote(poll, _anonymous(n), no.id, moment=D1)
    polls.cast_vote(poll, _anonymous(0), yes.id, moment=D2)  # moved on day 2
    db.session.commit()
    assert _counts(db, poll) == [(2, 1, 0), (3, 0, 0), (0, 0, 0)]

    # The integrity checks set aside the reader's vote and two anonymous ones, one of
    # them the vote moved on day 2, in one statement, on day 3.
    chosen = [polls.user_voter_key(reader), "a:0", "a:1"]
    _set_aside(db, Vote.voter_key.in_(chosen), D3)
    db.session.commit()
    assert _counts(db, poll) == [(0, 0, 2), (2, 0, 1), (0, 0, 0)]
    # Each counts as never cast on the day it was cast for its option.
    assert _rollup(db, poll) == {
        (yes.id, "2026-03-01"): (0, 0),
        (no.id, "2026-03-01"): (3, 0),
        (no.id, "2026-03-02"): (0, 1),
        (yes.id, "2026-03-02"): (0, 0),
    }
    _rollups_add_up(db, poll)
    assert polls.recount(poll.id) == []

    # Setting aside again what is set aside moves nothing.
    _set_aside(db, Vote.voter_key.in_(chosen))
    db.session.commit()
    assert _counts(db, poll) == [(0, 0, 2), (2, 0, 1), (0, 0, 0)]

    _restore(db, Vote.voter_key.in_(chosen))
    db.session.commit()
    assert _counts(db, poll) == [(2, 1, 0), (3, 0, 0), (0, 0, 0)]
    assert _rollup(db, poll) == {
        (yes.id, "2026-03-01"): (1, 0),
        (no.id, "2026-03-01"): (4, 0),
        (no.id, "2026-03-02"): (0, 1),
        (yes.id, "2026-03-02"): (1, 0),
    }
    _rollups_add_up(db, poll)
    assert polls.recount(poll.id) == []


def test_a_set_aside_vote_stays_out_when_moved_withdrawn_or_adopted(db, make_article, make_user):
    poll = make_article(poll=True).poll
    yes, no, later = poll.options
    for n in range(3):
        polls.cast_vote(poll, _anonymous(n), yes.id, moment=D1)
    db.session.commit()
    _set_aside(db, Vote.voter_key.in_(["a:0", "a:1", "a:2"]))
    db.session.commit()
    assert _counts(db, poll) == [(0, 0, 3), (0, 0, 0), (0, 0, 0)]

    polls.cast_vote(poll, _anonymous(0), no.id, moment=D2)  # its voter votes again
    polls.withdraw_vote(poll, "a:1")
    assert polls.adopt_anonymous_vote("a:2", make_user()) == 1
    db.session.commit()
    assert _counts(db, poll) == [(0, 0, 1), (0, 0, 1), (0, 0, 0)]
    _rollups_add_up(db, poll)

    # Restored where it now stands, by its new owner.
    _restore(db, Vote.voter_key == "a:0")
    _restore(db, Vote.user_id.is_not(None))
    db.session.commit()
    assert _counts(db, poll) == [(1, 1, 0), (1, 0, 0), (0, 0, 0)]
    assert later.vote_count == 0
    _rollups_add_up(db, poll)
    assert polls.recount(poll.id) == []


def test_deleting_an_option_or_an_article_with_set_aside_votes_leaves_no_drift(db, make_article):
    article = make_article(poll=True)
    kept = make_article(poll=True).poll
    poll = article.poll
    for n, option in enumerate([*poll.options, *kept.options]):
        owner = poll if option.poll_id == poll.id else kept
        polls.cast_vote(owner, _anonymous(n), option.id, moment=D1)
        polls.cast_vote(owner, _anonymous(100 + n), option.id, moment=D1)
    db.session.commit()
    _set_aside(db, Vote.voter_key.in_([f"a:{100 + n}" for n in range(6)]))
    db.session.commit()
    assert _counts(db, kept) == [(1, 0, 1)] * 3

    # An option deleted with its votes, one counted and one set aside.
    db.session.execute(sa.delete(PollOption).where(PollOption.id == kept.options[2].id))
    db.session.commit()
    assert _counts(db, kept) == [(1, 0, 1)] * 2
    db.session.execute(sa.delete(Article).where(Article.id == article.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 4
    assert polls.recount() == []
    _rollups_add_up(db, kept)


@pytest.mark.parametrize(
    "count", ["vote_count", "signed_in_count", "set_aside_count"], ids=lambda name: name
)
def test_recount_finds_and_fixes_a_drift_in_each_count(db, make_article, make_user, count):
    poll = make_article(poll=True).poll
    yes = poll.options[0]
    vote(poll, make_user(), yes, D1)
    vote(poll, make_user(), yes, D1)
    polls.cast_vote(poll, _anonymous(1), yes.id, moment=D1)
    db.session.commit()
    _set_aside(db, Vote.voter_key == "a:1")
    db.session.commit()
    assert _counts(db, poll)[0] == (2, 2, 1)
    db.session.execute(sa.update(PollOption).where(PollOption.id == yes.id).values({count: 9}))
    db.session.commit()

    drifts = polls.recount(poll.id)
    db.session.commit()
    expected = {"vote_count": 2, "signed_in_count": 2, "set_aside_count": 1}[count]
    assert drifts == [polls.Drift(yes.id, 9, expected, count)]
    assert _counts(db, poll)[0] == (2, 2, 1)
    assert polls.recount(poll.id) == []


def test_the_recount_command_reports_which_count_it_fixed(app, db, make_article):
    poll = make_article(poll=True).poll
    polls.cast_vote(poll, _anonymous(1), poll.options[0].id, moment=D1)
    db.session.commit()
    db.session.execute(
        sa.update(PollOption).where(PollOption.id == poll.options[0].id).values(set_aside_count=4)
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["polls", "recount"])
    assert result.exit_code == 0, result.output
    assert f"option {poll.options[0].id} set_aside_count: stored 4, counted 0" in result.output
    assert _counts(db, poll)[0] == (1, 0, 0)


# --- comment tone by vote ------------------------------------------------------------------


def _tone_groups(db, article_id: int) -> dict[int, int]:
    db.session.expire_all()
    return dict(
        db.session.execute(
            sa.select(ArticleToneCount.option_id, ArticleToneCount.comments).where(
                ArticleToneCount.article_id == article_id, ArticleToneCount.comments != 0
            )
        ).all()
    )


def test_an_author_whose_vote_is_set_aside_counts_as_no_vote_in_tone(db, make_article, make_user):
    article = make_article(poll=True)
    poll = article.poll
    yes, no, _ = poll.options
    brigader, honest = make_user(), make_user()
    vote(poll, brigader, yes, D1)
    vote(poll, honest, no, D1)
    for _n in range(3):
        add_comment(db, article, brigader, 0.5, "positive", D1)
    add_comment(db, article, honest, -0.5, "negative", D1)
    db.session.commit()
    assert _tone_groups(db, article.id) == {yes.id: 3, no.id: 1}

    _set_aside(db, Vote.user_id == brigader.id)
    db.session.commit()
    assert _tone_groups(db, article.id) == {NO_VOTE: 3, no.id: 1}
    by_vote = tone_by_vote(article.id, poll.id, [o.id for o in poll.options])
    assert by_vote.no_vote.count == 3
    assert by_vote.options[yes.id].count == 0
    assert by_vote.options[no.id].count == 1
    # A comment written while the vote is set aside goes to "no vote" too.
    add_comment(db, article, brigader, 0.1, "neutral", D2)
    db.session.commit()
    assert _tone_groups(db, article.id) == {NO_VOTE: 4, no.id: 1}
    assert counters.recount(fix=False) == []

    _restore(db, Vote.user_id == brigader.id)
    db.session.commit()
    assert _tone_groups(db, article.id) == {yes.id: 4, no.id: 1}
    assert counters.recount(fix=False) == []

    # Set aside, then withdrawn: nothing moves twice.
    _set_aside(db, Vote.user_id == brigader.id)
    db.session.commit()
    polls.withdraw_vote(poll, polls.user_voter_key(brigader))
    db.session.commit()
    assert _tone_groups(db, article.id) == {NO_VOTE: 4, no.id: 1}
    assert counters.recount(fix=False) == []


def test_sentiment_recount_finds_no_drift_with_votes_set_aside(app, db, make_article, make_user):
    article = make_article(poll=True)
    poll = article.poll
    readers = [make_user() for _ in range(4)]
    for n, reader in enumerate(readers):
        vote(poll, reader, poll.options[n % 2], D1)
        add_comment(db, article, reader, 0.2 * n, "neutral", D1)
    db.session.commit()
    _set_aside(db, Vote.user_id.in_([readers[0].id, readers[3].id]))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["sentiment", "recount", "--check"])
    assert result.exit_code == 0, result.output
    assert counters.recount(fix=False) == []


# --- PostgreSQL: set aside while people vote -------------------------------------------------

ROUNDS = 20


def _together(app, works) -> list[BaseException]:
    barrier = threading.Barrier(len(works))
    errors: list[BaseException] = []

    def run(work) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work()
            except BaseException as exc:  # reported by the test
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.postgres_only
def test_setting_aside_while_readers_vote_and_comment_neither_deadlocks_nor_drifts(
    app, db, make_article, make_user, monkeypatch
):
    monkeypatch.setattr(tallies, "LOCK_BATCH", 5)  # the helper's locks in several queries
    article = make_article(poll=True)
    poll = article.poll
    options = [option.id for option in poll.options]
    brigade = [make_user() for _ in range(12)]
    readers = [make_user() for _ in range(3)]
    # The brigade's votes across every option, in an order that makes one statement
    # reach the options out of id order.
    for n, member in enumerate(brigade):
        vote(poll, member, poll.options[(2 - n) % 3], D1)
        add_comment(db, article, member, 0.3, "positive", D1)
    for n in range(6):
        polls.cast_vote(poll, _anonymous(n), options[(n * 2) % 3], moment=D1)
    for reader in readers:
        vote(poll, reader, poll.options[0], D1)
    db.session.commit()
    brigade_ids = [member.id for member in brigade]
    brigade_votes = list(
        db.session.scalars(
            sa.select(Vote.id).where(Vote.user_id.in_(brigade_ids)).order_by(Vote.id.desc())
        )
    )

    def decider() -> None:
        # The brigade's accounts, as a decision does it: the locks first.
        for n in range(ROUNDS):
            polls.lock_for_set_aside(poll.id, brigade_votes)
            _db.session.execute(
                sa.update(Vote)
                .where(Vote.id.in_(brigade_votes))
                .values(set_aside_at=None if n % 2 else utcnow())
            )
            _db.session.commit()

    def raw_decider() -> None:
        # The anonymous votes, by plain SQL: the triggers alone take the options in order.
        for n in range(ROUNDS):
            _db.session.execute(
                sa.update(Vote)
                .where(Vote.voter_key.like("a:%"))
                .values(set_aside_at=None if n % 2 else utcnow())
            )
            _db.session.commit()

    def mover(reader: Any, order: list[int]) -> Any:
        def work() -> None:
            for n in range(ROUNDS):
                _db.session.execute(
                    sa.update(Vote)
                    .where(Vote.user_id == reader.id)
                    .values(option_id=order[n % 3], updated_at=utcnow())
                )
                _db.session.commit()

        return work

    def brigade_mover() -> None:
        for n in range(ROUNDS):
            _db.session.execute(
                sa.update(Vote)
                .where(Vote.user_id == brigade_ids[n % len(brigade_ids)])
                .values(option_id=options[::-1][n % 3], updated_at=utcnow())
            )
            _db.session.commit()

    where = SimpleNamespace(id=article.id)
    authors = [SimpleNamespace(id=member_id) for member_id in brigade_ids]

    def commenter(start: int) -> Any:
        def work() -> None:
            for n in range(ROUNDS):
                author = authors[(start + n) % len(authors)]
                add_comment(_db, where, author, 0.1, "neutral", utcnow())
                _db.session.commit()

        return work

    errors = _together(
        app,
        [
            decider,
            raw_decider,
            mover(readers[0], options),
            mover(readers[1], options[::-1]),
            brigade_mover,
            commenter(len(brigade) - 1),
            commenter(len(brigade) // 2),
            commenter(1),
        ],
    )
    assert not errors, errors
    db.session.expire_all()
    assert polls.recount(poll.id) == []
    assert counters.recount(fix=False) == []
    _rollups_add_up(db, poll)
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(Vote))
    assert sum(sum(counts[::2]) for counts in _counts(db, poll)) == stored


def test_a_day_of_set_aside_votes_uses_utc(db, make_article):
    poll = make_article(poll=True).poll
    late = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    polls.cast_vote(poll, _anonymous(1), poll.options[0].id, moment=late)
    db.session.commit()
    _set_aside(db, Vote.voter_key == "a:1", D3)
    db.session.commit()
    assert _rollup(db, poll) == {(poll.options[0].id, "2026-03-01"): (0, 0)}
