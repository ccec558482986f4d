"""Burst test: many readers voting and commenting at once on one article lose nothing.

    .venv/bin/python bench/burst.py                    # PostgreSQL, under a minute
    .venv/bin/python bench/burst.py --db both          # and SQLite
    .venv/bin/python bench/burst.py --db sqlite --voters 60 --commenters 20

For each database it makes a throwaway database (a PostgreSQL schema of its own, or
a temporary SQLite file), creates one published article with an anonymous poll, a
few seeded comments and the commenters' accounts through the service layer, starts
the app under gunicorn (4 sync workers, 127.0.0.1 only, rate limits off), and then:

- every reader gets their own session first, as a browser would: each anonymous
  voter a session cookie and CSRF token from GET /api/v1/csrf, each commenter signs
  in once through POST /api/v1/auth/login;
- all readers (by default 140 anonymous voters and 60 signed-in commenters: 200
  threads) wait at one barrier and are let go together. A voter votes (201), every
  third changes their vote (200) and every seventh then withdraws it (204). A
  commenter votes (201), posts a comment (201) and every other one replies to a
  seeded comment (201);
- every answer is counted; then the database is compared with what was accepted.

Checks, each PASS or FAIL (exit status 1 on any FAIL):

- every request was answered, none with a 5xx or a broken connection;
- the votes in the database are exactly the votes the accepted requests leave
  (per option, from each voter's last accepted request);
- the stored tallies and day rollups equal a recount of the votes;
- every accepted comment is stored (by id), and there is no comment nobody was told of;
- the article's comment_count equals a recount, and each seeded comment's
  reply_count equals its replies.

Bounded by --time-limit; gunicorn runs in a process group of its own and is stopped
on every way out; the throwaway database is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.harness import (  # noqa: E402
    DEFAULT_POSTGRES_URL,
    WARM_MODELS_CONFIG,
    Browser,
    Server,
    bound_run,
    check_postgres,
    gunicorn_path,
    publish_article,
    seeding,
    sign_in,
    throwaway_database,
)

SLUG = "bench-burst"
SEEDED_COMMENTS = 5


@dataclass
class Seeded:
    article_id: int
    poll_id: int
    option_ids: list[int]
    parent_ids: list[int]
    commenters: list[str]  # emails
    password: str


def seed(url: str, commenters: int) -> Seeded:
    from webapp.extensions import db
    from webapp.models import Role
    from webapp.services import comments as comment_rules
    from webapp.services.accounts import create_user

    password = secrets.token_urlsafe(16)
    with seeding(url):
        editor = create_user(
            "burst-editor@example.org", secrets.token_urlsafe(16), Role.EDITOR, "Editor"
        )
        article = publish_article(editor, SLUG)
        users = [
            create_user(f"burst{n}@example.org", password, Role.READER, f"Reader {n}")
            for n in range(commenters)
        ]
        db.session.flush()
        parents = [
            comment_rules.submit(article, users[n % len(users)], f"Opening comment {n}.")
            for n in range(SEEDED_COMMENTS)
        ]
        assert article.poll is not None
        return Seeded(
            article_id=article.id,
            poll_id=article.poll.id,
            option_ids=[option.id for option in article.poll.options],
            parent_ids=[comment.id for comment in parents],
            commenters=[user.email for user in users],
            password=password,
        )


@dataclass
class Outcome:
    """What the readers were told."""

    statuses: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    # voter -> option of their last accepted vote, or None after an accepted withdrawal
    final_votes: dict[str, int | None] = field(default_factory=dict)
    comment_ids: set[int] = field(default_factory=set)
    replies: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, action: str, status: int, body: bytes) -> None:
        with self.lock:
            self.statuses[f"{action} {status}"] += 1
            if status >= 500 or status == 0:
                self.problems.append(f"{action}: {status} {body[:160]!r}")


def reader_actions(
    kind: str, index: int, browser: Browser, seeded: Seeded, outcome: Outcome
) -> None:
    """One reader's requests, one after another, recording what was accepted."""
    votes = f"/api/v1/articles/{SLUG}/poll/votes"
    options = seeded.option_ids
    voter = f"{kind}{index}"

    def call(action: str, method: str, path: str, data: Any = None) -> tuple[int, bytes]:
        try:
            status, _, body = browser.request(method, path, data, timeout=120)
        except OSError as exc:
            status, body = 0, repr(exc).encode()
        outcome.note(action, status, body)
        return status, body

    status, _ = call("vote", "POST", votes, {"option_id": options[index % len(options)]})
    if status == 201:
        outcome.final_votes[voter] = options[index % len(options)]
    if kind == "voter":
        if index % 3 == 0:
            moved = options[(index + 1) % len(options)]
            status, _ = call("change vote", "POST", votes, {"option_id": moved})
            if status == 200:
                outcome.final_votes[voter] = moved
        if index % 7 == 0:
            status, _ = call("withdraw vote", "DELETE", f"{votes}/mine")
            if status == 204:
                outcome.final_votes[voter] = None
        return
    comments = f"/api/v1/articles/{SLUG}/comments"
    status, body = call("comment", "POST", comments, {"body": f"Comment from {voter}."})
    if status == 201:
        outcome.comment_ids.add(json.loads(body)["id"])
    if index % 2 == 0:
        parent = seeded.parent_ids[index % len(seeded.parent_ids)]
        status, body = call(
            "reply", "POST", comments, {"body": f"Reply from {voter}.", "parent_id": parent}
        )
        if status == 201:
            outcome.comment_ids.add(json.loads(body)["id"])
            with outcome.lock:
                outcome.replies[parent] += 1


def burst(port: int, seeded: Seeded, args: argparse.Namespace) -> tuple[Outcome, float]:
    """Everyone's session first; then all readers at once, through one barrier."""
    readers: list[tuple[str, int, Browser]] = []
    for n in range(args.voters):
        browser = Browser(port)
        browser.get_token()
        readers.append(("voter", n, browser))
    for n, email in enumerate(seeded.commenters):
        readers.append(("commenter", n, sign_in(port, email, seeded.password)))
    outcome = Outcome()
    barrier = threading.Barrier(len(readers) + 1)

    def run(kind: str, index: int, browser: Browser) -> None:
        barrier.wait()
        reader_actions(kind, index, browser, seeded, outcome)

    threads = [threading.Thread(target=run, args=reader, daemon=True) for reader in readers]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join(timeout=max(1.0, args.time_limit / 2 - (time.perf_counter() - began)))
    if any(thread.is_alive() for thread in threads):
        outcome.problems.append("some readers were still waiting for answers at the deadline")
    return outcome, time.perf_counter() - began


def database_checks(url: str, seeded: Seeded, outcome: Outcome) -> list[tuple[str, bool, str]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:

        def rows(sql: str, **params: Any) -> dict[Any, Any]:
            return dict(connection.execute(sa.text(sql), params).tuples().all())

        counted = rows(
            "SELECT option_id, count(*) FROM votes WHERE poll_id = :p GROUP BY option_id",
            p=seeded.poll_id,
        )
        stored = rows(
            "SELECT id, vote_count FROM poll_options WHERE poll_id = :p", p=seeded.poll_id
        )
        rolled = rows(
            "SELECT option_id, sum(votes_cast - votes_withdrawn) FROM poll_daily_tallies "
            "WHERE poll_id = :p GROUP BY option_id",
            p=seeded.poll_id,
        )
        comment_ids = set(
            connection.execute(
                sa.text(
                    "SELECT id FROM comments WHERE article_id = :a AND id NOT IN :seeded"
                ).bindparams(sa.bindparam("seeded", expanding=True)),
                {"a": seeded.article_id, "seeded": seeded.parent_ids},
            ).scalars()
        )
        published = connection.scalar(
            sa.text(
                "SELECT count(*) FROM comments WHERE article_id = :a AND status = 'published' "
                "AND deleted_at IS NULL"
            ),
            {"a": seeded.article_id},
        )
        comment_count = connection.scalar(
            sa.text("SELECT comment_count FROM articles WHERE id = :a"), {"a": seeded.article_id}
        )
        reply_counts = rows(
            "SELECT c.id, c.reply_count - (SELECT count(*) FROM comments r "
            "WHERE r.parent_id = c.id) FROM comments c WHERE c.article_id = :a",
            a=seeded.article_id,
        )
    engine.dispose()

    expected = Counter(option for option in outcome.final_votes.values() if option is not None)
    votes_match = all(counted.get(o, 0) == expected.get(o, 0) for o in seeded.option_ids)
    tallies_match = all(
        stored[o] == counted.get(o, 0) == (rolled.get(o) or 0) for o in seeded.option_ids
    )
    lost = outcome.comment_ids - comment_ids
    untold = comment_ids - outcome.comment_ids
    drift = {cid: d for cid, d in reply_counts.items() if d}
    seeded_replies = {p: outcome.replies[p] for p in seeded.parent_ids}
    return [
        (
            "votes in the database = votes the accepted requests leave",
            votes_match,
            f"expected {dict(sorted(expected.items()))}, stored {dict(sorted(counted.items()))} "
            f"({sum(expected.values())} of {len(outcome.final_votes)} voters still voting)",
        ),
        (
            "stored tallies and day rollups = recount",
            tallies_match,
            f"tallies {dict(sorted(stored.items()))}, rollups {dict(sorted(rolled.items()))}",
        ),
        (
            "every accepted comment stored, none unannounced",
            not lost and not untold,
            f"{len(outcome.comment_ids)} accepted, {len(comment_ids)} stored; "
            f"missing {sorted(lost)[:10]}, unannounced {sorted(untold)[:10]}",
        ),
        (
            "comment_count and reply counts = recount",
            comment_count == published and not drift,
            f"comment_count {comment_count}, published rows {published}; reply_count drift "
            f"{drift or 'none'}; replies accepted per seeded comment {seeded_replies}",
        ),
    ]


def run_database(kind: str, args: argparse.Namespace) -> list[tuple[str, bool, str]]:
    with throwaway_database(kind, args.postgres_url) as url, tempfile.TemporaryDirectory() as tmp:
        seeded = seed(url, args.commenters)
        server = Server(url, args.workers, Path(tmp), config_text=WARM_MODELS_CONFIG, timeout=120)
        try:
            server.wait_ready()
            outcome, took = burst(server.port, seeded, args)
        except BaseException:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
        answered = sum(outcome.statuses.values())
        print(
            f"  [{kind}] {args.voters + args.commenters} readers at once: {answered} requests "
            f"answered in {took:.1f}s: {dict(sorted(outcome.statuses.items()))}",
            flush=True,
        )
        problems = f"; problems: {outcome.problems[:5]}" if outcome.problems else ""
        checks = [("every request answered, no 5xx", not outcome.problems, f"{answered}{problems}")]
        checks += database_checks(url, seeded, outcome)
    return checks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument("--voters", type=int, default=140, help="anonymous voters")
    parser.add_argument("--commenters", type=int, default=60, help="signed-in commenters")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server and database to make a throwaway schema in (default: as the tests)",
    )
    parser.add_argument(
        "--time-limit", type=float, default=300, help="stop everything after this many seconds"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.voters + args.commenters <= 500 or args.commenters < 1 or args.voters < 0:
        parser.error("need 1-500 readers, at least one commenter")
    if not 1 <= args.workers <= 16:
        parser.error("--workers must be 1-16")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bound_run(args.time_limit)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    gunicorn_path()
    if "postgresql" in kinds:
        check_postgres(args.postgres_url)
    print(
        f"Pulse burst test: {', '.join(kinds)}; gunicorn {args.workers} sync workers; "
        f"{args.voters} anonymous voters and {args.commenters} signed-in commenters at once",
        flush=True,
    )
    failed = False
    results = {kind: run_database(kind, args) for kind in kinds}
    signal.alarm(0)
    print()
    for kind, checks in results.items():
        for name, ok, detail in checks:
            failed |= not ok
            print(f"{'PASS' if ok else 'FAIL'}  [{kind}] {name}: {detail}")
    print("\nFAIL" if failed else "\nPASS: nothing lost")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
