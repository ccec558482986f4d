"""The kept signers (webapp.signing) sign exactly as itsdangerous does, and the API's
CSRF check (extensions.validate_csrf_token) judges every token as Flask-WTF's own
``validate_csrf`` does, with the same message."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask, session
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import Signer, TimestampSigner, URLSafeSerializer
from wtforms import ValidationError

from webapp.extensions import validate_csrf_token
from webapp.signing import KeyOnceSigner, KeyOnceTimestampSigner, SignerPerSalt
from webapp.voters import _serializer_for

SECRET = "a-secret-key-for-signing-tests-0123456789"


def _tamper(signed: bytes) -> bytes:
    """``signed`` with the first character of its signature changed (the last one may
    carry only padding bits, which base64 ignores)."""
    head, _, signature = signed.rpartition(b".")
    first = b"B" if signature[:1] == b"A" else b"A"
    return head + b"." + first + signature[1:]


@pytest.mark.parametrize(
    ("kept", "plain"), [(KeyOnceSigner, Signer), (KeyOnceTimestampSigner, TimestampSigner)]
)
def test_a_kept_signer_signs_and_checks_as_itsdangerous_does(kept: Any, plain: Any) -> None:
    ours, theirs = kept(SECRET, salt="a-salt"), plain(SECRET, salt="a-salt")
    for value in (b"", b"a vote", "ünïcode".encode(), b"x" * 500):
        if plain is Signer:
            assert ours.sign(value) == theirs.sign(value)
        assert ours.unsign(theirs.sign(value)) == value
        assert theirs.unsign(ours.sign(value)) == value
        # Twice: the second use takes the key derived by the first.
        assert ours.unsign(ours.sign(value)) == value
    signed = theirs.sign(b"a vote")
    tampered = _tamper(signed)
    assert not ours.validate(tampered)
    assert not Signer(SECRET + "-other", salt="a-salt").validate(ours.sign(b"a vote"))


def test_the_voter_cookie_is_what_itsdangerous_would_sign() -> None:
    ours = _serializer_for(SECRET)
    plain = URLSafeSerializer(SECRET, salt="pulse-anonymous-voter")
    cookie = ours.dumps(["0123456789abcdef", 1796447246])
    assert plain.loads(cookie) == ["0123456789abcdef", 1796447246]
    assert ours.loads(plain.dumps("an-older-bare-id")) == "an-older-bare-id"
    assert isinstance(ours, SignerPerSalt)
    assert ours.make_signer(ours.salt) is ours.make_signer(ours.salt)  # kept


def _verdict(check: Any, token: str | None) -> str:
    try:
        check(token)
    except ValidationError as error:
        return str(error.args[0])
    return "valid"


def test_the_api_csrf_check_judges_every_token_as_flask_wtf_does(app: Flask) -> None:
    # Each in an app context of its own: Flask-WTF keeps a request's token in ``g``.
    with app.app_context(), app.test_request_context("/"):
        genuine = generate_csrf()
        mine = session["csrf_token"]
    with app.app_context(), app.test_request_context("/"):
        others = generate_csrf()
    forged_payload = genuine.split(".", 1)[1]
    cases = {
        "genuine": genuine,
        "missing": None,
        "empty": "",
        "another session's": others,
        "made up": "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.Z0000.bad",
        "tampered": _tamper(genuine.encode()).decode(),
        "not a token": "no dots here",
        "payload swapped": "ImZvcmdlZCI." + forged_payload,
    }
    verdicts = {}
    with app.app_context(), app.test_request_context("/"):
        session["csrf_token"] = mine
        for name, token in cases.items():
            ours, theirs = _verdict(validate_csrf_token, token), _verdict(validate_csrf, token)
            assert ours == theirs, name
            verdicts[name] = ours
    assert verdicts["genuine"] == "valid"
    assert verdicts["missing"] == verdicts["empty"] == "The CSRF token is missing."
    assert verdicts["another session's"] == "The CSRF tokens do not match."
    assert verdicts["made up"] == verdicts["tampered"] == "The CSRF token is invalid."
    with app.app_context(), app.test_request_context("/"):
        # A session that never got a token.
        assert _verdict(validate_csrf_token, genuine) == "The CSRF session token is missing."
        assert _verdict(validate_csrf, genuine) == "The CSRF session token is missing."


def test_an_expired_csrf_token_is_refused_as_flask_wtf_refuses_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["WTF_CSRF_TIME_LIMIT"] = 60
    with app.app_context(), app.test_request_context("/"):
        # Signed two minutes ago.
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 120)
        old = generate_csrf()
        monkeypatch.undo()
        assert _verdict(validate_csrf_token, old) == "The CSRF token has expired."
        assert _verdict(validate_csrf, old) == "The CSRF token has expired."
    with app.app_context(), app.test_request_context("/"):
        assert _verdict(validate_csrf_token, generate_csrf()) == "valid"
