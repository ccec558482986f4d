"""A moderator works through the queue in a real Chromium, with and without script, at
1280 and 390 px: decisions apply in place and focus moves to the next comment, the
counts follow, select all and bulk actions work, filters live in the URL.

Each test seeds its own held comments by an author of its own and filters the queue
to that author, so the other tests' comments in the shared app do not matter.
"""

from __future__ import annotations

import re
from itertools import count
from typing import Any
from urllib.parse import quote_plus
from uuid import uuid4

import pytest

from tests.browser.conftest import MODERATOR, LiveServer
from tests.browser.test_journeys import mark_document, sign_in, still_same_document

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the browser_available fixture skips or fails with the reason
    Locator = Page = Any  # type: ignore[misc, assignment]
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

HEIGHTS = {1280: 900, 390: 844}
_authors = count(1)


def seed_held(live_server: LiveServer, texts: list[str]) -> str:
    """Held comments by a new author on the premoderated article; the author's name."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Article, Role
    from webapp.services import comments
    from webapp.services.accounts import create_user

    name = f"Queue Writer {next(_authors)}"

    def work() -> None:
        author = create_user(
            name.lower().replace(" ", ".") + "@example.org", "a long enough pass", Role.READER, name
        )
        article = db.session.scalar(
            select(Article).where(Article.slug == live_server.premoderated_slug)
        )
        for text in texts:
            assert comments.submit(article, author, text).status == "pending"
        db.session.commit()

    live_server.run(work)
    return name


def open_queue(new_page: Any, *, javascript: bool, width: int, author: str) -> Page:
    page = new_page(javascript=javascript)
    page.set_viewport_size({"width": width, "height": HEIGHTS[width]})
    sign_in(page, *MODERATOR)
    page.goto(f"/moderation/queue/pending?q={quote_plus(author)}")
    return page


def item_with(page: Page, text: str) -> Locator:
    return page.locator("[data-queue-item]").filter(has_text=text)


def pending_count(page: Page) -> int:
    tabs = page.get_by_role("navigation", name="Moderation")
    return int(tabs.locator('[data-queue-count="pending"]').inner_text())


def stored_pending(live_server: LiveServer) -> int:
    """The Pending queue's size as the database keeps it (a page's navigation may show
    a copy up to QUEUE_COUNTS_CACHE_SECONDS old until a decision is made there)."""
    from webapp.services import moderation

    return int(live_server.run(moderation.queue_counts)["pending"])


def fits_the_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [1280, 390])
def test_with_script_decisions_apply_in_place_and_focus_moves_on(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    texts = ["First held remark here", "Second held remark here", "Third held remark here"]
    author = seed_held(live_server, texts)
    page = open_queue(new_page, javascript=True, width=width, author=author)
    expect(page.locator("[data-queue-item]")).to_have_count(3)
    assert fits_the_width(page)
    before = stored_pending(live_server)
    mark_document(page)

    item_with(page, texts[0]).get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Comment approved.")
    expect(item_with(page, texts[0])).to_have_count(0)
    expect(item_with(page, texts[1])).to_be_focused()
    expect(
        page.get_by_role("navigation", name="Moderation").locator('[data-queue-count="pending"]')
    ).to_have_text(str(before - 1))
    expect(page.locator('nav .count-pill[title="pending"]')).to_have_text(str(before - 1))

    second = item_with(page, texts[1])
    second.get_by_label("Reason the author will see").fill("Please keep it civil")
    second.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text("Comment rejected.")
    expect(item_with(page, texts[2])).to_be_focused()
    expect(
        page.get_by_role("navigation", name="Moderation").locator('[data-queue-count="rejected"]')
    ).not_to_have_text("0")

    third = item_with(page, texts[2])
    third.get_by_text("Ban the author…").click()
    third.get_by_label("Reason (required, kept in the log)").fill("Repeated spam")
    third.get_by_role("button", name=f"Ban {author}").click()
    expect(page.get_by_role("status")).to_contain_text(f"{author} is banned from writing.")
    expect(third).to_contain_text("Author banned.")
    assert still_same_document(page), "the page reloaded"
    assert pending_count(page) == before - 2


@pytest.mark.parametrize("width", [1280, 390])
def test_with_script_select_all_and_a_bulk_action_empty_the_page(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    texts = ["Bulk one remark", "Bulk two remark", "Bulk three remark"]
    author = seed_held(live_server, texts)
    page = open_queue(new_page, javascript=True, width=width, author=author)
    before = stored_pending(live_server)
    mark_document(page)

    page.get_by_label("Select all on this page").check()
    expect(page.locator("[data-select]:checked")).to_have_count(3)
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")
    item_with(page, texts[1]).get_by_label(re.compile(r"^Select comment")).uncheck()
    expect(page.get_by_label("Select all on this page")).not_to_be_checked()
    page.get_by_label("Select all on this page").check()

    page.get_by_label("With the selected comments:").select_option("approve")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("3 comments approved.")
    expect(page.locator("[data-queue-item]")).to_have_count(0)
    expect(page.get_by_text("Nothing left on this page.")).to_be_focused()
    expect(
        page.get_by_role("navigation", name="Moderation").locator('[data-queue-count="pending"]')
    ).to_have_text(str(before - 3))
    assert still_same_document(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_refusal_is_shown_in_place_next_to_the_comment(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    texts = ["A remark whose author gets a ban that ended"]
    author = seed_held(live_server, texts)
    page = open_queue(new_page, javascript=True, width=width, author=author)
    mark_document(page)
    item = item_with(page, texts[0])
    item.get_by_text("Ban the author…").click()
    item.get_by_label("Reason (required, kept in the log)").fill("Spam")
    item.get_by_label("Until (empty: for good)").fill("2000-01-01")
    item.get_by_role("button", name=f"Ban {author}").click()
    expect(page.get_by_role("status")).to_contain_text("A ban must end in the future")
    expect(item.locator(".queue-error")).to_contain_text("A ban must end in the future")
    expect(item.get_by_label("Reason (required, kept in the log)")).to_have_value("Spam")
    assert still_same_document(page)

    page.get_by_role("button", name="Apply").click()  # nothing selected
    expect(page.get_by_role("status")).to_contain_text("Choose at least one comment.")
    expect(item).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_without_script_every_action_posts_and_comes_back_to_the_filtered_queue(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    texts = ["Plain one remark", "Plain two remark", "Plain three remark", "Plain four"]
    author = seed_held(live_server, texts)
    page = open_queue(new_page, javascript=False, width=width, author=author)
    filtered = re.compile(r"/moderation/queue/pending\?q=" + re.escape(quote_plus(author)) + "$")
    expect(page.locator("[data-queue-item]")).to_have_count(4)
    assert fits_the_width(page)
    before = stored_pending(live_server)

    item_with(page, texts[0]).get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Comment approved.")
    expect(page).to_have_url(filtered)
    expect(item_with(page, texts[0])).to_have_count(0)
    assert pending_count(page) == before - 1

    page.get_by_role("link", name="Select all on this page").click()
    expect(page.locator("[data-select]:checked")).to_have_count(3)
    item_with(page, texts[3]).get_by_label(re.compile(r"^Select comment")).uncheck()
    page.get_by_label("With the selected comments:").select_option("reject")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("2 comments rejected.")
    expect(page).to_have_url(filtered)
    expect(page.locator("[data-queue-item]")).to_have_count(1)
    assert pending_count(page) == before - 3

    last = item_with(page, texts[3])
    last.get_by_text("Ban the author…").click()
    last.get_by_label("Reason (required, kept in the log)").fill("Spam again")
    last.get_by_role("button", name=f"Ban {author}").click()
    expect(page.get_by_role("status")).to_contain_text(f"{author} is banned from writing.")
    expect(page).to_have_url(filtered)
    expect(item_with(page, texts[3])).to_contain_text("Author banned")


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_filters_live_in_the_url(
    new_page: Any, live_server: LiveServer, width: int, javascript: bool
) -> None:
    words = f"by my words {uuid4().hex[:8]}"  # this test's alone, whatever ran before
    texts = [f"Filter me {words} please", "Another remark entirely"]
    author = seed_held(live_server, texts)
    page = open_queue(new_page, javascript=javascript, width=width, author=author)
    expect(page.locator("[data-queue-item]")).to_have_count(2)
    search = page.get_by_role("search").get_by_label("Author or text")
    search.fill(words)
    page.get_by_label("Held or reported for").select_option("premoderated")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=" + re.escape(quote_plus(words))))
    expect(page).to_have_url(re.compile(r"reason=premoderated"))
    expect(page.locator("[data-queue-item]")).to_have_count(1)
    expect(item_with(page, texts[0])).to_be_visible()
    expect(page.get_by_role("search").get_by_label("Author or text")).to_have_value(words)
    page.get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/moderation/queue/pending$"))
