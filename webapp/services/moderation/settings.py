"""Site settings moderators change in the app, with the defaults the contract states.

A change drops this worker's cached rules (``webapp.caching.RULES``) and writes the actor's
"settings" entry to the moderation log, inside the operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import select

from webapp.caching import RULES
from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import ModerationActionKind, SiteSetting, User
from webapp.services.moderation.audit import record

#: What a setting holds: a switch, a count or a threshold.
SettingValue = bool | int | float


@dataclass(frozen=True)
class ModerationSettings:
    #: Comments whose toxicity score is above this are held for review.
    toxicity_threshold: float = 0.8
    #: More links than this holds a comment.
    max_links: int = 2
    #: Hold the first N comments of every new author (0: off, the default).
    new_author_hold_count: int = 0
    #: Hold an author's comments after this many rejections within `rejection_window_days`.
    recent_rejections_limit: int = 3
    rejection_window_days: int = 30
    #: With ``hide_reported``, reports adding up to this hide a comment until a moderator
    #: decides (a report counts 1, or less from a new account: see ``new_account_hours``).
    #: One report is enough to put a comment in the Reported queue.
    report_threshold: int = 3
    #: Hide reported comments from readers until a moderator decides.
    hide_reported: bool = False
    #: Reports from accounts younger than this many hours, or without a published
    #: comment, count for less toward ``report_threshold`` (webapp/services/comments/rules.py).
    new_account_hours: int = 24
    #: Only readers who confirmed their email address may comment (staff always may);
    #: checked where every comment is posted (webapp/services/comments/posting.py).
    verified_commenters_only: bool = False


LIMITS: dict[str, tuple[float, float]] = {
    "toxicity_threshold": (0.0, 1.0),
    "max_links": (0, 100),
    "new_author_hold_count": (0, 1000),
    "recent_rejections_limit": (1, 1000),
    "rejection_window_days": (1, 3650),
    "report_threshold": (1, 1000),
    # Up to a year; 0 leaves only "has a published comment" to tell new accounts apart.
    "new_account_hours": (0, 8760),
}


#: Each setting's type, from its default (the stored JSON is read back as it).
SETTING_KINDS: dict[str, type] = {
    name: type(value) for name, value in asdict(ModerationSettings()).items()
}


def moderation_settings() -> ModerationSettings:
    stored = {
        row.key: row.value
        for row in db.session.scalars(
            select(SiteSetting).where(
                SiteSetting.key.in_([f.name for f in fields(ModerationSettings)])
            )
        )
    }
    defaults = ModerationSettings()
    values: dict[str, Any] = {}
    for field in fields(ModerationSettings):
        value = stored.get(field.name, getattr(defaults, field.name))
        values[field.name] = type(getattr(defaults, field.name))(value)
    return ModerationSettings(**values)


def _as_kind(kind: type, raw: SettingValue) -> SettingValue:
    """``raw`` as a value of ``kind``, the type of the setting; ValueError when it is
    not one: true or false for a switch, a number for the others (a whole one for a
    count, so 5.0 is 5 but 5.5 is refused). Text is not a number here: the HTML
    form reads its text first (webapp/forms/moderation.py)."""
    if kind is bool:
        if not isinstance(raw, bool):
            raise ValueError(raw)
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError(raw)
    if kind is int:
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError(raw)
        return int(raw)
    return float(raw)


def check_settings(
    changes: Mapping[str, SettingValue],
) -> tuple[dict[str, SettingValue], dict[str, str]]:
    """The changes as the settings' own types, and what is wrong with each refused one
    (an unknown name, a value of the wrong kind, or one outside ``LIMITS``). Reads
    nothing: the HTML form also asks it, to name every bad field at once."""
    values: dict[str, SettingValue] = {}
    errors: dict[str, str] = {}
    for name, raw in changes.items():
        if name not in SETTING_KINDS:
            errors[name] = "unknown setting"
            continue
        kind = SETTING_KINDS[name]
        try:
            value = _as_kind(kind, raw)
        except ValueError:
            errors[name] = f"must be {'true or false' if kind is bool else 'a number'}"
            continue
        low, high = LIMITS.get(name, (None, None))
        if low is not None and high is not None and not (low <= value <= high):
            errors[name] = f"between {low:g} and {high:g}"
            continue
        values[name] = value
    return values, errors


def update_moderation_settings(
    actor: User, changes: Mapping[str, SettingValue]
) -> ModerationSettings:
    """Validate and store; returns the new settings. Raises InvalidInput naming each bad field.

    What actually changed goes to the moderation log as the actor's "settings" entry
    (nothing when the values stay as they were). Flushes; the caller commits.
    """
    values, errors = check_settings(changes)
    if errors:
        raise InvalidInput("Please correct the marked settings.", fields=errors)
    before = asdict(moderation_settings())
    current = {**before, **values}
    RULES.changed()
    for name, value in current.items():
        row = db.session.get(SiteSetting, name)
        if row is None:
            db.session.add(SiteSetting(key=name, value=value))
        elif row.value != value:
            row.value = value
    changed = {name: value for name, value in current.items() if before[name] != value}
    if changed:
        record(actor, ModerationActionKind.SETTINGS.value, details=changed)
    db.session.flush()
    return ModerationSettings(**current)
