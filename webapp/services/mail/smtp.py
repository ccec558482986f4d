"""Talking to the mail server: ``SMTP_URL`` read into settings, messages built with the
standard library's ``email`` package and sent with its ``smtplib``.

Both are part of Python and well kept: ``email.message.EmailMessage`` with the
``SMTP`` policy writes the MIME structure, encodes non-ASCII headers (RFC 2047) and
refuses a header value with a line break in it, so nothing a reader typed can add a
header; ``smtplib`` speaks ESMTP with STARTTLS, implicit TLS, AUTH and SMTPUTF8.

``SMTP_URL`` forms:

- ``smtp://user:pass@host:587``: STARTTLS, required (the submission port);
- ``smtp://host`` (port 25) or any other port: STARTTLS when the server offers it;
  ``?starttls=require`` insists on it, ``?starttls=off`` never tries it (a relay on
  localhost with a certificate nobody trusts);
- ``smtp://user:pass@host`` on any port: STARTTLS required as on 587, so that the
  password never crosses the network in the clear because a server (or someone between
  it and Pulse) left STARTTLS out of its answer; ``?starttls=off`` is the only way to
  sign in without it, said on purpose;
- ``smtps://user:pass@host`` (port 465): TLS from the first byte.

User and password are URL-decoded (``p%40ss`` is ``p@ss``).

Certificates are always checked, both ways (``tls_context``): the chain against the
system's trusted certificates, or, with ``SMTP_CA_FILE``, against the certificates in
that PEM file only (a relay whose certificate comes from a private CA); and the
certificate must name the host ``SMTP_URL`` names (``smtplib`` hands it over as the
server name). A certificate that fails either check fails the attempt, which is
retried like any other; mail is never sent over a connection whose certificate was not
checked, and an offered STARTTLS that fails is not followed by plain text.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

StartTLS = Literal["require", "opportunistic", "off"]

#: Headers the message gets from its row and the settings; an extra header of the
#: same name is refused rather than sent twice or in place of the real one.
RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "message-id", "date", "sender", "reply-to-all"}
)
SUBMISSION_PORT = 587


class SmtpUrlError(ValueError):
    """SMTP_URL is not a mail server's address."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: StartTLS
    username: str | None
    password: str | None
    timeout: float
    #: SMTP_CA_FILE: a PEM file of the certificates to trust instead of the system's.
    ca_file: str | None = None

    def describe(self) -> str:
        """Where mail goes, without the password (for logs and the CLI)."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        trusted = f", certificates from {self.ca_file}" if self.ca_file else ""
        return f"{scheme}://{user}{self.host}:{self.port} (STARTTLS {self.starttls}{trusted})"


def parse_smtp_url(url: str, timeout: float = 20.0, ca_file: str | None = None) -> SmtpSettings:
    """Read ``SMTP_URL`` (and ``SMTP_CA_FILE``, as ``ca_file``); SmtpUrlError says what
    is wrong with one that is not."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise SmtpUrlError("SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise SmtpUrlError("SMTP_URL names no host")
    try:
        explicit_port = parts.port
    except ValueError as error:
        raise SmtpUrlError(f"SMTP_URL has a bad port: {error}") from error
    implicit_tls = scheme == "smtps"
    port = explicit_port or (465 if implicit_tls else 25)
    query = {key.lower(): values[-1].lower() for key, values in parse_qs(parts.query).items()}
    starttls: StartTLS
    if implicit_tls:
        starttls = "off"  # already TLS
    elif "starttls" in query:
        chosen = query["starttls"]
        if chosen not in ("require", "opportunistic", "off"):
            raise SmtpUrlError("SMTP_URL's starttls= is require, opportunistic or off")
        starttls = chosen  # type: ignore[assignment]
    else:
        # With credentials, as on the submission port, the password waits for TLS.
        signs_in = bool(parts.username)
        starttls = "require" if port == SUBMISSION_PORT or signs_in else "opportunistic"
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
        ca_file=ca_file or None,
    )


def envelope_sender(mail_from: str) -> str:
    """The bare address of ``MAIL_FROM`` (``Pulse <pulse@news.example>``)."""
    found = [address for _, address in getaddresses([mail_from]) if address]
    if not found:
        raise ValueError(f"MAIL_FROM has no address: {mail_from!r}")
    return found[0]


def address_domain(mail_from: str) -> str | None:
    """The domain of ``MAIL_FROM``'s address (Message-IDs are made on it)."""
    try:
        address = envelope_sender(mail_from)
    except ValueError:
        return None
    local, at, domain = address.rpartition("@")
    return domain.strip() or None if at and local else None


@dataclass(frozen=True)
class Letter:
    """One outbox row's content, as read when its attempt began."""

    id: int
    kind: str
    to_address: str
    subject: str
    text_body: str
    html_body: str | None
    headers: Mapping[str, str]
    message_id: str
    created_at: datetime


def build_message(letter: Letter, mail_from: str) -> EmailMessage:
    """The message as it goes out. ValueError for one that cannot be written (a line
    break in a header value, a reserved header among the extra ones, a bad address):
    trying again would not help, so the caller fails it at once."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["Message-ID"] = letter.message_id
    # The time it was written, the same on every attempt (as the Message-ID).
    message["Date"] = format_datetime(letter.created_at)
    message["From"] = mail_from
    message["To"] = letter.to_address
    message["Subject"] = letter.subject
    for name, value in letter.headers.items():
        if name.strip().lower() in RESERVED_HEADERS:
            raise ValueError(f"the extra header {name!r} is set from the message itself")
        message[name] = value
    message.set_content(letter.text_body)
    if letter.html_body is not None:
        message.add_alternative(letter.html_body, subtype="html")
    # Parsing the header back is what refuses a bad address (the email package only
    # checks it when the header is read).
    recipients = message["To"].addresses
    if len(recipients) != 1 or not isinstance(recipients[0], Address) or not recipients[0].domain:
        raise ValueError(f"not one mail address: {letter.to_address!r}")
    return message


class SmtpConnectionError(Exception):
    """The server could not be reached or would not talk (every message waits)."""


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The TLS settings of every connection: the server's certificate must chain to a
    trusted one (the system's, or with ``ca_file`` only those in it) and name the host
    connected to. SmtpConnectionError when ``ca_file`` cannot be read."""
    try:
        context = ssl.create_default_context(cafile=ca_file or None)
    except OSError as error:  # ssl.SSLError too: a file that holds no certificate
        raise SmtpConnectionError(f"SMTP_CA_FILE {ca_file!r} cannot be used: {error}") from error
    # The default context does both already; said here so no later change drops them.
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


@contextmanager
def connect(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """An SMTP session, greeted, encrypted as the settings ask and logged in; every
    failure to get there is an SmtpConnectionError. ``smtplib`` passes the host as the
    TLS server name, both for ``smtps`` and for STARTTLS, so the name is checked."""
    context = tls_context(settings.ca_file)
    session: smtplib.SMTP
    try:
        if settings.implicit_tls:
            session = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            session = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, smtplib.SMTPException) as error:
        raise SmtpConnectionError(f"cannot reach {settings.describe()}: {error}") from error
    try:
        try:
            session.ehlo()
            if settings.starttls != "off":
                offered = session.has_extn("starttls")
                if offered:
                    session.starttls(context=context)
                    session.ehlo()
                elif settings.starttls == "require":
                    raise SmtpConnectionError(
                        f"{settings.describe()} does not offer STARTTLS, which it requires"
                    )
            if settings.username:
                session.login(settings.username, settings.password or "")
        except (OSError, smtplib.SMTPException) as error:
            raise SmtpConnectionError(f"{settings.describe()}: {error}") from error
        yield session
    finally:
        try:
            session.quit()
        except (OSError, smtplib.SMTPException):
            session.close()
