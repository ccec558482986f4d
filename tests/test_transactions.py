"""Views that read, then score, then write (webapp.transactions)."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from webapp.models import SiteSetting
from webapp.transactions import begin_writes, reads_first


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
            # PostgreSQL locks nothing for reads: nothing to split, one transaction.
            before = db.session.execute(sa.text("SELECT txid_current()")).scalar_one()
            begin_writes()
            db.session.execute(sa.update(SiteSetting).values(value=1))
            after = db.session.execute(sa.text("SELECT txid_current()")).scalar_one()
            assert before == after
        db.session.rollback()
