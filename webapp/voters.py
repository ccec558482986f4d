"""Who is voting: the signed-in user, or an anonymous visitor's signed cookie id; and
what the request tells of their vote (its integrity signals, issue 16)."""

from __future__ import annotations

import functools
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from flask import current_app, g, request
from flask.wrappers import Response
from itsdangerous import BadSignature, Serializer, URLSafeSerializer
from itsdangerous.encoding import base64_encode

from webapp.models import User
from webapp.services.integrity.signals import (
    VoteSignals,
    address_hash,
    agent_hash,
    network_hash,
    saw_article,
)
from webapp.services.polls import Visitor, adopt_anonymous_vote, anonymous_voter_key, voter_key
from webapp.signing import KeyOnceSigner, SignerPerSalt

COOKIE_NAME = "pulse_voter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 365 * 2


class _VoterCookieSerializer(SignerPerSalt, URLSafeSerializer):
    """The voter cookie's format: itsdangerous' URL-safe signed JSON, of ``[id, mint
    time]`` (Unix seconds) since cookies carry their mint time, of the bare id before.

    Every first vote mints and signs a cookie, so this one is made once per secret
    key and keeps its signer (webapp.signing). It does not compress the id: that saves
    a dozen bytes and costs as much as the signing. The format marks compressed
    payloads, so the cookies minted before (compressed) load the same.
    """

    signer = KeyOnceSigner

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


@functools.lru_cache(maxsize=4)
def _serializer_for(secret_key: str) -> _VoterCookieSerializer:
    return _VoterCookieSerializer(secret_key, salt="pulse-anonymous-voter")


def _serializer() -> _VoterCookieSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


def _cookie() -> tuple[str, datetime | None] | None:
    """The anonymous id in the signed cookie and when the cookie was minted, if it is
    there and genuine. The mint time is None for a cookie minted before cookies
    carried it (a bare id): still a good cookie, of unknown age."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    if isinstance(value, str):
        return (value, None) if value else None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and value[0]
        and isinstance(value[1], int)
    ):
        return value[0], datetime.fromtimestamp(value[1], UTC)
    return None


def anonymous_id() -> str | None:
    """The visitor's anonymous id from the signed cookie, if it is there and genuine."""
    if "anonymous_voter_id" in g:
        minted: str = g.anonymous_voter_id
        return minted
    found = _cookie()
    return found[0] if found else None


def ensure_anonymous_id() -> str:
    """The visitor's anonymous id, minting one (sent back in a cookie) when there is none."""
    existing = anonymous_id()
    if existing:
        return existing
    minted = secrets.token_hex(16)
    g.anonymous_voter_id = minted
    g.anonymous_voter_minted_at = int(time.time())
    g.set_voter_cookie = True
    return minted


def set_cookie_if_minted(response: Response) -> Response:
    """Send the cookie of an id minted in this request: the id and its mint time (Unix
    seconds), signed, so a vote can tell a cookie minted seconds before it.

    Inside a host site's frame (issue 22) the cookie is a third party's: browsers keep
    it there only when it is SameSite=None, Secure and Partitioned (CHIPS: one jar per
    host site), as the frame's session cookie is (webapp.auth_setup)."""
    if g.get("set_voter_cookie"):
        # Imported here: the embed services import the polls, which this module does.
        from webapp.services.embed.http import is_frame_path

        in_frame = is_frame_path(request.path)
        minted_at = g.get("anonymous_voter_minted_at") or int(time.time())
        response.set_cookie(
            COOKIE_NAME,
            _serializer().dumps([g.anonymous_voter_id, minted_at]),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="None" if in_frame else "Lax",
            secure=in_frame or current_app.config.get("SESSION_COOKIE_SECURE", False),
            partitioned=in_frame,
        )
    return response


def current_voter_key(user: User | None) -> str | None:
    return voter_key(user, anonymous_id())


#: Where the article page puts its page token: the vote form's hidden field, and the
#: header the page's script sends with its votes.
PAGE_TOKEN_FIELD = "page_token"  # nosec B105
PAGE_TOKEN_HEADER = "X-Pulse-Page"  # nosec B105


def _page_token() -> str | None:
    token = request.headers.get(PAGE_TOKEN_HEADER)
    if not token and not request.is_json and request.method == "POST":
        # A form post (the page's vote form); a JSON body has no form to parse.
        token = request.form.get(PAGE_TOKEN_FIELD)
    return token


def _cookie_age(now: float) -> int | None:
    """The voter cookie's age in seconds: 0 when there is none yet (a vote let through
    mints it), None when its mint time is unknown (an older cookie)."""
    if "anonymous_voter_id" in g:
        minted_at = g.get("anonymous_voter_minted_at")
        return None if minted_at is None else max(0, int(now) - minted_at)
    found = _cookie()
    if found is None:
        return 0
    if found[1] is None:
        return None
    return max(0, int(now - found[1].timestamp()))


def visitor(user: User | None, poll_id: int | None = None) -> Visitor:
    """Who asks to vote in this request, for the polls service to decide whether they
    may: the signed-in ``user`` (None: signed out), the anonymous id (minted, with its
    cookie, only if the vote is let through), and the integrity signals of the vote
    (webapp.services.integrity.signals): the keyed hashes of the client address (as
    the rate limits see it, after ProxyFix) and its network, the user agent's family,
    the cookie's age, and whether the request carries the page token of the article
    of the poll ``poll_id``. The service adds the account's age."""
    now = time.time()
    address = request.remote_addr
    signals = VoteSignals(
        network_hash=network_hash(address),
        agent_hash=agent_hash(request.headers.get("User-Agent")),
        cookie_age_seconds=None if user is not None else _cookie_age(now),
        saw_article=poll_id is not None and saw_article(_page_token(), poll_id, now),
    )
    return Visitor(user, ensure_anonymous_id, address_hash(address), signals)


def adopt_anonymous_votes(user: User) -> int:
    """Called at sign-in: the visitor's anonymous votes become the account's."""
    existing = anonymous_id()
    if not existing:
        return 0
    return adopt_anonymous_vote(anonymous_voter_key(existing), user)
