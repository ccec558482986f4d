"""A request whose writes are one statement runs it on its own, with no BEGIN and no
COMMIT around it (webapp.transactions.expect_lone_write / lone_write), and so do
the reads a request makes before it writes (reads_first).

What must hold: a reader's first vote is one statement (and, on SQLite, the read of its
tally after it); a top-level comment is its reads and one statement on PostgreSQL;
anything that writes more than one statement (a reply, a comment with an idempotency
key, a moved vote, a comment and its subscription on SQLite) keeps all its writes in
one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import every_statement
from webapp import caching
from webapp.connections import SINGLE_READ_BIND
from webapp.models import Comment, SiteSetting, Vote
from webapp.models.notifications import ReplySubscription
from webapp.services.notifications import settings
from webapp.transactions import begin_writes, expect_lone_write, lone_write, reads_first


class Sent:
    """A statement as the app sent it: its text, and whether its connection was in
    autocommit (PostgreSQL: the driver sends no BEGIN before it) or inside a
    transaction, and which connection it was."""

    def __init__(self, statement: str, autocommit: bool, connection: int) -> None:
        self.statement = statement
        self.autocommit = autocommit
        self.connection = connection

    def __repr__(self) -> str:
        return f"{'autocommit' if self.autocommit else 'transaction'}: {self.statement[:60]}"


@pytest.fixture
def record(app) -> Any:
    @contextmanager
    def recording() -> Iterator[list[Sent]]:
        sent: list[Sent] = []

        def note(conn: Any, statement: str) -> None:
            driver = conn.connection.dbapi_connection
            if conn.dialect.name == "postgresql":
                autocommit = bool(driver.autocommit)
            else:
                autocommit = not driver.in_transaction
            sent.append(Sent(" ".join(statement.split()), autocommit, id(driver)))

        with every_statement(note):
            yield sent

    return recording


@pytest.fixture
def cached(app):
    """The production caches that let a vote or a comment start without a read."""
    caching.clear_all()
    app.config.update(RESULTS_CACHE_SECONDS=60, POSTING_ARTICLE_CACHE_SECONDS=60)
    yield app
    caching.clear_all()


#: A first vote's statement: the checked INSERT, or on PostgreSQL the function that runs it.
_FIRST_VOTE_STATEMENTS = ("INSERT INTO votes", "SELECT pulse_checked_first_vote(")


def _writes(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.statement.split()[0] in {"INSERT", "UPDATE", "DELETE", "WITH"}]


def _comments_url(slug: str) -> str:
    return f"/api/v1/articles/{slug}/comments"


def test_a_top_level_comment_is_its_reads_and_one_statement_on_postgresql(
    cached, api, db, record, make_user, make_article, backend
):
    slug = make_article().slug
    reader = make_user(name="Lone Writer")
    settings.update(reader, settings.SettingsChange(reply_default=True, replies_enabled=True))
    db.session.commit()
    api.login(reader)
    api.post(_comments_url(slug), {"body": "Warming the article's copy."})
    db.session.remove()
    with record() as sent:
        response = api.post(_comments_url(slug), {"body": "One statement, please."})
    assert response.status_code == 201, response.get_json()
    stored = db.session.get(Comment, response.get_json()["id"])
    assert stored is not None and stored.body == "One statement, please."
    # Written with it (in the same statement on PostgreSQL): the author's account ticks
    # "follow the replies" by default.
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ReplySubscription)
        .where(ReplySubscription.comment_id == stored.id)
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 2
    if backend.name == "postgresql":
        # The reads (the reader, and here, with the moderation caches off, the rules)
        # and then the one INSERT: no BEGIN before any, no COMMIT after.
        assert sent[0].statement.startswith("SELECT users.")
        assert sent[-1].statement.startswith("WITH stored_comment AS (INSERT INTO comments")
        assert _writes(sent) == [sent[-1]]
        assert all(s.autocommit for s in sent), sent
    else:
        # SQLite: the reads need no lock; the comment and its subscription are written
        # in one transaction, as before.
        writes = _writes(sent)
        assert [w.statement.split()[2] for w in writes] == ["comments", "reply_subscriptions"]
        assert not any(w.autocommit for w in writes), sent


def test_a_reply_keeps_its_writes_in_one_transaction(
    cached, api, db, record, make_user, make_article
):
    slug = make_article().slug
    reader = make_user(name="Replying Reader")
    api.login(reader)
    parent = api.post(_comments_url(slug), {"body": "The first word."}).get_json()
    db.session.remove()
    with record() as sent:
        response = api.post(
            _comments_url(slug), {"body": "And a reply.", "parent_id": parent["id"]}
        )
    assert response.status_code == 201, response.get_json()
    writes = _writes(sent)
    # The parent's reply count and the reply itself: together, inside one transaction.
    assert len(writes) >= 2, sent
    assert not any(w.autocommit for w in writes), sent
    assert len({w.connection for w in writes}) == 1
    assert db.session.get(Comment, parent["id"]).reply_count == 1


def test_a_comment_with_an_idempotency_key_claims_it_in_the_same_transaction(
    cached, api, db, record, make_user, make_article
):
    slug = make_article().slug
    reader = make_user(name="Careful Reader")
    api.login(reader)
    api.post(_comments_url(slug), {"body": "Warming the article's copy."})
    db.session.remove()
    headers = {"Idempotency-Key": "lone-write-key-0001"}
    with record() as sent:
        response = api.post(_comments_url(slug), {"body": "Keyed."}, headers=headers)
    assert response.status_code == 201, response.get_json()
    writes = _writes(sent)
    assert any("comment_post_keys" in w.statement for w in writes), sent
    assert not any(w.autocommit for w in writes), sent
    assert len({w.connection for w in writes}) == 1
    again = api.post(_comments_url(slug), {"body": "Keyed."}, headers=headers)
    assert again.get_json()["id"] == response.get_json()["id"]


def test_a_first_vote_runs_on_its_own_and_a_moved_vote_in_one_transaction(
    cached, make_api, db, record, make_article, backend
):
    article = make_article(poll={"allow_anonymous": True, "results_visibility": "always"})
    yes, no = (option.id for option in article.poll.options[:2])
    slug = article.slug
    voter = make_api()
    votes = f"/api/v1/articles/{slug}/poll/votes"
    assert voter.get(f"/api/v1/articles/{slug}/poll/results").status_code == 200
    voter.token  # noqa: B018 - fetched before recording: the token costs no statement
    db.session.remove()
    with record() as sent:
        first = voter.post(votes, {"option_id": yes})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["my_vote"] == yes
    # Nothing around it: each statement on its own.
    assert all(s.autocommit for s in sent), sent
    if backend.name == "postgresql":
        # The INSERT and the tally read back, in one statement (models/first_vote.py).
        assert len(sent) == 1, sent
    else:
        # SQLite: the INSERT, then the option's tally as stored with the vote in it.
        assert [s.statement.split()[0] for s in sent] == ["INSERT", "SELECT"], sent
    with record() as sent:
        moved = voter.post(votes, {"option_id": no})
    assert moved.status_code == 200, moved.get_json()
    # The first-vote statement is tried on its own and stores nothing (this voter has
    # voted); the move is then read and written in one transaction.
    attempt, *rest = sent
    assert attempt.autocommit, sent
    assert attempt.statement.startswith(_FIRST_VOTE_STATEMENTS)
    writes = _writes(rest)
    assert writes and not any(w.autocommit for w in writes), sent
    assert len({w.connection for w in writes}) == 1
    counted = dict(
        db.session.execute(
            sa.select(Vote.option_id, sa.func.count()).group_by(Vote.option_id)
        ).all()
    )
    assert counted == {no: 1}
    results = voter.get(f"/api/v1/articles/{slug}/poll/results").get_json()
    tallies = {option["id"]: option["votes"] for option in results["options"]}
    assert tallies[yes] == 0 and tallies[no] == 1


def lone_engine() -> sa.Engine | None:
    """The engine of the connection ``lone_write`` gives, or None when it gives none."""
    with lone_write() as connection:
        return None if connection is None else connection.engine


def test_lone_write_is_given_only_when_nothing_else_is_written(app, db, backend):
    # Both test databases are files or servers, so both have the autocommit engine.
    autocommit = db.engines[SINGLE_READ_BIND]
    db.session.remove()
    with app.test_request_context("/", method="POST"):
        assert lone_engine() is None  # not asked for
        expect_lone_write()
        assert lone_engine() is autocommit
        assert lone_engine() is None  # asked once, for the statement about to run
    db.session.remove()
    with app.test_request_context("/", method="POST"):
        # Something already ran in the request's own transaction: the write joins it.
        db.session.scalar(sa.select(sa.func.count()).select_from(SiteSetting))
        expect_lone_write()
        assert lone_engine() is None
        db.session.rollback()
    db.session.remove()
    with app.test_request_context("/", method="POST"):
        # A change waiting to be flushed would be written apart from the statement.
        db.session.add(SiteSetting(key="report_threshold", value=2))
        expect_lone_write()
        assert lone_engine() is None
        db.session.rollback()
    db.session.remove()
    with app.test_request_context("/", method="POST"):
        # Reads before the writes (in autocommit on PostgreSQL) do not stand in its way.
        reads_first()
        db.session.scalar(sa.select(sa.func.count()).select_from(SiteSetting))
        begin_writes()
        expect_lone_write()
        assert lone_engine() is autocommit
        db.session.rollback()


_STORED_VOTE = sa.text(
    "SELECT poll_id, option_id, user_id, client_hash, network_hash, agent_hash, "
    "account_age_seconds, cookie_age_seconds, saw_article, created_at, updated_at, "
    "set_aside_at FROM votes WHERE voter_key = :key"
)


def test_a_lone_first_vote_stores_its_row_as_the_requests_transaction_would(
    app, cached, db, record, make_article
):
    """On SQLite the lone first vote runs on the driver's cursor, its values converted
    by the column types (voting._sqlite_lone_first_vote): its row must read back, as
    the driver stores it, exactly as a vote stored through the session's statement."""
    from webapp.services import polls
    from webapp.services.integrity.signals import VoteSignals

    article = make_article(poll={"allow_anonymous": True, "results_visibility": "always"})
    slug, option = article.slug, article.poll.options[1].id
    db.session.commit()
    moment = datetime(2031, 5, 17, 8, 9, 10, 123456, tzinfo=UTC)
    signals = VoteSignals(
        network_hash="net-hash", agent_hash="agent-hash", cookie_age_seconds=7, saw_article=True
    )

    def vote_as(anonymous_id: str, alone: bool) -> list[Sent]:
        with app.test_request_context("/"):
            polls.cached_poll_for_article(slug, None)  # the results cache holds the poll
        db.session.remove()
        with app.test_request_context("/", method="POST"), record() as sent:
            poll = polls.cached_poll_for_article(slug, None)
            if alone:
                expect_lone_write()
            visitor = polls.Visitor(None, lambda: anonymous_id, "address-hash", signals)
            _, outcome = polls.vote(slug, poll, visitor, option, moment)
            db.session.commit()
        assert outcome.created and outcome.tallies, outcome
        return [s for s in sent if s.statement.startswith(_FIRST_VOTE_STATEMENTS)]

    lone = vote_as("lone-voter", alone=True)
    joined = vote_as("joined-voter", alone=False)
    assert [w.autocommit for w in lone] == [True], lone
    assert [w.autocommit for w in joined] == [False], joined
    rows = {
        key: db.session.execute(_STORED_VOTE, {"key": f"a:{key}"}).one()._asdict()
        for key in ("lone-voter", "joined-voter")
    }
    assert rows["lone-voter"] == rows["joined-voter"]
    assert rows["lone-voter"]["saw_article"] in (True, 1)
    assert rows["lone-voter"]["cookie_age_seconds"] == 7
    assert db.session.get(Vote, _vote_id(db, "a:lone-voter")).created_at == moment


def _vote_id(db: Any, key: str) -> int:
    return db.session.scalar(sa.select(Vote.id).where(Vote.voter_key == key))


def test_a_lone_first_vote_whose_connection_fails_answers_503_and_loses_nothing(
    cached, db, backend, make_api, make_article, monkeypatch
):
    """The database fails under the lone write (SQLite: another writer holds the file
    past the busy timeout; PostgreSQL: the connection's server process is gone): the
    contract's 503, nothing stored, and the next vote is stored as usual."""
    from webapp import connections

    # No ping before use: the failure must reach the vote's own statement.
    monkeypatch.setattr(connections, "monotonic", lambda: 1000.0)
    article = make_article(poll={"allow_anonymous": True, "results_visibility": "always"})
    slug, yes = article.slug, article.poll.options[0].id
    db.session.commit()
    voter = make_api()
    votes = f"/api/v1/articles/{slug}/poll/votes"
    assert voter.get(f"/api/v1/articles/{slug}/poll/results").status_code == 200
    voter.token  # noqa: B018 - fetched while the database answers
    autocommit = db.engines[SINGLE_READ_BIND]
    autocommit.dispose()
    with autocommit.connect() as connection:  # the pool's one connection
        if backend.name == "sqlite":
            connection.exec_driver_sql("PRAGMA busy_timeout=50")
        else:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    db.session.remove()
    if backend.name == "sqlite":
        blocker = sqlite3.connect(sa.make_url(backend.url).database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    else:
        with db.engine.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    try:
        failed = voter.post(votes, {"option_id": yes})
    finally:
        if backend.name == "sqlite":
            blocker.rollback()
            blocker.close()
    assert failed.status_code == 503, failed.get_data(as_text=True)
    assert failed.get_json()["error"]["code"] == "database_unavailable"
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0
    stored = voter.post(votes, {"option_id": yes})
    assert stored.status_code == 201, stored.get_json()
    assert stored.get_json()["my_vote"] == yes
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
