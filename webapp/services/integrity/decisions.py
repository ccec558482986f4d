"""An editor's decision on a group of votes: set aside, restore, clear.

- ``set_aside``: the group's votes stop counting (votes.set_aside_at), in every public
  answer, from the commit on;
- ``restore``: they count again (unless another set-aside group holds them: a vote
  stays set aside while any set-aside group holds it); the group stays suspect, and
  the pass will not set it aside again by itself;
- ``clear``: reviewed and honest; counted again like restore; the pass flags it again
  only if it grows to ``detection.REFLAG_FACTOR`` times its size at clearing.

Votes move with set-based UPDATEs on votes.set_aside_at; the tally triggers move
poll_options.vote_count / set_aside_count and the daily rollup in the same
statement, so the app writes no count. Each decision writes its audit log entry
(ModerationActionKind.SET_ASIDE_VOTES / RESTORE_VOTES / CLEAR_VOTES; article, poll
and group ids in details) in the caller's transaction.

Automatic decisions (the integrity pass, at INTEGRITY_AUTO_SET_ASIDE_Z): the audit
log's actor must be an account, and inventing a system account would add a user
nobody can sign in as; so the entry is written under the poll's article's author
(the editor answerable for the poll) with details ``{"automatic": true}``, and the
group has ``automatic`` set and no ``decided_by_id``. The log's pages should show such
an entry as "automatic (integrity checks)".

Decisions and the pass serialise on the poll's row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite has one writer anyway), so the "under attack" switch and the
set-aside votes follow the last decision exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, exists, select, update
from sqlalchemy.orm import Session

from webapp.errors import InvalidInput, NotFound
from webapp.extensions import db
from webapp.models import (
    Article,
    GroupStatus,
    IntegrityGroup,
    IntegrityGroupVote,
    ModerationActionKind,
    Poll,
    PollOption,
    User,
    Vote,
    utcnow,
)
from webapp.services.cache_purge import purge_article_after_commit
from webapp.services.moderation import audit

ACTIONS = ("set_aside", "restore", "clear")

_STATUS = {
    "set_aside": GroupStatus.SET_ASIDE,
    "restore": GroupStatus.SUSPECT,
    "clear": GroupStatus.CLEARED,
}
_LOGGED = {
    "set_aside": ModerationActionKind.SET_ASIDE_VOTES,
    "restore": ModerationActionKind.RESTORE_VOTES,
    "clear": ModerationActionKind.CLEAR_VOTES,
}

_votes = Vote.__table__
_members = IntegrityGroupVote.__table__
_groups = IntegrityGroup.__table__

_FORGET = "pulse_integrity_forget_results"


def _held_by_set_aside_group() -> Any:
    """EXISTS: a set-aside group holds the vote of the enclosing query."""
    return exists().where(
        _members.c.vote_id == _votes.c.id,
        _groups.c.id == _members.c.group_id,
        _groups.c.status == GroupStatus.SET_ASIDE.value,
    )


#: Votes per UPDATE (PostgreSQL takes at most 65,535 parameters in a statement).
_BATCH = 5000


def _mark(poll_id: int, vote_ids: list[int], value: datetime | None) -> None:
    """Set (or clear) set_aside_at on these votes, in batches, after taking once, for
    all of them, the locks their triggers take, in their order (polls.lock_for_set_aside:
    no deadlock with votes and comments written meanwhile, nor with another decision;
    locking per batch would take a later batch's authors after an earlier batch's tone
    rows)."""
    from webapp.services.polls import lock_for_set_aside

    lock_for_set_aside(poll_id, vote_ids)
    for start in range(0, len(vote_ids), _BATCH):
        batch = vote_ids[start : start + _BATCH]
        db.session.execute(
            update(Vote)
            .where(Vote.poll_id == poll_id, Vote.id.in_(batch))
            .values(set_aside_at=value)
            .execution_options(synchronize_session=False)
        )


def apply_set_aside(
    poll_id: int,
    moment: datetime,
    *,
    released: set[int] | None = None,
    released_group: int | None = None,
) -> None:
    """Make votes.set_aside_at follow the poll's set-aside groups: set on every vote a
    set-aside group holds and not yet set aside (read from the groups' members, not
    the poll's votes), and cleared on the ``released`` votes or those of
    ``released_group`` that no set-aside group holds any more."""
    to_set = db.session.scalars(
        select(_members.c.vote_id)
        .distinct()
        .join(_groups, _groups.c.id == _members.c.group_id)
        .join(_votes, _votes.c.id == _members.c.vote_id)
        .where(
            _groups.c.poll_id == poll_id,
            _groups.c.status == GroupStatus.SET_ASIDE.value,
            _votes.c.set_aside_at.is_(None),
        )
        .order_by(_members.c.vote_id)
    ).all()
    _mark(poll_id, list(to_set), moment)
    still_set_aside = (
        _votes.c.poll_id == poll_id,
        _votes.c.set_aside_at.is_not(None),
        ~_held_by_set_aside_group(),
    )
    to_clear: set[int] = set()
    if released:
        ids = sorted(released)
        for start in range(0, len(ids), _BATCH):
            to_clear.update(
                db.session.scalars(
                    select(_votes.c.id).where(
                        _votes.c.id.in_(ids[start : start + _BATCH]), *still_set_aside
                    )
                )
            )
    if released_group is not None:
        to_clear.update(
            db.session.scalars(
                select(_votes.c.id).where(
                    _votes.c.id.in_(
                        select(_members.c.vote_id).where(_members.c.group_id == released_group)
                    ),
                    *still_set_aside,
                )
            )
        )
    _mark(poll_id, sorted(to_clear), None)


def sync_under_attack(poll: Poll, moment: datetime) -> None:
    """Start the poll's "under attack" time when a group of it is set aside and the
    poll asks for signed-in readers only then; end it when no group is set aside."""
    any_set_aside = db.session.scalar(
        select(
            exists().where(
                IntegrityGroup.poll_id == poll.id,
                IntegrityGroup.status == GroupStatus.SET_ASIDE.value,
            )
        )
    )
    if any_set_aside and poll.signed_in_only_under_attack and poll.under_attack_since is None:
        poll.under_attack_since = moment
    elif not any_set_aside and poll.under_attack_since is not None:
        poll.under_attack_since = None


def forget_results(slug: str) -> None:
    """Drop the poll's cached results now and again when the session commits: a read
    between now and the commit may have cached the figures from before."""
    from webapp.services.polls import forget_cached

    forget_cached(slug)
    db.session.info.setdefault(_FORGET, set()).add(slug)


@event.listens_for(Session, "after_commit")
def _forget_on_commit(session: Session) -> None:
    slugs = session.info.pop(_FORGET, None)
    if not slugs:
        return
    from webapp.services.polls import forget_cached

    for slug in slugs:
        forget_cached(slug)


@event.listens_for(Session, "after_rollback")
def _nothing_to_forget_after_rollback(session: Session) -> None:
    session.info.pop(_FORGET, None)


def decide(
    group_id: int,
    poll_id: int,
    action: str,
    actor: User,
    reason: str | None,
    moment: datetime | None = None,
    *,
    automatic: bool = False,
) -> IntegrityGroup:
    """Apply ``action`` ("set_aside", "restore" or "clear") to the group.

    Raises NotFound for an unknown group or one of another poll, InvalidInput for a
    bad action. Writes the audit log entry (SET_ASIDE_VOTES / RESTORE_VOTES /
    CLEAR_VOTES with the article, poll and group ids in details), sets or clears
    votes.set_aside_at (a vote stays set aside while any set-aside group holds it),
    starts the poll's "under attack" time when a group is set aside and the poll
    has signed_in_only_under_attack (and ends it when no group is set aside any
    more), and drops the poll's cached results (now and again after the commit).
    The caller commits.

    ``automatic`` is the integrity pass's own decision (detection); the entry then
    carries details {"automatic": true}."""
    if action not in ACTIONS:
        raise InvalidInput(
            "The action must be set_aside, restore or clear.",
            fields={"action": "Choose set_aside, restore or clear."},
        )
    moment = moment or utcnow()
    # FOR NO KEY UPDATE: votes keep coming in (their foreign key takes KEY SHARE).
    poll = db.session.scalar(
        select(Poll)
        .where(Poll.id == poll_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    group = db.session.scalar(
        select(IntegrityGroup)
        .where(IntegrityGroup.id == group_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if poll is None or group is None or group.poll_id != poll_id:
        raise NotFound("This poll has no such group of votes.")
    status = _STATUS[action]
    group.status = status.value
    group.automatic = automatic and status == GroupStatus.SET_ASIDE
    group.decided_by_id = None if automatic else actor.id
    group.decided_at = moment
    group.decision_reason = reason
    group.updated_at = moment
    if status == GroupStatus.CLEARED:
        group.details = {**(group.details or {}), "cleared_at_votes": group.votes}
    db.session.flush()
    if status == GroupStatus.SET_ASIDE:
        apply_set_aside(poll_id, moment)
    else:
        apply_set_aside(poll_id, moment, released_group=group.id)

    sync_under_attack(poll, moment)

    slug = db.session.scalar(select(Article.slug).where(Article.id == poll.article_id))
    details: dict[str, Any] = {
        "article_id": poll.article_id,
        "article_slug": slug,
        "poll_id": poll_id,
        "group_id": group.id,
        "kind": group.kind,
        "votes": group.votes,
    }
    if automatic:
        details["automatic"] = True
        details["z_score"] = round(group.z_score, 2)
    audit.record(actor, _LOGGED[action].value, reason=reason, details=details)
    db.session.flush()
    if slug is not None:
        forget_results(slug)
    purge_article_after_commit(poll.article_id)
    _expire_tallies(poll_id)
    return group


def _expire_tallies(poll_id: int) -> None:
    """The session's copies of the poll's options (and votes) are stale after the
    UPDATEs, which the tally triggers followed: read them again when next used."""
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, PollOption | Vote) and instance.poll_id == poll_id:
            db.session.expire(instance)
