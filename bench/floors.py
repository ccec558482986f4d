"""Tables the benchmark's floor endpoints write to (bench/bench_app.py).

A floor must cost what storing one row costs, and no more. The real ``votes`` and
``comments`` tables have triggers that move stored counts in the same statement
(the poll tallies, webapp/models/tally_triggers.py; the articles' comment counts,
webapp/models/comment_triggers.py), so a row stored there would pay for those too
and flatter the ratio against the contract's endpoint. ``bench_votes`` and
``bench_comments`` are the same tables (columns, keys, foreign keys, unique
constraints and indexes, copied from the models) without the triggers: one row in
either is the floor of a durable vote or comment.
"""

from __future__ import annotations

import sqlalchemy as sa

BENCH_VOTES = "bench_votes"
BENCH_COMMENTS = "bench_comments"


def _copy_without_triggers(table: sa.Table, name: str) -> sa.Table:
    """``table`` copied as ``name`` into the models' metadata (so its foreign keys
    resolve), with the copied indexes and constraints renamed to stay unique. The
    triggers are not part of the table's metadata, so the copy has none."""
    from webapp.models import Base

    if name in Base.metadata.tables:
        return Base.metadata.tables[name]
    copy = table.to_metadata(Base.metadata, name=name)
    for item in (*copy.indexes, *copy.constraints):
        old = item.name
        if isinstance(old, str) and table.name in old:
            item.name = sa.schema.conv(old.replace(table.name, name))  # type: ignore[assignment]
    return copy


def bench_votes_table() -> sa.Table:
    """``votes`` without its tally triggers, for POST /bench/minimal-vote."""
    from webapp.models import Vote

    return _copy_without_triggers(Vote.__table__, BENCH_VOTES)  # type: ignore[arg-type]


def bench_comments_table() -> sa.Table:
    """``comments`` without its count triggers, for POST /bench/minimal-comment."""
    from webapp.models import Comment

    return _copy_without_triggers(Comment.__table__, BENCH_COMMENTS)  # type: ignore[arg-type]
