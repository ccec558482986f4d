"""Host sign-in: a site signs its reader in with a short-lived token (JWT, HS256 with
the site's secret), and Pulse links or makes the account for that site's reader.

Checked with PyJWT, which refuses ``alg: none`` and every algorithm not asked for.
What PyJWT cannot know is kept here: how long a token may live, that it is used once,
and that a reader's sign-out refuses every token issued before it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from webapp.errors import InvalidInput, Unauthorized
from webapp.extensions import db
from webapp.jobs.registry import periodic
from webapp.models import Role, User, utcnow
from webapp.models.embed import EmbedSite, ExternalIdentity, UsedEmbedToken
from webapp.services import names
from webapp.services.accounts import normalise_email
from webapp.services.embed.site_tokens import LEEWAY_SECONDS, decode_site_token
from webapp.text import clean_line, has_unstorable

REQUIRED_CLAIMS = ("sub", "name", "email", "exp", "iat")
MAX_SUBJECT_LENGTH = 255
#: No account has an address here: the stand-in when the host's is taken or unusable.
PLACEHOLDER_DOMAIN = "embed.invalid"
#: A refused account's password hash: nothing can sign in with a password as it.
NO_PASSWORD = "!"  # nosec B105 (no hash at all)


class HostTokenInvalid(Unauthorized):
    code, message = "token_invalid", "The sign-in token from the site is not valid."


class HostTokenExpired(Unauthorized):
    code, message = "token_expired", "The sign-in token from the site has expired."


@dataclass(frozen=True)
class HostIdentity:
    """A host site's reader as a checked token names them."""

    site_id: int
    subject: str
    name: str
    email: str
    issued_at: int
    expires_at: int
    #: The token's ``jti`` when it has one (what makes it single-use), else None.
    token_id: str | None = None


def max_token_minutes() -> int:
    return int(current_app.config["EMBED_TOKEN_MAX_MINUTES"])


def verify_host_token(
    site: EmbedSite, token: str, *, max_minutes: int | None = None
) -> HostIdentity:
    """The reader ``token`` names, signed with ``site``'s secret; HostTokenExpired past
    its ``exp``, HostTokenInvalid for anything else wrong (the signature, the algorithm,
    a missing or malformed claim, a lifetime longer than ``max_minutes``)."""
    minutes = max_token_minutes() if max_minutes is None else max_minutes
    claims = decode_site_token(
        site,
        token,
        required=REQUIRED_CLAIMS,
        max_length=8192,
        what="The sign-in token",
        invalid=HostTokenInvalid,
        expired=HostTokenExpired,
    )
    subject, name, email = claims.get("sub"), claims.get("name"), claims.get("email")
    issued, expires = claims.get("iat"), claims.get("exp")
    token_id = claims.get("jti")
    if not (
        isinstance(subject, str)
        and 0 < len(subject) <= MAX_SUBJECT_LENGTH
        and not has_unstorable(subject)
        and isinstance(name, str)
        and isinstance(email, str)
        and isinstance(issued, int | float)
        and isinstance(expires, int | float)
        and (token_id is None or isinstance(token_id, str))
    ):
        raise HostTokenInvalid("The sign-in token's claims are not all valid.")
    if expires - issued > minutes * 60:
        raise HostTokenInvalid(f"A sign-in token may live {minutes} minutes at most.")
    return HostIdentity(
        site_id=site.id,
        subject=subject,
        name=name,
        email=email,
        issued_at=int(issued),
        expires_at=int(expires),
        token_id=token_id,
    )


def _token_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()


def use_once(token_key: str, expires_at: datetime) -> bool:
    """Record a single-use token as used: False when it was already (the unique key
    decides, even for two requests at once)."""
    try:
        with db.session.begin_nested():
            db.session.add(UsedEmbedToken(token_key=token_key, expires_at=expires_at))
            db.session.flush()
    except IntegrityError:
        return False
    return True


def forget_used_tokens(moment: datetime | None = None) -> int:
    """Drop the records of tokens past their expiry (refused as expired anyway): the
    host's sign-in tokens and the pop-up's codes (frame_codes keeps its nonces here
    too). How many went."""
    result = db.session.execute(
        delete(UsedEmbedToken).where(UsedEmbedToken.expires_at < (moment or utcnow()))
    )
    return int(getattr(result, "rowcount", 0) or 0)


#: How often the job worker forgets expired tokens: the table holds one row per
#: sign-in and pop-up code, and a token lives minutes.
FORGET_EVERY_SECONDS = 3600.0


@periodic("embed.forget_used_tokens", every_seconds=FORGET_EVERY_SECONDS)
def forget_used_tokens_now() -> int:
    """The job worker's hourly chore: forget the used tokens and codes past their
    expiry (one DELETE; two workers at once delete what the other left). Commits."""
    gone = forget_used_tokens()
    db.session.commit()
    return gone


def _placeholder_email() -> str:
    return f"reader-{secrets.token_hex(8)}@{PLACEHOLDER_DOMAIN}"


def _host_address(raw: str) -> str:
    """The host's address normalised as Pulse stores addresses, or "" when it is none
    (the claim is required but may be empty, for a site without its readers' e-mail)."""
    try:
        email = normalise_email(raw) if not has_unstorable(raw) else ""
    except InvalidInput:
        email = ""
    if len(email) > 254 or email.endswith("@" + PLACEHOLDER_DOMAIN):
        return ""
    return email


def _address_for(raw: str) -> str:
    """The host's address for a new account if it is valid and no account has it, else
    a placeholder: a second account never takes over or shadows an existing one."""
    email = _host_address(raw)
    if not email or db.session.scalar(select(User.id).where(User.email == email)) is not None:
        return _placeholder_email()
    return email


def _confirm_vouched_address(user: User, host: HostIdentity) -> None:
    """The address the site vouches for counts as confirmed when the account has it:
    an admin registered the site and shares its secret, and the site's own accounts
    verified the address (a registered site is trusted to sign its readers in at all,
    which is more). A placeholder address is never confirmed, and neither is an
    address the account has but the token does not carry."""
    if user.email_verified_at is None and user.email == _host_address(host.email):
        user.email_verified_at = utcnow()


def _display_name_for(raw: str, site: EmbedSite) -> names.CheckedName:
    """The host's name if Pulse's name rules take it (a letter, no staff words, nobody's
    look-alike), else it with a number, else "Reader <number>"."""
    base = clean_line(raw)[:60] if not has_unstorable(raw) else ""
    candidates = [base] if base else []
    candidates += [f"{base} {secrets.randbelow(9000) + 1000}" for _ in range(3) if base]
    candidates += [f"Reader {secrets.randbelow(900000) + 100000}" for _ in range(5)]
    for candidate in candidates:
        try:
            checked = names.check_display_name(candidate, Role.READER)
            names.ensure_not_taken(checked)
        except InvalidInput:
            continue
        return checked
    raise HostTokenInvalid("No display name could be made for this reader.")


def _refuse_if_signed_out(identity: ExternalIdentity, host: HostIdentity) -> None:
    signed_out = identity.signed_out_at
    if signed_out is not None and host.issued_at <= int(signed_out.timestamp()):
        raise HostTokenInvalid("This sign-in token was issued before the reader signed out.")


def sign_in_host_reader(site: EmbedSite, host: HostIdentity) -> User:
    """The Pulse account of ``site``'s reader ``host`` (made on their first sign-in),
    after checking that this token is used once and was issued after the reader's
    last sign-out. Never an existing account found by e-mail: a host could claim
    anyone's address. Flushes; the caller commits and signs the session in."""
    if host.site_id != site.id:
        raise HostTokenInvalid()
    identity = db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.site_id == site.id, ExternalIdentity.subject == host.subject
        )
    )
    if identity is not None:
        _refuse_if_signed_out(identity, host)
    once = _token_key("host", site.id, host.subject, host.token_id or f"iat:{host.issued_at}")
    expires = datetime.fromtimestamp(host.expires_at, UTC) + timedelta(seconds=LEEWAY_SECONDS)
    if not use_once(once, expires):
        raise HostTokenInvalid("This sign-in token was used already.")
    if identity is None:
        identity = _new_identity(site, host)
    user = identity.user
    if user.deleted_at is not None:
        raise HostTokenInvalid("This reader's account was deleted.")
    _confirm_vouched_address(user, host)
    db.session.flush()
    return user


def _new_identity(site: EmbedSite, host: HostIdentity) -> ExternalIdentity:
    name = _display_name_for(host.name, site)
    for attempt in range(3):
        user = User(
            email=_address_for(host.email) if attempt == 0 else _placeholder_email(),
            display_name=name.display_name,
            name_skeleton=name.name_skeleton,
            password_hash=NO_PASSWORD,
            role=Role.READER.value,
        )
        identity = ExternalIdentity(
            site_id=site.id, subject=host.subject, user=user, created_at=utcnow()
        )
        try:
            with db.session.begin_nested():
                db.session.add(identity)
                db.session.flush()
        except IntegrityError:
            # Either the same reader's first sign-in at once (their identity now
            # exists: use it) or the address was just taken (try a placeholder).
            existing = db.session.scalar(
                select(ExternalIdentity).where(
                    ExternalIdentity.site_id == site.id,
                    ExternalIdentity.subject == host.subject,
                )
            )
            if existing is not None:
                return existing
            continue
        return identity
    raise HostTokenInvalid("The reader's account could not be made.")


def sign_out_host_reader(user: User, moment: datetime | None = None) -> None:
    """Record ``user``'s sign-out on every site that signed them in: a token issued
    until now cannot sign them in again (the caller ends the session itself)."""
    db.session.execute(
        update(ExternalIdentity)
        .where(ExternalIdentity.user_id == user.id)
        .values(signed_out_at=moment or utcnow())
    )


def identity_of(user: User, site: EmbedSite) -> ExternalIdentity | None:
    return db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.site_id == site.id, ExternalIdentity.user_id == user.id
        )
    )
