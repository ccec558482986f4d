"""CSV exports stream: sent as they are read, in constant memory, whatever their size.

A poll's votes CSV used to be built whole in memory before the first byte left, because
the request logger asked the response for its length. Now every CSV response is a
stream the logger counts as it passes; the votes are read in keyset batches, so the
first piece leaves after one query and a worker's peak memory is that of a batch.

No timings here: the proof is the number of queries run when the first piece is out,
and Python's own allocation peak (``tracemalloc``) for two sizes of poll.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from webapp import csv_export, heartbeat
from webapp.extensions import db as _db
from webapp.models import Vote, tally_triggers
from webapp.models.base import UTCDateTime
from webapp.services import insights, polls
from webapp.services.polls import tallies

#: The issue's poll has a million votes. Loading that many (one INSERT ... SELECT, but each
#: row has seven index entries and three foreign keys to check) and exporting it under
#: tracemalloc, which slows every allocation, costs minutes per database. Ten times the
#: small poll (25 batches against 3) is what shows that neither the queries before the
#: first piece nor memory grow with the poll; the million-vote export was measured by
#: hand (issue 15's report).
BIG = 50_000
SMALL = 5_000
CAST_AT = datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=UTC)
CHANGED_AT = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
HEADER = b'"vote","option","voter","cast_at","changed_at"\r\n'


# --- helpers ---------------------------------------------------------------------------


def add_votes(db, poll, count: int, account_id: int) -> None:
    """``count`` votes in one INSERT ... SELECT over a recursive CTE (fast on both
    databases): options in turn, every fourth from an account. The tally triggers are
    set aside meanwhile (200,000 row triggers on three tally rows crawl on PostgreSQL)
    and the tallies recounted after, all in one transaction."""
    options = [option.id for option in poll.options]
    seq = sa.select(sa.literal_column("1").label("i")).cte("seq", recursive=True)
    seq = seq.union_all(sa.select(seq.c.i + 1).where(seq.c.i < count))
    i = seq.c.i
    rows = sa.select(
        sa.literal(poll.id, sa.Integer),
        sa.case({0: options[0], 1: options[1]}, value=i % 3, else_=options[2]),
        sa.literal("x:", sa.String) + sa.cast(i, sa.String),
        sa.case((i % 4 == 0, account_id), else_=sa.null()),
        sa.literal(CAST_AT, UTCDateTime()),
        sa.literal(CHANGED_AT, UTCDateTime()),
    )
    votes = Vote.__table__
    columns = ["poll_id", "option_id", "voter_key", "user_id", "created_at", "updated_at"]
    connection = db.session.connection()
    tally_triggers.TRIGGERS.remove(connection)
    db.session.execute(sa.insert(votes).from_select([votes.c[name] for name in columns], rows))
    tally_triggers.TRIGGERS.install(connection)
    polls.recount(poll.id)
    db.session.commit()


@pytest.fixture
def big_polls(db, make_article, make_user):
    """Polls of many votes; their votes go without a trigger per row at the end (the
    suite's own clean-up would delete them one trigger at a time on SQLite)."""
    made = []
    account = make_user()

    def build(count: int, options: list[str] | None = None):
        article = make_article(poll={"options": options or ["Yes", "No", "=1+1"]})
        add_votes(db, article.poll, count, account.id)
        made.append(article.poll.id)
        return article

    yield build
    db.session.rollback()
    connection = db.session.connection()
    tally_triggers.TRIGGERS.remove(connection)
    db.session.execute(sa.delete(Vote).where(Vote.poll_id.in_(made)))
    tally_triggers.TRIGGERS.install(connection)
    db.session.commit()


@pytest.fixture
def editor(make_api, make_user):
    client = make_api()
    client.login(make_user("editor"))
    return client.client


@pytest.fixture
def vote_reads(db) -> Iterator[list[str]]:
    """Every statement that reads the votes table, as it runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM votes" in statement:
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", record)


class Unread:
    """A GET whose body is left unread, as a WSGI server holds it: the request and every
    later read of its body run in one ``contextvars.Context`` of their own (a server's
    thread). Werkzeug's test client takes the first piece to find the status; reading
    the body hands it on first."""

    def __init__(self, client: FlaskClient, path: str) -> None:
        _db.session.rollback()  # the test's session holds nothing the request waits for
        self.context = contextvars.Context()
        self.response = self.context.run(FlaskClient.open, client, path, buffered=False)

    def read(self, sink: Callable[[bytes], object]) -> None:
        """Hand the rest of the body to ``sink`` piece by piece (keeping none of it), then
        close the response as a server does."""

        def run() -> None:
            try:
                for piece in self.response.response:
                    sink(piece)
            finally:
                self.response.close()

        self.context.run(run)

    def close(self) -> None:
        """The client went away: the server closes the response unread."""
        self.context.run(self.response.close)


class Tally:
    """Counts what passes, keeps nothing."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0
        self.last = b""

    def __call__(self, piece: bytes) -> None:
        self.bytes += len(piece)
        self.lines += piece.count(b"\n")
        self.last = piece


def expected_line(number: int, labels: list[str]) -> bytes:
    """Vote ``number`` as today's file writes it (``add_votes`` decides its option and
    voter): every text cell quoted, formulas defused (``labels`` as they come out)."""
    voter = "account" if number % 4 == 0 else "anonymous"
    return (
        f'{number},"{labels[number % 3]}","{voter}","{CAST_AT.isoformat()}",'
        f'"{CHANGED_AT.isoformat()}"\r\n'.encode()
    )


def votes_csv(article) -> str:
    return f"/editor/articles/{article.id}/votes.csv"


# --- streaming -------------------------------------------------------------------------------


def _export_traced(client: FlaskClient, article, vote_reads: list[str]) -> tuple[int, Tally]:
    """Export ``article``'s votes as a server sends them, under ``tracemalloc``: check the
    first piece left after one batch was read, and return the peak and what passed."""
    vote_reads.clear()
    tracemalloc.start()
    try:
        export = Unread(client, votes_csv(article))
        assert export.response.status_code == 200
        assert export.response.is_streamed
        # The first piece is out (the test client took it): one batch was read.
        assert len(vote_reads) == 1
        tally = Tally()
        export.read(tally)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, tally


def test_a_big_poll_streams_after_one_batch_in_constant_memory(editor, big_polls, vote_reads):
    small, big = big_polls(SMALL), big_polls(BIG)
    editor.get(votes_csv(small))  # compiles and caches the queries and templates
    small_peak, small_file = _export_traced(editor, small, vote_reads)
    big_peak, big_file = _export_traced(editor, big, vote_reads)
    assert (small_file.lines, big_file.lines) == (SMALL + 1, BIG + 1)
    assert big_file.last.endswith(expected_line(BIG, ["Yes", "No", "'=1+1"]))
    # A first short batch, keyset batches of EXPORT_BATCH, and the short one that ends it.
    later = BIG - tallies.FIRST_EXPORT_BATCH
    assert len(vote_reads) == 1 + later // tallies.EXPORT_BATCH + 1
    assert all("votes.id >" in statement for statement in vote_reads)
    # Flat: a batch of rows and a piece of text in memory whatever the poll's size (the
    # big file is 4 MB of text, and several times that as rows), so ten times the votes
    # take no more memory.
    assert big_peak < small_peak * 1.25 + 256 * 1024, (small_peak, big_peak)
    assert big_peak < 3 * 1024 * 1024, big_peak


def test_the_first_piece_is_a_few_rows_read_by_one_short_query(big_polls, vote_reads):
    """The download starts as soon on a poll of any size: the first piece is the header
    and a few dozen rows, sent once a first batch of FIRST_EXPORT_BATCH votes is read."""
    article = big_polls(SMALL)
    vote_reads.clear()
    pieces = csv_export.chunks(insights.votes_table(article.poll))
    first = next(pieces)
    assert len(vote_reads) == 1
    assert first.startswith(HEADER.decode())
    assert 1 < first.count("\n") < tallies.FIRST_EXPORT_BATCH
    assert len(first) < csv_export.CHUNK_SIZE / 4
    second = next(pieces)
    assert len(second) > csv_export.CHUNK_SIZE  # then full pieces
    pieces.close()


def test_a_client_that_goes_away_ends_the_export(editor, big_polls, vote_reads, caplog):
    article = big_polls(SMALL)
    vote_reads.clear()
    with caplog.at_level(logging.INFO, logger="webapp.requests"):
        export = Unread(editor, votes_csv(article))
        assert _db.engine.pool.checkedout() == 1  # the request's, held while it streams
        export.close()
    assert len(vote_reads) == 1
    # Its transaction ended and its connection went back with it, and it was logged.
    assert _db.engine.pool.checkedout() == 0
    [record] = [r for r in caplog.records if r.name == "webapp.requests"]
    assert 0 < record.fields["bytes"] < SMALL * 50


@pytest.mark.parametrize(
    "path",
    [
        "/editor/overview.csv",
        "/editor/articles/{id}/sentiment.csv?table=timeline",
        "/editor/articles/{id}/sentiment.csv?table=tone",
        "/editor/articles/{id}/sentiment.csv?table=shares",
        "/editor/overview/trend.csv?label=ceasefire&option=Yes",
    ],
)
def test_every_csv_is_streamed(editor, make_article, path):
    article = make_article(poll=True, labels=["Ceasefire"])
    export = Unread(editor, path.format(id=article.id))
    assert export.response.status_code == 200
    assert export.response.mimetype == "text/csv"
    assert export.response.is_streamed
    tally = Tally()
    export.read(tally)
    assert tally.lines >= 1


def test_every_piece_of_an_export_tells_gunicorn_the_worker_is_alive(
    editor, big_polls, monkeypatch
):
    """Under gunicorn a sync worker says it is alive only between requests; an export
    longer than the worker timeout was killed mid-file. Each piece sent now reports
    (``webapp.heartbeat``, wired by the gunicorn post_fork hook; the interval is taken
    away here so every piece counts, tests/test_gunicorn.py runs the real thing)."""
    beats: list[int] = []
    monkeypatch.setattr(heartbeat, "INTERVAL_SECONDS", 0.0)
    heartbeat.install(lambda: beats.append(1))
    try:
        article = big_polls(SMALL)
        export = Unread(editor, votes_csv(article))
        pieces: list[bytes] = []
        export.read(pieces.append)
    finally:
        heartbeat.install(None)
    assert b"".join(pieces).count(b"\n") == SMALL + 1
    assert len(pieces) > 3  # several pieces, one beat each
    assert len(beats) == len(pieces)


@pytest.mark.parametrize("sort", ["title", "published", "leader", "turnout", "comments", "tone"])
def test_the_overview_csv_reads_the_articles_a_page_at_a_time(
    editor, make_article, monkeypatch, sort
):
    """The overview's file is every article in the page's order, read as it is sent a
    page of articles at a time (a worker holds one page, whatever the site's size)."""
    made = [make_article(f"Story {n}", poll=n % 2 == 0) for n in range(7)]
    every = [row.slug for row in insights.overview(sort, None, per_page=None).rows]
    assert sorted(every) == sorted(a.slug for a in made)
    all_articles = importlib.import_module("webapp.services.insights.all_articles")
    monkeypatch.setattr(all_articles, "EXPORT_BATCH", 2)
    pages: list[int] = []
    real_overview = all_articles.overview

    def counted(*args, **kwargs):
        pages.append(1)
        return real_overview(*args, **kwargs)

    monkeypatch.setattr(all_articles, "overview", counted)
    export = Unread(editor, f"/editor/overview.csv?sort={sort}")
    body: list[bytes] = []
    export.read(body.append)
    assert export.response.status_code == 200
    lines = b"".join(body).decode().splitlines()[1:]
    assert [line.split(",")[1].strip('"') for line in lines] == every
    assert len(pages) == 4  # 7 articles, 2 a page


# --- contents --------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 3, 7, 2000])
def test_batches_make_the_same_file_as_ever(editor, big_polls, monkeypatch, batch):
    monkeypatch.setattr(tallies, "EXPORT_BATCH", batch)
    article = big_polls(20, ["Yes", "=HYPERLINK(1)", "-2+3"])
    body = editor.get(votes_csv(article)).get_data()
    labels = ["Yes", "'=HYPERLINK(1)", "'-2+3"]
    assert body == HEADER + b"".join(expected_line(n, labels) for n in range(1, 21))


# --- the request log ---------------------------------------------------------------------


def test_a_streamed_export_is_logged_once_sent_with_its_size(editor, big_polls, caplog):
    article = big_polls(SMALL)
    with caplog.at_level(logging.INFO, logger="webapp.requests"):
        export = Unread(editor, votes_csv(article))
        assert [r for r in caplog.records if r.name == "webapp.requests"] == []
        tally = Tally()
        export.read(tally)
    [record] = [r for r in caplog.records if r.name == "webapp.requests"]
    assert record.fields["status"] == 200
    assert record.fields["path"] == votes_csv(article)
    assert record.fields["bytes"] == tally.bytes > SMALL * 50
