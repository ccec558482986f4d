"""A busy thread in miniature, written in bulk, for the tests of the thread's query
plans (tests/services/test_thread_plans.py, tests/api/test_thread_plans.py).

The shapes are the big site's: a hot article with a poll whose votes outnumber its
comments many times, most of them anonymous; top-level comments in every status, many
sharing a score (so "top" pages end inside a run of equal scores); replies two levels
deep; a few featured comments; and other articles with comments of their own, so the
hot thread is a small part of the table, not all of it.

It is built once per module and database (``site``): the tests only read it (or change
what none of the others reads), and building it costs seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from tests.conftest import PASSWORD, TEST_SECRET, Backend, IsolatedClient, _empty_tables
from webapp import create_app
from webapp.config import CACHE_SETTINGS
from webapp.extensions import db as _db
from webapp.models import Article, Comment, Poll, PollOption, Role, User, Vote
from webapp.services import articles
from webapp.services.accounts import create_user

ROOTS = 240
OTHER_COMMENTS = 900
#: Comments on other articles written in bulk (on PostgreSQL), so that the thread is a
#: small part of the table, as a hot article's comments are of a big site's.
FILLER = 20000
FILLER_ARTICLES = 200
COMMENTERS = 80
VOTERS = 120
ANONYMOUS_VOTES = 2500
OTHER_POLLS = 40
START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@dataclass
class Thread:
    app: Flask
    article: Any
    poll_id: int
    option_ids: list[int]
    commenters: list[int]
    #: The signed-in reader with comments of their own in the thread.
    viewer: Any
    moderator: Any
    #: The viewer's own top-level comments that are not published (held, rejected).
    own_unpublished: list[int]


def _status(number: int) -> str:
    if number % 9 == 4:
        return "pending"
    if number % 13 == 6:
        return "rejected"
    return "published"


def _comment(article_id: int, author_id: int, number: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "article_id": article_id,
        "author_id": author_id,
        "parent_id": None,
        "in_reply_to_id": None,
        "depth": 0,
        "body": f"Comment {number}",
        "html": f"<p>Comment {number}</p>",
        "status": "published",
        "created_at": START + timedelta(minutes=number),
        "edited_at": None,
        "deleted_at": None,
        "featured_at": None,
        "score": 0,
        "flag_count": 0,
        "reply_count": 0,
        "toxicity": 0.01,
        "sentiment": ((number * 37) % 200 - 100) / 100,
        "sentiment_label": ("negative", "neutral", "positive")[number % 3],
        "reasons_held": [],
        "rejection_reason": None,
        "reported_at": None,
        "moderated_at": None,
    }
    row.update(values)
    return row


def _users(db: Any, prefix: str, count: int) -> list[int]:
    db.session.execute(
        sa.insert(User),
        [
            {
                "email": f"{prefix}{n}@example.org",
                "display_name": f"{prefix.title()} {n}",
                "password_hash": "x",
                "role": "reader",
                "created_at": START - timedelta(days=30),
            }
            for n in range(count)
        ],
    )
    return list(
        db.session.scalars(
            sa.select(User.id).where(User.email.like(f"{prefix}%@example.org")).order_by(User.id)
        )
    )


def site(backend: Backend) -> Iterator[Thread]:
    """The thread, on an app of its own (caches off, as signed-in readers always get)
    whose app context stays pushed for the module; its tables are emptied after."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": backend.url,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "ARGON2_PROFILE": "CHEAPEST",
            **dict.fromkeys(CACHE_SETTINGS, 0),
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        try:
            yield _build(app, _db)
        finally:
            _db.session.remove()
            _empty_tables(_db.engine)
            _db.engine.dispose()


def _article(author: User, title: str, poll: bool) -> Article:
    question = articles.PollInput(question="Will it hold?", options=["Yes", "No", "Unsure"])
    return articles.create_article(
        author,
        articles.ArticleChanges(
            title=title,
            body="Some reporting.",
            labels=[],
            status="published",
            comments="open",
            poll=question if poll else None,
        ),
    )


def _build(app: Flask, db: Any) -> Thread:
    """The hot article (with a poll) and another, filled in bulk; the reader gets a
    few top-level comments of their own in every status."""
    viewer = create_user("reader@example.org", PASSWORD, Role.READER, "Reader")
    moderator = create_user("moderator@example.org", PASSWORD, Role.MODERATOR, "Moderator")
    editor = create_user("editor@example.org", PASSWORD, Role.EDITOR, "Editor")
    article = _article(editor, "The hot one", poll=True)
    other_article = _article(editor, "Elsewhere", poll=False)
    db.session.commit()
    commenters = _users(db, "commenter", COMMENTERS)
    voters = _users(db, "voter", VOTERS)
    # Before and after the thread (so no range of ids is the thread's alone), and only
    # on PostgreSQL: SQLite plans without statistics, whatever the table's size.
    filled = db.engine.dialect.name == "postgresql"
    if filled:
        _filler(db, commenters[1], "before")
    table = Comment.__table__
    others = iter(range(OTHER_COMMENTS))

    def elsewhere(count: int) -> list[dict[str, Any]]:
        """Comments on the other article, posted between the thread's (as on a site
        where many threads run at once)."""
        return [
            _comment(other_article.id, commenters[n % COMMENTERS], 5000 + n, status=_status(n))
            for n in (next(others, None) for _ in range(count))
            if n is not None
        ]

    between = OTHER_COMMENTS // (2 * ROOTS)
    rows = []
    for n in range(ROOTS):
        values: dict[str, Any] = {"status": _status(n), "score": (n * 7) % 5 - 1}
        if n % 16 == 3:
            values["featured_at"] = START
        rows.append(_comment(article.id, commenters[n % COMMENTERS], n, **values))
        rows.extend(elsewhere(between))
    for n, status in enumerate(("published", "pending", "rejected", "pending")):
        rows.append(_comment(article.id, viewer.id, ROOTS + n, status=status, score=n % 2))
    db.session.execute(table.insert(), rows)
    root_ids = list(
        db.session.scalars(
            sa.select(Comment.id)
            .where(Comment.article_id == article.id, Comment.parent_id.is_(None))
            .order_by(Comment.id)
        )
    )
    rows = []
    for n, root_id in enumerate(root_ids[::2]):
        rows.append(
            _comment(
                article.id,
                commenters[(n * 3) % COMMENTERS],
                ROOTS + 10 + n,
                parent_id=root_id,
                depth=1,
                status=_status(n + 1),
            )
        )
        rows.extend(elsewhere(between))
    rows.extend(elsewhere(OTHER_COMMENTS))
    db.session.execute(table.insert(), rows)
    if filled:
        _filler(db, commenters[1], "after")
    poll = db.session.scalars(sa.select(Poll).where(Poll.article_id == article.id)).one()
    option_ids = [option.id for option in poll.options]
    signed_in = [
        {
            "poll_id": poll.id,
            "option_id": option_ids[n % len(option_ids)],
            "voter_key": f"u:{user_id}",
            "user_id": user_id,
            "created_at": START,
            "updated_at": START,
        }
        for n, user_id in enumerate(commenters[::2] + voters)
    ]
    anonymous = [
        {
            "poll_id": poll.id,
            "option_id": option_ids[n % len(option_ids)],
            "voter_key": f"a:{n:032x}",
            "user_id": None,
            "created_at": START,
            "updated_at": START,
        }
        for n in range(ANONYMOUS_VOTES)
    ]
    db.session.execute(sa.insert(Vote), signed_in + anonymous + _votes_elsewhere(db, article))
    own = list(
        db.session.scalars(
            sa.select(Comment.id).where(
                Comment.author_id == viewer.id,
                Comment.article_id == article.id,
                Comment.status != "published",
            )
        )
    )
    db.session.commit()
    analyze(db)
    return Thread(app, article, poll.id, option_ids, commenters, viewer, moderator, own)


def _series(count: int) -> Any:
    """A counting CTE: n from 1 to ``count``."""
    seq = sa.select(sa.literal(1, sa.Integer).label("n")).cte("seq", recursive=True)
    return seq.union_all(sa.select(seq.c.n + 1).where(seq.c.n < count))


def _filler(db: Any, author_id: int, part: str) -> None:
    """FILLER / 2 comments spread over FILLER_ARTICLES other articles, each
    set written by one INSERT ... SELECT (spread, so that the triggers' counts move each
    article's row a few times, not one row thousands of times in one transaction)."""
    articles = _series(FILLER_ARTICLES)
    first = db.session.scalar(sa.select(sa.func.max(Article.id))) + 1
    article_values = {
        "slug": sa.literal(f"filler-{part}-") + sa.cast(articles.c.n, sa.String),
        "title": sa.literal("Filler"),
        "summary": sa.literal(""),
        "body": sa.literal("b"),
        "html": sa.literal("<p>b</p>"),
        "status": sa.literal("published"),
        "comment_mode": sa.literal("open"),
        "author_id": sa.literal(author_id, sa.Integer),
        "created_at": sa.literal(START, Article.__table__.c.created_at.type),
        "updated_at": sa.literal(START, Article.__table__.c.updated_at.type),
    }
    _insert_select(db, Article, article_values)
    seq = _series(FILLER // 2)
    values = {
        "article_id": sa.literal(first, sa.Integer) + seq.c.n % FILLER_ARTICLES,
        "author_id": sa.literal(author_id, sa.Integer),
        "depth": sa.literal(0, sa.Integer),
        "body": sa.literal("Filler"),
        "html": sa.literal("<p>Filler</p>"),
        # A quarter held for moderation, as on a big site.
        "status": sa.case((seq.c.n % 4 == 1, "pending"), else_="published"),
        "created_at": sa.literal(START, Comment.__table__.c.created_at.type),
        "score": sa.literal(0, sa.Integer),
        "flag_count": sa.literal(0, sa.Integer),
        "reply_count": sa.literal(0, sa.Integer),
        "reasons_held": sa.literal([], Comment.__table__.c.reasons_held.type),
        "sentiment": sa.literal(0.0, sa.Float),
        "sentiment_label": sa.literal("neutral"),
    }
    _insert_select(db, Comment, values)


def _insert_select(db: Any, model: Any, values: dict[str, Any]) -> None:
    db.session.execute(
        sa.insert(model).from_select(
            list(values), sa.select(*(v.label(k) for k, v in values.items()))
        )
    )


def _votes_elsewhere(db: Any, article: Any) -> list[dict[str, Any]]:
    """Every voter also voted in the polls of other articles (as readers of a big site
    do): a voter's votes are many, and the thread asks for those in its poll alone."""
    articles = Article.__table__
    db.session.execute(
        articles.insert(),
        [
            {
                "slug": f"elsewhere-{n}",
                "title": f"Elsewhere {n}",
                "summary": "",
                "body": "b",
                "html": "<p>b</p>",
                "status": "published",
                "comment_mode": "open",
                "author_id": article.author_id,
                "created_at": START,
                "updated_at": START,
                "published_at": START,
            }
            for n in range(OTHER_POLLS)
        ],
    )
    rows = []
    for n in range(OTHER_POLLS):
        article_id = db.session.scalar(
            sa.select(Article.id).where(Article.slug == f"elsewhere-{n}")
        )
        poll_id = db.session.execute(
            sa.insert(Poll).returning(Poll.id),
            {"article_id": article_id, "question": "Elsewhere?", "created_at": START},
        ).scalar_one()
        option_id = db.session.execute(
            sa.insert(PollOption).returning(PollOption.id),
            {"poll_id": poll_id, "position": 0, "label": "Yes"},
        ).scalar_one()
        voters = db.session.scalars(sa.select(User.id))
        rows.extend(
            {
                "poll_id": poll_id,
                "option_id": option_id,
                "voter_key": f"u:{user_id}",
                "user_id": user_id,
                "created_at": START,
                "updated_at": START,
            }
            for user_id in voters
        )
    return rows


def analyze(db: Any) -> None:
    """PostgreSQL plans from statistics, which a live site's autovacuum keeps; SQLite,
    which the site never analyzes, plans without any, and so is left without."""
    if db.engine.dialect.name == "postgresql":
        # A table at a time, each in a transaction of its own: autovacuum may be
        # analyzing one of them too, and holding one lock while waiting for another
        # could deadlock with it.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("users", "articles", "polls", "poll_options", "comments", "votes"):
                connection.exec_driver_sql(f"ANALYZE {table}")
