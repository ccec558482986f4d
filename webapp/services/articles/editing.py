"""Writing articles: create, edit, publish and unpublish, their labels, and the closing
poll's definition (set, close, reopen).

Every change that moves what readers see of an article drops the caches that hold it:
the poll's cached results (``webapp.caching.results``) and the neighbours' links
(``NEIGHBOURS``). The caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import IntegrityError

from webapp.caching import NEIGHBOURS
from webapp.caching import results as results_cache
from webapp.errors import Conflict, InvalidInput, SlugTaken
from webapp.extensions import db
from webapp.models import (
    Article,
    ArticleStatus,
    CommentMode,
    Label,
    Poll,
    PollDailyTally,
    PollOption,
    User,
    Vote,
    VoteChange,
    utcnow,
)
from webapp.services.articles.rules import ArticleChanges, PollInput, slugify, validate_changes
from webapp.services.cache_purge import purge_article_after_commit
from webapp.services.markup import render_article


def create_article(author: User, changes: ArticleChanges) -> Article:
    errors = validate_changes(changes, creating=True)
    slug = changes.slug or slugify(changes.title or "")
    if not slug and "slug" not in errors:
        errors["slug"] = "cannot be made from this title; please give one"
    if errors:
        raise InvalidInput("Please correct the marked fields.", fields=errors)
    article = Article(
        slug=slug,
        title=changes.title or "",
        summary=(changes.summary or "").strip(),
        body=changes.body or "",
        html="",
        author_id=author.id,
        status=ArticleStatus.DRAFT.value,
        comment_mode=changes.comments or CommentMode.OPEN.value,
    )
    _ensure_slug_free(slug, None)
    db.session.add(article)
    _apply(article, changes)
    _flush_or_slug_taken()
    NEIGHBOURS.changed()
    return article


def update_article(article: Article, changes: ArticleChanges) -> Article:
    errors = validate_changes(changes, creating=False)
    if "slug" in changes.present and not changes.slug:
        errors["slug"] = "required"
    if errors:
        raise InvalidInput("Please correct the marked fields.", fields=errors)
    results_cache.forget(article.slug)
    if changes.slug and changes.slug != article.slug:
        _ensure_slug_free(changes.slug, article.id)
        article.slug = changes.slug
    if changes.title is not None:
        article.title = changes.title
    if changes.summary is not None:
        article.summary = changes.summary.strip()
    if changes.comments is not None:
        article.comment_mode = changes.comments
    _apply(article, changes)
    _flush_or_slug_taken()
    NEIGHBOURS.changed()
    purge_article_after_commit(article.id, lists=True)
    return article


def _apply(article: Article, changes: ArticleChanges) -> None:
    if changes.body is not None:
        article.body = changes.body
        article.html = render_article(changes.body)
    if changes.labels is not None:
        article.labels = labels_named(changes.labels)
    if changes.poll is not None:
        set_poll(article, changes.poll)
    elif changes.remove_poll and article.poll is not None:
        if any(option.vote_count for option in article.poll.options):
            raise Conflict("This poll already has votes; close it instead of removing it.")
        article.poll = None
    if changes.status == ArticleStatus.PUBLISHED:
        publish(article, at=changes.publish_at)
    elif changes.status == ArticleStatus.DRAFT:
        unpublish(article)


def _ensure_slug_free(slug: str, article_id: int | None) -> None:
    query = select(Article.id).where(Article.slug == slug)
    if article_id is not None:
        query = query.where(Article.id != article_id)
    if db.session.scalar(query) is not None:
        raise SlugTaken(fields={"slug": "already used by another article"})


def _flush_or_slug_taken() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a concurrent writer took the slug first
        raise SlugTaken(fields={"slug": "already used by another article"}) from exc


def publish(article: Article, at: datetime | None = None) -> None:
    """Publish now, or at ``at`` (a time ahead: scheduled; readers see it from then on,
    as every read compares publication times with its own now)."""
    results_cache.forget(article.slug)
    NEIGHBOURS.changed()
    purge_article_after_commit(article.id, lists=True)
    article.status = ArticleStatus.PUBLISHED.value
    now = utcnow()
    first_time = article.published_at is None or article.published_at > now
    if at is not None:
        article.published_at = at
    elif first_time:
        # Published now, or a scheduled article brought forward. Otherwise the first
        # publication date stands: unpublishing to fix a typo keeps its place.
        article.published_at = now
    if first_time:
        with db.session.no_autoflush:  # the caller flushes (and reports a taken slug)
            poll = article.poll
        if poll is not None:
            _drop_draft_votes(poll)


def _drop_draft_votes(poll: Poll) -> None:
    """Votes on a poll before its article was first published are editors trying it
    out, never readers' answers (a draft's poll takes no votes now, but older ones
    may hold some): the published poll starts from none. Deleting them moves the
    tallies back (tally_triggers), and the poll's day-by-day rollup, which then holds
    only those, goes too, so its timeline starts at publication."""
    if poll.id is None:
        return  # created with the article: nobody could vote yet
    # No autoflush: the article's pending changes are flushed (and a taken slug
    # reported) by the caller; these rows are already in the database.
    quiet = {"autoflush": False, "synchronize_session": False}
    db.session.execute(delete(Vote).where(Vote.poll_id == poll.id), execution_options=quiet)
    db.session.execute(
        delete(PollDailyTally).where(PollDailyTally.poll_id == poll.id), execution_options=quiet
    )
    # The vote history too (its trigger logged those deletions as withdrawals): the
    # editor's "minds changed" starts at publication, as the timeline does.
    db.session.execute(
        delete(VoteChange).where(VoteChange.poll_id == poll.id), execution_options=quiet
    )
    with db.session.no_autoflush:
        for option in poll.options:
            if inspect(option).persistent:
                db.session.expire(option, ["vote_count"])


def unpublish(article: Article) -> None:
    results_cache.forget(article.slug)
    NEIGHBOURS.changed()
    purge_article_after_commit(article.id, lists=True)
    article.status = ArticleStatus.DRAFT.value


def labels_named(names: list[str]) -> list[Label]:
    slugs = {slugify(name): name for name in names}
    existing = {
        label.slug: label
        for label in db.session.scalars(select(Label).where(Label.slug.in_(slugs)))
    }
    labels = []
    for slug, name in slugs.items():
        label = existing.get(slug)
        if label is None:
            label = Label(name=name, slug=slug)
            db.session.add(label)
        labels.append(label)
    return labels


def set_poll(article: Article, data: PollInput) -> Poll:
    """Create or edit the closing poll. Options keep their ids (and votes) by position;
    an option that already has votes cannot be removed."""
    poll = article.poll
    if poll is None:
        poll = Poll(question=data.question, article=article)
        db.session.add(poll)
    poll.question = data.question
    poll.closes_at = data.closes_at
    poll.results_visibility = data.results_visibility
    poll.allow_anonymous = data.allow_anonymous
    poll.signed_in_only_under_attack = data.signed_in_only_under_attack
    current = list(poll.options)
    for dropped in current[len(data.options) :]:
        if dropped.vote_count:
            raise Conflict(
                f"The option “{dropped.label}” already has votes and cannot be removed.",
                fields={"poll.options": "an option with votes cannot be removed"},
            )
        poll.options.remove(dropped)
    # Positions are unique per poll: move kept options out of the way first.
    for index, label in enumerate(data.options):
        if index < len(current):
            current[index].label = label
            current[index].position = index
        else:
            poll.options.append(PollOption(label=label, position=index))
    return poll


def close_poll(poll: Poll) -> None:
    results_cache.forget(poll.article.slug)
    purge_article_after_commit(poll.article_id)
    if poll.closed_at is None:
        poll.closed_at = utcnow()


def reopen_poll(poll: Poll) -> None:
    results_cache.forget(poll.article.slug)
    purge_article_after_commit(poll.article_id)
    poll.closed_at = None
