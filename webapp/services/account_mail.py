"""The links Pulse mails about a reader's own account, and the mail that carries them.

Three kinds of link: a password reset, an address check (at registration, or asked for
from the account page) and an address change (sent to the new address). Each is a
token signed with ``SECRET_KEY`` (itsdangerous, a salt per kind, so one kind never
passes for another), carrying its time, and expiring: PASSWORD_RESET_MINUTES for a
reset, EMAIL_CONFIRM_HOURS for the others.

Nothing is stored per link. Each is single-use because it names the state it was made
for, and that state changes once it is used:

- a reset carries a fingerprint of the password hash: setting a password (by this
  link, or any other way) makes a new hash, so the link then fails;
- an address check carries the address: once confirmed it only says so again, and
  after an address change it fails;
- an address change carries the old and the new address: once the account has the new
  one, the old no longer matches.

The messages go to the outbox (webapp/services/mail/outbox.py) in the caller's
transaction; links come from PUBLIC_URL (webapp/site_address.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.errors import DomainError
from webapp.models import User
from webapp.services.mail.outbox import enqueue
from webapp.site_address import absolute_url

RESET_SALT = "pulse.password-reset"
VERIFY_SALT = "pulse.verify-address"
CHANGE_SALT = "pulse.change-address"


# 422 (a well-formed request whose token is no longer good), with the token named as
# the field, so an API client shows the message where the token came from.
class LinkExpired(DomainError):
    code, status = "link_expired", 422
    message = "This link has expired. Please ask for a new one."


class LinkInvalid(DomainError):
    code, status = "link_invalid", 422
    message = "This link is not valid, or it was already used. Please ask for a new one."

    def __init__(self, message: str | None = None, *, fields: dict[str, str] | None = None) -> None:
        problem = "not valid, or already used"  # nosec B105 (what is wrong, not a password)
        super().__init__(message, fields=fields or {"token": problem})


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def password_fingerprint(user: User) -> str:
    """A short keyed digest of the password hash: changes whenever the password does
    (argon2 salts every hash), and tells nothing about the hash itself."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def _load(token: str, salt: str, max_age_seconds: int) -> dict[str, Any]:
    try:
        data = _serializer(salt).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise LinkExpired(fields={"token": "expired"}) from exc  # nosec B105 (not a password)
    except BadSignature as exc:
        raise LinkInvalid(fields={"token": "not valid"}) from exc  # nosec B105 (not a password)
    if not isinstance(data, dict):
        raise LinkInvalid()
    return data


def reset_minutes() -> int:
    return int(current_app.config["PASSWORD_RESET_MINUTES"])


def confirm_hours() -> int:
    return int(current_app.config["EMAIL_CONFIRM_HOURS"])


# --- password reset ----------------------------------------------------------------


def reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps(
        {"u": user.id, "e": user.email, "p": password_fingerprint(user)}
    )


def read_reset_token(token: str) -> tuple[int, str, str]:
    """(user id, password fingerprint, address) of a reset link, or LinkExpired /
    LinkInvalid. The address: a link mailed to an address the account has left is dead."""
    data = _load(token, RESET_SALT, reset_minutes() * 60)
    user_id, fingerprint, address = data.get("u"), data.get("p"), data.get("e")
    if not all(isinstance(v, str) for v in (fingerprint, address)) or not isinstance(user_id, int):
        raise LinkInvalid()
    return user_id, str(fingerprint), str(address)


def send_password_reset(user: User) -> None:
    link = absolute_url("auth.reset_password", token=reset_token(user))
    minutes = reset_minutes()
    enqueue(
        kind="password_reset",
        to=user.email,
        user_id=user.id,
        subject="Reset your password",
        text=(
            f"Hello {user.display_name},\n\n"
            "Someone (we hope you) asked to reset the password of your account.\n"
            f"To choose a new password, open this link within {minutes} minutes:\n\n"
            f"{link}\n\n"
            "The link works once. If you did not ask, ignore this mail: your password "
            "stays as it is.\n"
        ),
    )


# --- address check -------------------------------------------------------------------


def verify_token(user: User) -> str:
    return _serializer(VERIFY_SALT).dumps({"u": user.id, "e": user.email})


def read_verify_token(token: str) -> tuple[int, str]:
    data = _load(token, VERIFY_SALT, confirm_hours() * 3600)
    user_id, address = data.get("u"), data.get("e")
    if not isinstance(user_id, int) or not isinstance(address, str):
        raise LinkInvalid()
    return user_id, address


def send_address_check(user: User) -> None:
    link = absolute_url("auth.verify_address", token=verify_token(user))
    enqueue(
        kind="verify_address",
        to=user.email,
        user_id=user.id,
        subject="Confirm your email address",
        text=(
            f"Hello {user.display_name},\n\n"
            "Please confirm that this is your address by opening this link within "
            f"{confirm_hours()} hours:\n\n{link}\n\n"
            "If you did not create an account, ignore this mail.\n"
        ),
    )


# --- address change ------------------------------------------------------------------


@dataclass(frozen=True)
class AddressChange:
    user_id: int
    old: str
    new: str


def change_token(user: User, new_address: str) -> str:
    return _serializer(CHANGE_SALT).dumps({"u": user.id, "o": user.email, "n": new_address})


def read_change_token(token: str) -> AddressChange:
    data = _load(token, CHANGE_SALT, confirm_hours() * 3600)
    user_id, old, new = data.get("u"), data.get("o"), data.get("n")
    if not isinstance(user_id, int) or not isinstance(old, str) or not isinstance(new, str):
        raise LinkInvalid()
    return AddressChange(user_id, old, new)


def send_address_change(user: User, new_address: str) -> None:
    """The link to the new address, and a notice to the old one (which cannot stop the
    change, but tells the owner something happened, and how to get help)."""
    link = absolute_url("auth.confirm_address_change", token=change_token(user, new_address))
    enqueue(
        kind="change_address",
        to=new_address,
        user_id=user.id,
        subject="Confirm your new email address",
        text=(
            f"Hello {user.display_name},\n\n"
            f"You asked to use this address ({new_address}) for your account instead "
            f"of {user.email}. Open this link within {confirm_hours()} hours to confirm:"
            f"\n\n{link}\n\n"
            "Until you do, the account keeps its old address. If you did not ask, "
            "ignore this mail.\n"
        ),
    )
    enqueue(
        kind="address_change_notice",
        to=user.email,
        user_id=user.id,
        subject="Your email address is being changed",
        text=(
            f"Hello {user.display_name},\n\n"
            f"Someone signed in to your account asked to change its address to "
            f"{new_address}. The change happens only when the link sent there is "
            "followed.\n\n"
            "If this was not you, change your password now and sign out everywhere "
            f"from your account page: {absolute_url('auth.account')}\n"
        ),
    )


def send_address_changed(old_address: str, user: User) -> None:
    """After the change: a last word to the old address."""
    enqueue(
        kind="address_change_notice",
        to=old_address,
        user_id=user.id,
        subject="Your email address was changed",
        text=(
            f"Hello {user.display_name},\n\n"
            f"Your account's address is now {user.email}; mail about it goes there "
            "from now on. If this was not you, please contact the site's staff.\n"
        ),
    )
