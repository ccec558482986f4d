"""Pooled connections are pinged before use only after sitting idle (webapp.connections).

A connection used a moment ago goes straight to work: on PostgreSQL that is one round
trip less on every request of a busy site than SQLAlchemy's ``pool_pre_ping`` costs. One
that sat idle longer than DATABASE_PING_IDLE_SECONDS is pinged, and a dead one is
replaced before the request sees it.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from webapp import connections


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    ticking = Clock()
    monkeypatch.setattr(connections, "monotonic", ticking)
    return ticking


@pytest.fixture
def pings(db: Any, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every ping the pool sends, each still sent to the database."""
    sent: list[Any] = []
    dialect = db.engine.dialect
    real_ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(dbapi_connection)
        return bool(real_ping(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counted)
    return sent


def _use_connection(db: Any) -> Any:
    """Take a connection from the pool, ask it something, give it back; its DBAPI
    connection."""
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
        return connection.connection.dbapi_connection


def test_a_connection_back_a_moment_ago_goes_to_work_without_a_ping(app, db, clock, pings):
    db.engine.dispose()
    first = _use_connection(db)  # a new connection: nothing to check
    clock.now += 0.2
    again = _use_connection(db)
    assert again is first  # the pool handed back the same connection
    assert pings == []


def test_a_connection_idle_longer_than_the_setting_is_pinged_first(app, db, clock, pings):
    idle = app.config["DATABASE_PING_IDLE_SECONDS"]
    assert idle == 1.0  # the default
    db.engine.dispose()
    first = _use_connection(db)
    clock.now += idle + 0.5
    assert _use_connection(db) is first  # alive: kept
    assert pings == [first]
    # Used just now by that checkout: the next one goes without a ping.
    _use_connection(db)
    assert pings == [first]


def test_an_idle_connection_that_fails_its_ping_is_replaced_before_use(app, db, clock, monkeypatch):
    db.engine.dispose()
    first = _use_connection(db)
    dialect = db.engine.dialect
    real_ping = dialect.do_ping
    failed: list[Any] = []

    def dead_once(dbapi_connection: Any) -> bool:
        if not failed:
            failed.append(dbapi_connection)
            raise dialect.loaded_dbapi.OperationalError("server closed the connection")
        return bool(real_ping(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", dead_once)
    clock.now += 5
    replaced = _use_connection(db)  # the request's query runs, on a new connection
    assert failed == [first]
    assert replaced is not first


def test_zero_pings_at_every_checkout(make_app, clock, monkeypatch):
    from webapp.extensions import db

    app = make_app(DATABASE_PING_IDLE_SECONDS=0)
    with app.app_context():
        sent: list[Any] = []
        dialect = db.engine.dialect
        real_ping = dialect.do_ping
        monkeypatch.setattr(
            dialect, "do_ping", lambda connection: sent.append(connection) or real_ping(connection)
        )
        db.engine.dispose()
        _use_connection(db)
        clock.now += 0.001
        _use_connection(db)
        clock.now += 0.001
        _use_connection(db)
        assert len(sent) == 2  # every checkout of a pooled connection


@pytest.mark.postgres_only
def test_a_database_restart_during_a_quiet_spell_costs_no_reader_an_error(
    app, db, client, clock, make_article
):
    """The pooled connections' server processes are gone (as after a restart of
    PostgreSQL) while the site is quiet: the next reader's page is served, on new
    connections. Both pools: the main one and the autocommit one the article page's
    state read uses (webapp.connections.SINGLE_READ_BIND)."""
    slug = make_article("Read after a restart").slug
    db.session.commit()
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()
    assert client.get(f"/articles/{slug}").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert db.engines[connections.SINGLE_READ_BIND].pool.checkedin() == 1  # the page's state read
    pids = []
    for engine in db.engines.values():
        with engine.connect() as connection:
            pids.append(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
    assert len(set(pids)) == 2  # one pooled connection in each
    admin = sa.create_engine(db.engine.url)
    try:
        with admin.connect() as other:
            for pid in pids:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()
    clock.now += 60
    page = client.get(f"/articles/{slug}")
    assert page.status_code == 200 and b"Read after a restart" in page.data
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200
    for engine in db.engines.values():
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() not in pids


def test_a_forked_worker_opens_its_own_connections_in_every_pool(app, db):
    """gunicorn's ``post_fork`` (webapp.gunicorn_hooks) leaves the master's pooled
    connections to the master in every engine, the autocommit one of
    ``connections.SINGLE_READ_BIND`` (PostgreSQL) included: a worker sharing a socket
    with another process would read the other's answers."""
    from types import SimpleNamespace

    from webapp import gunicorn_hooks

    engines = dict(db.engines)
    opened = {}
    for key, engine in engines.items():
        with engine.connect() as connection:
            opened[key] = connection.connection.dbapi_connection
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert connections.SINGLE_READ_BIND in engines
    server = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app))
    worker = SimpleNamespace(notify=lambda: None)
    gunicorn_hooks.post_fork(server, worker)
    for key, engine in engines.items():
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection is not opened[key], key
