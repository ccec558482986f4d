"""Registering the sites that embed Pulse: the admins' settings, checked here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from webapp.errors import InvalidInput, NotFound
from webapp.extensions import db
from webapp.ids import is_id
from webapp.models import CommentMode, ResultsVisibility, User, utcnow
from webapp.models.embed import EmbedSite
from webapp.services.embed.origins import normalise_origin, parse_origins
from webapp.text import clean_line, has_unstorable

MAX_NAME_LENGTH = 120


def new_secret() -> str:
    """A fresh signing secret: 256 random bits (HS256 wants at least as many as its
    hash), URL-safe so it can be pasted into any configuration file."""
    return secrets.token_urlsafe(32)


@dataclass
class SiteSettings:
    """What an admin types for a site (the form's raw text for names and origins)."""

    name: str
    origins: str
    create_on_first_view: bool = False
    comment_mode: str = CommentMode.OPEN.value
    poll_allow_anonymous: bool = False
    poll_results_visibility: str = ResultsVisibility.ALWAYS.value


@dataclass(frozen=True)
class CheckedSettings:
    name: str
    origins: list[str]
    create_on_first_view: bool
    comment_mode: str
    poll_allow_anonymous: bool
    poll_results_visibility: str


def check_settings(settings: SiteSettings) -> CheckedSettings:
    """The settings cleaned, or InvalidInput naming every field that is wrong."""
    fields: dict[str, str] = {}
    name = "" if has_unstorable(settings.name) else clean_line(settings.name)
    if not name:
        fields["name"] = "required"
    elif len(name) > MAX_NAME_LENGTH:
        fields["name"] = f"at most {MAX_NAME_LENGTH} characters"
    origins: list[str] = []
    try:
        origins = parse_origins(settings.origins)
    except InvalidInput as exc:
        fields.update(exc.fields or {})
    if settings.comment_mode not in {mode.value for mode in CommentMode}:
        fields["comment_mode"] = "unknown comment mode"
    if settings.poll_results_visibility not in {v.value for v in ResultsVisibility}:
        fields["poll_results_visibility"] = "unknown results visibility"
    if fields:
        raise InvalidInput("Please correct the marked fields.", fields=fields)
    return CheckedSettings(
        name=name,
        origins=origins,
        create_on_first_view=bool(settings.create_on_first_view),
        comment_mode=settings.comment_mode,
        poll_allow_anonymous=bool(settings.poll_allow_anonymous),
        poll_results_visibility=settings.poll_results_visibility,
    )


def _apply(site: EmbedSite, checked: CheckedSettings) -> None:
    site.name = checked.name
    site.origins = checked.origins
    site.create_on_first_view = checked.create_on_first_view
    site.comment_mode = checked.comment_mode
    site.poll_allow_anonymous = checked.poll_allow_anonymous
    site.poll_results_visibility = checked.poll_results_visibility


def create_site(settings: SiteSettings, created_by: User) -> EmbedSite:
    """A new site with a fresh secret, registered by the admin ``created_by`` (the
    author of record of its first views' threads); flushes, the caller commits."""
    checked = check_settings(settings)
    site = EmbedSite(secret=new_secret(), created_at=utcnow(), created_by_id=created_by.id)
    _apply(site, checked)
    db.session.add(site)
    db.session.flush()
    return site


def update_site(site: EmbedSite, settings: SiteSettings) -> EmbedSite:
    checked = check_settings(settings)
    _apply(site, checked)
    db.session.flush()
    return site


def rotate_secret(site: EmbedSite) -> str:
    """A new secret for ``site``: tokens signed with the old one are refused from now."""
    site.secret = new_secret()
    site.secret_rotated_at = utcnow()
    db.session.flush()
    return site.secret


def all_sites() -> list[EmbedSite]:
    return list(db.session.scalars(select(EmbedSite).order_by(EmbedSite.name, EmbedSite.id)))


def get_site(site_id: object) -> EmbedSite:
    """The site with this id (an int or its text), or NotFound."""
    number: int | None = None
    if isinstance(site_id, int):
        number = site_id
    elif isinstance(site_id, str) and site_id.isascii() and site_id.isdecimal():
        number = int(site_id)
    site = db.session.get(EmbedSite, number) if number is not None and is_id(number) else None
    if site is None:
        raise NotFound("No embedding site has this id.")
    return site


def allows_origin(site: EmbedSite, origin: str | None) -> bool:
    """Whether ``origin`` (a request's Origin header, as sent) is one of the site's."""
    if not origin:
        return False
    try:
        return normalise_origin(origin) in site.origins
    except ValueError:  # "null", or anything no browser sends
        return False
