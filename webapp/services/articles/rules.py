"""What an article may be: the limits, slugs, labels and the closing poll's definition,
the values a create or an edit carries (``ArticleChanges``, ``PollInput``), their
checks (422 with the fields named), and who may see drafts.

Pure functions without database access: the API, the editor's form and the tests
share them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from webapp.models import ArticleStatus, CommentMode, ResultsVisibility, Role, User, utcnow
from webapp.text import clean_block, clean_line

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TITLE, MAX_SUMMARY, MAX_SLUG, MAX_LABELS, MAX_LABEL = 200, 500, 120, 10, 60
MAX_QUESTION, MAX_OPTION, MIN_OPTIONS, MAX_OPTIONS = 300, 200, 2, 10
MAX_BODY = 200_000


def slugify(text: str, max_length: int = MAX_SLUG) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


@dataclass
class PollInput:
    question: str
    options: list[str]
    closes_at: datetime | None = None
    results_visibility: str = ResultsVisibility.ALWAYS.value
    allow_anonymous: bool = False
    # Take votes from signed-in readers only once a group of votes is set aside
    # (issue 16: polls.signed_in_only_under_attack).
    signed_in_only_under_attack: bool = False


@dataclass
class ArticleChanges:
    """What a create or an edit sets; ``None`` means "leave as it is"."""

    title: str | None = None
    body: str | None = None
    slug: str | None = None
    summary: str | None = None
    labels: list[str] | None = None
    status: str | None = None
    comments: str | None = None
    poll: PollInput | None = None
    remove_poll: bool = False
    #: With status "published": when readers first see it (a time ahead schedules the
    #: article); None publishes now.
    publish_at: datetime | None = None
    present: set[str] = field(default_factory=set)


def validate_changes(changes: ArticleChanges, creating: bool) -> dict[str, str]:
    """Clean ``changes`` in place; what is wrong with them, by field (empty if nothing)."""
    errors: dict[str, str] = {}
    if creating or "title" in changes.present:
        title = clean_line(changes.title or "")
        if not title:
            errors["title"] = "required"
        elif len(title) > MAX_TITLE:
            errors["title"] = f"at most {MAX_TITLE} characters"
        changes.title = title
    if creating or "body" in changes.present:
        body = clean_block(changes.body or "")
        if not body.strip():
            errors["body"] = "required"
        elif len(body) > MAX_BODY:
            errors["body"] = f"at most {MAX_BODY} characters"
        changes.body = body
    if changes.slug is not None:
        changes.slug = changes.slug.strip().lower()
        if changes.slug and not SLUG_PATTERN.match(changes.slug):
            errors["slug"] = "lower-case letters, digits and single hyphens only"
        elif len(changes.slug) > MAX_SLUG:
            errors["slug"] = f"at most {MAX_SLUG} characters"
    if changes.summary is not None:
        changes.summary = clean_line(changes.summary)
        if len(changes.summary) > MAX_SUMMARY:
            errors["summary"] = f"at most {MAX_SUMMARY} characters"
    if changes.status is not None and changes.status not in {s.value for s in ArticleStatus}:
        errors["status"] = "draft or published"
    if changes.publish_at is not None:
        if changes.publish_at.tzinfo is None:
            errors["publish_at"] = "a time with its time zone"
        elif changes.publish_at <= utcnow():
            errors["publish_at"] = "a time still ahead (leave it empty to publish now)"
    if changes.comments is not None and changes.comments not in {m.value for m in CommentMode}:
        errors["comments"] = "open, premoderated or closed"
    if changes.labels is not None:
        changes.labels, problem = clean_labels(changes.labels)
        if problem:
            errors["labels"] = problem
    if changes.poll is not None:
        errors.update(validate_poll(changes.poll))
    return errors


def clean_labels(names: list[str]) -> tuple[list[str], str | None]:
    """The labels to store (cleaned, blanks dropped, the first spelling of each kept
    whatever its case), or ([], what is wrong).

    The count is checked before any label is looked at, and each label costs one
    pass over its text: a request with 9,000 labels is refused at once, where the
    old check compared every label with every other one (seconds of CPU)."""
    if len(names) > MAX_LABELS:
        return [], f"at most {MAX_LABELS} labels"
    kept: dict[str, str] = {}  # lower-cased name -> the name as first written
    for raw in names:
        name = clean_line(raw)
        if not name:
            continue
        if len(name) > MAX_LABEL or not slugify(name):
            return [], f"each label needs 1 to {MAX_LABEL} letters or digits"
        kept.setdefault(name.lower(), name)
    return list(kept.values()), None


def validate_poll(poll: PollInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    poll.question = clean_line(poll.question)
    if not poll.question:
        errors["poll.question"] = "required"
    elif len(poll.question) > MAX_QUESTION:
        errors["poll.question"] = f"at most {MAX_QUESTION} characters"
    # One past the most allowed is enough to refuse: a list of thousands costs nothing.
    options = [clean_line(o) for o in poll.options[: MAX_OPTIONS + 1]]
    if any(not o for o in options):
        errors["poll.options"] = "options cannot be empty"
    elif not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        errors["poll.options"] = f"between {MIN_OPTIONS} and {MAX_OPTIONS} options"
    elif any(len(o) > MAX_OPTION for o in options):
        errors["poll.options"] = f"each option at most {MAX_OPTION} characters"
    elif len({o.lower() for o in options}) != len(options):
        errors["poll.options"] = "options must differ from each other"
    poll.options = options
    if poll.results_visibility not in {v.value for v in ResultsVisibility}:
        errors["poll.results_visibility"] = "always, after_vote or after_close"
    return errors


def can_see_drafts(viewer: User | None) -> bool:
    return viewer is not None and viewer.has_role(Role.EDITOR)
