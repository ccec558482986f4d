"""The comment rows of a scale-benchmark site: the hot thread, the cold threads with
the queues, reactions and scores, reports and the Reported queue, reply counts.

Each is a step of ``bench.scale_rows.Shape`` (whose docstring gives the numbering);
comments go in with every trigger on ``comments`` running, in transactions of
``CHUNK`` rows (``HOT_CHUNK`` on the hot thread); the counters the app keeps itself
(scores, report counts, reply counts) are then set from the rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bench.scale_rows import HELD, HOT_AT, REPORT_REASONS

if TYPE_CHECKING:
    from bench.scale_rows import Shape


def _author(shape: Shape, every_50th: int, factor: int) -> str:
    """Every 50th comment (at ``every_50th``) is the busiest reader's; the rest spread."""
    user, others = shape.ids.user, shape.s.users - 1
    spread = f"{user} + 1 + (n * {factor}) % {others}"
    return f"CASE WHEN n % 50 = {every_50th} THEN {user} ELSE {spread} END"


def _comment_text(shape: Shape) -> dict[str, str]:
    sql = shape.sql
    sentiment = "((n * 7919) % 2001 - 1000)"
    return {
        "body": sql.choose("n % 12", [f":b{i}" for i in range(12)]),
        "html": sql.choose("n % 12", [f":h{i}" for i in range(12)]),
        "sentiment": f"{sql.real(sentiment)} / 1000.0",
        "sentiment_label": (
            f"CASE WHEN {sentiment} >= 50 THEN 'positive' "
            f"WHEN {sentiment} <= -50 THEN 'negative' ELSE 'neutral' END"
        ),
        "edited_at": "NULL",
        "deleted_at": "NULL",
        "featured_at": "NULL",
        "score": "0",
        "flag_count": "0",
        "reply_count": "0",
        "reported_at": "NULL",
    }


def hot_comments(shape: Shape, connection: sa.Connection, insert: Any) -> None:
    from bench.scale_data import HOT_CHUNK, body_params

    sql, ids = shape.sql, shape.ids
    base = ids.comment + shape.cold  # after the cold threads: the newest comments
    insert(
        connection,
        sql,
        "comments",
        {
            "id": f"{base} + n",
            "article_id": shape.article_id("0"),
            "author_id": _author(shape, 0, 7),
            "parent_id": (
                f"CASE WHEN n % 5 < 2 THEN NULL WHEN n % 5 < 4 "
                f"THEN {base} + 5 * ((n / 5) - (n / 5) % 3) ELSE {base} + n - 1 END"
            ),
            "in_reply_to_id": "NULL",
            "depth": "CASE WHEN n % 5 < 2 THEN 0 WHEN n % 5 < 4 THEN 1 ELSE 2 END",
            "status": "'published'",
            "created_at": sql.at(f"{HOT_AT} + (n + 1) * {shape.hot_comment_step:.6f}"),
            "toxicity": f"{sql.real('(n * 31) % 50')} / 100.0",
            "reasons_held": sql.json("[]"),
            "rejection_reason": "NULL",
            "moderated_at": "NULL",
            **_comment_text(shape),
        },
        shape.s.hot_comments,
        body_params(),
        chunk=HOT_CHUNK,
        vacuum="articles",
    )


def cold_comments(shape: Shape, connection: sa.Connection, insert: Any) -> None:
    from bench.scale_data import CHUNK, body_params

    sql, ids, a1, each = shape.sql, shape.ids, shape.a1, shape.per_article
    base = ids.comment
    k = f"(n % {each})"  # the comment's place on its article
    article = f"{a1} - n / {each}"  # oldest cold article first
    carrier = f"{k} % 4 < 2"
    v = "(n * 37) % 1000"
    pending = f"{carrier} AND {v} < {shape.pending_to}"
    rejected = f"{carrier} AND {v} >= {shape.pending_to} AND {v} < {shape.rejected_to}"
    decided = f"{carrier} AND {v} >= {shape.pending_to} AND {v} < {shape.approved_to}"
    seconds = f"{shape.published(article)} + ({k} + 1) * {shape.cold_step:.3f}"
    decided_at, held, low = sql.at(f"{seconds} + 3600"), sql.json(HELD), sql.real("(n * 31) % 50")
    insert(
        connection,
        sql,
        "comments",
        {
            "id": f"{base} + n",
            "article_id": shape.article_id(article),
            "author_id": _author(shape, 25, 11),
            "parent_id": f"CASE WHEN {k} % 4 = 3 THEN {base} + n - 1 ELSE NULL END",
            "in_reply_to_id": "NULL",
            "depth": f"CASE WHEN {k} % 4 = 3 THEN 1 ELSE 0 END",
            "status": (
                f"CASE WHEN {pending} THEN 'pending' WHEN {rejected} THEN 'rejected' "
                "ELSE 'published' END"
            ),
            "created_at": sql.at(seconds),
            "moderated_at": f"CASE WHEN {decided} THEN {decided_at} ELSE NULL END",
            "rejection_reason": f"CASE WHEN {rejected} THEN 'Off topic' ELSE NULL END",
            "reasons_held": f"CASE WHEN {pending} THEN {held} ELSE {sql.json('[]')} END",
            "toxicity": f"CASE WHEN {pending} THEN 0.91 ELSE {low} / 100.0 END",
            **_comment_text(shape),
        },
        shape.cold,
        body_params(),
        chunk=CHUNK,
        vacuum="articles",
    )


def reactions(shape: Shape, connection: sa.Connection, insert: Any) -> None:
    hot = shape.s.hot_comments
    tops = 2 * (hot // 5) + min(hot % 5, 2)
    if tops == 0:
        return
    count = min(shape.s.reactions, tops * shape.s.users)
    h = f"(5 * ((n % {tops}) / 2) + (n % {tops}) % 2)"
    insert(
        connection,
        shape.sql,
        "comment_reactions",
        {
            "comment_id": f"{shape.ids.comment + shape.cold} + {h}",
            "user_id": shape.reader(f"n / {tops} + (n % {tops}) * 13"),
            "value": "CASE WHEN (n * 7) % 10 < 7 THEN 1 ELSE -1 END",
            "created_at": shape.sql.at(f"{HOT_AT} + ({h} + 1) * {shape.hot_comment_step:.6f} + 60"),
        },
        count,
    )
    connection.execute(
        sa.text(
            "UPDATE comments SET score = (SELECT sum(r.value) FROM comment_reactions r "
            "WHERE r.comment_id = comments.id) "
            "WHERE id IN (SELECT comment_id FROM comment_reactions)"
        )
    )


def reports(shape: Shape, connection: sa.Connection, _insert: Any) -> None:
    from bench.scale_data import REPORTS_EACH

    wanted = shape.s.reports // REPORTS_EACH
    if wanted == 0:
        return
    # Every so many published comments not yet decided on, the hot thread's included.
    eligible = connection.scalars(
        sa.text(
            "SELECT id FROM comments WHERE status = 'published' AND moderated_at IS NULL "
            "AND deleted_at IS NULL ORDER BY id"
        )
    ).all()
    chosen = eligible[:: max(1, len(eligible) // wanted)][:wanted]
    connection.execute(sa.text("CREATE TEMPORARY TABLE scale_reported (id integer PRIMARY KEY)"))
    connection.execute(
        sa.text("INSERT INTO scale_reported (id) VALUES (:id)"), [{"id": i} for i in chosen]
    )
    sql = shape.sql
    connection.execute(
        sa.text(
            "INSERT INTO comment_flags (comment_id, user_id, reason, note, weight, "
            f"created_at) {sql.series()}SELECT c.id, {shape.reader('c.id * 13 + seq.n')}, "
            f"{sql.choose('seq.n % 4', shape._quoted(REPORT_REASONS))}, "
            "CASE WHEN seq.n = 0 THEN 'Please look at this' ELSE NULL END, 1.0, "
            f"{sql.shift('c.created_at', '(seq.n + 1) * 60')} FROM scale_reported r "
            "JOIN comments c ON c.id = r.id CROSS JOIN seq"
        ),
        {"lo": 0, "hi": REPORTS_EACH - 1},
    )
    connection.execute(sa.text("DROP TABLE scale_reported"))
    flagged = "id IN (SELECT comment_id FROM comment_flags)"
    connection.execute(
        sa.text(
            f"UPDATE comments SET reported_at = {sql.shift('created_at', '60')}, "
            "flag_count = (SELECT count(*) FROM comment_flags f "
            f"WHERE f.comment_id = comments.id) WHERE {flagged}"
        )
    )


def reply_counts(shape: Shape, connection: sa.Connection, _insert: Any) -> None:
    connection.execute(
        sa.text(
            "UPDATE comments SET reply_count = (SELECT count(*) FROM comments r "
            "WHERE r.parent_id = comments.id) "
            "WHERE id IN (SELECT parent_id FROM comments WHERE parent_id IS NOT NULL)"
        )
    )
