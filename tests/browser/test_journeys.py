"""What readers, moderators and editors do, in a real Chromium against the served app.

Locators go by role and label, so these also check that every control a person
uses has a name. Each test signs in its own people in fresh browser contexts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import (
    EDITOR,
    MODERATOR,
    PASSWORD,
    PREMODERATED_TITLE,
    SCREENSHOTS,
    LiveServer,
)
from webapp.demo.loader import DEMO_OPTIONS, DEMO_QUESTION

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the browser_available fixture skips or fails with the reason
    Locator = Page = Any  # type: ignore[misc, assignment]
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

DEMO_TITLE = "How quiet U.S. diplomacy pulled India and Pakistan back from the brink"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- small steps a person takes -------------------------------------------------------------


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Welcome back")


def poll_of(page: Page, question: str = DEMO_QUESTION) -> Locator:
    return page.get_by_role("region", name=question)


def comments_of(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^\d+ comments?$"))


def vote_count(poll: Locator) -> int:
    caption = poll.locator("figcaption").inner_text()
    found = re.match(r"(\d+) votes?", caption)
    assert found, caption
    return int(found.group(1))


def result_row(poll: Locator, option: str) -> Locator:
    return (
        poll.get_by_role("list", name="Poll results")
        .get_by_role("listitem")
        .filter(has_text=option)
    )


def mark_document(page: Page) -> None:
    """Leave a mark in the page's script state; a full navigation would wipe it."""
    page.evaluate("window.__pulseSameDocument = true")


def still_same_document(page: Page) -> bool:
    return page.evaluate("window.__pulseSameDocument === true")


def comment_by(scope: Locator | Page, author: str, text: str) -> Locator:
    return scope.get_by_role("article", name=author, exact=True).filter(has_text=text)


def thread_of(page: Page, author: str, text: str) -> Locator:
    """The list item holding a comment and, nested inside it, the replies to it."""
    # A ``has`` locator is resolved inside each candidate, so it starts from the page.
    return comments_of(page).get_by_role("listitem").filter(has=comment_by(page, author, text))


# --- 1. a reader, with script ---------------------------------------------------------------


def test_a_reader_registers_votes_in_place_comments_and_replies(
    new_page: Any, live_server: LiveServer
) -> None:
    from tests.browser.conftest import SEEDED_COMMENT

    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="Create account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Display name").fill("Asha Reader")
    page.get_by_label("Email").fill("asha@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account is ready")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Signed in as Asha Reader")

    # Other browser tests publish articles on the same server, which can push the demo off
    # the front page's first ten: the reader finds it by the site search instead.
    page.get_by_role("searchbox", name="Search articles").fill("quiet diplomacy brink")
    page.get_by_role("searchbox", name="Search articles").press("Enter")
    page.get_by_role("link", name=DEMO_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_TITLE)
    poll = poll_of(page)
    votes_before = vote_count(poll)
    address = page.url
    mark_document(page)

    poll.get_by_role("radio", name="Too early to tell").check()
    poll.get_by_role("button", name="Vote").click()

    # pulse.js swapped in the new results without leaving the page.
    expect(result_row(poll, "Too early to tell")).to_contain_text("(your vote)")
    expect(poll.get_by_role("button", name="Change my vote")).to_be_visible()
    expect(poll.locator("figcaption")).to_have_text(re.compile(rf"^{votes_before + 1} votes"))
    # The demo's few votes are below POLL_MIN_VOTES_FOR_SHARES: counts, no bars.
    expect(result_row(poll, "Too early to tell")).to_contain_text(re.compile(r"\d+ votes?"))
    expect(poll.locator(".methodology")).to_contain_text("not a scientific survey")
    expect(poll.locator(".poll-results")).to_be_focused()
    assert still_same_document(page) and page.url == address
    expect(page.get_by_role("status")).to_have_count(0)  # no flash: nothing was reloaded

    comments = comments_of(page)
    comments.get_by_label("Post a comment").fill("Both armies need *real* hotlines, not posts.")
    comments.get_by_role("button", name="Post comment").click()
    mine = comment_by(comments, "Asha Reader", "Both armies need real hotlines")
    expect(mine).to_be_visible()
    expect(mine.locator("em")).to_have_text("real")
    expect(mine).to_contain_text("voted: Too early to tell")
    expect(page.get_by_label("Post a comment")).to_have_value("")

    thread = thread_of(page, "Demo Reader", SEEDED_COMMENT)
    parent = comment_by(comments, "Demo Reader", SEEDED_COMMENT)
    parent.locator("summary", has_text="Reply").click()
    parent.get_by_label("Your reply to Demo Reader").fill(
        "Three weeks is longer than the one before."
    )
    parent.get_by_role("button", name="Post reply").click()
    reply = comment_by(thread.get_by_role("list"), "Asha Reader", "Three weeks is longer")
    expect(reply).to_be_visible()
    assert still_same_document(page) and page.url == address


# --- 2. a moderator approves a held comment ------------------------------------------------


def test_a_held_comment_appears_once_a_moderator_approves_it(
    new_page: Any, live_server: LiveServer
) -> None:
    text = "The harbour bridge should have been built ten years ago."
    article = f"/articles/{live_server.premoderated_slug}"

    reader = new_page()
    sign_in(reader, *live_server.users["Moderated Reader"])
    reader.goto(article)
    expect(reader.get_by_role("heading", level=1)).to_have_text(PREMODERATED_TITLE)
    expect(reader.get_by_text("Comments here are read by a moderator")).to_be_visible()
    reader.get_by_label("Post a comment").fill(text)
    reader.get_by_role("button", name="Post comment").click()
    held = comment_by(reader, "Moderated Reader", text)
    expect(held).to_contain_text("Awaiting moderation")

    visitor = new_page()
    visitor.goto(article)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(PREMODERATED_TITLE)
    expect(visitor.get_by_text(text)).to_have_count(0)

    moderator = new_page()
    sign_in(moderator, *MODERATOR)
    main_nav = moderator.get_by_role("navigation", name="Main")
    main_nav.get_by_role("link", name=re.compile(r"^Moderation")).click()
    expect(moderator).to_have_url(re.compile(r"/moderation/queue/pending$"))
    item = moderator.get_by_role(
        "listitem", name=f"Moderated Reader on {PREMODERATED_TITLE}"
    ).filter(has_text=text)
    expect(item).to_contain_text("status pending")
    item.get_by_role("button", name="Approve").click()
    expect(moderator.get_by_role("status")).to_contain_text("Comment approved.")
    expect(moderator.get_by_text(text)).to_have_count(0)

    visitor.reload()
    expect(comment_by(visitor, "Moderated Reader", text)).to_be_visible()
    reader.reload()
    approved = comment_by(reader, "Moderated Reader", text)
    expect(approved).to_be_visible()
    expect(approved).not_to_contain_text("Awaiting moderation")


# --- 3. an editor publishes an article with a poll ------------------------------------------


def fill_article(
    page: Page, title: str, body: str, labels: str, question: str, options: list[str]
) -> None:
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Body (Markdown)").fill(body)
    page.get_by_label("Labels").fill(labels)
    page.get_by_label("Question").fill(question)
    for number, option in enumerate(options, start=1):
        page.get_by_label(f"Option {number}", exact=True).fill(option)


def test_an_editor_publishes_an_article_with_a_poll(new_page: Any, live_server: LiveServer) -> None:
    title = "Divers find the reef bleached for a third summer"
    question = "Should the reef be closed to divers?"
    page = new_page()
    sign_in(page, *EDITOR)
    page.get_by_role("link", name="Editor desk").click()
    expect(page.get_by_role("heading", name="Editor desk")).to_be_visible()
    page.get_by_role("link", name="Write a new article").click()
    expect(page.get_by_role("heading", name="New article")).to_be_visible()
    fill_article(
        page,
        title,
        "Scientists counted **fewer** living corals than in any survey before.",
        "Science, Oceans",
        question,
        ["Yes, for a few years", "Only the worst parts", "No"],
    )
    page.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_role("status")).to_contain_text("Published.")
    expect(page.get_by_role("heading", name="Edit article")).to_be_visible()

    page.get_by_role("link", name="Latest").click()
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".story-body strong")).to_have_text("fewer")
    expect(page.get_by_role("link", name="Oceans")).to_be_visible()
    poll = poll_of(page, question)
    expect(poll.get_by_role("radio")).to_have_count(3)
    expect(poll.get_by_role("radio", name="Only the worst parts")).to_be_visible()

    # Anonymous voting was left off: a visitor is asked to sign in instead.
    visitor = new_page()
    visitor.goto("/")
    visitor.get_by_role("link", name=title).click()
    visitor_poll = poll_of(visitor, question)
    expect(visitor_poll).to_contain_text("to vote.")
    expect(visitor_poll.get_by_role("radio")).to_have_count(0)


# --- 4. the same without script ---------------------------------------------------------------


def test_without_script_voting_and_comments_post_and_come_back(
    new_page: Any, live_server: LiveServer
) -> None:
    from tests.browser.conftest import SEEDED_COMMENT

    page = new_page(javascript=False)
    sign_in(page, *live_server.users["Plain Reader"])
    page.goto(f"/articles/{live_server.demo_slug}")
    poll = poll_of(page)
    votes_before = vote_count(poll)
    choice = DEMO_OPTIONS[2]

    poll.get_by_role("radio", name=choice).check()
    poll.get_by_role("button", name="Vote").click()
    expect(page).to_have_url(re.compile(rf"/articles/{live_server.demo_slug}#poll$"))
    expect(page.get_by_role("status").first).to_contain_text("Your vote is counted.")
    expect(result_row(poll, choice)).to_contain_text("(your vote)")
    expect(poll.locator("figcaption")).to_have_text(re.compile(rf"^{votes_before + 1} votes"))

    comments = comments_of(page)
    comments.get_by_label("Post a comment").fill("Posted by a plain form, no script at all.")
    comments.get_by_role("button", name="Post comment").click()
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    expect(page.get_by_role("status").first).to_contain_text("Your comment is posted.")
    expect(comment_by(comments, "Plain Reader", "Posted by a plain form")).to_be_visible()

    parent = comment_by(comments, "Demo Reader", SEEDED_COMMENT)
    parent.locator("summary", has_text="Reply").click()
    parent.get_by_label("Your reply to Demo Reader").fill("A reply without script.")
    parent.get_by_role("button", name="Post reply").click()
    expect(page.get_by_role("status").first).to_contain_text("Your comment is posted.")
    thread = thread_of(page, "Demo Reader", SEEDED_COMMENT)
    expect(
        comment_by(thread.get_by_role("list"), "Plain Reader", "A reply without")
    ).to_be_visible()

    poll.get_by_role("button", name="Withdraw my vote").click()
    expect(page.get_by_role("status").first).to_contain_text("Your vote is withdrawn.")
    expect(poll.get_by_text("(your vote)")).to_have_count(0)
    expect(poll.locator("figcaption")).to_have_text(re.compile(rf"^{votes_before} votes?"))


def test_without_script_the_editor_form_checks_previews_and_publishes(
    new_page: Any, live_server: LiveServer
) -> None:
    title = "Night trains return to the northern line"
    question = "Would you take a night train instead of a flight?"
    page = new_page(javascript=False)
    sign_in(page, *EDITOR)
    page.goto("/editor/articles/new")
    body = "Sleepers run *three* nights a week from May."
    fill_article(page, title, body, "Transport", question, ["Yes"])
    page.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_role("alert").first).to_contain_text("Please correct the marked fields")
    options = page.get_by_role("group", name=re.compile(r"^Options"))
    expect(options.get_by_role("alert")).to_contain_text("between 2 and 10 options")
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)

    page.get_by_label("Option 2", exact=True).fill("No")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator("em")).to_have_text("three")
    page.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_role("status")).to_contain_text("Published.")

    visitor = new_page(javascript=False)
    visitor.goto("/")
    visitor.get_by_role("link", name=title).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
    expect(poll_of(visitor, question).get_by_role("heading")).to_have_text(question)


# --- keyboard ----------------------------------------------------------------------------------


def test_a_keyboard_user_reaches_the_poll_and_votes(new_page: Any, live_server: LiveServer) -> None:
    page = new_page()
    sign_in(page, *live_server.users["Keyboard Reader"])
    page.goto(f"/articles/{live_server.demo_slug}")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    poll = poll_of(page)
    first = poll.get_by_role("radio", name=DEMO_OPTIONS[0])
    for _ in range(80):
        page.keyboard.press("Tab")
        if first.evaluate("element => element === document.activeElement"):
            break
    expect(first).to_be_focused()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    page.keyboard.press("ArrowDown")
    second = poll.get_by_role("radio", name=DEMO_OPTIONS[1])
    expect(second).to_be_checked()
    page.keyboard.press("Tab")
    expect(poll.get_by_role("button", name="Vote")).to_be_focused()
    page.keyboard.press("Enter")

    expect(result_row(poll, DEMO_OPTIONS[1])).to_contain_text("(your vote)")
    expect(poll.locator(".poll-results")).to_be_focused()


# --- 5. screenshots of the main pages ----------------------------------------------------------


# Its own words: the accessibility tests hold a comment in the same queue on the same server.
HELD_FOR_THE_PICTURE = "Could the shuttle buses run later in the evening while the bridge is shut?"


def _hold_a_comment(live_server: LiveServer) -> None:
    """A comment waiting in the pending queue, so the queue's picture shows one."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Article, User
    from webapp.services import comments

    def work() -> None:
        email = live_server.users["Shutter Reader"][0]
        author = db.session.scalar(select(User).where(User.email == email))
        article = db.session.scalar(
            select(Article).where(Article.slug == live_server.premoderated_slug)
        )
        comments.submit(article, author, HELD_FOR_THE_PICTURE)
        db.session.commit()

    live_server.run(work)


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")


def test_screenshots_of_the_main_pages(new_page: Any, live_server: LiveServer) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _hold_a_comment(live_server)
    names = []

    visitor = new_page()
    visitor.goto("/")
    expect(visitor.get_by_role("heading", name="Latest articles")).to_be_visible()
    shoot(visitor, "home")
    visitor.goto("/login")
    shoot(visitor, "sign-in")
    names += ["home", "sign-in"]

    reader = new_page()
    sign_in(reader, *live_server.users["Shutter Reader"])
    reader.goto(f"/articles/{live_server.demo_slug}")
    poll = poll_of(reader)
    poll.get_by_role("radio", name=DEMO_OPTIONS[1]).check()
    poll.get_by_role("button", name="Vote").click()
    expect(result_row(poll, DEMO_OPTIONS[1])).to_contain_text("(your vote)")
    comments = comments_of(reader)
    comments.get_by_label("Post a comment").fill("Peace held last spring too, for a while.")
    comments.get_by_role("button", name="Post comment").click()
    expect(comment_by(comments, "Shutter Reader", "Peace held last spring")).to_be_visible()
    shoot(reader, "article")
    names.append("article")

    editor = new_page()
    sign_in(editor, *EDITOR)
    editor.goto("/editor/")
    expect(editor.get_by_role("heading", name="Editor desk")).to_be_visible()
    shoot(editor, "editor-desk")
    editor.get_by_role("link", name="Write a new article").click()
    expect(editor.get_by_role("heading", name="New article")).to_be_visible()
    shoot(editor, "editor-article-form")
    editor.goto(f"/editor/articles/{live_server.demo_article_id}/results")
    expect(editor.get_by_role("heading", level=1)).to_be_visible()
    shoot(editor, "editor-results")
    names += ["editor-desk", "editor-article-form", "editor-results"]

    moderator = new_page()
    sign_in(moderator, *MODERATOR)
    moderator.goto("/moderation/queue/pending")
    expect(moderator.get_by_text(HELD_FOR_THE_PICTURE)).to_be_visible()
    shoot(moderator, "moderation-queue")
    names.append("moderation-queue")

    for name in names:
        data = (SCREENSHOTS / f"{name}.png").read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        assert len(data) > 10_000, f"{name}.png is suspiciously small ({len(data)} bytes)"
