"""Accounts: registration, sign-in checks, roles and bans."""

from __future__ import annotations

import contextlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import argon2.profiles
import email_validator
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from webapp.errors import (
    Banned,
    Conflict,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    WrongPassword,
)
from webapp.extensions import db
from webapp.models import Role, User, utcnow
from webapp.services import account_mail, names

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


@lru_cache(maxsize=4)
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(argon2.profiles, profile))


def _hasher() -> PasswordHasher:
    """argon2id with the parameters of the app's ARGON2_PROFILE: by default the
    library's recommended RFC_9106_LOW_MEMORY; the test suite picks CHEAPEST, since
    half a second per hash was most of its run time (a test checks the default)."""
    return _hasher_for(current_app.config["ARGON2_PROFILE"])


# Hashes of a random password, one per profile, verified against when the email is
# unknown so a failed sign-in takes the same time whether or not the account exists.
_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# email-validator refuses special-use domains (.local, .localhost, .invalid, .onion,
# .arpa) as never globally deliverable, and only ``.test`` can be let through by an
# option. Newsrooms run staff mail on such internal domains, so an address on one is
# checked with one ordinary label appended: every rule of the library still applies
# to every label the reader typed. (Its module-wide list is read, never changed.)
_STAND_IN_LABEL = "pulse-internal"


def _on_special_use_domain(address: str) -> bool:
    domain = unicodedata.normalize("NFKC", address.rpartition("@")[2]).lower()
    return any(
        domain == name or domain.endswith("." + name)
        for name in email_validator.SPECIAL_USE_DOMAIN_NAMES
    )


def normalise_email(raw: str) -> str:
    """Lower-cased, syntax-checked email; no DNS lookups (the service may be offline).

    Any syntactically valid address is accepted, internal and special-use domains
    (``newsroom.local``, ``corp.internal``, ``example.test``, ``pulse.example``) too.
    """
    address = raw.strip()
    stand_in = "@" in address and _on_special_use_domain(address)
    try:
        result = validate_email(
            f"{address}.{_STAND_IN_LABEL}" if stand_in else address,
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
        )
    except EmailNotValidError as exc:
        problem = str(exc).replace(f".{_STAND_IN_LABEL}", "")
        raise InvalidInput(
            "Please enter a valid email address.", fields={"email": problem}
        ) from exc
    normalized = result.normalized
    if stand_in:
        normalized = normalized.removesuffix(f".{_STAND_IN_LABEL}")
    return normalized.lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.",
            fields={"password": f"at least {MIN_PASSWORD_LENGTH} characters"},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "That password is too long.",
            fields={"password": f"at most {MAX_PASSWORD_LENGTH} characters"},
        )


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    display_name: str


def register(data: Registration, role: Role = Role.READER) -> User:
    """Create an account. Raises InvalidInput or EmailTaken; flushes, the caller commits."""
    fields: dict[str, str] = {}
    email = ""
    try:
        email = normalise_email(data.email)
    except InvalidInput as exc:
        fields.update(exc.fields or {})
    try:
        check_password_strength(data.password)
    except InvalidInput as exc:
        fields.update(exc.fields or {})
    name = None
    try:
        # Cleaned, and refused if it could pass for staff (for another member: below).
        name = names.check_display_name(data.display_name, role)
    except InvalidInput as exc:
        fields.update(exc.fields or {})
    if fields:
        message = "Please correct the marked fields."
        if set(fields) == {"password"}:
            message = f"Passwords need at least {MIN_PASSWORD_LENGTH} characters."
        raise InvalidInput(message, fields=fields)
    assert name is not None

    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken()
    names.ensure_not_taken(name)
    user = User(
        email=email,
        display_name=name.display_name,
        name_skeleton=name.name_skeleton,
        password_hash=hash_password(data.password),
        role=role.value,
    )
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # lost a race with a concurrent registration
        raise EmailTaken() from exc
    return user


def authenticate(email: str, password: str) -> User:
    """The user for these credentials, or InvalidCredentials, the same for both failures."""
    try:
        normalised = normalise_email(email)
    except InvalidInput:
        normalised = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == normalised))
    hasher = _hasher()
    if user is None:
        cost = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        dummy = _DUMMY_HASHES.get(cost)
        if dummy is None:
            dummy = _DUMMY_HASHES.setdefault(
                cost, hasher.hash("not-a-real-password-but-takes-as-long")
            )
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy, password)
        raise InvalidCredentials()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidCredentials() from exc
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def user_by_id(user_id: int, missing: str = "No such user.") -> User:
    """The account with this id, or NotFound saying ``missing`` (each audience's word)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(missing)
    return user


def create_user(email: str, password: str, role: Role, display_name: str | None = None) -> User:
    """The operator's way in (CLI): same checks as registration, any role."""
    name = display_name or email.split("@", 1)[0]
    return register(Registration(email=email, password=password, display_name=name), role=role)


def ensure_can_write(user: User, moment: datetime | None = None) -> None:
    """Banned readers may read but not write anything."""
    if user.is_banned_at(moment or utcnow()):
        until = user.banned_until
        message = (
            f"Your account is banned from writing until {until:%d %B %Y}."
            if until
            else "Your account is banned from writing here."
        )
        raise Banned(message)


def end_sessions(user: User) -> None:
    """End every session of ``user``, on every device: each session and remember-me
    cookie names the user's generation (``User.get_id``), and only the current one
    signs in. Flushes; the caller commits.

    One UPDATE adds one in the database, so two revocations at once both count and
    neither can bring back a generation the other ended.
    """
    generation = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .returning(User.session_generation),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    set_committed_value(user, "session_generation", generation)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Replace ``user``'s password, proven by the current one, and end every session of
    theirs; the caller signs the asking session in again (``auth_setup.sign_in_again``)
    after committing. Raises WrongPassword (403) or InvalidInput (422, on
    ``new_password``). Flushes; the caller commits.
    """
    try:
        _hasher().verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError) as exc:
        raise WrongPassword() from exc
    try:
        check_password_strength(new_password)
    except InvalidInput as exc:
        problem = (exc.fields or {}).get("password", "too weak")
        raise InvalidInput(exc.message, fields={"new_password": problem}) from exc
    user.password_hash = hash_password(new_password)
    end_sessions(user)


# --- issue 21: the reader's own account by mail ------------------------------------------


class EmailUnverified(Forbidden):
    code = "email_unverified"
    message = (
        "Only readers who have confirmed their email address may comment here. "
        "Follow the link we mailed you, or ask for a new one."
    )


class AlreadyVerified(Conflict):
    code, message = "already_verified", "Your address is already confirmed."


class LastAdmin(Conflict):
    code = "last_admin"
    message = "You are the only admin: make someone else an admin before deleting this account."


def _verify_or_wrong(user: User, password: str) -> None:
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise WrongPassword() from exc


def _active_user(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return None if user is None or user.deleted_at is not None else user


def request_password_reset(raw_email: str) -> None:
    """Mail a reset link if an account has this address; the same outcome either way
    (nothing tells the caller whether it has), and close to the same time: both ways
    read one row and sign one token. Raises InvalidInput only for an address that is
    not an address at all. Flushes nothing; the caller commits (the outbox row)."""
    email = normalise_email(raw_email)
    user = db.session.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))
    if user is None:
        # The same signing work as for an account, so the answer takes as long.
        account_mail.reset_token(User(id=0, email=email, password_hash=email))
        return
    account_mail.send_password_reset(user)


def user_for_reset(token: str) -> User:
    """The account a reset link is for, while the link is good: LinkExpired after
    PASSWORD_RESET_MINUTES, LinkInvalid once any new password was set (the link names a
    fingerprint of the hash it was made for) or the address changed."""
    user_id, fingerprint, address = account_mail.read_reset_token(token)
    user = _active_user(user_id)
    if (
        user is None
        or user.email != address
        or not hmac.compare_digest(account_mail.password_fingerprint(user), fingerprint)
    ):
        raise account_mail.LinkInvalid()
    return user


def reset_password(token: str, new_password: str, moment: datetime | None = None) -> User:
    """Set a new password through a reset link and end every session of the account
    (whoever knew the old password is out). The link proved the address too. Raises
    LinkExpired / LinkInvalid, or InvalidInput on ``new_password``. Flushes."""
    user = user_for_reset(token)
    try:
        check_password_strength(new_password)
    except InvalidInput as exc:
        problem = (exc.fields or {}).get("password", "too weak")
        raise InvalidInput(exc.message, fields={"new_password": problem}) from exc
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = moment or utcnow()
    end_sessions(user)
    return user


def send_address_check(user: User) -> None:
    """Mail the account's address a link that confirms it; AlreadyVerified when it is."""
    if user.email_verified_at is not None:
        raise AlreadyVerified()
    account_mail.send_address_check(user)


def confirm_address(token: str, moment: datetime | None = None) -> User:
    """Mark the address proven. Following the link twice only says so again; a link
    for an address the account no longer has is LinkInvalid. Flushes."""
    user_id, address = account_mail.read_verify_token(token)
    user = _active_user(user_id)
    if user is None or user.email != address:
        raise account_mail.LinkInvalid()
    if user.email_verified_at is None:
        user.email_verified_at = moment or utcnow()
        db.session.flush()
    return user


def ensure_address_verified(user: User) -> None:
    """Where the site lets only verified readers comment (a moderation setting): refuse
    an unproven address with EmailUnverified (403). Staff are never held by it."""
    if user.email_verified_at is None and not user.has_role(
        Role.MODERATOR, Role.EDITOR, Role.ADMIN
    ):
        raise EmailUnverified()


def request_address_change(user: User, password: str, raw_new_email: str) -> str:
    """Mail a confirmation link to the new address and a notice to the old one; the
    address changes only when the link is followed. Proven by the password. Raises
    WrongPassword, InvalidInput (``email``) or EmailTaken. Returns the new address."""
    _verify_or_wrong(user, password)
    new_email = normalise_email(raw_new_email)
    if new_email == user.email:
        raise InvalidInput(
            "That is already your address.", fields={"email": "the same as the current one"}
        )
    if db.session.scalar(select(User.id).where(User.email == new_email)) is not None:
        raise EmailTaken()
    account_mail.send_address_change(user, new_email)
    return new_email


def confirm_address_change(token: str, moment: datetime | None = None) -> User:
    """Move the account to the address the link was sent to, proven by following it.
    Single use: the link names the old address, which the account no longer has after.
    Raises LinkExpired / LinkInvalid, or EmailTaken if someone took the address since.
    Flushes; the old address gets a last notice."""
    change = account_mail.read_change_token(token)
    user = _active_user(change.user_id)
    if user is None or user.email != change.old:
        raise account_mail.LinkInvalid()
    if db.session.scalar(select(User.id).where(User.email == change.new)) is not None:
        raise EmailTaken()
    user.email = change.new
    user.email_verified_at = moment or utcnow()
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # lost a race with a registration of that address
        raise EmailTaken() from exc
    account_mail.send_address_changed(change.old, user)
    return user


def rename(user: User, raw_name: str) -> User:
    """A new display name, by the same rules as at registration (webapp/services/
    names.py): no staff titles for readers, no look-alike of another account's name.
    Raises InvalidInput on ``display_name``. Flushes."""
    name = names.check_display_name(raw_name, user.role)
    names.ensure_not_taken(name, user.id)
    user.display_name = name.display_name
    user.name_skeleton = name.name_skeleton
    db.session.flush()
    return user
