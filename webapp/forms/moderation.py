"""The moderation pages' forms: what the settings form shows, and its text read into the
typed values ``moderation.update_moderation_settings`` takes.

The pages post plain forms (CSRF is checked for every form by the app), so these are
functions over the posted fields rather than WTForms classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from webapp.errors import InvalidInput
from webapp.services.moderation import LIMITS, SETTING_KINDS, SettingValue, check_settings


@dataclass(frozen=True)
class SettingField:
    """A number the settings page asks for, with its label and help."""

    name: str
    label: str
    help: str


def _range(name: str) -> str:
    low, high = LIMITS[name]
    return f"{low:g} to {high:g}"


#: The number fields of the settings page, in the page's order; ``hide_reported`` is
#: its tick box.
SETTING_FIELDS = (
    SettingField(
        "toxicity_threshold",
        "Toxicity threshold",
        f"Hold comments scoring above this ({_range('toxicity_threshold')}).",
    ),
    SettingField("max_links", "Most links allowed", "Hold comments with more links than this."),
    SettingField(
        "new_author_hold_count",
        "Hold first comments of new authors",
        "How many comments of a new author wait for a moderator (0 turns this off).",
    ),
    SettingField(
        "recent_rejections_limit",
        "Rejections before holding an author",
        "Hold everything from an author rejected this many times recently.",
    ),
    SettingField("rejection_window_days", "Recent means (days)", "How far back rejections count."),
    SettingField(
        "report_threshold",
        "Reports that hide a comment",
        "With hiding on (below), reports adding up to this hide a comment until a moderator "
        "decides. One report already puts it in the Reported queue.",
    ),
    SettingField(
        "new_account_hours",
        "New accounts (hours)",
        "A report counts a quarter toward hiding when its account is younger than this or "
        "has no published comment.",
    ),
)

#: What the form sent for a setting: the text typed (trimmed), or whether a box is ticked.
Sent = str | bool


def settings_sent(form: Mapping[str, str]) -> dict[str, Sent]:
    """The settings the form sent, as sent: shown again as typed when refused."""
    sent: dict[str, Sent] = {}
    for name, kind in SETTING_KINDS.items():
        if kind is bool:
            sent[name] = form.get(name) == "y"  # unticked boxes are not sent
        elif name in form:
            # A page rendered before a setting existed leaves it as it is.
            sent[name] = form[name].strip()
    return sent


def settings_changes(sent: Mapping[str, Sent]) -> dict[str, SettingValue]:
    """The sent settings as the service takes them: text read as a whole number for a
    count, as a number for a threshold. InvalidInput (422) names every field whose
    text is not a number, with what the service refuses in the others, so the page
    marks them all at once."""
    changes: dict[str, SettingValue] = {}
    unreadable: dict[str, str] = {}
    for name, value in sent.items():
        if isinstance(value, bool):
            changes[name] = value
            continue
        try:
            changes[name] = int(value) if SETTING_KINDS[name] is int else float(value)
        except ValueError:
            unreadable[name] = "must be a number"
    if unreadable:
        refused = check_settings(changes)[1]
        raise InvalidInput("Please correct the marked settings.", fields=refused | unreadable)
    return changes
