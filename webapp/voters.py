"""Who is voting: the signed-in user, or an anonymous visitor's signed cookie id."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Any

from flask import current_app, g, request
from flask.wrappers import Response
from itsdangerous import BadSignature, Serializer, Signer, URLSafeSerializer
from itsdangerous.encoding import base64_encode

from webapp.models import User
from webapp.services.polls import Visitor, adopt_anonymous_vote, anonymous_voter_key, voter_key

COOKIE_NAME = "pulse_voter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 365 * 2


class _KeyOnceSigner(Signer):
    """itsdangerous' signer, deriving each secret's signing key once, not on every
    sign and check (derive_key is the documented place to change that)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[Any, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        derived = self._derived.get(secret_key)
        if derived is None:
            derived = self._derived[secret_key] = super().derive_key(secret_key)
        return derived


class _VoterCookieSerializer(URLSafeSerializer):
    """The voter cookie's format, unchanged: itsdangerous' URL-safe signed JSON.

    Every first vote mints and signs a cookie, so this one is made once per secret
    key and keeps its signer. It does not compress the id: that saves a dozen bytes
    and costs as much as the signing. The format marks compressed payloads, so the
    cookies minted before (compressed) load the same.
    """

    signer = _KeyOnceSigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signers: dict[Any, Signer] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


@functools.lru_cache(maxsize=4)
def _serializer_for(secret_key: str) -> _VoterCookieSerializer:
    return _VoterCookieSerializer(secret_key, salt="pulse-anonymous-voter")


def _serializer() -> _VoterCookieSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


def anonymous_id() -> str | None:
    """The visitor's anonymous id from the signed cookie, if it is there and genuine."""
    if "anonymous_voter_id" in g:
        minted: str = g.anonymous_voter_id
        return minted
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
    minted = secrets.token_hex(16)
    g.anonymous_voter_id = minted
    g.set_voter_cookie = True
    return minted


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


def visitor(user: User | None) -> Visitor:
    """Who asks to vote in this request, for the polls service to decide whether they
    may: the signed-in ``user`` (None: signed out), the anonymous id (minted, with its
    cookie, only if the vote is let through) and the hash of the client address."""
    return Visitor(user, ensure_anonymous_id, client_hash(request.remote_addr))


@functools.lru_cache(maxsize=4)
def _address_hasher(secret_key: str) -> hmac.HMAC:
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


def client_hash(address: str | None) -> str:
    """Salted hash of the client address: spots stuffing without storing the address."""
    # A copy of an HMAC keyed once per secret, rather than keying one per vote.
    hasher = _address_hasher(current_app.config["SECRET_KEY"]).copy()
    hasher.update((address or "").encode())
    return hasher.hexdigest()[:32]


def adopt_anonymous_votes(user: User) -> int:
    """Called at sign-in: the visitor's anonymous votes become the account's."""
    existing = anonymous_id()
    if not existing:
        return 0
    return adopt_anonymous_vote(anonymous_voter_key(existing), user)
