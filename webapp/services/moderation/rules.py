"""The automatic checks every new or edited comment goes through (``assess``).

A check never drops a comment silently: banned words refuse it with a message
the author sees, everything else holds it for a moderator with the reasons. The
rules (settings and word lists) are read through each worker's short cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, func, select

from webapp.caching import RULES
from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import (
    Comment,
    CommentMode,
    CommentStatus,
    ModerationTerm,
    Role,
    TermKind,
    User,
    utcnow,
)
from webapp.services.moderation.settings import ModerationSettings, moderation_settings
from webapp.services.moderation.toxicity import toxicity
from webapp.services.moderation.wordfilter import count_links, find_terms


class CommentedArticle(Protocol):
    """What the checks read of the article a comment is for: an Article, or the
    lighter copy the posting path keeps (``comments.PostingArticle``)."""

    @property
    def comment_mode(self) -> str: ...


class BannedWordUsed(InvalidInput):
    code = "banned_word"


@dataclass
class Assessment:
    status: str
    reasons_held: list[str] = field(default_factory=list)
    toxicity: float | None = None


# --- the rules every comment is checked against, cached per worker ----------------------


@dataclass(frozen=True)
class Rules:
    """The settings and word lists a comment is checked against."""

    settings: ModerationSettings
    banned: tuple[str, ...]
    suspect: tuple[str, ...]


def load_rules() -> Rules:
    """The rules as stored now: two queries (the settings, both word lists)."""
    banned: list[str] = []
    suspect: list[str] = []
    for term, kind in db.session.execute(
        select(ModerationTerm.term, ModerationTerm.kind).order_by(ModerationTerm.term)
    ).tuples():
        (banned if kind == TermKind.BANNED.value else suspect).append(term)
    return Rules(moderation_settings(), tuple(banned), tuple(suspect))


def current_rules() -> Rules:
    """The rules, read at most once every ``MODERATION_CACHE_SECONDS`` per worker.

    Every comment needs them and they change rarely, so each worker keeps what it
    read for a few seconds (3 by default; 0 reads them for every comment). A change
    made through ``terms`` or ``settings`` clears the cache of the worker that
    made it, at once and again when it commits; other workers apply it once their
    copy expires, within those few seconds.
    """
    return RULES.get_or_build("rules", load_rules)


_COMMENTS = Comment.__table__
# Built once; every comment by an author rejected lately runs it.
_RECENT_REJECTIONS = (
    select(func.count())
    .select_from(_COMMENTS)
    .where(
        _COMMENTS.c.author_id == bindparam("author_id"),
        _COMMENTS.c.status == CommentStatus.REJECTED.value,
        _COMMENTS.c.moderated_at >= bindparam("since", type_=_COMMENTS.c.moderated_at.type),
    )
)


def rejected_since(author: User, since: datetime) -> int:
    """How many of the author's comments were rejected at ``since`` or later.

    Asks the database only when the author's ``last_rejected_at`` (kept by a trigger
    on every rejection: webapp/models/comment_triggers.py) is that recent: with no
    rejection since then there is none to count, and most authors were never
    rejected at all.
    """
    last = author.last_rejected_at
    if last is None or last < since:
        return 0
    return db.session.scalar(_RECENT_REJECTIONS, {"author_id": author.id, "since": since}) or 0


def is_staff(user: User) -> bool:
    return user.has_role(Role.MODERATOR)


def assess(
    body: str,
    author: User,
    article: CommentedArticle,
    *,
    exclude_comment_id: int | None = None,
    settings: ModerationSettings | None = None,
    moment: datetime | None = None,
) -> Assessment:
    """Decide whether a comment is published at once or held, and why."""
    rules = current_rules()
    settings = settings or rules.settings
    moment = moment or utcnow()
    banned = find_terms(body, rules.banned)
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
    suspect = find_terms(body, rules.suspect)
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
    rejected = rejected_since(author, moment - timedelta(days=settings.rejection_window_days))
    if rejected >= settings.recent_rejections_limit:
        reasons.append(f"author rejected {rejected} times in {settings.rejection_window_days} days")
    status = CommentStatus.PENDING if reasons else CommentStatus.PUBLISHED
    return Assessment(status.value, reasons, score)
