"""Proof for every main page and state, at 1280 and 390 px, with and without script:
axe's WCAG 2.2 AA rules (target size included) find no violation, the page does not
grow wider than a phone's screen, and each page's picture is saved as a test artifact
(``test-artifacts/screenshots/<page>-<width>.png``, JavaScript on). The W3C validator's
check of the same pages is in test_accessibility_html.py.

axe-core comes inside the ``axe-playwright-python`` package (the dev extra); it is
injected through Playwright's own channel, which works with the page's script turned
off too, so the no-script pages are checked as readers without script get them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    DEMO_READER,
    EDITOR,
    MODERATOR,
    SCREENSHOTS,
    WIDTHS,
    LiveServer,
)

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser_available fixture skips or fails with the reason
    Page = Any  # type: ignore[misc, assignment]
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

#: WCAG 2.0, 2.1 and 2.2 at levels A and AA, as axe tags them.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: axe ships WCAG 2.2's target-size rule (2.5.8, 24 by 24 px) turned off: turn it on.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": AXE_TAGS},
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EMPTY_POLL_TITLE = "Harbour ferry timetable goes to consultation"
TIED_POLL_TITLE = "Library opening hours: two plans on the table"


@functools.cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


@dataclass(frozen=True)
class AxeReport:
    violations: list[dict[str, Any]]
    rules_run: set[str]

    def describe(self) -> str:
        lines = []
        for v in self.violations:
            lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
            lines += [f"    {node}" for node in v["nodes"][:5]]
        return "\n".join(lines)


def run_axe(page: Page) -> AxeReport:
    page.evaluate(axe_source())
    found = page.evaluate(
        """async (options) => {
            const r = await axe.run(document, options);
            const ran = [...r.violations, ...r.passes, ...r.incomplete, ...r.inapplicable];
            return {
                violations: r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary),
                })),
                rules_run: ran.map(rule => rule.id),
            };
        }""",
        AXE_OPTIONS,
    )
    return AxeReport(found["violations"], set(found["rules_run"]))


# --- the people and the pages ------------------------------------------------------------------


def _sign_in(browser: Any, live_server: LiveServer, email: str, password: str) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="UTC")
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Welcome back")
        return context.storage_state()
    finally:
        context.close()


@dataclass(frozen=True)
class Seeded:
    empty_poll_id: int
    empty_poll_slug: str
    tied_poll_slug: str
    tied_poll_id: int
    moderated_reader_id: int


def _seed_states(live_server: LiveServer) -> Seeded:
    """A poll without votes (the empty states), a tied poll, and a held comment."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Article, User
    from webapp.services import articles, comments, polls

    def work() -> Seeded:
        editor = db.session.scalar(select(User).where(User.email == EDITOR[0]))
        reader = db.session.scalar(select(User).where(User.email == DEMO_READER[0]))
        assert editor is not None and reader is not None
        made = {}
        for title in (EMPTY_POLL_TITLE, TIED_POLL_TITLE):
            existing = db.session.scalar(select(Article).where(Article.title == title))
            made[title] = existing or articles.create_article(
                editor,
                articles.ArticleChanges(
                    title=title,
                    summary="Readers are asked which plan they prefer.",
                    body="The council publishes two plans and asks for views.",
                    labels=["City"],
                    status="published",
                    comments="open",
                    poll=articles.PollInput(
                        question=f"{title}: which do you prefer?",
                        options=["The first plan", "The second plan", "Neither"],
                    ),
                ),
            )
        tied = made[TIED_POLL_TITLE]
        if polls.results(tied.poll).total == 0:
            first, second, _ = tied.poll.options
            polls.cast_vote(
                tied.poll, polls.Voter(polls.user_voter_key(editor), editor.id), first.id
            )
            polls.cast_vote(
                tied.poll, polls.Voter(polls.user_voter_key(reader), reader.id), second.id
            )
        premoderated = db.session.scalar(
            select(Article).where(Article.slug == live_server.premoderated_slug)
        )
        held_by = db.session.scalar(
            select(User).where(User.email == live_server.users["Moderated Reader"][0])
        )
        assert premoderated is not None and held_by is not None
        comments.submit(premoderated, held_by, "Will the ferry fares go up while we wait?")
        db.session.commit()
        empty = made[EMPTY_POLL_TITLE]
        return Seeded(empty.id, empty.slug, tied.slug, tied.id, held_by.id)

    result: Seeded = live_server.run(work)
    return result


@dataclass(frozen=True)
class MainPage:
    name: str
    who: str  # "visitor", "reader", "editor" or "moderator"
    path: Callable[[LiveServer, Seeded], str]
    #: Something a person does on the page first (e.g. a failed sign-in), if anything.
    act: Callable[[Page], None] | None = None


def _failed_sign_in(page: Page) -> None:
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()


MAIN_PAGES = [
    MainPage("home", "visitor", lambda s, d: "/"),
    MainPage("article", "visitor", lambda s, d: f"/articles/{s.demo_slug}"),
    MainPage("article-no-votes", "visitor", lambda s, d: f"/articles/{d.empty_poll_slug}"),
    MainPage("article-tied-poll", "visitor", lambda s, d: f"/articles/{d.tied_poll_slug}"),
    MainPage("label", "visitor", lambda s, d: "/labels/city"),
    MainPage("sign-in", "visitor", lambda s, d: "/login"),
    MainPage("sign-in-refused", "visitor", lambda s, d: "/login", _failed_sign_in),
    MainPage("register", "visitor", lambda s, d: "/register"),
    MainPage("not-found", "visitor", lambda s, d: "/articles/no-such-article"),
    MainPage("article-signed-in", "reader", lambda s, d: f"/articles/{s.demo_slug}"),
    MainPage("account", "reader", lambda s, d: "/account"),
    MainPage("editor-desk", "editor", lambda s, d: "/editor/"),
    MainPage("editor-article-form", "editor", lambda s, d: "/editor/articles/new"),
    MainPage(
        "editor-edit-article", "editor", lambda s, d: f"/editor/articles/{s.demo_article_id}/edit"
    ),
    MainPage(
        "editor-results", "editor", lambda s, d: f"/editor/articles/{s.demo_article_id}/results"
    ),
    MainPage(
        "editor-results-no-votes",
        "editor",
        lambda s, d: f"/editor/articles/{d.empty_poll_id}/results",
    ),
    MainPage(
        "editor-results-tied", "editor", lambda s, d: f"/editor/articles/{d.tied_poll_id}/results"
    ),
    MainPage(
        "editor-integrity", "editor", lambda s, d: f"/editor/articles/{s.demo_article_id}/integrity"
    ),
    MainPage("editor-overview", "editor", lambda s, d: "/editor/overview"),
    MainPage("editor-topic-words", "editor", lambda s, d: "/editor/topic-words"),
    MainPage("moderation-queue", "moderator", lambda s, d: "/moderation/queue/pending"),
    MainPage("moderation-log", "moderator", lambda s, d: "/moderation/log"),
    MainPage("moderation-settings", "moderator", lambda s, d: "/moderation/settings"),
    MainPage(
        "moderation-reader", "moderator", lambda s, d: f"/moderation/users/{d.moderated_reader_id}"
    ),
]


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> Seeded:
    return _seed_states(live_server)


@pytest.fixture(scope="module")
def people(browser: Any, live_server: LiveServer) -> dict[str, Any]:
    """Each role's signed-in cookies, signed in once for the module."""
    return {
        "visitor": None,
        "reader": _sign_in(browser, live_server, *DEMO_READER),
        "editor": _sign_in(browser, live_server, *EDITOR),
        "moderator": _sign_in(browser, live_server, *MODERATOR),
    }


def open_main_page(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    seeded: Seeded,
    people: dict[str, Any],
    main: MainPage,
    *,
    width: int,
    javascript: bool,
) -> Page:
    # Without JavaScript: the page's own scripts are refused (all of Pulse's are files
    # under /static, the CSP allows no inline script), so it renders as for a reader
    # without script, while axe can still be run in it (Chromium's script switch would
    # stop axe too; Pulse has no <noscript> content that the switch would reveal).
    page = new_page(width=width, storage_state=people[main.who])
    if not javascript:
        page.route("**/*.js", lambda route: route.abort())
    response = page.goto(main.path(live_server, seeded))
    assert response is not None
    assert response.status == (404 if main.name == "not-found" else 200), main.name
    if main.act is not None:
        main.act(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


# --- the checks ------------------------------------------------------------------------------


def page_overflow(page: Page) -> tuple[int, list[str]]:
    """How many px the page is wider than the window, and up to five elements that stick
    out past its right edge (outside a scrolling region)."""
    wider = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .filter(e => !e.closest(".table-scroll, .visually-hidden"))
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + "." + (e.getAttribute("class") || ""))"""
    )
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return int(overflow), list(wider)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("main", MAIN_PAGES, ids=[m.name for m in MAIN_PAGES])
def test_every_main_page_passes_wcag_22_aa_and_fits_the_screen(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    seeded: Seeded,
    people: dict[str, Any],
    main: MainPage,
    width: int,
    javascript: bool,
) -> None:
    """axe finds no WCAG 2.2 AA violation; at 390 px the page is no wider than the phone
    (wide tables and charts scroll inside their own region); with script on, the page's
    picture is saved as a test artifact."""
    page = open_main_page(
        new_page, live_server, seeded, people, main, width=width, javascript=javascript
    )
    if javascript:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{main.name}-{width}.png"
        page.screenshot(path=str(target), full_page=True, animations="disabled")
        data = target.read_bytes()
        assert data.startswith(PNG_SIGNATURE), target.name
        assert len(data) > 5_000, f"{target.name} is suspiciously small ({len(data)} bytes)"
    report = run_axe(page)
    # The rules asked for ran, WCAG 2.2's target size among them.
    assert "target-size" in report.rules_run
    assert {"color-contrast", "scrollable-region-focusable"} <= report.rules_run
    assert not report.violations, f"{main.name} at {width}px:\n{report.describe()}"
    if width == 390:
        overflow, wider = page_overflow(page)
        assert overflow <= 0 and not wider, f"{main.name} is {overflow}px too wide: {wider}"


def test_chart_text_is_readable_on_a_phone(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    seeded: Seeded,
    people: dict[str, Any],
) -> None:
    """Chart text drawn at 390 px is at least 10 px tall on screen, not a scaled-down 6."""
    page = new_page(width=390, storage_state=people["editor"])
    page.goto(f"/editor/articles/{live_server.demo_article_id}/results")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll("svg.line-chart text, svg.bar-chart text")]
            .map(t => {
                const box = t.getBoundingClientRect();
                const frame = t.closest("svg").getBoundingClientRect();
                const inside = box.left >= frame.left - 1 && box.right <= frame.right + 1;
                return [t.textContent, box.height, inside];
            })"""
    )
    assert sizes, "the demo's results page draws no chart text"
    small = [(label, round(height, 1)) for label, height, _ in sizes if height < 10]
    assert not small, f"chart text under 10px at 390px wide: {small[:8]}"
    # ...and none of it is cut off at the chart's edge.
    clipped = [label for label, _, inside in sizes if not inside]
    assert not clipped, f"chart text cut off at 390px wide: {clipped[:8]}"
