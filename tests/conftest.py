"""Test fixtures. Every test runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server on
127.0.0.1:5432, database ``test``). Each run works in a schema of its own,
dropped at the end. When PostgreSQL cannot be reached its tests are skipped
with the reason, unless PULSE_REQUIRE_POSTGRES=1 (as in CI), where that fails.
"""

from __future__ import annotations

import contextvars
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from webapp import create_app
from webapp.config import CACHE_SETTINGS
from webapp.extensions import db as _db
from webapp.models import Base

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# No background integrity pass in apps the tests build without TESTING (an outage's
# app, the served browser app): its thread would outlive the test, keep querying a
# database the test has dropped, and allocate inside other tests' memory measurements.
# Tests of the runner turn it on in their app's config, which wins over this.
os.environ["INTEGRITY_RUNNER"] = "0"
TEST_SECRET = "test-secret-key-not-for-production"
PASSWORD = "correct horse battery"


class IsolatedClient(FlaskClient):
    """Runs each request as a real server would: in its own app context.

    Flask reuses an already-pushed app context for a request, which would share
    the test's database session and Flask-Login's cached user between requests.
    Running the request in an empty ``contextvars.Context`` gives it a fresh one.
    The test's own session ends its transaction first, so it holds no lock the
    request might wait for, and re-reads what the request wrote.
    """

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def, override]
        if has_app_context():
            _db.session.rollback()
        # Buffered, so a streamed body is produced inside that same context.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@dataclass(frozen=True)
class Backend:
    name: str
    url: str


def _postgres_base_url() -> str:
    from webapp.config import database_url_from

    return database_url_from(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


def _with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "pulse-test.db"
        url = f"sqlite:///{path}"
        engine = sa.create_engine(url)
        _create_schema(engine)
        engine.dispose()
        yield Backend("sqlite", url)
        return

    base_url = _postgres_base_url()
    try:
        admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            schema = f"pulse_test_{uuid.uuid4().hex[:10]}"
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {base_url} ({exc.orig}); set TEST_POSTGRES_URL"
        if os.environ.get("PULSE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PULSE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    url = _with_schema(base_url, schema)
    engine = sa.create_engine(url)
    _create_schema(engine)
    engine.dispose()
    yield Backend("postgresql", url)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _create_schema(engine: sa.Engine) -> None:
    # Import every model module so the metadata is complete.
    import webapp.models  # noqa: F401

    Base.metadata.create_all(engine)


def _empty_tables(engine: sa.Engine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    """Tests marked postgres_only show behaviour only PostgreSQL has (session time zones,
    row locks); on other backends they are skipped with that reason."""
    if request.node.get_closest_marker("postgres_only") is None:
        return
    backend = request.getfixturevalue("backend")
    if backend.name != "postgresql":
        pytest.skip("postgres_only: this behaviour exists only on PostgreSQL")


#: PULSE_TEST_PRODUCTION_CACHES=1 keeps the caches' production defaults (webapp.config)
#: instead of turning them off; CI runs the concurrency tests once more that way,
#: since a race through a cache hides while the caches are off.
PRODUCTION_CACHES = os.environ.get("PULSE_TEST_PRODUCTION_CACHES") == "1"


@pytest.fixture
def make_app(backend: Backend, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build an app on this test's backend; settings override the test defaults."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": backend.url,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            # argon2 at its cheapest: half a second per hash and check was most of the
            # suite's time (tests/test_config_and_errors.py checks the default).
            "ARGON2_PROFILE": "CHEAPEST",
            # VADER, fast and deterministic, scores comments in the request and nothing
            # is queued. The default (the MiniLM model, refined in the background) has
            # its own tests: tests/jobs/test_refine_default.py, tests/services/test_minilm.py.
            "SENTIMENT_ANALYSER": "webapp.services.insights.sentiment:VaderAnalyser",
        }
        if not PRODUCTION_CACHES:
            # Correctness tests read what they just wrote; each cache has tests of its
            # own that turn it on (tests/services/test_caches.py, test_poll_cache.py).
            config.update(dict.fromkeys(CACHE_SETTINGS, 0))
        config.update(overrides)
        app = create_app(config)
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            _db.session.remove()
            engine = _db.engine
            _empty_tables(engine)
            engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def db(app: Flask):  # type: ignore[no-untyped-def]
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


# --- counting queries -----------------------------------------------------------------


@contextmanager
def every_statement(note: Callable[[Any, str], None]) -> Iterator[None]:
    """Inside the block, ``note(connection, statement)`` for every statement the current
    app's engines send: the main one and the autocommit one of ``webapp.connections``,
    where a request's lone write and its reads before writing run."""

    def listener(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        note(conn, statement)

    engines = list(_db.engines.values())
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], AbstractContextManager[list[str]]]:
    """``with count_queries() as queries:``: every statement the app's engines run
    (the autocommit one of ``webapp.connections`` too) inside the block (the test's
    own and its requests'), in order. Flatness is proved by these counts (the same for
    a page of 1 and of 50, on a small site and a larger one), never by timing."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        queries: list[str] = []
        with every_statement(lambda conn, statement: queries.append(statement)):
            yield queries

    return counting


# --- factories --------------------------------------------------------------------


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    from webapp.models import Role
    from webapp.services.accounts import create_user

    counter = iter(range(1, 1_000_000))

    def build(
        role: str = "reader",
        email: str | None = None,
        password: str = PASSWORD,
        name: str | None = None,
    ) -> Any:
        number = next(counter)
        user = create_user(
            email or f"{role}{number}@example.org",
            password,
            Role(role),
            name or f"{role.title()} {number}",
        )
        _db.session.commit()
        return user

    return build


@pytest.fixture
def make_established_user(make_user: Callable[..., Any], make_article: Callable[..., Any]):  # type: ignore[no-untyped-def]
    """A reader whose reports count in full toward hiding a comment
    (webapp.services.comments.report_weight): joined a month ago, with a published
    comment (on an article of its own, so the tested threads stay as they are)."""
    from webapp.services import comments

    elsewhere: list[Any] = []

    def build(**kwargs: Any) -> Any:
        user = make_user(**kwargs)
        user.created_at = datetime.now(UTC) - timedelta(days=30)
        if not elsewhere:
            elsewhere.append(make_article(title="Where established readers comment"))
        comment = comments.submit(elsewhere[0], user, "Thanks for this, a fair summary.")
        assert comment.status == "published"
        _db.session.commit()
        return user

    return build


@pytest.fixture
def make_article(app: Flask, make_user: Callable[..., Any]) -> Callable[..., Any]:
    from webapp.services import articles

    counter = iter(range(1, 1_000_000))

    def build(
        title: str | None = None,
        *,
        author: Any = None,
        status: str = "published",
        poll: dict[str, Any] | bool | None = None,
        labels: list[str] | None = None,
        comments: str = "open",
        published_at: datetime | None = None,
        body: str = "Some **reporting** worth reading.",
    ) -> Any:
        number = next(counter)
        author = author or make_user("editor")
        poll_input = None
        if poll:
            spec = {
                "question": "Will the peace hold?",
                "options": ["Yes", "No", "Too early to tell"],
            }
            if isinstance(poll, dict):
                spec.update(poll)
            poll_input = articles.PollInput(**spec)
        article = articles.create_article(
            author,
            articles.ArticleChanges(
                title=title or f"Article number {number}",
                body=body,
                labels=labels or [],
                status=status,
                comments=comments,
                poll=poll_input,
            ),
        )
        if published_at is not None:
            article.published_at = published_at
        _db.session.commit()
        return article

    return build


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


# --- talking to the API -----------------------------------------------------------------


class Api:
    """A test client that speaks JSON and sends the CSRF token like a browser script."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.client.get("/api/v1/csrf").get_json()["csrf_token"]
        return self._token

    def get(self, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kwargs)

    def _unsafe(self, method: str, path: str, json: Any = None, csrf: bool = True, **kwargs: Any):  # type: ignore[no-untyped-def]
        headers = dict(kwargs.pop("headers", {}))
        if csrf:
            headers["X-CSRFToken"] = self.token
        return self.client.open(path, method=method, json=json, headers=headers, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self._unsafe("POST", path, json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self._unsafe("PATCH", path, json, **kwargs)

    def delete(self, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self._unsafe("DELETE", path, None, **kwargs)

    def login(self, user: Any, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        response = self.post("/api/v1/auth/login", {"email": user.email, "password": password})
        assert response.status_code == 200, response.get_json()
        # Signing in rotates nothing in Flask-WTF, but keep the token fresh anyway.
        self._token = None
        return response

    def form(self, path: str, data: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
        """Submit an HTML form the way a browser without script would."""
        return self.client.post(path, data={"csrf_token": self.token, **data}, **kwargs)


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def make_api(app: Flask) -> Callable[[], Api]:
    """Another visitor with their own cookies."""
    return lambda: Api(app.test_client())
