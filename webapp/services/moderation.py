"""Moderation: the automatic checks every new or edited comment goes through.

A check never drops a comment silently: banned words refuse it with a message
the author sees, everything else holds it for a moderator with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import (
    Article,
    Comment,
    CommentMode,
    CommentStatus,
    ModerationTerm,
    Role,
    TermKind,
    User,
    utcnow,
)
from webapp.services.site_settings import ModerationSettings, moderation_settings
from webapp.services.wordfilter import count_links, find_terms


class BannedWordUsed(InvalidInput):
    code = "banned_word"


@dataclass
class Assessment:
    status: str
    reasons_held: list[str] = field(default_factory=list)
    toxicity: float | None = None


def terms_of_kind(kind: TermKind) -> list[str]:
    return list(
        db.session.scalars(
            select(ModerationTerm.term)
            .where(ModerationTerm.kind == kind.value)
            .order_by(ModerationTerm.term)
        )
    )


def is_staff(user: User) -> bool:
    return user.has_role(Role.MODERATOR)


def assess(
    body: str,
    author: User,
    article: Article,
    *,
    exclude_comment_id: int | None = None,
    settings: ModerationSettings | None = None,
    moment: datetime | None = None,
) -> Assessment:
    """Decide whether a comment is published at once or held, and why."""
    from webapp.services.toxicity import toxicity

    settings = settings or moderation_settings()
    moment = moment or utcnow()
    banned = find_terms(body, terms_of_kind(TermKind.BANNED))
    if banned:
        raise BannedWordUsed(
            f"Your comment uses a word that is not allowed here (“{banned[0]}”). "
            "Please rephrase it.",
            fields={"body": "contains a word that is not allowed"},
        )
    score = toxicity(body)
    if is_staff(author):
        return Assessment(CommentStatus.PUBLISHED.value, [], score)

    reasons: list[str] = []
    if article.comment_mode == CommentMode.PREMODERATED:
        reasons.append("article is premoderated")
    suspect = find_terms(body, terms_of_kind(TermKind.SUSPECT))
    if suspect:
        reasons.append("suspect words: " + ", ".join(suspect))
    links = count_links(body)
    if links > settings.max_links:
        reasons.append(f"{links} links (more than {settings.max_links})")
    if score > settings.toxicity_threshold:
        reasons.append(f"toxicity {score:.2f} above {settings.toxicity_threshold:.2f}")
    if settings.new_author_hold_count:
        earlier = (
            select(func.count())
            .select_from(Comment)
            .where(Comment.author_id == author.id, Comment.status == CommentStatus.PUBLISHED)
        )
        if exclude_comment_id is not None:
            earlier = earlier.where(Comment.id != exclude_comment_id)
        if (db.session.scalar(earlier) or 0) < settings.new_author_hold_count:
            reasons.append(f"new author (first {settings.new_author_hold_count} comments)")
    rejected = (
        db.session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(
                Comment.author_id == author.id,
                Comment.status == CommentStatus.REJECTED,
                Comment.moderated_at >= moment - timedelta(days=settings.rejection_window_days),
            )
        )
        or 0
    )
    if rejected >= settings.recent_rejections_limit:
        reasons.append(f"author rejected {rejected} times in {settings.rejection_window_days} days")
    status = CommentStatus.PENDING if reasons else CommentStatus.PUBLISHED
    return Assessment(status.value, reasons, score)


# --- word lists -------------------------------------------------------------------------

MAX_TERM = 100


def word_list() -> list[ModerationTerm]:
    return list(
        db.session.scalars(
            select(ModerationTerm).order_by(ModerationTerm.kind, ModerationTerm.term)
        )
    )


def add_term(term: object, kind: object) -> ModerationTerm:
    """Add a banned or suspect word (or phrase); an existing entry changes its kind."""
    if not isinstance(kind, str) or kind not in {k.value for k in TermKind}:
        raise InvalidInput("kind must be banned or suspect.", fields={"kind": "banned or suspect"})
    if not isinstance(term, str) or not " ".join(term.split()):
        raise InvalidInput("Please enter a word.", fields={"term": "required"})
    cleaned = " ".join(term.split()).lower()
    if len(cleaned) > MAX_TERM:
        raise InvalidInput(
            f"At most {MAX_TERM} characters.", fields={"term": f"at most {MAX_TERM} characters"}
        )
    existing = db.session.scalar(select(ModerationTerm).where(ModerationTerm.term == cleaned))
    if existing is not None:
        existing.kind = str(kind)
        db.session.flush()
        return existing
    entry = ModerationTerm(term=cleaned, kind=str(kind))
    db.session.add(entry)
    db.session.flush()
    return entry


def remove_term(term_id: int) -> None:
    entry = db.session.get(ModerationTerm, term_id)
    if entry is None:
        from webapp.errors import NotFound

        raise NotFound("No such word in the lists.")
    db.session.delete(entry)
    db.session.flush()
