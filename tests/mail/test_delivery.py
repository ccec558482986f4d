"""Delivering the outbox to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.mail.server import deliver_outbox, free_port, running_smtp_server
from webapp.extensions import db
from webapp.jobs.runner import Worker
from webapp.models import utcnow
from webapp.models.mail import OutboxMessage
from webapp.services.mail import delivery
from webapp.services.mail.delivery import deliver_due
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


def _write(count: int = 1, written_at: datetime | None = None, **fields) -> list[int]:
    written = []
    for number in range(count):
        values = {
            "kind": "test",
            "to": f"reader{number}@example.com",
            "subject": f"Message {number}",
            "text": f"Body {number}",
        }
        values.update(fields)
        message = enqueue(**values)
        if written_at is not None:
            message.created_at = message.next_attempt_at = written_at
        written.append(message)
    db.session.commit()
    return [message.id for message in written]


def _later(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


def test_smtp_down_then_up_loses_nothing_and_sends_nothing_twice(app):
    port = free_port()  # nothing listens there yet
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_RETRY_SECONDS=30.0)
    ids = _write(3)
    before = utcnow()

    report = deliver_due()

    assert sorted(report.retrying) == ids
    rows = _rows()
    for row in rows:
        assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
        assert "cannot reach" in row.last_error
        wait = (row.next_attempt_at - before).total_seconds()
        assert 30 <= wait <= 33 + 2  # the base delay plus at most a tenth of jitter
    assert deliver_due().handled == 0  # not due again before its backoff

    server = running_smtp_server(port=port)
    try:
        assert deliver_due(now=_later(40)).sent == ids
        assert deliver_due(now=_later(4000)).handled == 0
        assert sorted(m["To"] for m in server.messages) == [
            "reader0@example.com",
            "reader1@example.com",
            "reader2@example.com",
        ]
    finally:
        server.stop()
    assert [(row.status, row.attempts, row.last_error) for row in _rows()] == [
        ("sent", 2, None)
    ] * 3


def test_failures_back_off_and_end_as_failed_after_the_limit(app):
    app.config.update(
        SMTP_URL=f"smtp://127.0.0.1:{free_port()}", MAIL_RETRY_SECONDS=10.0, MAIL_MAX_ATTEMPTS=3
    )
    [message_id] = _write()
    moment = utcnow()
    for base in (10, 20):  # doubled after each failure, plus up to a tenth
        before = utcnow()
        assert deliver_due(now=moment).retrying == [message_id]
        after = utcnow()
        [row] = _rows()
        assert before + timedelta(seconds=base) <= row.next_attempt_at
        assert row.next_attempt_at <= after + timedelta(seconds=base * 1.1)
        moment = row.next_attempt_at
    assert deliver_due(now=moment).failed == [message_id]
    [row] = _rows()
    assert (row.status, row.attempts) == ("failed", 3)
    assert "cannot reach" in row.last_error
    assert deliver_due(now=_later(10**6)).handled == 0  # failed stays failed


def test_a_refused_recipient_fails_at_once_and_the_rest_still_go(app, smtp_server):
    smtp_server.refuse("gone@example.com")
    gone = _write(to="gone@example.com")
    others = _write(2)

    report = deliver_due()

    assert report.failed == gone and report.sent == others
    assert [m["To"] for m in smtp_server.messages] == ["reader0@example.com", "reader1@example.com"]
    failed = _rows()[0]
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "550" in failed.last_error


def test_a_temporary_refusal_is_retried(app, smtp_server):
    smtp_server.refuse("busy@example.com", 450, "4.2.1 Try again later")
    [message_id] = _write(to="busy@example.com")
    assert deliver_due().retrying == [message_id]
    smtp_server.refusals.clear()
    assert deliver_due(now=_later(3600)).sent == [message_id]
    assert len(smtp_server.to("busy@example.com")) == 1


def test_no_header_can_be_injected(app, smtp_server):
    # A reader's name with a line break in a subject: kept, on one line.
    subject_id = _write(subject="Reply from Eve\r\nBcc: victim@example.com")[0]
    # An extra header or an address with one: refused, nothing sent, visible as failed.
    header_id = _write(headers={"List-Unsubscribe": "<https://x.example/u>\r\nBcc: v@example.com"})[
        0
    ]
    address_id = _write(to="eve@example.com\r\nBcc: victim@example.com")[0]
    reserved_id = _write(headers={"Bcc": "victim@example.com"})[0]

    report = deliver_due()

    assert report.sent == [subject_id]
    assert sorted(report.failed) == [header_id, address_id, reserved_id]
    [received] = smtp_server.received
    assert received.rcpt_tos == ["reader0@example.com"]
    assert received.message["Subject"] == "Reply from Eve Bcc: victim@example.com"
    assert received.message["Bcc"] is None
    assert b"\r\nBcc:" not in received.raw
    failures = {row.id: row for row in _rows()}
    assert "linefeed or carriage return" in failures[header_id].last_error
    assert "linefeed or carriage return" in failures[address_id].last_error
    assert "'Bcc'" in failures[reserved_id].last_error
    assert all(failures[i].attempts == 1 for i in (header_id, address_id, reserved_id))


def test_without_smtp_url_mail_is_logged_and_kept(app, caplog):
    app.config["SMTP_URL"] = None
    caplog.set_level(logging.INFO, logger="webapp.services.mail.delivery")
    [message_id] = _write(kind="password_reset", subject="Your reset link", text="Go to X")

    assert deliver_due().logged == [message_id]

    assert "password_reset to reader0@example.com" in caplog.text
    assert "Your reset link" in caplog.text and "Go to X" in caplog.text
    [row] = _rows()
    assert (row.status, row.attempts) == ("logged", 1)
    assert row.sent_at is not None and row.text_body == "Go to X"
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    assert deliver_due(now=_later(10**6)).handled == 0  # never sent later


def test_a_stale_claim_whose_attempt_never_began_is_taken_over(app, smtp_server):
    app.config["MAIL_STALE_SECONDS"] = 300.0
    long_ago = utcnow() - timedelta(minutes=10)
    [message_id] = _write(written_at=long_ago)
    assert delivery.claim("dead-worker", long_ago, 10, 300.0) == [message_id]
    [row] = _rows()
    assert (row.status, row.claimed_by) == ("sending", "dead-worker")

    assert deliver_due().sent == [message_id]

    assert len(smtp_server.messages) == 1
    [row] = _rows()
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, None)


def test_a_fresh_claim_is_left_to_its_worker(app, smtp_server):
    [message_id] = _write()
    assert delivery.claim("busy-worker", utcnow(), 10, 300.0) == [message_id]
    assert deliver_due().handled == 0
    # Taken over later, the first worker no longer begins it.
    assert delivery.claim("second", _later(301), 10, 300.0) == [message_id]
    assert delivery.begin_attempt(message_id, "busy-worker", utcnow()) is None
    assert delivery.begin_attempt(message_id, "second", utcnow()) is not None


def test_an_attempt_that_began_and_never_ended_is_not_sent_again_by_itself(app, smtp_server):
    long_ago = utcnow() - timedelta(minutes=10)
    [message_id] = _write(written_at=long_ago)
    delivery.claim("dead-worker", long_ago, 10, 300.0)
    assert delivery.begin_attempt(message_id, "dead-worker", long_ago) is not None
    # ... the worker dies here: maybe after the server's 250, before the "sent" mark.

    assert deliver_due().handled == 0

    assert smtp_server.messages == []
    [row] = _rows()
    assert (row.status, row.attempts, row.claimed_by) == ("failed", 1, None)
    assert "may have been delivered" in row.last_error


@pytest.mark.postgres_only
def test_two_workers_at_once_send_nothing_twice(app, smtp_server):
    app.config["MAIL_BATCH"] = 4
    ids = _write(40)
    start = threading.Barrier(2)
    reports: list[list[int]] = []
    errors: list[BaseException] = []

    def work() -> None:
        with app.app_context():
            try:
                start.wait()
                sent: list[int] = []
                while True:
                    report = deliver_due()
                    sent += report.sent
                    if report.handled == 0:
                        break
                reports.append(sent)
            except BaseException as error:  # noqa: BLE001 (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(reports[0] + reports[1]) == ids  # each sent by exactly one worker
    assert reports[0] and reports[1]  # both took part
    addresses = [item.rcpt_tos[0] for item in smtp_server.received]
    assert sorted(addresses) == sorted(f"reader{n}@example.com" for n in range(40))
    assert {row.status for row in _rows()} == {"sent"}


def test_the_worker_delivers_the_outbox(app, smtp_server):
    [message_id] = _write()
    assert Worker().run(burst=True) == 0  # no job: its chores ran
    assert len(smtp_server.messages) == 1
    assert _rows()[0].status == "sent"


def test_signing_in_to_the_server(app):
    """Over plain text only when SMTP_URL says so (``starttls=off``); over TLS, and
    without it, in tests/mail/test_tls.py."""
    server = running_smtp_server(username="pulse", password="p@ss:word")
    try:
        plain = "?starttls=off"
        app.config["SMTP_URL"] = f"smtp://pulse:p%40ss%3Aword@127.0.0.1:{server.port}{plain}"
        [message_id] = _write()
        assert deliver_due().sent == [message_id]
        assert len(server.messages) == 1
        app.config["SMTP_URL"] = f"smtp://pulse:wrong@127.0.0.1:{server.port}{plain}"
        [refused] = _write()
        assert deliver_due().retrying == [refused]
        assert "535" in _rows()[-1].last_error
    finally:
        server.stop()
