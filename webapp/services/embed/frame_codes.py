"""The pop-up's one-time sign-in code: a reader signs in on Pulse first-party in a
pop-up, which hands the frame a code; the frame trades it for its own (partitioned)
session. Signed, short-lived, single use, and dead once the reader's sessions end."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.errors import Unauthorized
from webapp.extensions import db
from webapp.ids import is_id
from webapp.models import User, utcnow
from webapp.services.embed.host_sign_in import use_once

_SALT = "pulse.embed.frame-code"


class FrameCodeInvalid(Unauthorized):
    code, message = "code_invalid", "This sign-in code is not valid."


class FrameCodeExpired(Unauthorized):
    code, message = "code_expired", "This sign-in code has expired; please sign in again."


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def code_seconds() -> int:
    return int(current_app.config["EMBED_FRAME_CODE_SECONDS"])


def issue_frame_code(user: User) -> str:
    """A code naming ``user`` and their session generation (signing out everywhere
    kills it), with a nonce that makes it single use."""
    return str(
        _serializer().dumps(
            {"u": user.id, "g": user.session_generation, "n": secrets.token_urlsafe(16)}
        )
    )


def redeem_frame_code(code: str) -> User:
    """The user ``code`` names, once: FrameCodeExpired after ``code_seconds``,
    FrameCodeInvalid for a forged, reused or revoked one. Flushes; the caller commits
    and signs the frame's session in."""
    if not isinstance(code, str) or not code or len(code) > 1000:
        raise FrameCodeInvalid()
    seconds = code_seconds()
    try:
        data = _serializer().loads(code, max_age=seconds)
    except SignatureExpired as exc:
        raise FrameCodeExpired() from exc
    except BadSignature as exc:
        raise FrameCodeInvalid() from exc
    if not isinstance(data, dict):
        raise FrameCodeInvalid()
    user_id, generation, nonce = data.get("u"), data.get("g"), data.get("n")
    if not (is_id(user_id) and isinstance(generation, int) and isinstance(nonce, str)):
        raise FrameCodeInvalid()
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None or user.session_generation != generation:
        raise FrameCodeInvalid()
    key = hashlib.sha256(f"frame\x1f{nonce}".encode()).hexdigest()
    if not use_once(key, utcnow() + timedelta(seconds=seconds + 60)):
        raise FrameCodeInvalid("This sign-in code was used already.")
    return user
