"""A news site's basics in a real Chromium, with and without script, at 1280 and 390 px:
the header's search, topics with their feeds, share links and the copy button, and
the editor's form (option boxes on demand, a lead image with its alt text, scheduled
publication, autosaved drafts)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import EDITOR, WIDTHS, LiveServer
from tests.browser.test_journeys import DEMO_TITLE, sign_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser_available fixture skips or fails with the reason
    Page = Any  # type: ignore[misc, assignment]
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

BOTH = pytest.mark.parametrize(
    "javascript, width",
    [(js, width) for js in (True, False) for width in WIDTHS],
    ids=lambda value: ("js" if value else "no-js") if isinstance(value, bool) else f"{value}px",
)


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def png(width: int = 1200, height: int = 600) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "#446688").save(out, "PNG")
    return out.getvalue()


@BOTH
def test_a_reader_searches_from_the_header(
    new_page: Any, live_server: LiveServer, javascript: bool, width: int
) -> None:
    page = new_page(javascript=javascript, width=width)
    page.goto("/")
    box = page.get_by_role("search").get_by_label("Search articles")
    expect(box).to_be_visible()
    box.fill("diplomacy brink")
    box.press("Enter")
    expect(page.get_by_role("heading", name="Search", level=1)).to_be_visible()
    result = page.get_by_role("link", name=DEMO_TITLE)
    expect(result).to_be_visible()
    expect(page.locator(".search-snippet mark").first).to_be_visible()
    assert fits_the_width(page)
    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_TITLE)

    page.get_by_role("search").first.get_by_label("Search articles").fill('"NEAR( zzqx')
    page.get_by_role("search").first.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No article matches")).to_be_visible()


@BOTH
def test_topics_have_a_page_and_a_feed(
    new_page: Any, live_server: LiveServer, javascript: bool, width: int
) -> None:
    page = new_page(javascript=javascript, width=width)
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Topics").click()
    expect(page.get_by_role("heading", name="Topics", level=1)).to_be_visible()
    page.locator(".topic-list").get_by_role("link", name="City").click()
    expect(page.get_by_role("heading", name="City", level=1)).to_be_visible()
    feed = page.get_by_role("link", name="Atom feed of City")
    response = page.request.get(feed.get_attribute("href"))
    assert response.ok and "<feed" in response.text()
    assert fits_the_width(page)
    canonical = page.locator('link[rel="canonical"]').get_attribute("href")
    assert canonical and canonical.endswith("/labels/city")


@BOTH
def test_an_article_can_be_shared_without_third_party_script(
    new_page: Any, live_server: LiveServer, javascript: bool, width: int
) -> None:
    page = new_page(javascript=javascript, width=width)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"/articles/{live_server.demo_slug}")
    share = page.get_by_role("region", name="Share this article")
    expect(share.get_by_role("link", name=re.compile("^E-mail"))).to_have_attribute(
        "href", re.compile("^mailto:")
    )
    expect(share.get_by_role("link", name=re.compile("^Bluesky"))).to_be_visible()
    assert all(url.startswith(live_server.url) for url in requested), requested
    copy = share.get_by_role("button", name="Copy link")
    if javascript:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        copy.click()
        expect(share).to_contain_text("Link copied.")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.endswith(f"/articles/{live_server.demo_slug}")
    else:
        expect(copy).to_be_hidden()
    assert page.locator('meta[property="og:title"]').get_attribute("content") == DEMO_TITLE
    assert fits_the_width(page)


@BOTH
def test_an_editor_adds_options_a_lead_image_and_schedules_an_article(
    new_page: Any, live_server: LiveServer, javascript: bool, width: int, tmp_path: Any
) -> None:
    title = f"Tide tables {'js' if javascript else 'plain'} {width}"
    page = new_page(javascript=javascript, width=width)
    sign_in(page, *EDITOR)
    page.goto("/editor/articles/new")
    expect(page.get_by_label(re.compile(r"^Option \d+$"))).to_have_count(3)
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Body (Markdown)").fill("High water comes later this week.")
    page.get_by_label("Question").fill("Will you go to the shore?")
    page.get_by_label("Option 1", exact=True).fill("Yes")
    page.get_by_label("Option 2", exact=True).fill("No")
    page.get_by_label("Option 3", exact=True).fill("Maybe")
    page.get_by_role("button", name="Add another option").click()
    fourth = page.get_by_label("Option 4", exact=True)
    expect(fourth).to_be_focused()
    expect(page.get_by_label("Option 3", exact=True)).to_have_value("Maybe")  # kept
    fourth.fill("Only at low tide")

    image = tmp_path / "tide.png"
    image.write_bytes(png())
    page.get_by_label("Lead image").set_input_files(str(image))
    # No alt text: the error sits next to its field, and what was typed stays.
    page.get_by_role("button", name="Save and publish").click()
    expect(page.locator("#lead_image_alt-error")).to_contain_text("required")
    expect(page.get_by_label("Option 4", exact=True)).to_have_value("Only at low tide")
    page.get_by_label("Lead image").set_input_files(str(image))
    page.get_by_label("Image description (alt text)").fill("The harbour wall at high tide")
    ahead = datetime.now(UTC) + timedelta(days=2)
    page.get_by_label("Publish at (UTC)").fill(ahead.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_role("status")).to_contain_text("Scheduled: readers see it from")
    assert fits_the_width(page)

    slug = page.get_by_label("Slug").input_value()
    page.goto(f"/articles/{slug}")
    expect(page.get_by_text("Scheduled: readers see it from")).to_be_visible()
    lead = page.locator(".lead-image img")
    expect(lead).to_have_attribute("alt", "The harbour wall at high tide")
    assert "480w" in (lead.get_attribute("srcset") or "")
    assert page.evaluate("document.querySelector('.lead-image img').naturalWidth") > 0

    visitor = new_page(javascript=javascript, width=width)
    assert visitor.goto(f"/articles/{slug}").status == 404
    visitor.goto("/")
    expect(visitor.get_by_role("link", name=title)).to_have_count(0)


def test_a_draft_is_saved_as_the_editor_types(new_page: Any, live_server: LiveServer) -> None:
    page = new_page()
    sign_in(page, *EDITOR)
    page.goto("/editor/articles/new")
    page.get_by_label("Title", exact=True).fill("Notes from the lighthouse")
    page.get_by_label("Body (Markdown)").fill("The keeper writes every night.")
    page.locator("form.article-form").dispatch_event("pulse:autosave")
    expect(page.locator(".autosave-status")).to_contain_text("Draft saved at")
    expect(page).to_have_url(re.compile(r"/editor/articles/\d+/edit$"))
    # Saving again edits the same draft, and Save draft then works as ever.
    page.get_by_label("Title", exact=True).fill("Notes from the old lighthouse")
    page.locator("form.article-form").dispatch_event("pulse:autosave")
    expect(page.locator(".autosave-status")).to_contain_text("Draft saved at")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    page.goto("/editor/")
    expect(page.get_by_role("link", name="Notes from the old lighthouse")).to_have_count(1)


def test_without_script_save_draft_is_the_plain_way(new_page: Any, live_server: LiveServer) -> None:
    page = new_page(javascript=False)
    sign_in(page, *EDITOR)
    page.goto("/editor/articles/new")
    page.get_by_label("Title", exact=True).fill("A draft without script")
    page.get_by_label("Body (Markdown)").fill("Typed by hand.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.get_by_role("heading", name="Edit article")).to_be_visible()
