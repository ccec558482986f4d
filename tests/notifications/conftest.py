"""Notification tests: an app with a public address (mail links are absolute), the
mail tests' SMTP server, and accounts whose address is confirmed unless a test says
otherwise (notification mail goes only to confirmed addresses)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.embed.conftest import host_token, make_site  # noqa: F401 (fixtures: host readers)
from tests.mail.server import smtp_server  # noqa: F401 (a fixture)
from webapp.extensions import db
from webapp.models import utcnow
from webapp.models.mail import OutboxMessage

PUBLIC_URL = "https://news.example"
BATCH_MINUTES = 15


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    application = make_app(PUBLIC_URL=PUBLIC_URL, MAIL_REPLY_BATCH_MINUTES=BATCH_MINUTES)
    with application.app_context():
        yield application


@pytest.fixture
def make_user(make_user: Callable[..., Any]) -> Callable[..., Any]:
    """The suite's ``make_user`` (tests/conftest.py), the address confirmed now unless
    ``confirmed=False``."""

    def build(*args: Any, confirmed: bool = True, **kwargs: Any) -> Any:
        user = make_user(*args, **kwargs)
        if confirmed:
            user.email_verified_at = utcnow()
            db.session.commit()
        return user

    return build


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def later(minutes: float) -> datetime:
    return utcnow() + timedelta(minutes=minutes)


def token_of(message: Any) -> str:
    link = message.headers["List-Unsubscribe"].strip("<>")
    assert link.startswith(PUBLIC_URL + "/unsubscribe/")
    return str(link.rsplit("/", 1)[1])
