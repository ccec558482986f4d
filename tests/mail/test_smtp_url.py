"""SMTP_URL read into connection settings (no server needed)."""

from __future__ import annotations

import pytest

from webapp.services.mail.smtp import SmtpUrlError, address_domain, parse_smtp_url


def test_submission_port_requires_starttls_and_decodes_the_credentials():
    settings = parse_smtp_url("smtp://me%40example.com:p%40ss%3Aw%2Frd@mail.example.com:587", 7)
    assert (settings.host, settings.port, settings.implicit_tls) == ("mail.example.com", 587, False)
    assert settings.starttls == "require"
    assert (settings.username, settings.password) == ("me@example.com", "p@ss:w/rd")
    assert settings.timeout == 7
    assert "p@ss" not in settings.describe()


def test_plain_smtp_uses_starttls_when_offered_on_port_25():
    settings = parse_smtp_url("smtp://relay.internal")
    assert (settings.port, settings.starttls, settings.username) == (25, "opportunistic", None)
    assert parse_smtp_url("smtp://relay:2525?starttls=off").starttls == "off"
    assert parse_smtp_url("smtp://relay:2525?starttls=require").starttls == "require"


def test_credentials_require_starttls_on_any_port_unless_turned_off():
    assert parse_smtp_url("smtp://user:pw@relay:25").starttls == "require"
    assert parse_smtp_url("smtp://user:pw@relay:2525?starttls=off").starttls == "off"
    assert parse_smtp_url("smtp://relay:2525").starttls == "opportunistic"


def test_smtp_ca_file_is_kept_and_named_in_the_description():
    settings = parse_smtp_url("smtps://mail.example.com", ca_file="/etc/pulse/relay-ca.pem")
    assert settings.ca_file == "/etc/pulse/relay-ca.pem"
    assert "/etc/pulse/relay-ca.pem" in settings.describe()
    assert parse_smtp_url("smtps://mail.example.com", ca_file="").ca_file is None


def test_smtps_is_tls_from_the_start_on_465():
    settings = parse_smtp_url("SMTPS://user:secret@mail.example.com")
    assert (settings.port, settings.implicit_tls, settings.starttls) == (465, True, "off")
    assert parse_smtp_url("smtps://mail.example.com:2465").port == 2465


@pytest.mark.parametrize(
    "url",
    ["http://mail.example.com", "smtp://", "smtp://host:notaport", "smtp://h?starttls=maybe"],
)
def test_what_is_not_a_mail_server_is_refused(url):
    with pytest.raises(SmtpUrlError):
        parse_smtp_url(url)


def test_message_ids_are_made_on_mail_froms_domain():
    assert address_domain("Pulse News <news@pulse.example>") == "pulse.example"
    assert address_domain("no address here") is None
