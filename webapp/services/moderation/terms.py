"""The word lists moderators keep: banned words refuse a comment, suspect words hold it.

Each change drops this worker's cached rules (``webapp.caching.RULES``) and writes the actor's
"settings" entry to the moderation log, inside the operation.
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.caching import RULES
from webapp.errors import InvalidInput, NotFound
from webapp.extensions import db
from webapp.models import ModerationActionKind, ModerationTerm, TermKind, User
from webapp.services.moderation.audit import record
from webapp.text import clean_line

MAX_TERM = 100
TERM_KINDS = tuple(kind.value for kind in TermKind)


def word_list() -> list[ModerationTerm]:
    return list(
        db.session.scalars(
            select(ModerationTerm).order_by(ModerationTerm.kind, ModerationTerm.term)
        )
    )


def add_term(actor: User, term: str, kind: str) -> ModerationTerm:
    """Add a banned or suspect word (or phrase); an existing entry changes its kind.

    The word is kept cleaned and in lower case. Logged as the actor's "settings"
    entry. Flushes; the caller commits.
    """
    if kind not in TERM_KINDS:
        raise InvalidInput("kind must be banned or suspect.", fields={"kind": "banned or suspect"})
    cleaned = clean_line(term).lower()
    if not cleaned:
        raise InvalidInput("Please enter a word.", fields={"term": "required"})
    if len(cleaned) > MAX_TERM:
        raise InvalidInput(
            f"At most {MAX_TERM} characters.", fields={"term": f"at most {MAX_TERM} characters"}
        )
    existing = db.session.scalar(select(ModerationTerm).where(ModerationTerm.term == cleaned))
    RULES.changed()
    if existing is not None:
        existing.kind = kind
        entry = existing
    else:
        entry = ModerationTerm(term=cleaned, kind=kind)
        db.session.add(entry)
    record(
        actor,
        ModerationActionKind.SETTINGS.value,
        details={"term": entry.term, "kind": entry.kind},
    )
    db.session.flush()
    return entry


def remove_term(actor: User, term_id: int) -> None:
    """Take a word off the lists; logged as the actor's "settings" entry. Flushes."""
    entry = db.session.get(ModerationTerm, term_id)
    if entry is None:
        raise NotFound("No such word in the lists.")
    RULES.changed()
    db.session.delete(entry)
    record(actor, ModerationActionKind.SETTINGS.value, details={"removed_term": term_id})
    db.session.flush()
