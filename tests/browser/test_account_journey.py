"""A reader who forgot their password: asks for a reset, follows the link in the mail
the site wrote, sets a new password and signs in with it, in a real Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips or fails with the reason
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

EMAIL = "forgetful.reader@example.org"
OLD_PASSWORD = "the one I forgot"
NEW_PASSWORD = "remembered at last"


def _make_reader() -> None:
    from webapp.extensions import db
    from webapp.models import Role
    from webapp.services.accounts import create_user

    create_user(EMAIL, OLD_PASSWORD, Role.READER, "Forgetful Reader")
    db.session.commit()


def _reset_link() -> str:
    """The link in the newest reset mail to the reader (as the worker would send it)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models.mail import OutboxMessage

    text = db.session.scalars(
        select(OutboxMessage.text_body)
        .where(OutboxMessage.to_address == EMAIL, OutboxMessage.kind == "password_reset")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert text is not None, "no reset mail was written"
    [link] = re.findall(r"https?://\S+", text)
    return link


def test_a_reader_resets_a_forgotten_password_from_the_mail(
    live_server: LiveServer, new_page: Any
) -> None:
    live_server.run(_make_reader)
    page = new_page()
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?", level=1)).to_be_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()

    link = live_server.run(_reset_link)
    assert link.startswith(live_server.url + "/reset/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()

    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Welcome back, Forgetful Reader")

    # The link worked once: opening it again says so.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
