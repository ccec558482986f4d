"""Accounts: registration, sign-in checks, roles and bans."""

from __future__ import annotations

import contextlib
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
    EmailTaken,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    WrongPassword,
)
from webapp.extensions import db
from webapp.models import Role, User, utcnow
from webapp.services import names

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
