"""The host describes a thread's poll in signed data: a JWT (HS256 with the site's
secret) the host page passes to the frame, so a thread made by a page's first view
starts with its poll without an editor.

The description goes through the editor's own path (``articles.update_article`` with a
``PollInput``: the same option rules, the same caches dropped), and the host never
overrides Pulse's editors: it may set the poll of a thread its pages made while it has
none, and replace a poll it set itself while nobody has voted; a poll an editor set
or changed in Pulse is theirs. Which poll the host set is told by a digest of its
content kept on the thread (``EmbedThread.host_poll_digest``): once an editor changes
anything in it, the poll no longer matches the digest and is the editor's.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select

from webapp.errors import Conflict, DomainError, InvalidInput
from webapp.extensions import db
from webapp.models import Article, Poll, Vote, VoteChange
from webapp.models.embed import EmbedSite, EmbedThread
from webapp.services import articles
from webapp.services.embed.site_tokens import decode_site_token
from webapp.services.embed.threads import find_thread, thread_key

log = logging.getLogger(__name__)

REQUIRED_CLAIMS = ("thread", "question", "options", "iat", "exp")
#: A description longer than this is no host's (the frame's address carries it).
MAX_DESCRIPTION_LENGTH = 6000


class PollDescriptionInvalid(InvalidInput):
    code, message = "poll_description_invalid", "The site's poll description is not valid."


class PollDescriptionExpired(InvalidInput):
    code, message = "poll_description_expired", "The site's poll description has expired."


class PollNotTheHosts(Conflict):
    code, message = "poll_not_the_hosts", "This thread's poll is not the site's to change."


@dataclass(frozen=True)
class PollDescription:
    """A checked description: the thread it is for (as stored) and the poll."""

    thread_key: str
    poll: articles.PollInput


class Outcome(StrEnum):
    SET = "set"  # the thread had no poll: it has the host's now
    REPLACED = "replaced"  # the host's earlier poll, without votes, replaced
    UNCHANGED = "unchanged"  # the poll is already as described


def read_poll_description(site: EmbedSite, token: str) -> PollDescription:
    """The poll ``token`` describes, signed with ``site``'s secret and checked by the
    editor's poll rules (``articles.validate_poll``). PollDescriptionExpired past its
    ``exp``; PollDescriptionInvalid for a bad signature, algorithm or claim."""
    claims = decode_site_token(
        site,
        token,
        required=REQUIRED_CLAIMS,
        max_length=MAX_DESCRIPTION_LENGTH,
        what="The site's poll description",
        invalid=PollDescriptionInvalid,
        expired=PollDescriptionExpired,
    )
    thread, question, options = claims["thread"], claims["question"], claims["options"]
    closes_at = claims.get("closes_at")
    results = claims.get("results", site.poll_results_visibility)
    anonymous = claims.get("anonymous", site.poll_allow_anonymous)
    if not (
        isinstance(thread, str)
        and isinstance(question, str)
        and isinstance(options, list)
        and all(isinstance(option, str) for option in options)
        and (closes_at is None or _is_seconds(closes_at))
        and isinstance(results, str)
        and isinstance(anonymous, bool)
    ):
        raise PollDescriptionInvalid("The site's poll description has a claim of the wrong type.")
    poll = articles.PollInput(
        question=question,
        options=options,
        closes_at=datetime.fromtimestamp(int(closes_at), UTC) if closes_at is not None else None,
        results_visibility=results,
        allow_anonymous=anonymous,
    )
    problems = articles.validate_poll(poll)
    if problems:
        raise PollDescriptionInvalid(
            "The site's poll description is not a valid poll.", fields=problems
        )
    return PollDescription(thread_key=thread_key(site, key=thread), poll=poll)


def _is_seconds(value: object) -> bool:
    # Seconds since the epoch, as JWT's own times; bool is an int to Python, not here.
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2**33


def _digest(
    question: str,
    options: list[str],
    closes_at: datetime | None,
    results_visibility: str,
    allow_anonymous: bool,
    signed_in_only_under_attack: bool = False,
    closed: bool = False,
) -> str:
    """What tells one poll definition from another, as a hex SHA-256. The editor's own
    settings (closed by hand, signed-in only under attack) are in it: a host never sets
    them, so a poll with them is an editor's."""
    if closes_at is not None:
        aware = closes_at if closes_at.tzinfo else closes_at.replace(tzinfo=UTC)
        closes = int(aware.timestamp())
    else:
        closes = None
    canonical = json.dumps(
        [
            question,
            options,
            closes,
            results_visibility,
            allow_anonymous,
            signed_in_only_under_attack,
            closed,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def digest_of_input(poll: articles.PollInput) -> str:
    return _digest(
        poll.question,
        list(poll.options),
        poll.closes_at,
        poll.results_visibility,
        poll.allow_anonymous,
        poll.signed_in_only_under_attack,
    )


def digest_of_poll(poll: Poll) -> str:
    return _digest(
        poll.question,
        [option.label for option in poll.options],
        poll.closes_at,
        poll.results_visibility,
        poll.allow_anonymous,
        poll.signed_in_only_under_attack,
        poll.closed_at is not None,
    )


def _has_votes(poll: Poll) -> bool:
    """Whether anyone has voted in ``poll``, now or before (a withdrawn vote leaves its
    history: readers answered this question, and their history names its options)."""
    if db.session.scalar(select(Vote.id).where(Vote.poll_id == poll.id).limit(1)) is not None:
        return True
    history = select(VoteChange.id).where(VoteChange.poll_id == poll.id).limit(1)
    return db.session.scalar(history) is not None


def apply_poll_description(thread: EmbedThread, description: PollDescription) -> Outcome:
    """Give ``thread``'s article the described poll when the host may (see the module):
    PollNotTheHosts when the thread is an editor's article, its poll an editor's, or
    its poll has votes; PollDescriptionInvalid for a description of another thread.
    Flushes through the editor's path; the caller commits."""
    if description.thread_key != thread.key:
        raise PollDescriptionInvalid("The site's poll description is for another thread.")
    article: Article = thread.article
    if article.listed:
        # Only threads the host's page views made are the host's (an unlisted article);
        # an editor's article attached to a page keeps its own poll, or none.
        raise PollNotTheHosts("This thread is an editor's article: its poll is set in Pulse.")
    wanted = digest_of_input(description.poll)
    poll = article.poll
    outcome = Outcome.SET
    if poll is not None:
        current = digest_of_poll(poll)
        if current == wanted:
            # Nothing to change (and an editor's identical poll stays theirs).
            return Outcome.UNCHANGED
        if thread.host_poll_digest != current:
            raise PollNotTheHosts("This thread's poll was set in Pulse: the site cannot change it.")
        if _has_votes(poll):
            raise PollNotTheHosts("This thread's poll has votes: it can no longer be replaced.")
        outcome = Outcome.REPLACED
    articles.update_article(article, articles.ArticleChanges(poll=description.poll))
    thread.host_poll_digest = wanted
    db.session.flush()
    return outcome


def poll_from_host(
    site: EmbedSite, token: str | None, key: str | None = None, url: str | None = None
) -> Outcome | None:
    """The frame's first step for a host's ``poll`` description: read it, apply it to
    the thread the frame names (``key``/``url``), and answer what happened; None when
    nothing changed because the description was refused (or there was none). Never
    raises for the host's data: a refusal is logged (a host's developer reads why in
    Pulse's log) and the frame shows the thread as it is. Changes are made in a
    savepoint, so a refusal halfway leaves nothing behind; the caller commits."""
    if not token:
        return None
    try:
        description = read_poll_description(site, token)
        thread = find_thread(site, thread_key(site, key, url))
        if thread is None:
            raise PollNotTheHosts("The page has no thread yet, so no poll can be set on it.")
        with db.session.begin_nested():
            outcome = apply_poll_description(thread, description)
    except DomainError as refused:
        log.warning(
            "embed: site %s's poll description for thread %r was not applied (%s): %s %s",
            site.id,
            key or url,
            refused.code,
            refused.message,
            refused.fields or "",
        )
        return None
    if outcome is not Outcome.UNCHANGED:
        log.info("embed: site %s's poll description %s thread %r", site.id, outcome, key or url)
    return outcome
