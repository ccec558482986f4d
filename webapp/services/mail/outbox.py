"""Writing mail: ``enqueue`` adds a message to the outbox in the caller's transaction.

Nothing is sent here: the job worker delivers the outbox (webapp/services/mail/
delivery.py), so a message exists only if what caused it committed, and a mail server
that is down delays it without losing it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from flask import current_app

from webapp.extensions import db
from webapp.models.mail import OutboxMessage
from webapp.services.mail.smtp import address_domain

#: The subject column's length.
SUBJECT_CHARS = 300


def enqueue(
    *,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    user_id: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> OutboxMessage:
    """Add one message to the outbox, in the session's transaction (no commit).

    ``text`` is the plain-text body (always sent); ``html`` an optional HTML part,
    already escaped/sanitised by the caller; ``headers`` extra headers such as
    ``List-Unsubscribe``. Links in the bodies must be absolute, built with
    ``webapp.site_address.absolute_url`` (from ``PUBLIC_URL``).
    """
    # On MAIL_FROM's domain, as RFC 5322 asks: unique there, and the same on every
    # attempt, so a receiver can recognise a message sent twice.
    domain = address_domain(str(current_app.config.get("MAIL_FROM") or "")) or "pulse.invalid"
    message = OutboxMessage(
        kind=kind,
        to_address=to.strip(),
        # A subject is one line: a name with a line break in it (a reader's display
        # name, say) stays in the subject instead of refusing the message.
        subject=" ".join(subject.split())[:SUBJECT_CHARS],
        text_body=text,
        html_body=html,
        user_id=user_id,
        headers=dict(headers or {}),
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
    )
    db.session.add(message)
    return message
