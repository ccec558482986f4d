"""The sites bench/scale.py measures: a fresh one and a busy newsroom's, bulk-loaded.

``load(url, scale)`` makes the schema, the benchmark's named accounts (through the
service layer, so they can sign in) and the labels, then writes everything else with
set-based SQL (``INSERT ... SELECT`` over ``generate_series`` or a recursive CTE,
bench/scale_sql.py), in this order:

- readers (one executemany, with their look-alike keys), articles, polls, options and
  labels, ids given explicitly so every later row can name its parent by arithmetic;
- votes: most on the hot article's poll (every reader's, then anonymous ones), the
  rest spread over the other polls. The tally triggers (webapp/models/tally_triggers.py)
  are off meanwhile and the tallies and daily rollups are then set from the rows, as
  bench/polls.py does; any other trigger on votes runs;
- comments, with every trigger on comments running (the article counts and whatever
  else the schema keeps by trigger), in transactions of ``CHUNK`` rows with the
  articles vacuumed between them on PostgreSQL (the counts' dead row versions would
  otherwise slow every later trigger): on the hot article a threaded discussion (40 %
  top-level, replies two levels deep), on the others short threads carrying the
  pending, rejected and approved comments;
- reactions on the hot thread's top-level comments, reports on published comments
  (which puts them in the Reported queue), and the audit log;
- the counters the app keeps by hand (reply counts, report counts, scores), set from
  the rows.

``check(url, site)`` is what the run trusts the load by: ``flask polls recount`` finds
no drift, the daily rollups add up to the tallies, and every article's comment count
(the hot one through ``recount_article``) equals a count of its rows.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bench import scale_integrity, scale_moderation, scale_tone
from bench.comments import BODIES
from bench.harness import ROOT, SECRET_KEY, seeding
from bench.scale_sql import Dialect

# Rows per transaction while comment triggers run (the articles' counts are vacuumed
# between them on PostgreSQL); on the hot thread every row moves the same article's
# count, and a transaction's versions of that row pile up until it commits.
CHUNK = 2_000
HOT_CHUNK = 1_000
VOTE_CHUNK = 250_000
DAY = 86_400
LABELS = ["World", "Politics", "Economy", "Climate", "Science", "Culture", "Sport", "Health"]
OPTIONS = ["Yes", "No", "Too early to tell"]
ARTICLE_BODY = "\n\n".join(
    [
        "The ceasefire announced on Saturday held through its first week, according to "
        "officials on both sides of the line of control, although each side accused the "
        "other of minor violations in the first days.",
        "## What was agreed",
        "Military commanders agreed to restore the hotline between the two headquarters, "
        "to stop shelling across the line, and to meet again within a month. No political "
        "talks were scheduled, and the question of the disputed territory was not raised.",
        "## What comes next",
        "Diplomats expect trade talks to resume if the calm lasts beyond the elections. "
        "Families living near the line say schools have reopened for the first time since "
        "the spring, and farmers have started to return to fields they had left.",
    ]
)


@dataclass(frozen=True)
class Scale:
    name: str
    articles: int
    users: int
    votes: int
    hot_votes: int
    comments: int
    hot_comments: int
    pending: int
    rejected: int
    approved: int
    reports: int
    audit: int
    reactions: int

    def divided(self, by: int) -> Scale:
        """Everything ``by`` times smaller (``--quick``), keeping the shape."""
        return replace(
            self,
            articles=max(12, self.articles // by),
            users=max(50, self.users // by),
            votes=self.votes // by,
            hot_votes=self.hot_votes // by,
            comments=self.comments // by,
            hot_comments=self.hot_comments // by,
            pending=self.pending // by,
            rejected=self.rejected // by,
            approved=self.approved // by,
            reports=self.reports // by,
            audit=self.audit // by,
            reactions=self.reactions // by,
        )

    def describe(self) -> str:
        return (
            f"{self.articles:,} articles, {self.users:,} readers, {self.votes:,} votes "
            f"({self.hot_votes:,} on the hot article), {self.comments:,} comments "
            f"({self.hot_comments:,} on the hot article; {self.pending:,} pending, "
            f"{self.rejected:,} rejected, {self.approved:,} approved), {self.reports:,} "
            f"reports, {self.reactions:,} reactions, {self.audit:,} audit entries"
        )


#: The issue's newsroom.
LARGE = Scale(
    "large",
    articles=2_000,
    users=10_000,
    votes=1_000_000,
    hot_votes=900_000,
    comments=200_000,
    hot_comments=20_000,
    pending=50_000,
    rejected=10_000,
    approved=20_000,
    reports=100_000,
    audit=100_000,
    reactions=100_000,
)
#: A young site, but one whose every list fills its first page and has a second (the
#: dashboard and overview show 50 articles, the queues 25 comments, the audit log 50
#: entries, an ordinary article's thread 20 top-level comments, a label's trend 20
#: polls), so that small and large
#: pages show as many rows and the growth measures the site, not the page: a few hundred
#: of everything, and about 100 comments per article as on the large site.
SMALL = Scale(
    "small",
    articles=200,
    users=200,
    votes=2_000,
    hot_votes=1_000,
    comments=18_000,
    hot_comments=300,
    pending=60,
    rejected=60,
    approved=60,
    reports=600,
    audit=120,
    reactions=500,
)
REPORTS_EACH = 10  # readers reporting each reported comment
HOT_SLUG = "the-hot-story"


@dataclass
class Site:
    """What the routes need to know of a loaded site."""

    url: str
    scale: Scale
    password: str
    hot_id: int = 0
    cold_slug: str = ""
    label_slug: str = ""
    prolific_id: int = 0  # the reader with the most comments (every 50th)
    accounts: dict[str, str] = field(default_factory=dict)  # role -> email
    notes: list[str] = field(default_factory=list)
    hot_slug: str = HOT_SLUG


def _accounts(site: Site) -> dict[str, int]:
    """The named accounts, the labels (through the services) and the schema."""
    from webapp.extensions import db
    from webapp.models import Role
    from webapp.services.accounts import create_user
    from webapp.services.articles.editing import labels_named

    made: dict[str, int] = {}
    with seeding(site.url):
        for role, key in (
            (Role.EDITOR, "editor"),
            (Role.MODERATOR, "moderator"),
            (Role.MODERATOR, "moderator2"),
            (Role.MODERATOR, "moderator3"),
            (Role.READER, "reader"),
        ):
            email = f"scale-{key}@example.org"
            user = create_user(email, site.password, role, f"Scale {key.capitalize()}")
            db.session.flush()
            made[key] = user.id
            site.accounts[key] = email
        for number, label in enumerate(labels_named(LABELS)):
            db.session.flush()
            made[f"label{number}"] = label.id
            if number == 0:
                site.label_slug = label.slug
    return made


def _next_id(connection: sa.Connection, table: str) -> int:
    return int(connection.scalar(sa.text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")) or 1)


def _insert_series(
    connection: sa.Connection,
    sql: Dialect,
    table: str,
    columns: dict[str, str],
    count: int,
    params: dict[str, Any] | None = None,
    chunk: int | None = None,
    offset: int = 0,
    vacuum: str | None = None,
) -> None:
    """INSERT INTO table (columns) SELECT <expressions of n> FROM seq, n from offset to
    offset + count - 1, committed every ``chunk`` rows when given. On PostgreSQL the
    table ``vacuum`` names (one whose few rows the triggers keep rewriting) is vacuumed
    after each chunk: its dead row versions would otherwise make every later trigger's
    read of it slower (quadratic over the load)."""
    if count <= 0:
        return
    statement = sa.text(
        f"INSERT INTO {table} ({', '.join(columns)}) {sql.series()}"
        f"SELECT {', '.join(columns.values())} FROM seq"
    )
    step = chunk or count
    for lo in range(offset, offset + count, step):
        hi = min(offset + count, lo + step) - 1
        connection.execute(statement, {**(params or {}), "lo": lo, "hi": hi})
        if chunk:
            connection.commit()
        if chunk and vacuum and sql.pg:
            with connection.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as side:
                side.execute(sa.text(f"VACUUM {vacuum}"))


def load(url: str, scale: Scale) -> Site:
    """The whole site at ``scale`` in the (empty) database at ``url``."""
    from webapp.config import database_url_from
    from webapp.models import utcnow

    site = Site(url=url, scale=scale, password=secrets.token_urlsafe(16))
    began = time.perf_counter()
    named = _accounts(site)
    engine = sa.create_engine(database_url_from(url))
    sql = Dialect(engine.dialect.name, utcnow() - timedelta(days=368))
    try:
        with engine.connect() as connection:
            _load_rows(connection, sql, scale, site, named)
        _settle(engine)
    finally:
        engine.dispose()
    site.notes.append(
        f"{scale.name}: {scale.describe()}; loaded in {time.perf_counter() - began:.0f}s"
    )
    return site


def _load_rows(
    connection: sa.Connection, sql: Dialect, scale: Scale, site: Site, named: dict[str, int]
) -> None:
    from bench import scale_rows

    ids = scale_rows.Ids(
        user=_next_id(connection, "users"),
        article=_next_id(connection, "articles"),
        poll=_next_id(connection, "polls"),
        option=_next_id(connection, "poll_options"),
        comment=_next_id(connection, "comments"),
    )
    site.hot_id = ids.article + scale.articles - 1  # ids grow with time (scale_rows)
    site.prolific_id = ids.user
    site.cold_slug = scale_rows.article_slug(scale.articles // 2)
    connection.commit()
    shape = scale_rows.Shape(scale, ids, sql, named)
    for step in shape.steps():
        began = time.perf_counter()
        step.run(connection, _insert_series)
        connection.commit()
        print(f"    [{scale.name}] {step.name}: {time.perf_counter() - began:.1f}s", flush=True)
    scale_tone.set_counters(connection)  # tone counters and daily comment rollups, from the rows
    scale_moderation.set_counters(connection)  # queue counts and open reports, from the rows
    scale_integrity.set_counts(connection)  # counted, signed-in, set-aside votes; rollups
    if sql.pg:
        for table in ("users", "articles", "polls", "poll_options", "comments"):
            connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        connection.commit()


def _settle(engine: sa.Engine) -> None:
    """PostgreSQL: the dead row versions the counters left vacuumed and statistics
    taken, as autovacuum would; SQLite: the WAL folded back (no ANALYZE: the app never
    runs it, so the planner works without statistics as on a real SQLite site)."""
    if engine.dialect.name == "postgresql":
        tables = sa.inspect(engine).get_table_names()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in tables:
                connection.execute(sa.text(f'VACUUM ANALYZE "{table}"'))
            with contextlib.suppress(sa.exc.DBAPIError):  # needs a privileged role
                connection.execute(sa.text("CHECKPOINT"))
        return
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


# --- the checks ---------------------------------------------------------------------------------


def check(site: Site) -> tuple[bool, list[str]]:
    """``flask polls recount`` finds no drift; the rollups add up; the comment counts
    equal the rows (the hot article's through ``recount_article``)."""
    from webapp.config import database_url_from

    name = site.scale.name
    environment = dict(os.environ, DATABASE_URL=site.url, SECRET_KEY=SECRET_KEY)
    environment.pop("REDIS_URL", None)
    recount = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "polls", "recount"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    recount_ok = recount.returncode == 0 and "nothing to fix" in recount.stdout
    engine = sa.create_engine(database_url_from(site.url))
    with engine.connect() as connection:
        rollup_drift = connection.scalar(
            sa.text(
                "SELECT count(*) FROM poll_options o WHERE o.vote_count <> coalesce(("
                "SELECT sum(d.votes_cast - d.votes_withdrawn) FROM poll_daily_tallies d "
                "WHERE d.option_id = o.id), 0)"
            )
        )
        count_drift = connection.scalar(
            sa.text(
                "SELECT count(*) FROM articles a WHERE a.comment_count <> (SELECT count(*) "
                "FROM comments c WHERE c.article_id = a.id AND c.status = 'published' "
                "AND c.deleted_at IS NULL)"
            )
        )
        stored = connection.scalar(
            sa.text("SELECT comment_count FROM articles WHERE id = :a"), {"a": site.hot_id}
        )
    engine.dispose()
    hot = _recount_hot(site)
    ok = recount_ok and rollup_drift == 0 and count_drift == 0 and hot == stored
    tone_ok, tone_said = scale_tone.check(site.url)  # the tone counters equal the rows
    queues_ok, queues_said = scale_moderation.check(site.url)  # queue counts, open reports
    counts_ok, counts_said = scale_integrity.check(site.url)  # the options' three counts
    said = recount.stdout.strip().splitlines()[-1:] or [recount.stderr.strip()[-200:]]
    return ok and tone_ok and queues_ok and counts_ok, [
        f"{name}: `flask polls recount`: {said[0]!r}; options whose daily rollups do not "
        f"add up to the tally: {rollup_drift}; articles whose comment count differs from "
        f"their rows: {count_drift}; hot article {stored:,} stored, recount_article "
        f"{hot:,}: {'all consistent' if ok else 'INCONSISTENT'}",
        f"{name}: {tone_said}: {'consistent' if tone_ok else 'INCONSISTENT'}",
        f"{name}: {queues_said}: {'consistent' if queues_ok else 'INCONSISTENT'}",
        f"{name}: {counts_said}: {'consistent' if counts_ok else 'INCONSISTENT'}",
    ]


def _recount_hot(site: Site) -> int:
    from webapp import create_app
    from webapp.extensions import db
    from webapp.services.comments import recount_article

    app = create_app(
        {"DATABASE_URL": site.url, "SECRET_KEY": SECRET_KEY, "INTEGRITY_RUNNER": False}
    )
    with app.app_context():
        try:
            return recount_article(site.hot_id)
        finally:
            db.session.remove()
            db.engine.dispose()


def body_params() -> dict[str, str]:
    """The comment bodies and their HTML, rendered once, as bound parameters."""
    from webapp.services.markup import render_comment

    params = {f"b{i}": body for i, body in enumerate(BODIES)}
    params.update({f"h{i}": render_comment(body) for i, body in enumerate(BODIES)})
    return params
