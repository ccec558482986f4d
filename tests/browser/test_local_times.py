"""webapp/static/local-times.js: a time the server renders in UTC,
``<time class="js-local-time" datetime="...Z">``, reads in the reader's own time zone
with a relative phrase; without script the UTC text stays as the server wrote it.

The script runs on a page of the served app (its CSP and all) with the browser's
clock fixed, so "3 minutes ago" is checked exactly, at both widths.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import WIDTHS

pytestmark = pytest.mark.browser

NOW = datetime(2026, 12, 4, 7, 26, 9, 123_000, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    """As the server writes it: ISO 8601 in UTC, to the millisecond at most."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _times_html() -> str:
    three_minutes_ago = NOW - timedelta(minutes=3)
    yesterday = NOW - timedelta(days=1, hours=1)
    return (
        f'<p><time class="js-local-time" id="recent" datetime="{_stamp(three_minutes_ago)}">'
        "4 December 2026, 07:23 UTC</time></p>"
        f'<p><time class="js-local-time" id="older" datetime="{_stamp(yesterday)}">'
        "3 December 2026, 06:26 UTC</time></p>"
        '<p><time id="plain" datetime="2026-12-01">1 December 2026</time></p>'
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_times_read_in_the_readers_zone_with_a_relative_phrase(
    browser: Any, live_server: Any, width: int
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 844},
        locale="en-GB",
        timezone_id="Asia/Kolkata",  # UTC+05:30
    )
    try:
        page = context.new_page()
        page.clock.set_fixed_time(NOW)
        page.goto("/login")
        page.evaluate(
            "(html) => document.querySelector('main').insertAdjacentHTML('beforeend', html)",
            _times_html(),
        )
        page.add_script_tag(url="/static/local-times.js")
        recent = page.locator("#recent")
        # 07:23 UTC is 12:53 in Kolkata; three minutes before the fixed clock.
        assert recent.inner_text() == "4 Dec 2026, 12:53 · 3 minutes ago"
        assert recent.get_attribute("title") == "4 December 2026, 07:23 UTC"
        assert recent.get_attribute("datetime") == _stamp(NOW - timedelta(minutes=3))
        assert page.locator("#older").inner_text() == "3 Dec 2026, 11:56 · yesterday"
        # A <time> without the class is left alone.
        assert page.locator("#plain").inner_text() == "1 December 2026"
        # A time added to the page later (a posted comment) is localised as it arrives.
        page.evaluate(
            "(html) => document.querySelector('main').insertAdjacentHTML('beforeend', html)",
            f'<p><time class="js-local-time" id="late" datetime="{_stamp(NOW)}">UTC</time></p>',
        )
        assert page.locator("#late").inner_text() == "4 Dec 2026, 12:56 · just now"
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("width", WIDTHS)
def test_comment_times_on_the_article_page(
    new_page: Any, live_server: Any, width: int, javascript: bool
) -> None:
    """The seeded comment's time: local with a relative phrase with script (base.html
    loads the script), the server's UTC text without. (The seeded comment is the one
    posted as the tests start; the demo's own conversation is days old.)"""
    from tests.browser.conftest import SEEDED_COMMENT

    page = new_page(javascript=javascript, width=width)
    page.goto(f"/articles/{live_server.demo_slug}")
    seeded = page.locator("#comments article.comment", has_text=SEEDED_COMMENT)
    stamp = seeded.locator("time.js-local-time").first
    server_text = stamp.get_attribute("title") if javascript else stamp.inner_text()
    assert server_text is not None and server_text.endswith("UTC")
    datetime.fromisoformat(stamp.get_attribute("datetime") or "")  # a valid timestamp
    if javascript:
        shown = stamp.inner_text()
        assert re.fullmatch(r".+ · (just now|\d+ (seconds?|minutes?|hours?) ago)", shown), shown
        assert "UTC" not in shown


@pytest.mark.parametrize("width", WIDTHS)
def test_without_script_the_utc_text_stays(
    browser: Any, live_server: Any, width: int, tmp_path: Any
) -> None:
    """With script off nothing rewrites the server's UTC text (which says UTC)."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 844},
        java_script_enabled=False,
        timezone_id="Asia/Kolkata",
    )
    try:
        page = context.new_page()
        page.goto("/login")
        # Script is off, so the page cannot insert the times itself: serve them as a file.
        document = tmp_path / "times.html"
        document.write_text(
            "<!doctype html><html lang='en'><title>t</title><main>"
            f"{_times_html()}<script src='{live_server.url}/static/local-times.js'></script>"
            "</main></html>"
        )
        page.goto(document.as_uri())
        assert page.locator("#recent").inner_text() == "4 December 2026, 07:23 UTC"
        assert page.locator("#recent").get_attribute("title") is None
    finally:
        context.close()
