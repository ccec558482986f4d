"""``flask --app wsgi mail``: list, retry, purge, send-test."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.mail.server import deliver_outbox
from webapp.extensions import db
from webapp.models import utcnow
from webapp.models.mail import OutboxMessage
from webapp.services.mail.outbox import enqueue


def _message(to: str, status: str = "pending", **fields) -> int:
    message = enqueue(kind="test", to=to, subject=f"To {to}", text="Hello")
    message.status = status
    for name, value in fields.items():
        setattr(message, name, value)
    db.session.commit()
    return message.id


def _status(message_id: int) -> tuple[str, int]:
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message_id)
    assert row is not None
    return row.status, row.attempts


def test_list_shows_the_outbox_by_status(app, runner):
    failed = _message("bad@example.com", "failed", attempts=6, last_error="550 No such user")
    _message("waiting@example.com")

    everything = runner.invoke(args=["mail", "list"])
    only_failed = runner.invoke(args=["mail", "list", "--status", "failed", "--body"])

    assert everything.exit_code == 0, everything.output
    assert "pending 1" in everything.output and "failed 1" in everything.output
    assert "waiting@example.com" in everything.output and "bad@example.com" in everything.output
    assert f"#{failed} failed attempts=6" in only_failed.output
    assert "error: 550 No such user" in only_failed.output and "Hello" in only_failed.output
    assert "waiting@example.com" not in only_failed.output


def test_retry_sends_failed_messages_again(app, runner, smtp_server):
    first = _message("one@example.com", "failed", attempts=6, last_error="timed out")
    second = _message("two@example.com", "failed", attempts=6, last_error="timed out")
    sent = _message("done@example.com", "sent", sent_at=utcnow())

    by_id = runner.invoke(args=["mail", "retry", str(first), str(sent)])
    assert by_id.exit_code == 0, by_id.output
    assert "1 message(s) queued again" in by_id.output
    assert f"left alone): {sent}" in by_id.output
    assert _status(first) == ("pending", 0) and _status(second) == ("failed", 6)

    everything = runner.invoke(args=["mail", "retry", "--failed"])
    assert "1 message(s) queued again" in everything.output
    deliver_outbox(app)
    assert sorted(m["To"] for m in smtp_server.messages) == ["one@example.com", "two@example.com"]
    assert runner.invoke(args=["mail", "retry"]).exit_code == 2  # neither ids nor --failed


def test_purge_deletes_old_sent_mail_only(app, runner):
    old = _message("old@example.com", "sent", sent_at=utcnow() - timedelta(days=40))
    recent = _message("recent@example.com", "sent", sent_at=utcnow() - timedelta(days=2))
    failed = _message("failed@example.com", "failed", last_error="x")

    result = runner.invoke(args=["mail", "purge", "--sent-older-than", "30"])

    assert "1 sent message(s) purged" in result.output
    left = set(db.session.scalars(sa.select(OutboxMessage.id)))
    assert left == {recent, failed} and old not in left


def test_send_test_queues_a_message_the_worker_delivers(app, runner, smtp_server):
    result = runner.invoke(args=["mail", "send-test", "admin@example.com"])
    assert result.exit_code == 0, result.output
    assert f"127.0.0.1:{smtp_server.port}" in result.output
    deliver_outbox(app)
    [message] = smtp_server.messages
    assert message["Subject"] == "Pulse test message"
