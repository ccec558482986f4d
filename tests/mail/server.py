"""An SMTP server inside the test run (aiosmtpd on 127.0.0.1), and delivering the outbox
to it at once: what the mail tests of every part use.

    from tests.mail.server import deliver_outbox, smtp_server  # noqa: F401 (a fixture)

    def test_something(app, smtp_server):
        ...  # something that calls webapp.services.mail.outbox.enqueue, committed
        deliver_outbox(app)
        [message] = smtp_server.messages  # email.message.EmailMessage, as received
        assert message["To"] == "reader@example.com"
        link = smtp_server.links(message)[0]

When the test also uses the ``app`` fixture, ``smtp_server`` points that app's
SMTP_URL at itself; an app built with ``make_app`` takes ``SMTP_URL=smtp_server.url``.

TLS (tests/mail/test_tls.py): ``running_smtp_server(tls_context=...)`` offers STARTTLS,
``ssl_context=...`` is TLS from the first byte; ``events`` records STARTTLS, AUTH and
DATA in order with whether the connection was encrypted at that moment.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask, has_app_context

_LINK = re.compile(r"https?://[^\s<>\"')]+")


def free_port() -> int:
    """A port nothing listens on (now): where a server that is down would be."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    #: Whether it came over an encrypted connection (STARTTLS or implicit TLS).
    encrypted: bool = False


def _encrypted(server: Any) -> bool:
    """Whether aiosmtpd's connection ``server`` is encrypted now: its transport is a TLS
    one (after STARTTLS, or from the start) and knows its cipher."""
    transport = getattr(server, "transport", None)
    return transport is not None and transport.get_extra_info("cipher") is not None


@dataclass
class SmtpServer:
    """The server's state, shared with the thread aiosmtpd runs in."""

    host: str = "127.0.0.1"
    port: int = 0
    username: str | None = None
    password: str | None = None
    received: list[Received] = field(default_factory=list)
    # Recipient address -> (code, text) the server answers RCPT TO with.
    refusals: dict[str, tuple[int, str]] = field(default_factory=dict)
    # TLS: a context offers STARTTLS (tls_context) or speaks TLS from the first byte
    # (ssl_context); require_starttls refuses every command but EHLO/STARTTLS before it.
    tls_context: ssl.SSLContext | None = None
    ssl_context: ssl.SSLContext | None = None
    require_starttls: bool = False
    # AUTH only once the connection is encrypted (aiosmtpd counts STARTTLS only).
    auth_require_tls: bool = False
    # ("STARTTLS" | "AUTH" | "AUTH refused" | "DATA", encrypted then), in order.
    events: list[tuple[str, bool]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        """Where Pulse reaches it: ``smtps://`` for implicit TLS; a plain server that
        asks for AUTH needs ``?starttls=off`` (Pulse sends no password in the clear
        unless told to)."""
        user = f"{self.username}:{self.password}@" if self.username else ""
        if self.ssl_context is not None:
            return f"smtps://{user}{self.host}:{self.port}"
        plain = "?starttls=off" if self.username and self.tls_context is None else ""
        return f"smtp://{user}{self.host}:{self.port}{plain}"

    def event_names(self) -> list[str]:
        with self._lock:
            return [name for name, _ in self.events]

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [item.message for item in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose envelope went to ``address``."""
        with self._lock:
            return [item.message for item in self.received if address in item.rcpt_tos]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def refuse(self, address: str, code: int = 550, text: str = "5.1.1 No such user") -> None:
        self.refusals[address] = (code, text)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The plain-text part's content (lines end in \\n, as written)."""
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, "the message has no text part"
        return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]

    @staticmethod
    def html(message: EmailMessage) -> str | None:
        part = message.get_body(preferencelist=("html",))
        if part is None:
            return None
        return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]

    @classmethod
    def links(cls, message: EmailMessage) -> list[str]:
        """The absolute links in the text part, in order."""
        return _LINK.findall(cls.text(message))

    # --- aiosmtpd's handler hooks (run in the server's thread) ---

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        refusal = self.refusals.get(address)
        if refusal is not None:
            return f"{refusal[0]} {refusal[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        encrypted = _encrypted(server)
        with self._lock:
            self.events.append(("DATA", encrypted))
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, raw, encrypted)
            )
        return "250 Message accepted for delivery"

    def handle_STARTTLS(self, server: Any, session: Any, envelope: Any) -> bool:  # noqa: N802
        """Called (not awaited) by aiosmtpd once the STARTTLS handshake is done."""
        with self._lock:
            self.events.append(("STARTTLS", session.ssl is not None))
        return True

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        with self._lock:
            self.events.append(("AUTH" if ok else "AUTH refused", _encrypted(server)))
        # handled=False: aiosmtpd answers (235, or 535 on a failure) itself.
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        self.port = self.port or free_port()
        options: dict[str, Any] = {"enable_SMTPUTF8": True}
        if self.username:
            options.update(
                authenticator=self._authenticate,
                auth_require_tls=self.auth_require_tls,
            )
        if self.tls_context is not None:
            options.update(tls_context=self.tls_context, require_starttls=self.require_starttls)
        self._controller = Controller(
            self, hostname=self.host, port=self.port, ssl_context=self.ssl_context, **options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def running_smtp_server(**options: Any) -> SmtpServer:
    """A started server (stop it with ``.stop()``); ``username``/``password`` make it
    require AUTH (over plain text unless given a TLS context: ``auth_require_tls``)."""
    server = SmtpServer(**options)
    server.start()
    return server


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 for this test; the ``app`` fixture's app (when the
    test uses it) sends its mail there."""
    server = running_smtp_server()
    if "app" in request.fixturenames:
        app: Flask = request.getfixturevalue("app")
        app.config["SMTP_URL"] = server.url
    try:
        yield server
    finally:
        server.stop()


def deliver_outbox(app: Flask, rounds: int = 20) -> Any:
    """Run the worker's delivery passes now, until one finds nothing due (what the
    worker would do within a few seconds); the last pass's report. Commit what
    enqueued the mail first: delivery reads committed rows only."""
    from webapp.services.mail.delivery import PassReport, deliver_due

    def passes() -> PassReport:
        total = PassReport()
        for _ in range(rounds):
            report = deliver_due()
            for name in ("sent", "logged", "retrying", "failed", "skipped"):
                getattr(total, name).extend(getattr(report, name))
            if report.handled == 0:
                break
        return total

    if has_app_context():
        from webapp.extensions import db

        db.session.commit()
        return passes()
    with app.app_context():
        return passes()
