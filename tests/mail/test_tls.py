"""Delivery over TLS to a real SMTP server (aiosmtpd on 127.0.0.1): STARTTLS and implicit
TLS with AUTH, certificates checked (an untrusted one, or one for another name, fails
the attempt, which is retried and never marked sent), and a wrong password.

The certificates are made for this test session with ``openssl``: a private CA and a
certificate it signed for 127.0.0.1 and localhost (trusted through SMTP_CA_FILE, as a
relay with a private CA would be), one it signed for another name, and a self-signed
one nothing trusts.
"""

from __future__ import annotations

import ssl
import subprocess  # nosec B404 (openssl, with fixed arguments, makes test certificates)
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.mail.server import SmtpServer, running_smtp_server
from webapp.extensions import db
from webapp.models import utcnow
from webapp.models.mail import OutboxMessage
from webapp.services.mail.delivery import deliver_due
from webapp.services.mail.outbox import enqueue

# aiosmtpd warns about AUTH without its auth_require_tls, which counts only STARTTLS:
# the implicit TLS server's connection is encrypted from the first byte (its events
# show it), and the plain server is the one the password must never reach.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "pulse", "s3cret:pass"
PASSWORD_IN_URL = "s3cret%3Apass"


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@dataclass(frozen=True)
class Certificates:
    ca_file: Path  # the private CA, what SMTP_CA_FILE names
    loopback: KeyPair  # signed by the CA, for 127.0.0.1 and localhost
    other_name: KeyPair  # signed by the CA, for mail.example only
    self_signed: KeyPair  # for 127.0.0.1, signed by nobody anyone trusts


def _openssl(*args: str | Path) -> None:
    subprocess.run(  # noqa: S603  # nosec B603 (fixed arguments, no shell)
        ["openssl", *map(str, args)], check=True, capture_output=True
    )


_EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def _signed(folder: Path, name: str, ca: KeyPair, alt_names: str) -> KeyPair:
    pair = KeyPair(folder / f"{name}.pem", folder / f"{name}.key")
    request = folder / f"{name}.csr"
    extensions = folder / f"{name}.ext"
    extensions.write_text(
        f"subjectAltName={alt_names}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl("req", *_EC, "-keyout", pair.key, "-out", request, "-subj", f"/CN={name}")
    _openssl(
        "x509", "-req", "-in", request, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial",
        "-days", "2", "-out", pair.cert, "-extfile", extensions,
    )  # fmt: skip
    return pair


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("tls")
    ca = KeyPair(folder / "ca.pem", folder / "ca.key")
    _openssl(
        "req", "-x509", *_EC, "-keyout", ca.key, "-out", ca.cert, "-days", "2",
        "-subj", "/CN=Pulse test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    self_signed = KeyPair(folder / "self.pem", folder / "self.key")
    _openssl(
        "req", "-x509", *_EC, "-keyout", self_signed.key, "-out", self_signed.cert,
        "-days", "2", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    )  # fmt: skip
    return Certificates(
        ca_file=ca.cert,
        loopback=_signed(folder, "loopback", ca, "IP:127.0.0.1,DNS:localhost"),
        other_name=_signed(folder, "other", ca, "DNS:mail.example"),
        self_signed=self_signed,
    )


@pytest.fixture
def servers() -> Iterator[list[SmtpServer]]:
    """Servers the test starts, stopped after it."""
    started: list[SmtpServer] = []
    yield started
    for server in started:
        server.stop()


def _starttls_server(pair: KeyPair, **options: Any) -> SmtpServer:
    """Offers STARTTLS and requires it before anything else, and AUTH after it."""
    return running_smtp_server(
        tls_context=pair.server_context(),
        require_starttls=True,
        username=USER,
        password=PASSWORD,
        auth_require_tls=True,
        **options,
    )


def _implicit_tls_server(pair: KeyPair) -> SmtpServer:
    # aiosmtpd's auth_require_tls only counts STARTTLS; this connection is TLS from the
    # first byte (the events show AUTH came over it).
    return running_smtp_server(ssl_context=pair.server_context(), username=USER, password=PASSWORD)


def _write() -> int:
    message = enqueue(kind="test", to="reader@example.com", subject="Hello", text="Over TLS.\n")
    db.session.commit()
    return message.id


def _row(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id == message_id)).one()


def test_starttls_before_auth_on_the_submission_form_of_smtp_url(app, certificates, servers):
    server = _starttls_server(certificates.loopback)
    servers.append(server)
    app.config.update(
        SMTP_URL=f"smtp://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}",
        SMTP_CA_FILE=str(certificates.ca_file),
    )
    message_id = _write()

    assert deliver_due().sent == [message_id]

    [received] = server.received
    assert received.encrypted
    assert received.rcpt_tos == ["reader@example.com"]
    assert server.text(received.message) == "Over TLS.\n"
    # The order the server saw: the handshake, then the password, then the message.
    assert server.events == [("STARTTLS", True), ("AUTH", True), ("DATA", True)]
    row = _row(message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


def test_smtps_is_tls_from_the_first_byte(app, certificates, servers):
    server = _implicit_tls_server(certificates.loopback)
    servers.append(server)
    app.config.update(
        SMTP_URL=f"smtps://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}",
        SMTP_CA_FILE=str(certificates.ca_file),
    )
    message_id = _write()

    assert deliver_due().sent == [message_id]

    [received] = server.received
    assert received.encrypted
    assert server.events == [("AUTH", True), ("DATA", True)]  # no STARTTLS: no need
    assert _row(message_id).status == "sent"


@pytest.mark.parametrize("mode", ["starttls", "starttls-offered", "smtps"])
def test_an_untrusted_certificate_fails_the_attempt_and_the_message_waits(
    app, certificates, servers, mode
):
    """SMTP_CA_FILE unset: the system's trusted certificates, which do not include a
    self-signed one. Whatever the form of SMTP_URL, nothing is sent, not even the
    password; when the certificate is trusted, the same message goes, once."""
    if mode == "smtps":
        server = _implicit_tls_server(certificates.self_signed)
        url = f"smtps://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}"
    elif mode == "starttls":
        server = _starttls_server(certificates.self_signed)
        url = f"smtp://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}"
    else:  # offered, not required: a failed handshake is not followed by plain text
        server = running_smtp_server(tls_context=certificates.self_signed.server_context())
        url = f"smtp://127.0.0.1:{server.port}"
    servers.append(server)
    app.config.update(SMTP_URL=url, MAIL_RETRY_SECONDS=30.0)
    message_id = _write()

    report = deliver_due()

    assert report.retrying == [message_id] and not report.sent
    row = _row(message_id)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert "self-signed certificate" in row.last_error
    assert server.received == []
    assert "AUTH" not in server.event_names() and "DATA" not in server.event_names()

    # Trusting it (SMTP_CA_FILE naming the certificate itself) lets the retry through.
    app.config["SMTP_CA_FILE"] = str(certificates.self_signed.cert)
    assert deliver_due(now=utcnow() + timedelta(seconds=40)).sent == [message_id]
    assert deliver_due(now=utcnow() + timedelta(hours=1)).handled == 0
    assert len(server.received) == 1
    row = _row(message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_a_certificate_for_another_name_fails_even_from_a_trusted_ca(
    app, certificates, servers, mode
):
    """The name is checked, not only the chain: a trusted CA's certificate for
    mail.example does not do for 127.0.0.1."""
    if mode == "smtps":
        server = _implicit_tls_server(certificates.other_name)
        url = f"smtps://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}"
    else:
        server = _starttls_server(certificates.other_name)
        url = f"smtp://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}"
    servers.append(server)
    app.config.update(SMTP_URL=url, SMTP_CA_FILE=str(certificates.ca_file))
    message_id = _write()

    assert deliver_due().retrying == [message_id]

    row = _row(message_id)
    assert row.status == "pending"
    assert "IP address mismatch" in row.last_error
    assert server.received == [] and "AUTH" not in server.event_names()


def test_a_wrong_password_is_retried_with_the_error_kept_and_nothing_lost(
    app, certificates, servers
):
    server = _starttls_server(certificates.loopback)
    servers.append(server)
    app.config.update(
        SMTP_URL=f"smtp://{USER}:wrong@127.0.0.1:{server.port}",
        SMTP_CA_FILE=str(certificates.ca_file),
        MAIL_RETRY_SECONDS=30.0,
    )
    message_id = _write()

    assert deliver_due().retrying == [message_id]

    row = _row(message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "535" in row.last_error and "credentials invalid" in row.last_error
    # smtplib tries each mechanism the server offers; every try came after STARTTLS.
    assert server.events[0] == ("STARTTLS", True)
    assert set(server.events[1:]) == {("AUTH refused", True)}
    assert server.received == []

    app.config["SMTP_URL"] = f"smtp://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}"
    assert deliver_due(now=utcnow() + timedelta(seconds=40)).sent == [message_id]
    assert len(server.received) == 1
    assert _row(message_id).status == "sent"


def test_a_password_never_crosses_in_the_clear(app, servers):
    """A server that offers no STARTTLS (or someone in between who took it out of its
    answer): with credentials in SMTP_URL, Pulse does not sign in, on any port."""
    server = running_smtp_server(username=USER, password=PASSWORD)
    servers.append(server)
    app.config["SMTP_URL"] = f"smtp://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}"
    message_id = _write()

    assert deliver_due().retrying == [message_id]

    assert "does not offer STARTTLS" in _row(message_id).last_error
    assert server.events == [] and server.received == []


def test_an_unreadable_ca_file_fails_the_attempt_saying_so(app, certificates, servers, tmp_path):
    server = _starttls_server(certificates.loopback)
    servers.append(server)
    app.config.update(
        SMTP_URL=f"smtp://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}",
        SMTP_CA_FILE=str(tmp_path / "missing.pem"),
    )
    message_id = _write()

    assert deliver_due().retrying == [message_id]

    row = _row(message_id)
    assert row.status == "pending"
    assert "SMTP_CA_FILE" in row.last_error and "missing.pem" in row.last_error
    assert server.received == []
