"""Tables the benchmark's floor endpoints write to (bench/bench_app.py).

The minimal vote must cost what storing one vote row costs, and no more. The real
``votes`` table moves the poll tallies in the same statement (database triggers,
webapp/models/tally_triggers.py), so a row stored there would pay for the tallies
too and flatter the ratio against the contract's endpoint. ``bench_votes`` is the
same table (its columns, keys, foreign keys, unique constraint and indexes, copied
from the model) without those triggers: one row in it is the floor of a durable vote.
"""

from __future__ import annotations

import sqlalchemy as sa

BENCH_VOTES = "bench_votes"


def bench_votes_table() -> sa.Table:
    """``votes`` copied as ``bench_votes`` into the models' metadata (so its foreign
    keys resolve), with the copied indexes and constraints renamed to stay unique."""
    from webapp.models import Base, Vote

    if BENCH_VOTES in Base.metadata.tables:
        return Base.metadata.tables[BENCH_VOTES]
    table = Vote.__table__.to_metadata(Base.metadata, name=BENCH_VOTES)
    for item in (*table.indexes, *table.constraints):
        name = item.name
        if isinstance(name, str) and "votes" in name:
            item.name = sa.schema.conv(name.replace("votes", BENCH_VOTES))  # type: ignore[assignment]
    return table
