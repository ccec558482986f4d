"""Delivering the outbox to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.mail.server import deliver_outbox
from webapp.extensions import db
from webapp.models.mail import OutboxMessage
from webapp.services.mail.outbox import enqueue


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_message_arrives_with_its_headers_and_parts(app, smtp_server):
    app.config["MAIL_FROM"] = "Pulse News <news@pulse.example>"
    written = enqueue(
        kind="reply",
        to="reader@example.com",
        subject="Réponse à « Café » — 5 € ✓",
        text="Someone answered you.\nhttps://news.example/a/1#c2\n",
        html="<p>Someone answered you.</p>",
        headers={
            "List-Unsubscribe": "<https://news.example/unsubscribe/abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    db.session.commit()
    message_id = written.message_id

    deliver_outbox(app)

    [received] = smtp_server.received
    assert received.mail_from == "news@pulse.example"
    assert received.rcpt_tos == ["reader@example.com"]
    message = received.message
    assert message["Message-ID"] == message_id
    assert message_id.endswith("@pulse.example>")
    assert message["From"] == "Pulse News <news@pulse.example>"
    assert message["To"] == "reader@example.com"
    assert message["Subject"] == "Réponse à « Café » — 5 € ✓"
    assert b"=?utf-8?" in received.raw  # encoded on the wire, not raw 8-bit
    assert message["Date"] is not None
    assert message["List-Unsubscribe"] == "<https://news.example/unsubscribe/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert smtp_server.text(message) == "Someone answered you.\nhttps://news.example/a/1#c2\n"
    assert smtp_server.html(message) == "<p>Someone answered you.</p>\n"
    assert smtp_server.links(message) == ["https://news.example/a/1#c2"]
    [row] = _rows()
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, None)
    assert row.sent_at is not None
