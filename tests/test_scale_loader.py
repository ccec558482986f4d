"""The scale benchmark's bulk loader (bench/scale_data.py) keeps every stored count right.

At a tiny size, on each database: what ``load`` writes passes the benchmark's own
check (``flask polls recount`` finds no drift, daily rollups add up, comment counts
equal the rows, the hot article's through ``recount_article``), and the counters the
app keeps itself (reply counts, report counts, scores) equal a recount of the rows.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from bench.harness import throwaway_database
from bench.scale_data import Scale, check, load
from tests.conftest import DEFAULT_POSTGRES_URL, Backend
from webapp.config import database_url_from

TINY = Scale(
    "tiny", articles=12, users=50, votes=300, hot_votes=200, comments=200, hot_comments=100,
    pending=10, rejected=5, approved=5, reports=20, audit=10, reactions=50,
)  # fmt: skip

DRIFTS = {
    "reply counts": "SELECT count(*) FROM comments c WHERE c.reply_count <> "
    "(SELECT count(*) FROM comments r WHERE r.parent_id = c.id)",
    "report counts": "SELECT count(*) FROM comments c WHERE c.flag_count <> "
    "(SELECT count(*) FROM comment_flags f WHERE f.comment_id = c.id)",
    "scores": "SELECT count(*) FROM comments c WHERE c.score <> "
    "coalesce((SELECT sum(r.value) FROM comment_reactions r WHERE r.comment_id = c.id), 0)",
    "Reported queue without reports": "SELECT count(*) FROM comments c WHERE "
    "(c.reported_at IS NOT NULL) <> (c.flag_count > 0)",
}


def test_bulk_load_keeps_every_count(backend: Backend) -> None:
    postgres = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    with throwaway_database(backend.name, postgres) as url:
        site = load(url, TINY)
        ok, said = check(site)
        assert ok, said
        engine = sa.create_engine(database_url_from(url))
        with engine.connect() as connection:
            drifts = {name: connection.scalar(sa.text(sql)) for name, sql in DRIFTS.items()}
            totals = connection.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM votes), (SELECT count(*) FROM comments), "
                    "(SELECT count(*) FROM comment_flags), (SELECT count(*) FROM comments "
                    "WHERE status = 'pending'), (SELECT count(*) FROM moderation_actions)"
                )
            ).one()
        engine.dispose()
    assert drifts == dict.fromkeys(DRIFTS, 0)
    votes, comments, reports, pending, audit = totals
    assert (votes, comments, reports, audit) == (300, 200, 20, 10)
    assert pending > 0
