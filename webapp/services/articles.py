"""Articles: writing, publishing, labels, the closing poll's definition, reading order."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import and_, delete, func, inspect, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from webapp.errors import Conflict, InvalidInput, MalformedRequest, NotFound, SlugTaken
from webapp.extensions import db
from webapp.models import (
    Article,
    ArticleStatus,
    CommentMode,
    Label,
    Poll,
    PollDailyTally,
    PollOption,
    ResultsVisibility,
    Role,
    User,
    Vote,
    article_labels,
    utcnow,
)
from webapp.services import poll_cache
from webapp.pagination import cursor_int, cursor_time
from webapp.services.worker_cache import WorkerCache
from webapp.text import clean_block, clean_line

# Every article page links the articles published before and after it, which change
# only when an article is published, unpublished or edited: each worker keeps them
# for THREAD_CACHE_SECONDS, and an edit in this worker clears them at once.
NEIGHBOURS = WorkerCache("THREAD_CACHE_SECONDS", 1.0)

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
    present: set[str] = field(default_factory=set)


# --- parsing the API's JSON -------------------------------------------------


def _expect(payload: dict[str, Any], key: str, kind: type | tuple[type, ...], label: str) -> Any:
    value = payload.get(key)
    if value is not None and not isinstance(value, kind):
        raise MalformedRequest(f"{key} must be {label}.", fields={key: f"must be {label}"})
    return value


def parse_datetime(raw: str, field_name: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"{field_name} is not an ISO 8601 time.", fields={field_name: "not an ISO 8601 time"}
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise InvalidInput(
            f"{field_name} is out of range.", fields={field_name: "out of range"}
        ) from exc


def poll_input_from_json(raw: Any) -> PollInput:
    if not isinstance(raw, dict):
        raise MalformedRequest("poll must be an object.", fields={"poll": "must be an object"})
    question = _expect(raw, "question", str, "a string") or ""
    options = raw.get("options")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise MalformedRequest(
            "poll.options must be a list of strings.",
            fields={"poll.options": "must be a list of strings"},
        )
    closes_raw = _expect(raw, "closes_at", str, "an ISO 8601 string")
    visibility = _expect(raw, "results_visibility", str, "a string")
    allow_anonymous = _expect(raw, "allow_anonymous", bool, "true or false")
    return PollInput(
        question=question,
        options=list(options),
        closes_at=parse_datetime(closes_raw, "poll.closes_at") if closes_raw else None,
        results_visibility=visibility or ResultsVisibility.ALWAYS.value,
        allow_anonymous=bool(allow_anonymous),
    )


def changes_from_json(payload: Any) -> ArticleChanges:
    """Type-check the contract's article body (400 on wrong types)."""
    if not isinstance(payload, dict):
        raise MalformedRequest("The body must be a JSON object.")
    changes = ArticleChanges()
    for key in ("title", "body", "slug", "summary", "status", "comments"):
        value = _expect(payload, key, str, "a string")
        if key in payload:
            setattr(changes, key, value)
            changes.present.add(key)
    if "labels" in payload:
        labels = payload["labels"]
        if labels is None:
            labels = []
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise MalformedRequest(
                "labels must be a list of strings.", fields={"labels": "must be a list of strings"}
            )
        changes.labels = labels
        changes.present.add("labels")
    if "poll" in payload:
        changes.present.add("poll")
        if payload["poll"] is None:
            changes.remove_poll = True
        else:
            changes.poll = poll_input_from_json(payload["poll"])
    return changes


# --- validating values (422) --------------------------------------------------


def _validate(changes: ArticleChanges, creating: bool) -> dict[str, str]:
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


# --- writing ------------------------------------------------------------------


def create_article(author: User, changes: ArticleChanges) -> Article:
    errors = _validate(changes, creating=True)
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
    errors = _validate(changes, creating=False)
    if "slug" in changes.present and not changes.slug:
        errors["slug"] = "required"
    if errors:
        raise InvalidInput("Please correct the marked fields.", fields=errors)
    poll_cache.forget(article.slug)
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
    return article


def _apply(article: Article, changes: ArticleChanges) -> None:
    from webapp.services.markup import render_article

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
        publish(article)
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


def publish(article: Article) -> None:
    poll_cache.forget(article.slug)
    NEIGHBOURS.changed()
    article.status = ArticleStatus.PUBLISHED.value
    # The first publication date stands: unpublishing to fix a typo keeps its place.
    if article.published_at is None:
        article.published_at = utcnow()
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
    with db.session.no_autoflush:
        for option in poll.options:
            if inspect(option).persistent:
                db.session.expire(option, ["vote_count"])


def unpublish(article: Article) -> None:
    poll_cache.forget(article.slug)
    NEIGHBOURS.changed()
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
    poll_cache.forget(poll.article.slug)
    if poll.closed_at is None:
        poll.closed_at = utcnow()


def reopen_poll(poll: Poll) -> None:
    poll_cache.forget(poll.article.slug)
    poll.closed_at = None


# --- reading ------------------------------------------------------------------


def can_see_drafts(viewer: User | None) -> bool:
    return viewer is not None and viewer.has_role(Role.EDITOR)


def get_article(slug: str, viewer: User | None) -> Article:
    article = db.session.scalar(
        select(Article)
        .where(Article.slug == slug)
        # Everything an article page shows of it comes joined, in one round trip
        # (one row per option and label, a handful): the author, the labels, the
        # poll and its options.
        .options(
            joinedload(Article.author),
            joinedload(Article.labels),
            joinedload(Article.poll).joinedload(Poll.options),
        )
    )
    if article is None or (not article.is_published and not can_see_drafts(viewer)):
        raise NotFound("No published article has this address.")
    return article


def published_articles_query(label_slug: str | None = None):  # type: ignore[no-untyped-def]
    query = select(Article).where(Article.status == ArticleStatus.PUBLISHED)
    if label_slug:
        query = query.where(
            Article.id.in_(
                select(article_labels.c.article_id)
                .join(Label, Label.id == article_labels.c.label_id)
                .where(Label.slug == label_slug)
            )
        )
    return query


def list_published(
    limit: int, after: list[Any] | None = None, label_slug: str | None = None
) -> tuple[list[Article], list[Any] | None]:
    """Newest first, keyset-paginated by (published_at, id)."""
    query = published_articles_query(label_slug)
    if after is not None:
        try:
            when, last_id = cursor_time(after[0]), cursor_int(after[1])
        except (ValueError, TypeError, IndexError) as exc:
            raise MalformedRequest("The cursor is not valid.") from exc
        query = query.where(
            or_(
                Article.published_at < when,
                and_(Article.published_at == when, Article.id < last_id),
            )
        )
    rows = list(
        db.session.scalars(
            query.order_by(Article.published_at.desc(), Article.id.desc())
            .options(selectinload(Article.labels), selectinload(Article.author))
            .limit(limit + 1)
        )
    )
    next_key = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        assert last.published_at is not None
        next_key = [last.published_at.isoformat(), last.id]
    return rows, next_key


def page_of_published(
    page: int, per_page: int, label_slug: str | None = None
) -> tuple[list[Article], int]:
    """One numbered page for the HTML pages, and the number of pages."""
    query = published_articles_query(label_slug)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    rows = list(
        db.session.scalars(
            query.order_by(Article.published_at.desc(), Article.id.desc())
            .options(selectinload(Article.labels), selectinload(Article.author))
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return rows, pages


@dataclass(frozen=True)
class ArticleLink:
    """Enough of an article to link to it."""

    slug: str
    title: str


def neighbours(article: Article) -> tuple[ArticleLink | None, ArticleLink | None]:
    """(previous, next) published articles by publication order: every article page
    asks, so each worker keeps them a moment (``NEIGHBOURS``)."""
    if not article.is_published or article.published_at is None:
        return None, None
    when = article.published_at
    return NEIGHBOURS.get_or_build((article.id, when), partial(_read_neighbours, article.id, when))


def _read_neighbours(
    article_id: int, when: datetime
) -> tuple[ArticleLink | None, ArticleLink | None]:
    """(previous, next) published articles around (``when``, ``article_id``), in one
    round trip."""
    published = (Article.status == ArticleStatus.PUBLISHED, Article.id != article_id)
    earlier = (
        select(literal(0).label("side"), Article.slug, Article.title)
        .where(
            *published,
            or_(
                Article.published_at < when,
                and_(Article.published_at == when, Article.id < article_id),
            ),
        )
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(1)
        .subquery()
    )
    later = (
        select(literal(1).label("side"), Article.slug, Article.title)
        .where(
            *published,
            or_(
                Article.published_at > when,
                and_(Article.published_at == when, Article.id > article_id),
            ),
        )
        .order_by(Article.published_at.asc(), Article.id.asc())
        .limit(1)
        .subquery()
    )
    found: list[ArticleLink | None] = [None, None]
    for side, slug, title in db.session.execute(union_all(select(earlier), select(later))).tuples():
        found[side] = ArticleLink(slug, title)
    return found[0], found[1]


def all_articles_for_editors() -> list[Article]:
    return list(
        db.session.scalars(
            select(Article)
            .options(
                selectinload(Article.labels),
                selectinload(Article.author),
                selectinload(Article.poll),
            )
            .order_by(Article.updated_at.desc(), Article.id.desc())
        )
    )


def label_by_slug(slug: str) -> Label:
    label = db.session.scalar(select(Label).where(Label.slug == slug))
    if label is None:
        raise NotFound("No such label.")
    return label
