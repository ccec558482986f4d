"""A signed-out reader's page is one a shared cache can keep (issue 18): no cookie and
no token in it, and still the reader votes from it (with script and without) and
signs in from the sign-in page, as Chromium sends its own Sec-Fetch-Site and Origin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DEMO_READER, LiveServer
from tests.browser.test_integrity_votes import _article_with_open_poll, _votes

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips or fails with the reason
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser


def _cookie_names(page: Any) -> set[str]:
    return {cookie["name"] for cookie in page.context.cookies()}


@pytest.mark.parametrize("javascript", [True, False])
def test_a_vote_from_a_cacheable_page(
    new_page: Any, live_server: LiveServer, javascript: bool
) -> None:
    slug, poll_id = _article_with_open_poll(live_server)
    page = new_page(javascript=javascript)
    loaded = page.goto(f"/articles/{slug}")
    assert loaded.headers["cache-control"].startswith("public")
    assert "csrf_token" not in page.content()
    assert _cookie_names(page) == set()  # viewing set nothing
    poll = page.locator("section.poll")
    poll.get_by_role("radio", name="No").check()
    if javascript:
        # The script asks for a token first, and sends it with the vote.
        with page.expect_request(lambda r: r.method == "POST" and "/poll" in r.url) as sent:
            poll.get_by_role("button", name="Vote").click()
        assert sent.value.headers.get("x-csrftoken")
    else:
        poll.get_by_role("button", name="Vote").click()
    expect(poll.get_by_role("button", name="Change my vote")).to_be_visible()
    assert "pulse_voter" in _cookie_names(page)
    assert len(_votes(live_server, poll_id)) == 1


def test_signing_in_from_a_cacheable_sign_in_page(new_page: Any) -> None:
    page = new_page(javascript=False)
    loaded = page.goto("/login")
    assert loaded.headers["cache-control"].startswith("public")
    assert _cookie_names(page) == set()
    page.get_by_label("Email").fill(DEMO_READER[0])
    page.get_by_label("Password").fill(DEMO_READER[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    assert "session" in _cookie_names(page)
