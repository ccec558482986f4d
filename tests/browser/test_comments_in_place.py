"""Issue 19, "Commenting never looks lost" and "Long threads work", in Chromium, with
and without script, at 1280 and 390 px.

Each test makes its own readers (and articles where it needs a long thread), so the
tests share the served app without depending on each other's comments.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, LiveServer
from tests.browser.test_journeys import (
    comment_by,
    comments_of,
    mark_document,
    sign_in,
    still_same_document,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips or fails with the reason
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

_numbers = itertools.count(1)
THREAD_LENGTH = 35  # more than a page (COMMENTS_PER_PAGE is 30)
#: A laptop and a phone (the viewport widths of tests/browser/conftest.py).
WIDTHS = (1280, 390)


def new_reader(live_server: LiveServer, *, banned_for: timedelta | None = None) -> tuple[str, str]:
    """A reader of their own (name, email), optionally banned with a reason."""
    number = next(_numbers)
    name, email = f"Thread Reader {number}", f"thread.reader.{number}@example.org"

    def create() -> None:
        from webapp.extensions import db
        from webapp.models import Role, utcnow
        from webapp.services.accounts import create_user

        user = create_user(email, PASSWORD, Role.READER, name)
        if banned_for is not None:
            user.banned_at = utcnow()
            user.banned_until = utcnow() + banned_for
            user.ban_reason = "Insults in three threads"
        db.session.commit()

    live_server.run(create)
    return name, email


def long_thread(live_server: LiveServer) -> tuple[str, list[int]]:
    """A published article with THREAD_LENGTH comments and a reply under the last: its
    slug and the comments' ids (the reply last)."""
    number = next(_numbers)

    def create() -> tuple[str, list[int]]:
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.models import User
        from webapp.services import articles, comments

        editor = db.session.scalar(select(User).where(User.email == "editor@pulse.example"))
        author = db.session.scalar(select(User).where(User.email == "reader@pulse.example"))
        assert editor is not None and author is not None
        article = articles.create_article(
            editor,
            articles.ArticleChanges(
                title=f"A long thread number {number}",
                summary="Many readers had something to say.",
                body="The story that started it.",
                labels=["City"],
                status="published",
                comments="open",
            ),
        )
        made = [
            comments.submit(article, author, f"Thread comment {i}") for i in range(THREAD_LENGTH)
        ]
        reply = comments.submit(article, author, "A reply deep in the thread", made[-1].id)
        db.session.commit()
        return article.slug, [c.id for c in made] + [reply.id]

    result: tuple[str, list[int]] = live_server.run(create)
    return result


def stored_count(live_server: LiveServer, body: str) -> int:
    def count() -> int:
        from sqlalchemy import func, select

        from webapp.extensions import db
        from webapp.models import Comment

        return db.session.scalar(select(func.count()).where(Comment.body == body)) or 0

    result: int = live_server.run(count)
    return result


def focused_id(page: Any) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


# --- with script ------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_every_outcome_is_answered_in_place(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    name, email = new_reader(live_server)
    page = new_page(width=width)
    sign_in(page, email, PASSWORD)
    page.goto(f"/articles/{live_server.demo_slug}")
    mark_document(page)
    comments = comments_of(page)
    box = page.get_by_label("Post a comment")

    # Refused: said next to the form, the text kept, focus back in the box. (One
    # letter between spaces passes the box's own minlength; the server trims it.)
    box.fill(" k ")
    comments.get_by_role("button", name="Post comment").click()
    expect(comments.get_by_role("alert")).to_contain_text("at least 2 characters")
    expect(page.get_by_label("Post a comment")).to_have_value(" k ")
    expect(page.get_by_label("Post a comment")).to_be_focused()

    # The network fails: said in place, nothing lost, the button usable again.
    page.route("**/articles/*/comments", lambda route: route.abort())
    text = f"Posted in place by {name}, once."
    page.get_by_label("Post a comment").fill(text)
    comments.get_by_role("button", name="Post comment").click()
    expect(comments.get_by_role("alert")).to_contain_text("Not sent")
    expect(page.get_by_label("Post a comment")).to_have_value(text)
    expect(comments.get_by_role("button", name="Post comment")).to_be_enabled()
    page.unroute("**/articles/*/comments")

    # Published: the new comment shown, focused, and stored once (a double click too).
    comments.get_by_role("button", name="Post comment").dblclick()
    mine = comment_by(comments, name, text)
    expect(mine).to_be_visible()
    expect(mine).to_be_focused()
    expect(comments.get_by_role("status")).to_contain_text("Your comment is posted.")
    expect(page.get_by_label("Post a comment")).to_have_value("")
    assert still_same_document(page)
    assert stored_count(live_server, text) == 1
    # Its own comment offers no vote and no report; its score is labelled.
    expect(mine.get_by_role("button", name="Up-vote this comment")).to_have_count(0)
    expect(mine.locator("summary", has_text="Report")).to_have_count(0)
    expect(mine.locator(".score")).to_have_text("Score 0")
    page.screenshot(path=f"test-artifacts/screenshots/comment-posted-in-place-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_held_comment_says_it_waits(new_page: Any, live_server: LiveServer, width: int) -> None:
    name, email = new_reader(live_server)
    page = new_page(width=width)
    sign_in(page, email, PASSWORD)
    page.goto(f"/articles/{live_server.premoderated_slug}")
    comments = comments_of(page)
    page.get_by_label("Post a comment").fill("A careful comment for the moderators.")
    comments.get_by_role("button", name="Post comment").click()
    expect(comments.get_by_role("status")).to_contain_text("awaiting moderation")
    expect(comment_by(comments, name, "A careful comment")).to_be_focused()


@pytest.mark.parametrize("width", WIDTHS)
def test_focus_stays_on_the_comment_acted_on(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    from tests.browser.conftest import SEEDED_COMMENT

    name, email = new_reader(live_server)
    page = new_page(width=width)
    sign_in(page, email, PASSWORD)
    page.goto(f"/articles/{live_server.demo_slug}")
    comments = comments_of(page)
    seeded = comment_by(comments, "Demo Reader", SEEDED_COMMENT)
    seeded_id = seeded.get_attribute("id")

    seeded.get_by_role("button", name="Up-vote this comment").click()
    expect(seeded.get_by_role("button", name="Up-vote this comment")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert focused_id(page) == seeded_id
    seeded.get_by_role("button", name="Up-vote this comment").click()  # taken back
    # The thread is swapped in place when that answer comes (the demo's is long): wait
    # for it, or the swap closes the report form opened below.
    expect(seeded.get_by_role("button", name="Up-vote this comment")).to_have_attribute(
        "aria-pressed", "false"
    )

    seeded.locator("summary", has_text="Report").click()
    seeded.get_by_label("Off topic").check()
    seeded.get_by_role("button", name="Send report").click()
    expect(comments.get_by_role("status")).to_contain_text("a moderator will look")
    assert focused_id(page) == seeded_id

    # Reply, then edit the reply: focus lands on the reply, then stays on it.
    seeded.locator("summary", has_text="Reply").click()
    seeded.get_by_label("Your reply to Demo Reader").fill(f"A reply by {name}.")
    seeded.get_by_role("button", name="Post reply").click()
    reply = comment_by(comments, name, f"A reply by {name}.")
    expect(reply).to_be_focused()
    reply.locator("summary", has_text="Edit").click()
    reply.get_by_role("textbox").fill(f"A reply by {name}, edited.")
    reply.get_by_role("button", name="Save changes").click()
    edited = comment_by(comments, name, "edited.")
    expect(edited).to_be_focused()


@pytest.mark.parametrize("width", WIDTHS)
def test_delete_asks_then_offers_undo(new_page: Any, live_server: LiveServer, width: int) -> None:
    name, email = new_reader(live_server)
    page = new_page(width=width)
    sign_in(page, email, PASSWORD)
    page.goto(f"/articles/{live_server.demo_slug}")
    comments = comments_of(page)
    text = f"{name} will think again."
    page.get_by_label("Post a comment").fill(text)
    comments.get_by_role("button", name="Post comment").click()
    mine = comment_by(comments, name, text)
    comment_id = mine.get_attribute("id")

    mine.locator("summary", has_text="Delete").click()
    expect(mine).to_contain_text("Delete this comment? You can undo it for")
    mine.get_by_role("button", name="Yes, delete it").click()
    deleted = comments.locator(f"#{comment_id}")
    expect(deleted).to_contain_text("Comment deleted.")
    undo = deleted.get_by_role("button", name="Undo delete")
    expect(undo).to_be_focused()
    undo.click()
    expect(comment_by(comments, name, text)).to_be_focused()
    expect(comments.get_by_role("status")).to_contain_text("The comment is back.")
    assert stored_count(live_server, text) == 1


@pytest.mark.parametrize("width", WIDTHS)
def test_more_comments_appends_the_next_page(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    slug, ids = long_thread(live_server)
    page = new_page(width=width)
    page.goto(f"/articles/{slug}")
    mark_document(page)
    comments = comments_of(page)
    expect(comments.locator(f"#comment-{ids[29]}")).to_be_visible()
    expect(comments.locator(f"#comment-{ids[30]}")).to_have_count(0)
    comments.get_by_role("link", name="More comments").click()
    expect(comments.locator(f"#comment-{ids[30]}")).to_be_focused()
    # Appended: the first page is still there, the link is gone at the end.
    expect(comments.locator(f"#comment-{ids[0]}")).to_be_visible()
    expect(comments.get_by_role("link", name="More comments")).to_have_count(0)
    assert still_same_document(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_link_to_a_deep_comment_opens_its_page_highlighted(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    slug, ids = long_thread(live_server)
    reply = ids[-1]
    page = new_page(width=width)
    # The fragment alone names a comment on a later page: the script opens that page.
    page.goto(f"/articles/{slug}#comment-{reply}")
    expect(page).to_have_url(re.compile(rf"after=.*#comment-{reply}$"))
    target = page.locator(f"#comment-{reply}")
    expect(target).to_be_visible()
    assert page.evaluate(f"document.querySelector('#comment-{reply}').matches(':target')")
    expect(target).to_contain_text("A reply deep in the thread")


# --- without script -----------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_without_script_post_redirect_get_to_the_comment(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    name, email = new_reader(live_server)
    page = new_page(javascript=False, width=width)
    sign_in(page, email, PASSWORD)
    page.goto(f"/articles/{live_server.demo_slug}")
    comments = comments_of(page)

    page.get_by_label("Post a comment").fill(" k ")
    comments.get_by_role("button", name="Post comment").click()
    expect(page).to_have_url(re.compile(r"#comment-form$"))
    expect(comments.get_by_role("alert")).to_contain_text("at least 2 characters")
    expect(page.get_by_label("Post a comment")).to_have_value(" k ")

    text = f"{name} posts without script."
    page.get_by_label("Post a comment").fill(text)
    comments.get_by_role("button", name="Post comment").click()
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    expect(page.get_by_role("status").first).to_contain_text("Your comment is posted.")
    mine = comment_by(comments, name, text)
    expect(mine).to_be_visible()
    # A GET now: reloading shows the page again and sends nothing.
    page.reload()
    assert stored_count(live_server, text) == 1

    mine.locator("summary", has_text="Delete").click()
    mine.get_by_role("button", name="Yes, delete it").click()
    expect(page.get_by_role("status").first).to_contain_text("The comment is deleted.")
    comments.get_by_role("button", name="Undo delete").click()
    expect(page.get_by_role("status").first).to_contain_text("The comment is back.")
    expect(comment_by(comments, name, text)).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_without_script_long_threads_page_and_permalinks_find_comments(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    slug, ids = long_thread(live_server)
    page = new_page(javascript=False, width=width)
    page.goto(f"/articles/{slug}")
    comments_of(page).get_by_role("link", name="More comments").click()
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator(f"#comment-{ids[34]}")).to_be_visible()
    page.goto(f"/comments/{ids[-1]}")
    expect(page).to_have_url(re.compile(rf"after=.*#comment-{ids[-1]}$"))
    expect(page.locator(f"#comment-{ids[-1]}")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("width", WIDTHS)
def test_a_banned_reader_is_told_until_when_and_why(
    new_page: Any, live_server: LiveServer, width: int, javascript: bool
) -> None:
    _name, email = new_reader(live_server, banned_for=timedelta(days=7))
    page = new_page(javascript=javascript, width=width)
    sign_in(page, email, PASSWORD)
    page.goto(f"/articles/{live_server.demo_slug}")
    comments = comments_of(page)
    notice = comments.locator(".notice-ban")
    expect(notice).to_contain_text("You cannot comment or vote until")
    expect(notice).to_contain_text("Insults in three threads")
    expect(notice.locator("time[datetime]")).to_have_count(1)
    expect(page.get_by_label("Post a comment")).to_have_count(0)
