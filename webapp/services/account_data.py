"""A reader's data: "download my data" and "delete my account".

The download is the account's own record: the account, its comments, its poll votes,
its votes on comments (reactions) and its reports. Of other people it holds only
what the reader saw on the site: which article and comment each thing was about, never
another reader's address, name or words.

Deleting an account keeps the row in ``users``, scrubbed of everything that names the
reader, rather than deleting it: the comments the reader chose to keep, the audit log
(``moderation_actions.actor_id`` is RESTRICT, so a moderator's decisions outlive their
account) and the articles an editor wrote (``articles.author_id``, RESTRICT) all
point at it. What goes and what stays:

- comments: removed as an author's own deletion removes them (a comment others
  answered stays as "comment deleted", so their replies keep their place), or kept
  with their text under the name "Deleted reader";
- poll votes: kept, so every answer's tally stays as it was, but no longer the
  account's: ``user_id`` emptied and the voter key replaced by a fresh random one,
  exactly like an anonymous visitor's vote. The poll's signed-in share moves (those
  votes now count as anonymous), the comment tone by vote loses the author's answer,
  and a reaction by this account no longer counts toward common ground by answer;
- votes on comments (reactions): kept on the scrubbed account, so comment scores
  stay as they are;
- reports: kept on the scrubbed account with their reason (moderators still see a
  comment was reported), without the free-text note;
- everything else keyed to the account (idempotency keys, notification settings and
  subscriptions, its mail in the outbox): deleted.

Staff accounts are scrubbed the same way; their audit log entries stay and read
"Former staff member". The only admin cannot delete their account.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, select, update

from webapp.caching import THREADS
from webapp.extensions import db
from webapp.models import (
    Article,
    Base,
    Comment,
    CommentFlag,
    CommentReaction,
    Poll,
    PollOption,
    Role,
    User,
    Vote,
    utcnow,
)
from webapp.models.mail import OutboxMessage
from webapp.services import accounts, names
from webapp.services.comments import storage

DELETED_READER = "Deleted reader"
FORMER_STAFF = "Former staff member"

#: Tables keyed to users (``ON DELETE CASCADE``) whose rows a deletion keeps on the
#: scrubbed account (see the module's doc); every other such table loses its rows.
KEPT_ON_SCRUBBED_ACCOUNT = frozenset(
    {"comments", "comment_reactions", "comment_flags", "comment_deletions", "votes"}
)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export(user: User) -> dict[str, Any]:
    """Everything the account holds, as plain JSON values."""
    comments = db.session.execute(
        select(Comment, Article.slug, Article.title)
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.author_id == user.id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    votes = db.session.execute(
        select(Vote, Article.slug, Poll.question, PollOption.label)
        .join(Poll, Poll.id == Vote.poll_id)
        .join(Article, Article.id == Poll.article_id)
        .join(PollOption, PollOption.id == Vote.option_id)
        .where(Vote.user_id == user.id)
        .order_by(Vote.created_at, Vote.id)
    ).all()
    reactions = db.session.execute(
        select(CommentReaction, Article.slug)
        .join(Comment, Comment.id == CommentReaction.comment_id)
        .join(Article, Article.id == Comment.article_id)
        .where(CommentReaction.user_id == user.id)
        .order_by(CommentReaction.created_at, CommentReaction.comment_id)
    ).all()
    reports = db.session.execute(
        select(CommentFlag, Article.slug)
        .join(Comment, Comment.id == CommentFlag.comment_id)
        .join(Article, Article.id == Comment.article_id)
        .where(CommentFlag.user_id == user.id)
        .order_by(CommentFlag.created_at, CommentFlag.id)
    ).all()
    return {
        "account": {
            "id": user.id,
            "email": user.email,
            "email_verified_at": _iso(user.email_verified_at),
            "display_name": user.display_name,
            "role": user.role,
            "created_at": _iso(user.created_at),
            "banned_at": _iso(user.banned_at),
            "banned_until": _iso(user.banned_until),
            "ban_reason": user.ban_reason,
        },
        "comments": [
            {
                "id": c.id,
                "article": {"slug": slug, "title": title},
                "parent_id": c.parent_id,
                "body": c.body,
                "status": c.status,
                "score": c.score,
                "created_at": _iso(c.created_at),
                "edited_at": _iso(c.edited_at),
                "deleted_at": _iso(c.deleted_at),
            }
            for c, slug, title in comments
        ],
        "votes": [
            {
                "article": slug,
                "question": question,
                "answer": label,
                "created_at": _iso(v.created_at),
                "updated_at": _iso(v.updated_at),
            }
            for v, slug, question, label in votes
        ],
        "reactions": [
            {
                "comment_id": r.comment_id,
                "article": slug,
                "value": r.value,
                "created_at": _iso(r.created_at),
            }
            for r, slug in reactions
        ],
        "reports": [
            {
                "comment_id": f.comment_id,
                "article": slug,
                "reason": f.reason,
                "note": f.note,
                "created_at": _iso(f.created_at),
            }
            for f, slug in reports
        ],
    }


def _remove_comments(user: User, moment: datetime) -> None:
    """The account's comments, deepest first (a reply goes before what it answers, so
    the parent's reply count is right when its turn comes). One that others answered
    stays as "comment deleted" and goes when its last reply does (storage.remove)."""
    ids = db.session.scalars(
        select(Comment.id)
        .where(Comment.author_id == user.id)
        .order_by(Comment.depth.desc(), Comment.id.desc())
    ).all()
    for comment_id in ids:
        comment = db.session.get(Comment, comment_id, populate_existing=True)
        if comment is None:  # went with a placeholder above it
            continue
        if comment.reply_count > 0:
            comment.deleted_at = comment.deleted_at or moment
            comment.body = ""
            comment.html = ""
            comment.featured_at = None
            db.session.flush()
        else:
            storage.remove(comment)


def _anonymise_votes(user: User) -> None:
    """Each vote stays where it is, as an anonymous visitor's: a fresh random voter key
    (the "a:" form, webapp/services/polls) links it to nothing. The tally triggers see
    only ``user_id`` change, so per-answer counts stay and signed_in_count moves."""
    for vote_id in db.session.scalars(select(Vote.id).where(Vote.user_id == user.id)).all():
        db.session.execute(
            update(Vote)
            .where(Vote.id == vote_id)
            .values(user_id=None, voter_key=f"a:{secrets.token_hex(16)}")
            .execution_options(synchronize_session=False)
        )


def _delete_other_rows(user: User) -> None:
    """Rows of any other table keyed to the account with ON DELETE CASCADE: what
    deleting the row would have deleted (notification settings and the like, whichever
    modules add them)."""
    users_id = User.__table__.c.id
    for table in Base.metadata.sorted_tables:
        if table.name in KEPT_ON_SCRUBBED_ACCOUNT:
            continue
        for fk in table.foreign_keys:
            if fk.column is users_id and (fk.ondelete or "").upper() == "CASCADE":
                db.session.execute(sa.delete(table).where(fk.parent == user.id))


def delete_account(
    user: User, password: str, *, keep_comments: bool, moment: datetime | None = None
) -> None:
    """Delete the reader's account, proven by the password (WrongPassword otherwise),
    in the caller's one transaction: see the module's doc for what goes and what
    stays. Ends every session. Flushes; the caller commits."""
    moment = moment or utcnow()
    accounts._verify_or_wrong(user, password)
    if user.role == Role.ADMIN:
        others = db.session.scalar(
            select(sa.func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.id != user.id, User.deleted_at.is_(None))
        )
        if not others:
            raise accounts.LastAdmin()
    if not keep_comments:
        _remove_comments(user, moment)
    _anonymise_votes(user)
    db.session.execute(
        update(CommentFlag)
        .where(CommentFlag.user_id == user.id)
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    # Its mail, sent or not: each holds the address and what was said to it.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.user_id == user.id))
    _delete_other_rows(user)
    was_staff = user.role != Role.READER
    name = FORMER_STAFF if was_staff else DELETED_READER
    # No usable address, password or name: ``.invalid`` is never delivered (RFC 2606),
    # "!" is no argon2 hash (so no password matches), and the name's skeleton is
    # stored so no one can register a look-alike of "Deleted reader".
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.email_verified_at = None
    user.password_hash = "!"  # nosec B105 (no hash at all: nothing can sign in as it)
    user.display_name = name
    user.name_skeleton = names.skeleton(name)
    user.role = Role.READER.value
    user.ban_reason = None
    user.deleted_at = moment
    accounts.end_sessions(user)
    THREADS.changed()
    db.session.flush()
