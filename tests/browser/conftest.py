"""Browser fixtures: the real app served on 127.0.0.1, driven by Debian's Chromium.

One app, one SQLite file and one browser serve the whole session; each test opens
its own browser contexts (so its own cookies), with or without JavaScript.

Playwright comes from PyPI and drives the system Chromium (``/usr/bin/chromium``,
or ``PULSE_CHROMIUM``); Playwright's own browser download is never used. When
either is missing the tests are skipped with the reason, unless
``PULSE_REQUIRE_BROWSER=1`` (as in CI), where that fails instead.

These tests build their own app on SQLite and do not use the ``backend``/``app``
fixtures of ``tests/conftest.py``, which would run everything twice.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from webapp import create_app

CHROMIUM = os.environ.get("PULSE_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's
# services, which a closed network refuses many times over.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET = "browser-test-secret-not-for-production"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000
#: The two widths every page is checked at: a laptop and a phone (an iPhone 12-15's 390 px).
WIDTHS = (1280, 390)
VIEWPORT_HEIGHTS = {1280: 900, 390: 844}

PASSWORD = "correct horse battery"
EDITOR = ("editor@pulse.example", "pulse-editor-demo")
MODERATOR = ("moderator@pulse.example", "pulse-moderator-demo")
DEMO_READER = ("reader@pulse.example", "pulse-reader-demo")
PREMODERATED_TITLE = "Council delays the vote on the harbour bridge"
SEEDED_COMMENT = "The last truce lasted three weeks. I will believe it when I see it."


def _browser_problem() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).is_file():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skip (or, with PULSE_REQUIRE_BROWSER=1, fail) when there is no browser to drive."""
    problem = _browser_problem()
    if problem is None:
        return
    if os.environ.get("PULSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"PULSE_REQUIRE_BROWSER=1 but {problem}")
    pytest.skip(problem)


# --- the served app -----------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Flask
    demo_slug: str
    demo_article_id: int
    premoderated_slug: str
    users: dict[str, tuple[str, str]] = field(default_factory=dict)

    def run(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` in an app context of the served app (to seed or read data)."""
        from webapp.extensions import db

        with self.app.app_context():
            try:
                return work()
            finally:
                db.session.remove()


def _seed(app: Flask) -> dict[str, Any]:
    """The demo, one premoderated article, extra readers, and some votes and a comment."""
    from sqlalchemy import select

    from webapp.demo.loader import load_demo
    from webapp.extensions import db
    from webapp.models import Article, Base, Role, User
    from webapp.services import articles, comments, polls
    from webapp.services.accounts import create_user

    Base.metadata.create_all(db.engine)
    report = load_demo()
    db.session.commit()

    editor = db.session.scalar(select(User).where(User.email == EDITOR[0]))
    demo_reader = db.session.scalar(select(User).where(User.email == DEMO_READER[0]))
    assert editor is not None and demo_reader is not None
    premoderated = articles.create_article(
        editor,
        articles.ArticleChanges(
            title=PREMODERATED_TITLE,
            summary="The vote is put off again while engineers check the piers.",
            body="The city council put off its vote on the harbour bridge for a third time.",
            labels=["City"],
            status="published",
            comments="premoderated",
        ),
    )
    users = {}
    for name in ("Keyboard Reader", "Plain Reader", "Moderated Reader", "Shutter Reader"):
        email = name.lower().replace(" ", ".") + "@example.org"
        create_user(email, PASSWORD, Role.READER, name)
        users[name] = (email, PASSWORD)

    demo = db.session.scalar(select(Article).where(Article.slug == report.article_slug))
    assert demo is not None and demo.poll is not None
    # A few votes so the chart has something to show, and a comment to reply to.
    options = demo.poll.options
    polls.cast_vote(
        demo.poll, polls.Voter(polls.user_voter_key(demo_reader), demo_reader.id), options[1].id
    )
    polls.cast_vote(demo.poll, polls.Voter(polls.user_voter_key(editor), editor.id), options[0].id)
    comments.submit(demo, demo_reader, SEEDED_COMMENT)
    db.session.commit()
    return {
        "demo_slug": demo.slug,
        "demo_article_id": demo.id,
        "premoderated_slug": premoderated.slug,
        "users": users,
    }


@pytest.fixture(scope="session")
def live_server(
    browser_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("browser") / "pulse-browser.db"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "DATABASE_URL": f"sqlite:///{database}",
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    from webapp.extensions import db

    with app.app_context():
        seeded = _seed(app)
        db.session.remove()

    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="pulse-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, **seeded)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(browser_available: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Problems:
    """What went wrong in the pages while a test ran: server errors and script errors."""

    server_errors: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context (own cookies); ``javascript=False`` turns script off,
    ``width`` sets the viewport (1280: a laptop; 390: a phone), ``storage_state`` starts
    it with another context's cookies (a signed-in person, see ``signed_in_state``).

    Any 5xx answer or uncaught script error in any of the test's pages fails the test.
    """
    contexts: list[Any] = []
    problems = Problems()

    def open_page(*, javascript: bool = True, width: int = 1280, storage_state: Any = None) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=javascript,
            viewport={"width": width, "height": VIEWPORT_HEIGHTS.get(width, 900)},
            locale="en-GB",
            timezone_id="UTC",
            storage_state=storage_state,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "response",
            lambda response: (
                problems.server_errors.append(f"{response.status} {response.url}")
                if response.status >= 500
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.script_errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems.server_errors, f"the server failed: {problems.server_errors}"
    assert not problems.script_errors, f"scripts failed in the page: {problems.script_errors}"
