"""The comment forms under an article: what they show of the comments service's
rules, and their fields read as the typed values the service takes.

The forms are plain HTML (``templates/public/_comments.html``), read field by field
by ``webapp/public/comments.py``; the service checks every value, so there is no
second set of validators to keep in step. What the forms show (the ``maxlength`` of
each field, the report reasons, the sort tabs, the edit window) comes from the
service's constants here, so a rule changed there changes the forms too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from webapp.services.comments import EDIT_MINUTES, FLAG_REASONS, MAX_BODY, MAX_NOTE, SORTS, min_body

SORT_LABELS: dict[str, str] = {
    "oldest": "Oldest",
    "newest": "Newest",
    "top": "Top",
    "common_ground": "Common ground",
}


@dataclass(frozen=True, slots=True)
class CommentForms:
    """The service's limits and choices, as the comment forms show them."""

    max_body: int
    max_note: int
    edit_minutes: int
    #: (value, label) of each report reason, in the order the form offers them.
    report_reasons: tuple[tuple[str, str], ...]
    #: (value, label) of each sort tab.
    sorts: tuple[tuple[str, str], ...]

    @property
    def min_body(self) -> int:
        """The shortest comment taken (the COMMENT_MIN_LENGTH setting, read each time)."""
        return min_body()

    @property
    def max_body_words(self) -> str:
        """The body's limit as the help text writes it: "5,000"."""
        return f"{self.max_body:,}"


COMMENT_FORMS = CommentForms(
    max_body=MAX_BODY,
    max_note=MAX_NOTE,
    edit_minutes=EDIT_MINUTES,
    report_reasons=tuple(FLAG_REASONS.items()),
    sorts=tuple((sort, SORT_LABELS[sort]) for sort in SORTS),
)


def parent_id_field(form: Mapping[str, str]) -> int | None:
    """The reply form's ``parent_id``: a whole number, else no parent (a top-level
    comment)."""
    raw = form.get("parent_id") or None
    return int(raw) if raw and raw.isdecimal() else None


#: What a reaction that is not a whole number is read as: a value the service refuses,
#: with its own message.
NOT_A_REACTION = 99


def reaction_field(form: Mapping[str, str]) -> int:
    """The react form's ``value`` as a whole number (the service checks which)."""
    try:
        return int(form.get("value", ""))
    except ValueError:
        return NOT_A_REACTION
