"""The lists' statements read index ranges, never a whole table of comments or votes
(issue 15), checked against each database's own plan (PostgreSQL's EXPLAIN after
ANALYZE, SQLite's EXPLAIN QUERY PLAN without statistics, as the app runs it) on a site
large enough that the planner has a choice: the moderation queues and their counts,
authors' histories, the audit log, the overview, the editors' desk and the API's list
of articles (neighbours and the reader's votes).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.models import Comment, CommentFlag, ModerationAction, User, Vote
from webapp.services import articles, insights, moderation

START = datetime(2026, 3, 1, tzinfo=UTC)
#: (articles, readers, comments, anonymous votes) on each database. PostgreSQL plans by
#: cost, so its site is big enough that a page is a small part of each table; SQLite
#: plans by rule (the app runs no ANALYZE), so a small site shows its plans.
SIZES = {"postgresql": (120, 1000, 20000, 5000), "sqlite": (30, 200, 2000, 500)}


@pytest.fixture
def busy(db, make_user, make_article, backend) -> dict[str, Any]:
    """Articles with polls; readers; comments in every state (a tenth held, a twentieth
    rejected, some approved, some reported with their reports); 1,000 log entries;
    anonymous votes, and a reader's votes in a third of the polls."""
    rnd = random.Random(15)
    article_count, reader_count, comment_count, vote_count = SIZES[backend.name]
    editor = make_user("editor")
    moderator = make_user("moderator")
    made = [
        make_article(f"Story {n}", author=editor, poll=True, published_at=START + timedelta(n))
        for n in range(article_count)
    ]
    db.session.execute(
        sa.insert(User),
        [
            {
                "email": f"reader-{n}@example.org",
                "password_hash": "-",
                "display_name": f"Reader {n}",
                "role": "reader",
                "created_at": START,
                "session_generation": 0,
            }
            for n in range(reader_count)
        ],
    )
    readers = list(db.session.scalars(sa.select(User.id).where(User.role == "reader")))
    rows = []
    for n in range(comment_count):
        draw = rnd.random()
        status = "published" if draw < 0.85 else "pending" if draw < 0.95 else "rejected"
        decided = status != "pending" and rnd.random() < 0.1
        reported = status != "rejected" and rnd.random() < 0.05
        rows.append(
            {
                "article_id": made[n % len(made)].id,
                "author_id": rnd.choice(readers),
                "body": "Words",
                "html": "<p>Words</p>",
                "status": status,
                "created_at": START + timedelta(minutes=n),
                "moderated_at": START if decided else None,
                "reported_at": START + timedelta(minutes=n) if reported else None,
                "sentiment": rnd.uniform(-1, 1),
                "reasons_held": [],
            }
        )
    db.session.execute(sa.insert(Comment), rows)
    reported = db.session.scalars(sa.select(Comment.id).where(Comment.reported_at.is_not(None)))
    db.session.execute(
        sa.insert(CommentFlag),
        [
            {"comment_id": comment_id, "user_id": user_id, "reason": "spam", "created_at": START}
            for comment_id in reported
            for user_id in rnd.sample(readers, rnd.randint(1, 3))
        ],
    )
    db.session.execute(
        sa.insert(ModerationAction),
        [
            {
                "actor_id": moderator.id,
                "action": rnd.choice(["approve", "reject", "ban"]),
                "target_user_id": rnd.choice(readers),
                "details": {},
                "created_at": START,
            }
            for _ in range(1000)
        ],
    )
    polls = [article.poll for article in made if article.poll is not None]
    db.session.execute(
        sa.insert(Vote),
        [
            {
                "poll_id": poll.id,
                "option_id": poll.options[n % 3].id,
                "voter_key": f"a:{n}",
                "created_at": START,
                "updated_at": START,
            }
            for n in range(vote_count)
            for poll in [polls[n % len(polls)]]
        ],
    )
    voter = db.session.get(User, readers[0])
    for article in made[::3]:
        assert article.poll is not None
        db.session.execute(
            sa.insert(Vote),
            {
                "poll_id": article.poll.id,
                "option_id": article.poll.options[0].id,
                "voter_key": f"u:{voter.id}",
                "user_id": voter.id,
            },
        )
    db.session.commit()
    if backend.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return {"voter": voter, "reader_id": readers[5], "backend": backend.name}


def _plans(db, run: Callable[[], Any]) -> list[tuple[str, str]]:
    """(statement, plan text) of every SELECT ``run`` makes, on this database."""
    ran: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        ran.append((statement, parameters))

    db.session.rollback()
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    found = []
    for statement, parameters in ran:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        lines = connection.exec_driver_sql(prefix + statement, parameters).all()
        text = "\n".join(str(line[0] if postgres else line[-1]) for line in lines)
        found.append((statement, text))
    return found


def _full_reads(plan: str, tables: tuple[str, ...] = ("comments", "votes")) -> list[str]:
    """Lines of a plan that read the whole of one of ``tables`` (or of an index of it,
    on SQLite: a SCAN rather than a SEARCH)."""
    names = "|".join(tables)
    pattern = rf"Seq Scan on ({names})\b|^\s*SCAN ({names})\b"
    return [line for line in plan.splitlines() if re.search(pattern, line)]


def _assert_ranges_only(plans: list[tuple[str, str]]) -> None:
    for statement, plan in plans:
        assert not _full_reads(plan), f"{statement}\n{plan}"


QUEUE_INDEXES = {
    "pending": "ix_comments_pending_queue",
    "reported": "ix_comments_reported_queue_ranked",
    "rejected": "ix_comments_rejected_queue",
    "approved": "ix_comments_approved_queue",
}


def _but_the_queue_in_order(plans: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The plans, but that SQLite's first page of the Reported queue reads its partial
    index from the start in the page's order (no condition bounds it: the index is the
    queue) and stops at the page's LIMIT; its line is taken out once checked."""
    kept = []
    for statement, plan in plans:
        whole = f"SCAN comments USING INDEX {QUEUE_INDEXES['reported']}"
        if whole in plan:
            assert "LIMIT" in statement and "TEMP B-TREE" not in plan, plan
            plan = plan.replace(whole, "")
        kept.append((statement, plan))
    return kept


def test_the_queue_counts_are_one_row_not_a_count_of_the_queues(db, busy):
    ran = []
    [(statement, counts)] = _plans(db, lambda: ran.append(moderation.queue_counts()))
    assert "moderation_queue_counts" in statement and "comments" not in statement
    assert "moderation_queue_counts" in counts and "comments" not in counts, counts
    # The row's primary key, not the table (SQLite: the row by its rowid).
    assert re.search(r"pk_moderation_queue_counts|SEARCH moderation_queue_counts", counts), counts
    # ...and it says what the queues hold.
    assert ran == [moderation.recount_queues()]
    assert ran[0]["reported"] > 25 and ran[0]["pending"] > 25


def test_the_queues_read_each_queue_s_own_index(db, busy):
    for status, index in QUEUE_INDEXES.items():
        _, after = moderation.queue(status, 25)
        assert after is not None
        for start in (None, after):
            plans = _plans(
                db, lambda status=status, start=start: moderation.queue(status, 25, start)
            )
            _assert_ranges_only(_but_the_queue_in_order(plans))
            page = plans[0][1]
            assert index in page, page
            histories = next(plan for statement, plan in plans if "count(*) FILTER" in statement)
            assert "ix_comments_author_history" in histories, histories


def test_a_reported_page_is_a_range_of_the_queue_s_index_in_its_order(db, busy):
    """The Reported queue ranks by open reports: the first page and a page that starts
    inside a rank and runs into the next are each read from the ranked index in the
    page's order (no sort of the queue), and nothing counts the reports of the queue."""
    top = db.session.scalar(sa.select(sa.func.max(Comment.open_reports)))
    in_rank = db.session.execute(
        sa.select(Comment.reported_at, Comment.id)
        .where(
            Comment.open_reports == top,
            Comment.reported_at.is_not(None),
            Comment.deleted_at.is_(None),
            Comment.status != "rejected",
        )
        .order_by(Comment.reported_at, Comment.id)
    ).all()
    # A key three before the end of the highest rank: the page of 10 runs into the next.
    assert len(in_rank) > 3, in_rank
    when, last_id = in_rank[-4]
    start = (top, when, last_id)
    items, _ = moderation.queue("reported", 10, start)
    assert [i.open_reports for i in items] == [top] * 3 + [top - 1] * 7
    for key in (None, start):
        plans = _plans(db, lambda key=key: moderation.queue("reported", 10, key))
        _assert_ranges_only(_but_the_queue_in_order(plans))
        pages = [
            plan for statement, plan in plans if "ORDER BY comments.open_reports DESC" in statement
        ]
        assert len(pages) == (1 if key is None else 2), plans
        for plan in pages:
            assert QUEUE_INDEXES["reported"] in plan, plan
            assert "comment_flags" not in plan, plan
            assert not re.search(r"\bSort\b|TEMP B-TREE FOR ORDER BY", plan), plan


def test_the_audit_log_and_a_readers_page_read_index_ranges(db, busy):
    reader = db.session.get(User, busy["reader_id"])
    plans = _plans(
        db,
        lambda: (
            moderation.audit_log(50),
            moderation.audit_log(20, user_id=reader.id),
            moderation.recent_comments(reader, 20),
            moderation.author_histories({reader.id}),
        ),
    )
    _assert_ranges_only(plans)
    by_reader = next(plan for statement, plan in plans if "target_user_id = " in statement)
    assert "ix_moderation_actions_target_user_id_id" in by_reader, by_reader
    assert not _full_reads(by_reader, ("moderation_actions",)), by_reader
    recent = next(plan for statement, plan in plans if "comments.author_id = " in statement)
    assert re.search(r"ix_comments_author_\w+", recent), recent


def test_the_overview_the_desk_and_the_articles_list_read_their_page_s_rows(db, busy):
    first = insights.overview(per_page=10)
    plans = _plans(
        db,
        lambda: (
            insights.overview(per_page=10),
            insights.overview("published", None, first.next_key, per_page=10),
            insights.overview("comments", per_page=10),
            articles.articles_for_editors(10),
        ),
    )
    _assert_ranges_only(plans)
    tones = [plan for statement, plan in plans if "FROM article_tone_counts" in statement]
    assert len(tones) == 3
    for plan in tones:
        # The tone counters of the page's articles (kept by triggers, a row per poll
        # answer), a range per article; no comment is read.
        assert re.search(r"article_id = ANY|article_id=\?", plan), plan
        assert not re.search(r"\bon comments\b|SCAN comments|SEARCH comments", plan), plan
    voter = busy["voter"]
    plans = _plans(db, lambda: articles.published_for_reader(20, None, None, f"u:{voter.id}"))
    _assert_ranges_only(plans)
    neighbours = next(plan for statement, plan in plans if "around" in statement)
    # Either index leading to (published_at, id) seeks to the article: one probe per item
    # (PostgreSQL picks by cost; drafts, with no published_at, are outside both ranges).
    assert re.search(r"ix_articles_(status_published_at|published_at_id)", neighbours), neighbours
    [votes] = [plan for statement, plan in plans if "FROM votes" in statement]
    assert re.search(r"uq_votes_poll_id|sqlite_autoindex_votes", votes), votes
