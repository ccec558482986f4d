"""The mail tests' SMTP server (tests/mail/server.py)."""

from tests.mail.server import smtp_server  # noqa: F401 (a fixture)
