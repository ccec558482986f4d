"""Views that read, then score, then write (webapp.transactions)."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from webapp.models import SiteSetting
from webapp.transactions import begin_writes, reads_before_writes, reads_first


def test_begin_writes_refuses_after_a_change(app, db):
    with app.test_request_context("/", method="POST"):
        reads_first()
        db.session.add(SiteSetting(key="report_threshold", value=2))
        with pytest.raises(RuntimeError):
            begin_writes()
        db.session.rollback()


def _another_writer_can_start(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_reads_take_no_write_lock_and_the_writes_stay_one_transaction(app, db, backend):
    db.session.remove()
    with app.test_request_context("/", method="POST"):
        reads_first()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SiteSetting)) == 0
        if backend.name == "sqlite":
            path = db.engine.url.database
            assert _another_writer_can_start(path), "the reads took the write lock"
            begin_writes()
            db.session.execute(sa.update(SiteSetting).values(value=1))
            assert not _another_writer_can_start(path), "the writes did not take the lock"
        else:
            # PostgreSQL locks nothing for reads: they run in autocommit, each a
            # transaction of its own with no BEGIN sent; the writes are one transaction.
            reading = db.session.connection().connection.dbapi_connection
            first = db.session.execute(sa.text("SELECT txid_current()")).scalar_one()
            second = db.session.execute(sa.text("SELECT txid_current()")).scalar_one()
            assert reading.autocommit and first != second
            begin_writes()
            db.session.execute(sa.update(SiteSetting).values(value=1))
            before = db.session.execute(sa.text("SELECT txid_current()")).scalar_one()
            db.session.execute(sa.update(SiteSetting).values(value=2))
            after = db.session.execute(sa.text("SELECT txid_current()")).scalar_one()
            writing = db.session.connection().connection.dbapi_connection
            assert before == after and not writing.autocommit
        db.session.rollback()


def test_a_single_read_sends_its_select_alone(app, db, count_queries, make_article):
    """No BEGIN before it and no transaction left behind: one statement on SQLite, one
    round trip on PostgreSQL (whose driver's own BEGIN would go before the SELECT)."""
    from webapp.transactions import single_read

    article = make_article("Read alone")
    db.session.commit()
    article_id, slug = article.id, article.slug
    db.session.remove()
    with (
        app.test_request_context(f"/articles/{slug}"),
        count_queries() as sent,
        single_read() as connection,
    ):
        title = connection.execute(
            sa.text("SELECT title FROM articles WHERE id = :id"), {"id": article_id}
        ).scalar_one()
        driver_connection = connection.connection.dbapi_connection
        if connection.dialect.name == "postgresql":
            assert driver_connection.autocommit
        else:
            assert not driver_connection.in_transaction
    assert title == "Read alone"
    assert len(sent) == 1 and sent[0].startswith("SELECT title FROM articles"), sent


def test_a_connection_back_from_a_single_read_is_transactional_again(app, db, backend):
    """The next user of a pooled connection gets a transaction as usual: what it writes
    is undone by its rollback (the single read changed no setting for good). The single
    read has an engine of its own (autocommit on PostgreSQL, no BEGIN ever on SQLite),
    so the main pool's connections never switch at all."""
    from webapp.connections import SINGLE_READ, SINGLE_READ_BIND
    from webapp.transactions import single_read

    db.session.remove()
    with app.test_request_context("/"), single_read() as connection:
        read_on = connection.connection.dbapi_connection
        connection.execute(sa.text("SELECT 1"))
        assert connection.engine is db.engines[SINGLE_READ_BIND]
    with db.engine.connect() as connection:
        written_on = connection.connection.dbapi_connection
        assert written_on is not read_on
        if backend.name == "postgresql":
            assert read_on.autocommit and not written_on.autocommit
        else:
            assert not connection.get_execution_options().get(SINGLE_READ)
        connection.execute(sa.insert(SiteSetting).values(key="report_threshold", value=3))
        connection.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SiteSetting)) == 0


@pytest.mark.parametrize(
    ("url", "bound"),
    [
        ("sqlite:////var/lib/pulse/pulse.db", True),
        ("sqlite:///relative.db", True),
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("sqlite:///file::memory:?cache=shared&uri=true", False),
        ("sqlite:///file:pulse?mode=memory&cache=shared&uri=true", False),
        ("postgresql+psycopg://pulse@db/pulse", True),
    ],
)
def test_the_autocommit_engine_is_bound_unless_the_database_lives_in_memory(url, bound):
    """An in-memory SQLite database is one connection's own: a second engine would open
    another, empty one. There the main engine does the reads and lone writes in its
    transaction, as before."""
    from webapp.connections import SINGLE_READ_BIND, add_single_read_bind

    config = {"SQLALCHEMY_DATABASE_URI": url}
    add_single_read_bind(config)
    binds = config.get("SQLALCHEMY_BINDS") or {}
    assert (SINGLE_READ_BIND in binds) is bound
    if bound:
        assert binds[SINGLE_READ_BIND]["url"] == url


def test_reads_before_writes_keeps_a_callers_transaction_and_refuses_writes(app, db):
    db.session.remove()
    # Inside a transaction the block's reads stay in it: the caller's change is neither
    # committed nor lost by it.
    db.session.add(SiteSetting(key="report_threshold", value=2))
    with reads_before_writes():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SiteSetting)) == 1
    assert db.session().in_transaction()  # not committed by the block
    db.session.rollback()
    assert db.session.get(SiteSetting, "report_threshold") is None
    db.session.remove()
    # On its own, the block is for reads: a change made in it is refused and discarded.
    with pytest.raises(RuntimeError), reads_before_writes():
        db.session.add(SiteSetting(key="report_threshold", value=3))
    db.session.remove()
    assert db.session.get(SiteSetting, "report_threshold") is None
    db.session.remove()
    # And its read transaction is over when it ends: what follows begins its own.
    with reads_before_writes():
        db.session.scalar(sa.select(sa.func.count()).select_from(SiteSetting))
    assert not db.session().in_transaction()
