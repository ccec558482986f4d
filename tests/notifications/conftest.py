"""Notification tests: an app with a public address (mail links are absolute) and
the mail tests' SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.mail.server import smtp_server  # noqa: F401 (a fixture)
from webapp.extensions import db
from webapp.models.mail import OutboxMessage

PUBLIC_URL = "https://news.example"
BATCH_MINUTES = 15


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    application = make_app(PUBLIC_URL=PUBLIC_URL, MAIL_REPLY_BATCH_MINUTES=BATCH_MINUTES)
    with application.app_context():
        yield application


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def later(minutes: float) -> datetime:
    from webapp.models import utcnow

    return utcnow() + timedelta(minutes=minutes)


def token_of(message: Any) -> str:
    link = message.headers["List-Unsubscribe"].strip("<>")
    assert link.startswith(PUBLIC_URL + "/unsubscribe/")
    return str(link.rsplit("/", 1)[1])
