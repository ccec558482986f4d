"""Helpers for the account tests: the mail an action wrote to the outbox, and the link in it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.mail.server import smtp_server  # noqa: F401 (a fixture)
from webapp.extensions import db
from webapp.models.mail import OutboxMessage

_LINK = re.compile(r"https?://[^\s<>\"')]+")


def mails(kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(query))


def link_path(text: str) -> str:
    """The path of the one link a message's text holds, to follow with the test client."""
    [link] = _LINK.findall(text)
    return urlsplit(link).path
