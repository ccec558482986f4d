"""Unsubscribe tokens and the headers that carry them (RFC 2369, RFC 8058).

A token names one account and one kind of mail, signed with the app's SECRET_KEY
(itsdangerous), so the link in a mail turns off that kind of mail for that reader and
nothing else, without signing in; a token cannot be made for another account or kind
without the key. It does not expire: an old mail's link must still work (RFC 8058
asks that it keep working), and what it can do (turn a mail off) is harmless.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.site_address import absolute_url

_SALT = "pulse.unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(user_id: int, kind: str) -> str:
    return _serializer().dumps({"u": user_id, "k": kind})


def read_token(token: str) -> tuple[int, str] | None:
    """(user id, kind) a genuine token names; None for a forged or damaged one."""
    try:
        data: Any = _serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("u"), int)
        or not isinstance(data.get("k"), str)
    ):
        return None
    return data["u"], data["k"]


def unsubscribe_url(user_id: int, kind: str) -> str:
    return absolute_url("notifications.unsubscribe", token=unsubscribe_token(user_id, kind))


def unsubscribe_headers(user_id: int, kind: str) -> dict[str, str]:
    """``List-Unsubscribe`` with the https link, and ``List-Unsubscribe-Post`` so a mail
    client can unsubscribe with one POST to it (RFC 8058). No ``mailto:`` link: Pulse
    reads no mailbox, and RFC 8058 needs only the https one."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user_id, kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
