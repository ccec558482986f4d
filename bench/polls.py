"""Poll benchmark: votes/s and results/s under gunicorn, as ratios against floors.

    .venv/bin/python bench/polls.py                 # SQLite and PostgreSQL, about 4 minutes
    .venv/bin/python bench/polls.py --db sqlite --quick

For each database it makes a throwaway database (a temporary SQLite file, or a
PostgreSQL schema of its own, dropped afterwards), creates the benchmark articles
through the service layer, starts the app under gunicorn (4 sync workers,
127.0.0.1 only, rate limits off, a fixed SECRET_KEY) and measures, with one
client and in the same run:

- votes/s through the contract's POST /api/v1/articles/{slug}/poll/votes, every
  request a new anonymous voter (no voter cookie, so the app mints one);
- the same for POST /bench/minimal-vote (bench/bench_app.py): one INSERT of one
  vote row, committed: the floor any durable vote pays on this stack (into
  ``bench_votes``, the votes table without its tally triggers: bench/floors.py);
- results/s through GET /api/v1/articles/{slug}/poll/results;
- a bare endpoint of the app, GET /api/v1/csrf (no database);
- results latency, one request at a time, on a poll holding 1,000 votes and on
  one holding 1,000,000 (bulk-inserted with SQL, tallies set to match), both in
  the same database and measured alternately.

Two more endpoints of bench_app are measured as reference points, with no target:
POST /bench/tally-vote (the minimal vote's one INSERT, into the real ``votes`` table,
whose triggers move the two stored tallies every vote moves: the least a vote costs
that keeps its tallies in step) and GET /bench/minimal-read (one SELECT of a poll's
tallies). They tell where the time between a target and its floor goes.

Throughput is measured in short rounds, every other one in the mirrored order,
so drift on a shared machine falls on all endpoints alike; figures are ratios
against the floors measured in the same run (with the lowest and highest ratio
of single rounds, to show how steady the machine was), never absolute promises. Targets: voting >=
0.8x the minimal vote; results >= 0.8x the bare endpoint; results latency (p50)
at a million votes <= 1.5x that at a thousand.

Every phase is bounded in time, the whole run by --time-limit; gunicorn runs in
a process group of its own and is stopped on every way out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

# The load client, throwaway databases and gunicorn live in bench/harness.py, shared
# with the other scripts; re-exported here under their old names.
from bench.floors import bench_votes_table  # noqa: E402
from bench.harness import (  # noqa: E402, F401
    SECRET_KEY,
    Sample,
    Server,
    add_common_args,
    check_common_args,
    check_postgres,
    exchange,
    finish_run,
    fire,
    gunicorn_path,
    http_request,
    reference_table,
    seeding,
    session_for,
    split_response,
    start_run,
    throwaway_database,
)

VOTES, FLOOR, TALLY, SMALL, BIG = (
    "bench-votes",
    "bench-floor",
    "bench-tally",
    "bench-small",
    "bench-big",
)
TARGET_VOTE, TARGET_RESULTS, TARGET_LATENCY = 0.8, 0.8, 1.5


# --- the database -----------------------------------------------------------------------


@dataclass
class BenchPoll:
    slug: str
    poll_id: int
    option_ids: list[int]


def seed(url: str) -> dict[str, BenchPoll]:
    """The schema, an editor, and published articles whose polls take anonymous votes
    and always show results: the contract's own rules, through the service layer."""
    from webapp.extensions import db
    from webapp.models import Role
    from webapp.services import articles
    from webapp.services.accounts import create_user

    bench_votes_table()  # the minimal vote's table, created with the rest
    polls = {}
    with seeding(url):
        editor = create_user(
            "bench-editor@example.org", secrets.token_urlsafe(16), Role.EDITOR, "Bench"
        )
        for slug in (VOTES, FLOOR, TALLY, SMALL, BIG):
            article = articles.create_article(
                editor,
                articles.ArticleChanges(
                    title=f"Benchmark {slug}",
                    slug=slug,
                    body="A poll to measure.",
                    labels=["benchmark"],
                    status="published",
                    comments="open",
                    poll=articles.PollInput(
                        question="Will the peace hold?",
                        options=["Yes", "No", "Too early to tell"],
                        results_visibility="always",
                        allow_anonymous=True,
                    ),
                ),
            )
            db.session.flush()
            poll = article.poll
            polls[slug] = BenchPoll(slug, poll.id, [option.id for option in poll.options])
    return polls


def bulk_votes(url: str, poll: BenchPoll, count: int, chunk: int = 250_000) -> None:
    """``count`` votes for ``poll`` straight into the table with SQL, spread over its
    options, then its stored tallies and the day's rollup set to match, exactly as if
    they had been cast one by one today (so the app's recount would find no drift).

    The tally triggers are off meanwhile (before the app starts): a million row
    triggers on three tally rows would take minutes and leave a million dead row
    versions behind on PostgreSQL, which the latency comparison would then read."""
    from webapp.models import tally_triggers
    from webapp.models.base import UTCDateTime, utcnow

    engine = sa.create_engine(url)
    dialect = engine.dialect.name
    ids = poll.option_ids
    choice = f"CASE n % {len(ids)} {' '.join(f'WHEN {i} THEN {o}' for i, o in enumerate(ids))} END"
    columns = "poll_id, option_id, voter_key, user_id, client_hash, created_at, updated_at"
    values = f"{poll.poll_id}, {choice}, 'b:' || n, NULL, NULL, :now, :now"
    if dialect == "postgresql":
        sql = (
            f"INSERT INTO votes ({columns}) SELECT {values} "
            "FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS n"
        )
    else:
        sql = (
            f"INSERT INTO votes ({columns}) "
            "WITH RECURSIVE seq(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM seq WHERE n < :hi) "
            f"SELECT {values} FROM seq"
        )
    moment = utcnow()
    insert = sa.text(sql).bindparams(sa.bindparam("now", type_=UTCDateTime()))
    with engine.begin() as connection:
        tally_triggers.TRIGGERS.remove(connection)
    for lo in range(1, count + 1, chunk):
        with engine.begin() as connection:
            connection.execute(insert, {"lo": lo, "hi": min(count, lo + chunk - 1), "now": moment})
    with engine.begin() as connection:
        tally_triggers.TRIGGERS.install(connection)
        connection.execute(
            sa.text(
                "UPDATE poll_options SET vote_count = "
                "(SELECT count(*) FROM votes WHERE votes.option_id = poll_options.id) "
                "WHERE poll_id = :poll"
            ),
            {"poll": poll.poll_id},
        )
        connection.execute(
            sa.text("DELETE FROM poll_daily_tallies WHERE poll_id = :poll"), {"poll": poll.poll_id}
        )
        connection.execute(
            sa.text(
                "INSERT INTO poll_daily_tallies "
                "(option_id, day, poll_id, votes_cast, votes_withdrawn) "
                "SELECT id, :day, poll_id, vote_count, 0 FROM poll_options WHERE poll_id = :poll"
            ),
            {"day": moment.date(), "poll": poll.poll_id},
        )
    if dialect == "postgresql":
        # Statistics as autovacuum would leave them, and the new pages written out,
        # so no background flush lands on one side of the latency comparison.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE votes"))
            with contextlib.suppress(sa.exc.DBAPIError):  # needs a privileged role
                connection.execute(sa.text("CHECKPOINT"))
    else:
        # Outside any transaction (SQLAlchemy would open one): fold the WAL back in.
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    engine.dispose()


def tally_check(url: str, poll: BenchPoll) -> tuple[int, bool]:
    """(votes stored, whether every stored tally and the day rollups equal a recount)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counted = dict(
            connection.execute(
                sa.text(
                    "SELECT option_id, count(*) FROM votes WHERE poll_id = :p GROUP BY option_id"
                ),
                {"p": poll.poll_id},
            ).all()
        )
        stored = dict(
            connection.execute(
                sa.text("SELECT id, vote_count FROM poll_options WHERE poll_id = :p"),
                {"p": poll.poll_id},
            ).all()
        )
        rolled = dict(
            connection.execute(
                sa.text(
                    "SELECT option_id, sum(votes_cast - votes_withdrawn) FROM poll_daily_tallies "
                    "WHERE poll_id = :p GROUP BY option_id"
                ),
                {"p": poll.poll_id},
            ).all()
        )
    engine.dispose()
    exact = all(
        stored[option] == counted.get(option, 0) == rolled.get(option, 0) for option in stored
    )
    return sum(counted.values()), exact


# --- one database, start to end --------------------------------------------------------------


@dataclass
class Run:
    db: str
    samples: dict[str, Sample]
    notes: list[str]

    def ratio(self, top: str, bottom: str) -> float:
        below = self.samples[bottom].rate
        return self.samples[top].rate / below if below else 0.0

    @property
    def latency_ratio(self) -> float:
        small, big = self.samples["latency_small"].p50, self.samples["latency_big"].p50
        return big / small if small else float("inf")

    def spread(self, top: str, bottom: str) -> str:
        """Lowest and highest ratio of single rounds: how much the machine wavered."""
        pairs = zip(self.samples[top].per_round, self.samples[bottom].per_round, strict=True)
        ratios = [a / b for a, b in pairs if b]
        return f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"


def bench_database(kind: str, args: argparse.Namespace) -> Run:
    started = time.perf_counter()
    with throwaway_database(kind, args.postgres_url) as url, tempfile.TemporaryDirectory() as tmp:
        polls = seed(url)
        began = time.perf_counter()
        bulk_votes(url, polls[SMALL], args.small_votes)
        bulk_votes(url, polls[BIG], args.big_votes)
        notes = [
            f"{kind}: bulk-inserted {args.small_votes + args.big_votes:,} votes "
            f"in {time.perf_counter() - began:.0f}s"
        ]
        print(f"  [{kind}] {args.small_votes:,} and {args.big_votes:,} votes stored", flush=True)
        server = Server(url, args.workers, Path(tmp))
        try:
            server.wait_ready()
            samples = measure(kind, server.port, polls, args)
        except BaseException:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
        stored, exact = tally_check(url, polls[VOTES])
        answered = samples["vote"].ok + samples["vote_warmup"].ok
        exact = exact and stored == answered
        notes.append(
            f"{kind}: {answered:,} votes answered 201, {stored:,} stored; tallies and day "
            f"rollups {'equal a recount' if exact else 'DO NOT equal a recount'}"
        )
    cpu = sum(s.client_cpu for s in samples.values())
    wall = sum(s.elapsed for s in samples.values())
    notes.append(
        f"{kind}: the load generator used {100 * cpu / wall:.0f}% of one core while "
        f"measuring; whole run {time.perf_counter() - started:.0f}s"
    )
    errors = {name: dict(s.errors) for name, s in samples.items() if s.errors}
    if errors:
        notes.append(f"{kind}: errors {errors}")
    return Run(kind, samples, notes)


def measure(
    kind: str, port: int, polls: dict[str, BenchPoll], args: argparse.Namespace
) -> dict[str, Sample]:
    results_path = f"/api/v1/articles/{VOTES}/poll/results"
    cookie, token = session_for(port, results_path)
    common = {"Cookie": cookie, "Accept": "application/json"}
    unsafe = {**common, "X-CSRFToken": token, "Content-Type": "application/json"}

    def get(path: str) -> Callable[[int], bytes]:
        payload = http_request("GET", path, common)
        return lambda _n: payload

    def post(path: str, poll: BenchPoll, with_poll_id: bool) -> Callable[[int], bytes]:
        bodies = []
        for option in poll.option_ids:
            data: dict[str, Any] = {"option_id": option}
            if with_poll_id:
                data["poll_id"] = poll.poll_id
            bodies.append(http_request("POST", path, unsafe, json.dumps(data).encode()))
        return lambda n: bodies[n % len(bodies)]

    endpoints = {
        "vote": (post(f"/api/v1/articles/{VOTES}/poll/votes", polls[VOTES], False), 201),
        "minimal": (post("/bench/minimal-vote", polls[FLOOR], True), 201),
        "tally": (post("/bench/tally-vote", polls[TALLY], True), 201),
        "results": (get(results_path), 200),
        "read": (get(f"/bench/minimal-read?poll={polls[VOTES].poll_id}"), 200),
        "bare": (get("/api/v1/csrf"), 200),
    }
    latency = {
        "latency_small": get(f"/api/v1/articles/{SMALL}/poll/results"),
        "latency_big": get(f"/api/v1/articles/{BIG}/poll/results"),
    }
    samples = {name: Sample(name) for name in [*endpoints, *latency, "vote_warmup"]}

    # Every worker opens its database connections and warms its caches first.
    for name, (make, expect) in endpoints.items():
        warm = fire(name, port, make, expect, args.concurrency, args.warmup)
        if name == "vote":
            samples["vote_warmup"].ok += warm.ok
    for make in latency.values():
        fire("warmup", port, make, 200, 1, args.warmup / 2)

    # Each round runs every endpoint once, every other round in the mirrored order,
    # so a steady drift of the machine's load weighs on all of them alike.
    for round_number in range(args.rounds):
        forward = round_number % 2 == 0
        for name in list(endpoints) if forward else list(reversed(endpoints)):
            make, expect = endpoints[name]
            sample = fire(name, port, make, expect, args.concurrency, args.duration)
            samples[name].add(sample)
            samples[name].per_round.append(sample.rate)
        for name in list(latency) if forward else list(reversed(latency)):
            sample = fire(name, port, latency[name], 200, 1, args.latency_duration)
            samples[name].add(sample)
            samples[name].per_round.append(sample.p50)
        rates = ", ".join(f"{name} {samples[name].per_round[-1]:,.0f}/s" for name in endpoints)
        print(f"  [{kind}] round {round_number + 1}/{args.rounds}: {rates}", flush=True)

    for name, count in (("latency_small", args.small_votes), ("latency_big", args.big_votes)):
        status, _, body = split_response(exchange(port, latency[name](0)))
        total = json.loads(body).get("total") if status == 200 else None
        if total != count:
            raise RuntimeError(f"{name}: results total is {total}, expected {count}")
    return samples


# --- reporting --------------------------------------------------------------------------------


LABELS = {
    "vote": "vote: POST /api/v1/articles/{slug}/poll/votes",
    "minimal": "minimal vote: POST /bench/minimal-vote",
    "tally": "(reference) minimal vote into votes, tallies by its triggers: POST /bench/tally-vote",
    "results": "results: GET /api/v1/articles/{slug}/poll/results",
    "read": "(reference) one SELECT of the tallies: GET /bench/minimal-read",
    "bare": "bare: GET /api/v1/csrf",
}


def report(runs: list[Run], args: argparse.Namespace) -> str:
    small, big = f"{args.small_votes:,}", f"{args.big_votes:,}"
    lines = [
        "| database | measurement | requests/s | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for run in runs:
        rows = [(label, run.samples[name]) for name, label in LABELS.items()]
        rows += [
            (f"results latency, poll of {small} votes, 1 connection", run.samples["latency_small"]),
            (f"results latency, poll of {big} votes, 1 connection", run.samples["latency_big"]),
        ]
        for label, s in rows:
            lines.append(f"| {run.db} | {label} | {s.rate:,.0f} | {s.p50:.2f} | {s.p95:.2f} |")
    lines += [
        "",
        "| database | target | measured | single rounds | needed | verdict |",
        "|---|---|---:|---:|---:|---|",
    ]
    for run in runs:
        checks = [
            ("votes/s vs minimal vote", "vote", "minimal", TARGET_VOTE),
            ("results/s vs bare endpoint", "results", "bare", TARGET_RESULTS),
            (f"results p50, {big} vs {small} votes", "latency_big", "latency_small", None),
        ]
        for label, top, bottom, needed in checks:
            if needed is None:
                value, needed = run.latency_ratio, TARGET_LATENCY
                ok, sign = value <= needed, "<="
            else:
                value = run.ratio(top, bottom)
                ok, sign = value >= needed, ">="
            lines.append(
                f"| {run.db} | {label} | {value:.2f}x | {run.spread(top, bottom)} | "
                f"{sign} {needed}x | {'PASS' if ok else 'MISS'} |"
            )
    lines += reference_table(
        runs,
        (
            ("minimal vote with its tallies vs minimal vote", "tally", "minimal"),
            ("votes/s vs minimal vote with its tallies", "vote", "tally"),
            ("one SELECT of the tallies vs bare endpoint", "read", "bare"),
            ("results/s vs one SELECT of the tallies", "results", "read"),
        ),
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_common_args(parser, "polls-latest.md", "smoke run: 1 s phases, 2 rounds, 100,000 votes")
    parser.add_argument("--latency-duration", type=float, default=1.0, help="s per poll per round")
    parser.add_argument("--small-votes", type=int, default=1_000)
    parser.add_argument("--big-votes", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup, args.latency_duration = 1.0, 2, 0.3, 0.5
        args.big_votes = min(args.big_votes, 100_000)
    check_common_args(parser, args)
    if not 0 < args.small_votes < args.big_votes <= 5_000_000:
        parser.error("need 0 < --small-votes < --big-votes <= 5,000,000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = start_run(args, "Pulse poll benchmark")
    runs = [bench_database(kind, args) for kind in kinds]
    finish_run(args, report(runs, args), runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
