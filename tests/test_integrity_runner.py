"""The integrity pass in the background (webapp.integrity_runner): off in tests unless
asked, one pass at a time on the whole site, and it finds groups by itself."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from tests.integrity_data import ALL_NO, add_votes
from webapp import integrity_runner
from webapp.extensions import db as _db
from webapp.models import IntegrityGroup
from webapp.services import integrity
from webapp.services.integrity import retention


def test_the_runner_is_off_in_tests_unless_asked(app, make_app):
    assert not integrity_runner.enabled(app)
    assert not integrity_runner.ensure_started(app)
    assert integrity_runner.enabled(make_app(INTEGRITY_RUNNER=True))
    assert not integrity_runner.enabled(make_app(INTEGRITY_RUNNER=True, INTEGRITY_SCAN_SECONDS=0))


def test_two_runners_make_one_pass(app, monkeypatch):
    """While one pass holds the lease, another (a second worker, or the command) skips
    its turn instead of scanning the same polls at the same time."""
    inside = threading.Event()
    release = threading.Event()
    passes: list[str] = []

    def slow_scan(moment=None):  # type: ignore[no-untyped-def]
        passes.append(threading.current_thread().name)
        inside.set()
        assert release.wait(10)
        return 3

    monkeypatch.setattr(integrity, "scan_due", slow_scan)
    monkeypatch.setattr(retention, "drop_expired_signals", lambda moment=None: 0)
    answers: dict[str, int | None] = {}

    def worker(name: str) -> None:
        with app.app_context():
            try:
                answers[name] = integrity_runner.run_pass()
            finally:
                _db.session.remove()

    first = threading.Thread(target=worker, args=("first",), name="first")
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=worker, args=("second",), name="second")
    second.start()
    second.join(10)
    assert answers == {"second": None}
    release.set()
    first.join(10)
    assert answers == {"second": None, "first": 3}
    assert passes == ["first"]
    # The lease is free again.
    release.set()
    worker("third")
    assert answers["third"] == 3


def test_the_background_pass_finds_a_brigade_by_itself(app, make_article, monkeypatch):
    poll = make_article(poll={"allow_anonymous": True}).poll
    add_votes(poll, 1000)
    add_votes(poll, 3000, ALL_NO, address="bot")
    app.config.update(INTEGRITY_RUNNER=True, INTEGRITY_SCAN_SECONDS=0.05)
    _db.session.commit()
    try:
        assert integrity_runner.ensure_started(app)
        assert integrity_runner.ensure_started(app)  # one thread per worker
        deadline = time.monotonic() + 20
        found = None
        while found is None and time.monotonic() < deadline:
            time.sleep(0.1)
            found = _db.session.scalar(
                select(IntegrityGroup).where(IntegrityGroup.poll_id == poll.id)
            )
            _db.session.rollback()
    finally:
        integrity_runner.stop(app)
    assert found is not None
    assert found.kind == "address" and found.status == "set_aside"


@pytest.fixture(autouse=True)
def _no_runner_left(app):  # type: ignore[no-untyped-def]
    yield
    integrity_runner.stop(app)
