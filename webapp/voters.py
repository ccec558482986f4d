"""Who is voting: the signed-in user, or an anonymous visitor's signed cookie id."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, g, request
from flask.wrappers import Response
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.models import User
from webapp.services.polls import voter_key

COOKIE_NAME = "pulse_voter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 365 * 2


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="pulse-anonymous-voter")


def anonymous_id() -> str | None:
    """The visitor's anonymous id from the signed cookie, if it is there and genuine."""
    if "anonymous_voter_id" in g:
        return g.anonymous_voter_id  # type: ignore[no-any-return]
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def ensure_anonymous_id() -> str:
    """The visitor's anonymous id, minting one (sent back in a cookie) when there is none."""
    existing = anonymous_id()
    if existing:
        return existing
    g.anonymous_voter_id = secrets.token_hex(16)
    g.set_voter_cookie = True
    return g.anonymous_voter_id  # type: ignore[no-any-return]


def set_cookie_if_minted(response: Response) -> Response:
    if g.get("set_voter_cookie"):
        response.set_cookie(
            COOKIE_NAME,
            _serializer().dumps(g.anonymous_voter_id),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    return response


def current_voter_key(user: User | None) -> str | None:
    return voter_key(user, anonymous_id())


def client_hash(address: str | None) -> str:
    """Salted hash of the client address: spots stuffing without storing the address."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (address or "").encode(), hashlib.sha256).hexdigest()[:32]


def adopt_anonymous_votes(user: User) -> int:
    """Called at sign-in: the visitor's anonymous votes become the account's."""
    from webapp.services.polls import adopt_anonymous_vote, anonymous_voter_key

    existing = anonymous_id()
    if not existing:
        return 0
    return adopt_anonymous_vote(anonymous_voter_key(existing), user)
