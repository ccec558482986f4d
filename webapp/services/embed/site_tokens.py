"""Tokens a registered site signs with its secret (its readers' sign-in, its poll
descriptions): one way to check them, so both refuse the same things the same way.

HS256 only, checked with PyJWT, with the required claims present, ``exp`` honoured with
a little clock skew (LEEWAY_SECONDS). What the claims mean is each caller's business.
"""

from __future__ import annotations

from typing import Any

import jwt

from webapp.errors import DomainError
from webapp.models.embed import EmbedSite

ALGORITHM = "HS256"
#: Clock skew allowed between the host's server and Pulse, seconds.
LEEWAY_SECONDS = 30


def decode_site_token(
    site: EmbedSite,
    token: object,
    *,
    required: tuple[str, ...],
    max_length: int,
    what: str,
    invalid: type[DomainError],
    expired: type[DomainError],
) -> dict[str, Any]:
    """The claims of ``token``, signed with ``site``'s secret. ``expired`` past its
    ``exp``; ``invalid`` for anything else (empty or longer than ``max_length``, another
    algorithm, a bad signature, a missing claim). ``what`` names the token in messages."""
    if not isinstance(token, str) or not token or len(token) > max_length:
        raise invalid()
    try:
        # Read before the signature is checked, only to refuse anything but HS256 by
        # name (PyJWT refuses it too, with ``algorithms``; this says so twice).
        if jwt.get_unverified_header(token).get("alg") != ALGORITHM:
            raise invalid(f"{what} must be signed with {ALGORITHM}.")
        claims: dict[str, Any] = jwt.decode(
            token,
            site.secret,
            algorithms=[ALGORITHM],
            options={"require": list(required)},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise expired() from exc
    except jwt.PyJWTError as exc:
        raise invalid() from exc
    return claims
