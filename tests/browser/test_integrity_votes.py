"""A reader who votes from the article page shows the article was loaded (its page
token), with script (the X-Pulse-Page header pulse.js sends) and without (the form's
hidden field); and the vote keeps no address or user agent, only their hashes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser.conftest import EDITOR, LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips or fails with the reason
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser


def _article_with_open_poll(live_server: LiveServer) -> tuple[str, int]:
    def make() -> tuple[str, int]:
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.models import User
        from webapp.services import articles

        editor = db.session.scalar(select(User).where(User.email == EDITOR[0]))
        article = articles.create_article(
            editor,
            articles.ArticleChanges(
                title=f"Ferry timetable changes {uuid.uuid4().hex[:8]}",
                body="The ferry company publishes a new timetable.",
                labels=[],
                status="published",
                comments="open",
                poll=articles.PollInput(
                    question="Will you take the early ferry?",
                    options=["Yes", "No"],
                    allow_anonymous=True,
                ),
            ),
        )
        db.session.commit()
        assert article.poll is not None
        return article.slug, article.poll.id

    result: tuple[str, int] = live_server.run(make)
    return result


def _votes(live_server: LiveServer, poll_id: int) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.models import Vote

        rows = db.session.execute(
            select(Vote.__table__).where(Vote.poll_id == poll_id).order_by(Vote.id)
        ).mappings()
        return [dict(row) for row in rows]

    result: list[dict[str, Any]] = live_server.run(read)
    return result


@pytest.mark.parametrize("javascript", [True, False])
def test_a_vote_from_the_article_page_shows_the_article_was_loaded(
    new_page: Any, live_server: LiveServer, javascript: bool
) -> None:
    slug, poll_id = _article_with_open_poll(live_server)
    page = new_page(javascript=javascript)
    page.goto(f"/articles/{slug}")
    poll = page.locator("section.poll")
    poll.get_by_role("radio", name="Yes").check()
    if javascript:
        with page.expect_request(lambda r: r.method == "POST" and "/poll" in r.url) as sent:
            poll.get_by_role("button", name="Vote").click()
        assert sent.value.headers.get("x-pulse-page")
    else:
        poll.get_by_role("button", name="Vote").click()
    expect(poll.get_by_role("button", name="Change my vote")).to_be_visible()
    [vote] = _votes(live_server, poll_id)
    assert vote["saw_article"] is True
    assert vote["cookie_age_seconds"] == 0  # this vote minted the visitor's cookie
    assert vote["client_hash"] and vote["network_hash"] and vote["agent_hash"]
    flat = " ".join(str(value) for value in vote.values()).lower()
    assert "127.0.0.1" not in flat and "chrom" not in flat and "mozilla" not in flat
