"""The database going away while the app runs: 503, as the README promises, then recovery.

On PostgreSQL the app's database stops taking connections the way an operator takes it
out of service (``ALTER DATABASE ... ALLOW_CONNECTIONS false``, then the app's backends
terminated); on SQLite the database file's folder disappears (an unmounted volume).
Either way every page answers the HTML 503 page and every API call the contract's 503
body, both with Retry-After, for a signed-in reader as for a signed-out one; nothing
answers 500; and once the database is back the same requests succeed, without
restarting anything.

The classifier behind it is tested too, on real errors from each database: it goes by
exception class, SQLSTATE and SQLite result code, so a unique violation, a syntax
error or a statement timeout is never taken for the database being down.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import PASSWORD, TEST_SECRET, Api, Backend, IsolatedClient, _postgres_base_url
from webapp import create_app
from webapp.config import CACHE_SETTINGS
from webapp.errors import is_database_unavailable
from webapp.extensions import db
from webapp.models import Base, Role

MESSAGE = "The database is unreachable right now; please try again in a moment."


# --- taking the database away ---------------------------------------------------------------


class PostgresOutage:
    """A database of this test's own that can be made to refuse connections."""

    def __init__(self) -> None:
        base = sa.engine.make_url(_postgres_base_url())
        self.name = f"pulse_down_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = base.set(database=self.name).render_as_string(hide_password=False)

    def _run(self, sql: str) -> Any:
        with self.admin.connect() as connection:
            result = connection.execute(sa.text(sql), {"name": self.name})
            return result.scalar() if result.returns_rows else None

    def begin(self) -> None:
        self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        self._run(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"
        )
        # Terminating is a signal: wait until the backends are gone, so the app's pooled
        # connections are dead before the first probe, not maybe dead.
        deadline = time.monotonic() + 10
        while self._run("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"):
            assert time.monotonic() < deadline, "the app's backends did not end"
            time.sleep(0.05)

    def end(self) -> None:
        self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    def terminate(self, pid: int) -> None:
        """End one backend, as a fast shutdown or an operator does, and wait until it is gone."""
        self._run(f"SELECT pg_terminate_backend({int(pid)})")
        deadline = time.monotonic() + 10
        while self._run(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {int(pid)}"):
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.05)

    def destroy(self) -> None:
        self.end()
        self._run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


class SqliteOutage:
    """The database file's folder moved away and back. SQLite has no server to go away:
    an open connection keeps reading the moved file, so the app finds the file gone when
    it next opens one; the pool is emptied as a restarted worker's would be."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "data"
        self.folder.mkdir()
        self.away = folder / "data-away"
        self.url = f"sqlite:///{self.folder / 'pulse.db'}"
        self.apps: list[Flask] = []

    def begin(self) -> None:
        self.folder.rename(self.away)
        for app in self.apps:
            with app.app_context():
                db.engine.dispose()

    def end(self) -> None:
        self.away.rename(self.folder)

    def destroy(self) -> None:
        if self.away.exists():
            self.end()


@pytest.fixture
def outage(backend: Backend, tmp_path: Path) -> Iterator[PostgresOutage | SqliteOutage]:
    taken: PostgresOutage | SqliteOutage = (
        PostgresOutage() if backend.name == "postgresql" else SqliteOutage(tmp_path)
    )
    try:
        yield taken
    finally:
        taken.destroy()


@pytest.fixture
def make_down_app(outage: PostgresOutage | SqliteOutage) -> Iterator[Callable[..., Flask]]:
    """Apps on the outage's database; ``testing=False`` gives the production error
    handling (the 500 page) instead of exceptions raised into the test."""
    engine = sa.create_engine(outage.url)
    import webapp.models  # noqa: F401  (every model, so the metadata is complete)

    Base.metadata.create_all(engine)
    engine.dispose()
    apps: list[Flask] = []

    def build(testing: bool = True) -> Flask:
        app = create_app(
            {
                "TESTING": testing,
                "SECRET_KEY": TEST_SECRET,
                "DATABASE_URL": outage.url,
                "RATELIMIT_ENABLED": False,
                "RATELIMIT_STORAGE_URI": "memory://",
                # Every request asks the database: nothing is answered from a cache.
                **dict.fromkeys(CACHE_SETTINGS, 0),
            }
        )
        app.test_client_class = IsolatedClient
        apps.append(app)
        if isinstance(outage, SqliteOutage):
            outage.apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def down_app(make_down_app: Callable[..., Flask]) -> Flask:
    return make_down_app()


def seed(app: Flask) -> tuple[str, str, list[int]]:
    """A moderator (whose navigation shows queue counts) and a published article with a
    poll anyone may vote in: (moderator's email, slug, option ids)."""
    from webapp.services import articles
    from webapp.services.accounts import create_user

    with app.app_context():
        editor = create_user("editor@example.org", PASSWORD, Role.EDITOR, "Editor")
        moderator = create_user("moderator@example.org", PASSWORD, Role.MODERATOR, "Mo")
        article = articles.create_article(
            editor,
            articles.ArticleChanges(
                title="The database goes away",
                body="Some **reporting** worth reading.",
                labels=[],
                status="published",
                comments="open",
                poll=articles.PollInput(
                    question="Will it come back?", options=["Yes", "No"], allow_anonymous=True
                ),
            ),
        )
        db.session.commit()
        assert article.poll is not None
        return moderator.email, article.slug, [option.id for option in article.poll.options]


Request = tuple[str, str, Any]  # method, path, JSON body


def requests_for(slug: str, option: int) -> list[Request]:
    return [
        ("GET", f"/articles/{slug}", None),
        ("GET", "/", None),
        ("GET", f"/api/v1/articles/{slug}/poll/results", None),
        ("POST", f"/api/v1/articles/{slug}/poll/votes", {"option_id": option}),
        ("GET", "/api/v1/auth/me", None),
    ]


def send(visitor: Api, request: Request) -> Any:
    method, path, body = request
    if method == "POST":
        return visitor.post(path, body)
    return visitor.get(path, headers={"Accept": "text/html"} if "/api/" not in path else {})


def assert_503(response: Any, request: Request, who: str) -> None:
    method, path, _ = request
    where = f"{method} {path} ({who})"
    assert response.status_code == 503, f"{where}: {response.status_code}"
    assert int(response.headers["Retry-After"]) > 0, where
    if path.startswith("/api/"):
        assert response.get_json() == {
            "error": {"code": "database_unavailable", "message": MESSAGE}
        }, where
        return
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html", where
    assert "Temporarily unavailable" in page and MESSAGE in page, where
    # The site's own page (its navigation), not a bare fallback, and it claims no account:
    # neither a name it could not load nor a sign-in link to someone signed in.
    assert 'class="masthead"' in page, where
    assert "Signed in as" not in page and "Sign out" not in page, where
    assert "Moderation" not in page, where


def test_the_database_going_away_gives_503_then_recovers(
    down_app: Flask, outage: PostgresOutage | SqliteOutage
) -> None:
    moderator_email, slug, options = seed(down_app)
    signed_in, signed_out = Api(down_app.test_client()), Api(down_app.test_client())
    response = signed_in.post(
        "/api/v1/auth/login", {"email": moderator_email, "password": PASSWORD}
    )
    assert response.status_code == 200
    signed_in._token = None
    visitors = {"signed in": signed_in, "signed out": signed_out}
    for visitor in visitors.values():
        assert visitor.token  # the CSRF token needs no database; fetched while it is up
    home = signed_in.get("/").get_data(as_text=True)
    assert "Signed in as" in home and "Moderation" in home

    outage.begin()
    try:
        for who, visitor in visitors.items():
            for request in requests_for(slug, options[0]):
                response = send(visitor, request)
                if request[1] == "/api/v1/auth/me" and who == "signed out":
                    # A session that names nobody is answered without the database.
                    assert response.status_code == 401
                    continue
                assert_503(response, request, who)
        # Still down: the pool does not get stuck in a state that answers otherwise.
        for who, visitor in visitors.items():
            assert_503(send(visitor, ("GET", "/", None)), ("GET", "/", None), who)
    finally:
        outage.end()

    for who, visitor in visitors.items():
        for request in requests_for(slug, options[1]):
            response = send(visitor, request)
            expected = (
                (401,) if request[1] == "/api/v1/auth/me" and who == "signed out" else (200, 201)
            )
            assert response.status_code in expected, f"{request} ({who}) after recovery"
    assert "Signed in as" in signed_in.get("/").get_data(as_text=True)
    me = signed_in.get("/api/v1/auth/me").get_json()
    assert me["email"] == moderator_email


def test_the_request_log_names_the_signed_in_reader_during_an_outage(
    down_app: Flask, outage: PostgresOutage | SqliteOutage, caplog: pytest.LogCaptureFixture
) -> None:
    moderator_email, slug, _ = seed(down_app)
    visitor = Api(down_app.test_client())
    visitor.post("/api/v1/auth/login", {"email": moderator_email, "password": PASSWORD})
    with down_app.app_context():
        from webapp.models import User

        moderator_id = db.session.execute(
            sa.select(User.id).where(User.email == moderator_email)
        ).scalar_one()
    outage.begin()
    try:
        with caplog.at_level("INFO", logger="webapp.requests"):
            assert visitor.get(f"/articles/{slug}").status_code == 503
    finally:
        outage.end()
    logged = [r for r in caplog.records if r.name == "webapp.requests"]
    assert logged and logged[-1].fields["status"] == 503  # type: ignore[attr-defined]
    # The session's id, whichever form the session stores it in.
    assert str(logged[-1].fields["user_id"]) == str(moderator_id)  # type: ignore[attr-defined]


def test_error_pages_never_load_the_user_while_the_database_is_down(
    make_down_app: Callable[..., Flask], outage: PostgresOutage | SqliteOutage
) -> None:
    """A 404's navigation meets the outage: the 503 page, not a failure inside the error
    handler. An unexpected error's 500 page asks the database nothing at all."""
    app = make_down_app(testing=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    moderator_email, _, _ = seed(app)
    signed_in, signed_out = Api(app.test_client()), Api(app.test_client())
    signed_in.post("/api/v1/auth/login", {"email": moderator_email, "password": PASSWORD})
    outage.begin()
    try:
        missing = ("GET", "/no-such-page", None)
        assert_503(send(signed_in, missing), missing, "signed in")
        assert send(signed_out, missing).status_code == 404  # needs no database
        for who, visitor in (("signed in", signed_in), ("signed out", signed_out)):
            page = visitor.get("/boom")
            assert page.status_code == 500, who
            text = page.get_data(as_text=True)
            assert "Something went wrong" in text and 'class="masthead"' in text, who
            assert "kaboom" not in text and "Signed in as" not in text, who
            assert visitor.get("/api/v1/no-such-thing").status_code == 404, who
    finally:
        outage.end()
    assert "Signed in as" in signed_in.get("/no-such-page").get_data(as_text=True)


@pytest.mark.postgres_only
def test_a_connection_lost_after_the_page_was_made_still_delivers_the_page(
    make_down_app: Callable[..., Flask], outage: PostgresOutage
) -> None:
    """The server ends the connection between the view's last query and the rollback
    that closes the request (a fast shutdown does so to every connection): the page
    that was made goes out, not the server's bare 500, and the next request gets a
    working connection."""
    app = make_down_app()

    @app.get("/read-then-lose-the-connection")
    def read_then_lose_the_connection() -> str:
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        outage.terminate(pid)
        return "made before the connection went"

    client = app.test_client()
    response = client.get("/read-then-lose-the-connection")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "made before the connection went"
    assert client.get("/").status_code == 200


# --- the classifier, on real errors ---------------------------------------------------------


def caught(action: Callable[[], Any]) -> BaseException:
    try:
        action()
    except Exception as error:
        return error
    raise AssertionError("expected an error")


def test_unreachable_database_errors_are_recognised_by_class_and_code(
    backend: Backend, tmp_path: Path
) -> None:
    engine = sa.create_engine(backend.url)
    table = sa.Table("down_things", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    table.metadata.create_all(engine)

    def run(*statements: str, on: sa.Engine = engine) -> Callable[[], Any]:
        def action() -> None:
            with on.begin() as connection:
                for statement in statements:
                    connection.execute(sa.text(statement))

        return action

    not_down = {
        "unique violation": run("INSERT INTO down_things (id) VALUES (1), (1)"),
        "syntax error": run("SELEC 1"),
        "unknown table": run("SELECT * FROM no_such_table"),
    }
    down: dict[str, Callable[[], Any]] = {}
    holder = None
    if backend.name == "postgresql":
        # An OperationalError by class, but about the statement, not the server.
        not_down["statement timeout"] = run("SET LOCAL statement_timeout = 1", "SELECT pg_sleep(1)")
        refused = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
        down["connection refused"] = run("SELECT 1", on=refused)
        # Its own backend terminated: 57P01 admin_shutdown, as in a fast shutdown.
        down["administrator shutdown"] = run("SELECT pg_terminate_backend(pg_backend_pid())")
    else:
        gone = sa.create_engine(f"sqlite:///{tmp_path / 'gone' / 'pulse.db'}")
        down["file cannot be opened"] = run("SELECT 1", on=gone)
        locked = tmp_path / "locked.db"
        holder = sqlite3.connect(locked, isolation_level=None)
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")
        # SQLITE_BUSY, as a writer gets it once busy_timeout has run out.
        down["locked by another writer"] = lambda: sqlite3.connect(locked, timeout=0).execute(
            "SELECT * FROM t"
        )
    try:
        for name, action in not_down.items():
            error = caught(action)
            assert not is_database_unavailable(error), f"{name} taken for down: {error!r}"
        for name, action in down.items():
            error = caught(action)
            assert is_database_unavailable(error), f"{name} not recognised: {error!r}"
    finally:
        if holder is not None:
            holder.close()
        table.metadata.drop_all(engine)
        engine.dispose()


@pytest.mark.parametrize(
    ("sqlstate", "down"),
    [
        ("08000", True),  # connection_exception
        ("08003", True),  # connection_does_not_exist
        ("08006", True),  # connection_failure
        ("57P01", True),  # admin_shutdown
        ("57P02", True),  # crash_shutdown
        ("57P03", True),  # cannot_connect_now
        ("53300", True),  # too_many_connections
        ("23505", False),  # unique_violation
        ("42601", False),  # syntax_error
        ("57014", False),  # query_canceled: an OperationalError, but about the statement
        ("55P03", False),  # lock_not_available
        ("40001", False),  # serialization_failure
        ("40P01", False),  # deadlock_detected
        ("53100", False),  # disk_full: needs an operator, not a retry
    ],
)
def test_postgresql_errors_are_judged_by_sqlstate(sqlstate: str, down: bool) -> None:
    error = psycopg.errors.lookup(sqlstate)("whatever the server's language says")
    wrapped = sa.exc.DBAPIError("SELECT 1", {}, error)
    assert is_database_unavailable(wrapped) is down
    assert is_database_unavailable(error) is down


def test_message_text_alone_says_nothing() -> None:
    """What the old classifier matched on: a message mentioning a refused connection,
    from an error that is no connection failure, is not the database down; a driver's
    own connection failure is, whatever its message says."""
    assert not is_database_unavailable(
        sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
    )
    assert not is_database_unavailable(sqlite3.OperationalError("database is locked"))
    assert is_database_unavailable(
        sa.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("la connexion a échoué"))
    )
    assert is_database_unavailable(sa.exc.TimeoutError("QueuePool limit reached"))
    assert is_database_unavailable(sa.exc.DisconnectionError("connection went away"))


def test_a_kept_signed_out_page_is_not_served_while_the_database_is_away(
    down_app: Flask, outage: PostgresOutage | SqliteOutage
) -> None:
    """The article page kept for signed-out readers (answered before Flask once sent,
    webapp.shared_pages) is only ever served after its state was read: with the
    database away the reader gets the 503 page, not a copy that may hold a comment a
    moderator has since removed; and once it is back, the page again."""
    from webapp import caching

    _, slug, _ = seed(down_app)
    down_app.config["THREAD_CACHE_SECONDS"] = 60
    caching.clear_all()
    reader = down_app.test_client()
    try:
        assert reader.get(f"/articles/{slug}").status_code == 200
        kept = reader.get(f"/articles/{slug}")
        assert kept.status_code == 200 and kept.headers["Cache-Control"].startswith("public")
        outage.begin()
        try:
            away = reader.get(f"/articles/{slug}")
            assert away.status_code == 503 and MESSAGE in away.get_data(as_text=True)
            assert away.headers["Retry-After"]
        finally:
            outage.end()
        back = reader.get(f"/articles/{slug}")
        assert back.status_code == 200 and back.get_data() == kept.get_data()
    finally:
        caching.clear_all()
