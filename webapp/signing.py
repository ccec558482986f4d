"""itsdangerous' signers, made for the tokens every vote checks or mints.

itsdangerous derives the signing key from the secret on every sign and every check,
and signs with an HMAC over a Python wrapper of SHA-1, which the standard library
can only run as pure-Python HMAC. Every anonymous vote checks a CSRF token and signs
a voter cookie, so both cost more than the rest of their work. The signers here
derive each secret's key once, and give ``hmac`` OpenSSL's SHA-1 itself, which it
runs in C: the same algorithm on the same bytes, so every token signed before is
still good and every token signed here is what itsdangerous would have signed
(tests/security/test_signing.py compares them).
"""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import Signer, TimestampSigner


class _KeyOnce:
    """Derives each secret's signing key once (``derive_key`` is the documented place
    to change that), and hashes with OpenSSL's SHA-1."""

    default_digest_method = staticmethod(hashlib.sha1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[Any, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        derived = self._derived.get(secret_key)
        if derived is None:
            derived = self._derived[secret_key] = super().derive_key(secret_key)  # type: ignore[misc]
        return derived


class KeyOnceSigner(_KeyOnce, Signer):
    """``itsdangerous.Signer``, its key derived once."""


class KeyOnceTimestampSigner(_KeyOnce, TimestampSigner):
    """``itsdangerous.TimestampSigner``, its key derived once."""


class SignerPerSalt:
    """For an itsdangerous serializer made once and kept: one signer per salt, made on
    first use, instead of one per call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signers: dict[Any, Signer] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)  # type: ignore[misc]
        return signer
