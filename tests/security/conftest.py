"""Fixtures for the security tests; the helpers they share are in ``routes.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.security.routes import World, next_number, unlikely_word
from webapp.extensions import db
from webapp.models import IntegrityGroup, utcnow


@pytest.fixture
def world_factory(make_user: Callable[..., Any]):  # type: ignore[no-untyped-def]
    """Builds a fresh World each call (one commit); the people in it are made once."""
    from webapp.services import articles, comments, moderation

    editor = make_user("editor")
    author = make_user("reader", name="Comment Author")
    target = make_user("reader", name="Banned Reader")
    moderator = make_user("moderator", name="Word List Keeper")

    def build() -> World:
        n = next_number()
        poll = articles.PollInput(
            question="Will the peace hold?",
            options=["Yes", "No"],
            results_visibility="after_vote",
            allow_anonymous=False,
        )
        story = articles.create_article(
            editor,
            articles.ArticleChanges(
                title=f"Story {n}", body="Text.", labels=["World"], status="published", poll=poll
            ),
        )
        draft = articles.create_article(
            editor, articles.ArticleChanges(title=f"Draft {n}", body="Text.", status="draft")
        )
        comment = comments.submit(story, author, "Someone else's words.")
        term = moderation.add_term(moderator, unlikely_word(n), "suspect")
        target.banned_at, target.ban_reason = utcnow(), "Spamming."
        group = IntegrityGroup(
            poll_id=story.poll.id,
            kind="address",
            origin=f"address-{n}",
            reason="40 votes from one address in 2 minutes, 100 % 'No'",
            signals=["address"],
            votes=0,
            by_option={},
            first_at=utcnow(),
            last_at=utcnow(),
        )
        db.session.add(group)
        db.session.commit()
        return World(story, draft, comment, author, target, term, group)

    return build
