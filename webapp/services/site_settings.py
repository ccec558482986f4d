"""Site settings moderators change in the app, with the defaults the contract states."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import select

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import SiteSetting, User
from webapp.services import moderation_actions
from webapp.services.rules_cache import forget_rules


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
    #: comment, count for less toward ``report_threshold`` (webapp/services/comments.py).
    new_account_hours: int = 24


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


def update_moderation_settings(actor: User, changes: dict[str, Any]) -> ModerationSettings:
    """Validate and store; returns the new settings. Raises InvalidInput naming each bad field.

    What actually changed goes to the moderation log as the actor's "settings" entry
    (nothing when the values stay as they were). Flushes; the caller commits.
    """
    before = asdict(moderation_settings())
    current = dict(before)
    errors: dict[str, str] = {}
    for name, raw in changes.items():
        if name not in current:
            errors[name] = "unknown setting"
            continue
        kind = type(current[name])
        try:
            if kind is bool:
                if not isinstance(raw, bool):
                    raise ValueError
                value: Any = raw
            elif kind is int:
                if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                    raise ValueError
                value = int(raw)
            else:
                if isinstance(raw, bool):
                    raise ValueError
                value = float(raw)
        except (TypeError, ValueError):
            errors[name] = f"must be {'true or false' if kind is bool else 'a number'}"
            continue
        low, high = LIMITS.get(name, (None, None))
        if low is not None and not (low <= value <= high):
            errors[name] = f"between {low:g} and {high:g}"
            continue
        current[name] = value
    if errors:
        raise InvalidInput("Please correct the marked settings.", fields=errors)
    forget_rules()
    for name, value in current.items():
        row = db.session.get(SiteSetting, name)
        if row is None:
            db.session.add(SiteSetting(key=name, value=value))
        elif row.value != value:
            row.value = value
    changed = {name: value for name, value in current.items() if before[name] != value}
    if changed:
        moderation_actions.record(actor, "settings", details=changed)
    db.session.flush()
    return ModerationSettings(**current)
