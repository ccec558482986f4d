"""The rules of commenting, in one place and without the database: the limits, the
edit window, the report reasons and weights, and who may see, edit, delete, react to,
report or answer a comment.

The operations (``posting``, ``actions``) enforce these; the thread (``thread``) hands
the same answers to the pages and the API as precomputed facts (``can_edit_until``,
``can_delete``...), so no view or template decides them again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app, has_app_context

from webapp.errors import Conflict, Forbidden, InvalidInput
from webapp.models import CommentMode, CommentStatus, FlagReason, Role, User, utcnow
from webapp.text import clean_block

MAX_BODY = 5000
MAX_NOTE = 1000
EDIT_WINDOW = timedelta(minutes=15)
EDIT_MINUTES = EDIT_WINDOW // timedelta(minutes=1)
#: Depths 0, 1 and 2: three levels shown; deeper replies hang at the third.
DEEPEST_SHOWN = 2
SORTS = ("oldest", "newest", "top", "common_ground")
#: Up (1), down (-1), or the reader's vote taken back (0).
REACTIONS = (-1, 0, 1)

#: Why a reader may report a comment, in the order the report form offers them, with
#: the words it shows.
FLAG_REASONS: dict[str, str] = {
    FlagReason.SPAM.value: "Spam",
    FlagReason.ABUSE.value: "Abuse or harassment",
    FlagReason.OFF_TOPIC.value: "Off topic",
    FlagReason.OTHER.value: "Something else",
}

#: How much one report counts toward hiding a comment automatically (``hide_reported``
#: with ``report_threshold``). Accounts cost nothing to make, so a report from one that
#: is new (younger than the ``new_account_hours`` setting) or has never had a comment
#: published counts a quarter: three accounts made a minute ago cannot hide a comment,
#: while readers with a history still can. Every report, whatever its weight, puts the
#: comment in front of moderators in the Reported queue.
FULL_REPORT_WEIGHT = 1.0
NEW_ACCOUNT_REPORT_WEIGHT = 0.25

# The roles whose comments carry a badge saying so: a badge comes from the account's
# role, which no reader can choose, and never from a name (webapp/services/names.py).
STAFF_TITLES: dict[str, str] = {
    Role.MODERATOR.value: "Moderator",
    Role.EDITOR.value: "Editor",
    Role.ADMIN.value: "Admin",
}


class CommentsClosed(Conflict):
    code, message = "comments_closed", "Comments are closed on this article."


class EditWindowOver(Forbidden):
    code = "edit_window_over"
    message = (
        f"Comments can be edited for {EDIT_MINUTES} minutes after posting; this one no longer can."
    )


class OwnComment(Forbidden):
    code = "own_comment"
    message = "You cannot vote on or report your own comment."


#: The shortest comment kept when no app is there to ask (COMMENT_MIN_LENGTH).
DEFAULT_MIN_BODY = 2


def min_body() -> int:
    """The shortest comment taken, in characters (the COMMENT_MIN_LENGTH setting)."""
    if not has_app_context():
        return DEFAULT_MIN_BODY
    return max(1, int(current_app.config.get("COMMENT_MIN_LENGTH", DEFAULT_MIN_BODY)))


class Written(Protocol):
    """What the rules read of a comment: a stored ``Comment`` or a thread's
    ``CommentView``."""

    @property
    def author_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def deleted_at(self) -> datetime | None: ...


class OpenOrClosed(Protocol):
    """What the rules read of an article: an ``Article`` or a ``PostingArticle``."""

    @property
    def comment_mode(self) -> str: ...


def is_public(comment: Written) -> bool:
    return comment.status == CommentStatus.PUBLISHED and comment.deleted_at is None


def is_moderator(user: User | None) -> bool:
    return user is not None and user.has_role(Role.MODERATOR)


def can_see(comment: Written, viewer: User | None) -> bool:
    if comment.status == CommentStatus.PUBLISHED:
        return True
    return viewer is not None and (comment.author_id == viewer.id or is_moderator(viewer))


def comments_open(article: OpenOrClosed) -> bool:
    return article.comment_mode != CommentMode.CLOSED


def can_edit(comment: Written, user: User | None, moment: datetime | None = None) -> bool:
    """Its author, within the edit window, while it is not deleted."""
    return (
        user is not None
        and comment.author_id == user.id
        and comment.deleted_at is None
        and (moment or utcnow()) - comment.created_at <= EDIT_WINDOW
    )


def edit_until(
    comment: Written, user: User | None, moment: datetime | None = None
) -> datetime | None:
    """Until when ``user`` may edit the comment; None when they may not (now)."""
    return comment.created_at + EDIT_WINDOW if can_edit(comment, user, moment) else None


def can_delete(comment: Written, user: User | None) -> bool:
    """Authors delete their own comments, moderators any."""
    return user is not None and (comment.author_id == user.id or is_moderator(user))


def can_react(comment: Written, user: User | None) -> bool:
    """Signed-in readers react to public comments of others and report them: a vote on
    one's own words would only inflate them. (A banned reader is told so when they
    try: ``accounts.ensure_can_write``.)"""
    return user is not None and is_public(comment) and comment.author_id != user.id


def check_not_own(comment: Written, user: User) -> None:
    if comment.author_id == user.id:
        raise OwnComment()


#: Reports follow the reactions' rule.
can_report = can_react


def can_reply(comment: Written, user: User | None, article: OpenOrClosed) -> bool:
    """The reply form: under a public comment, while the article takes comments."""
    return user is not None and is_public(comment) and comments_open(article)


def check_body(body: str) -> str:
    """A comment's text as stored (cleaned, trimmed), or 422: empty, too short (the
    COMMENT_MIN_LENGTH setting: "ok" or "+" says nothing a reaction would not) or too
    long."""
    text = clean_block(body).strip()
    if not text:
        raise InvalidInput("Please write something before posting.", fields={"body": "empty"})
    shortest = min_body()
    if len(text) < shortest:
        raise InvalidInput(
            f"Comments need at least {shortest} characters; use the vote buttons to agree.",
            fields={"body": f"at least {shortest} characters"},
        )
    if len(text) > MAX_BODY:
        raise InvalidInput(
            f"Comments can be at most {MAX_BODY:,} characters; this one has {len(text):,}.",
            fields={"body": f"at most {MAX_BODY} characters"},
        )
    return text


def check_reaction(value: int) -> None:
    if value not in REACTIONS:
        raise InvalidInput("value must be 1, -1 or 0.", fields={"value": "1, -1 or 0"})


_REASON_WORDS = ", ".join(list(FLAG_REASONS)[:-1]) + " or " + list(FLAG_REASONS)[-1]


def check_reason(reason: str) -> None:
    if reason not in FLAG_REASONS:
        raise InvalidInput(f"Choose a reason: {_REASON_WORDS}.", fields={"reason": _REASON_WORDS})


def clean_note(note: str | None) -> str | None:
    """A report's note as stored: cleaned, kept to its first MAX_NOTE characters."""
    return clean_block(note or "").strip()[:MAX_NOTE] or None


def not_a_parent() -> InvalidInput:
    return InvalidInput(
        "You can only reply to a comment on this article.",
        fields={"parent_id": "not a comment on this article"},
    )


def report_hold_reason(reporters: int) -> str:
    return f"reported by {reporters} reader{'' if reporters == 1 else 's'}"
