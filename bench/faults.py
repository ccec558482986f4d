"""Fault test: the database going away mid-load, and Redis going away.

    .venv/bin/python bench/faults.py                   # about 2 minutes
    .venv/bin/python bench/faults.py --outages fast    # one outage only
    .venv/bin/python bench/faults.py --outages refuse  # the server up, the database refusing

Never touches the machine's shared PostgreSQL or Redis: it starts a PRIVATE
PostgreSQL cluster (initdb, as the postgres OS user, in a temporary directory, on a
free 127.0.0.1 port, fsync off) and a PRIVATE redis-server (another free port, no
persistence), and always stops and removes both, whatever happens.

Database outage (once per --outages mode: ``fast`` is ``pg_ctl stop -m fast``, an
administrator's shutdown; ``immediate`` is ``-m immediate``, a crash; ``refuse`` keeps
the server running but takes the app's database out of service, as an operator does
for maintenance: ``ALTER DATABASE ... ALLOW_CONNECTIONS false`` and every backend of
the app terminated, so pooled connections die and new ones are turned away at login):
the app runs under gunicorn (4 sync workers, rate limits off) while threads vote
anonymously, post comments as signed-in readers and read the thread, the API and the
page. The database is taken away mid-load, probed, and given back. Checks:

- before the outage every request succeeds;
- during it the API answers 503 with the contract's body (code
  ``database_unavailable``, a message, ``Retry-After``), anonymous and signed in,
  reading and writing; the article page answers the HTML 503 page; /healthz answers
  503 with the database "unavailable"; nothing answers 500;
- when the server is back, the service recovers by itself within --recovery-limit
  seconds, with the same gunicorn master (and workers), and every request after
  that succeeds;
- no half-written rows: every accepted vote and comment is stored, tallies and day
  rollups equal a recount of the votes, comment_count equals a recount. (A write
  whose commit reached the server but whose answer was lost with the connection is
  stored though answered 503: counted and shown, not a failure.)

Redis outage: gunicorn again, now with REDIS_URL at the private Redis, rate limits
on and low (RATELIMIT_COMMENT and RATELIMIT_VOTE of a few per hour, through
PULSE_BENCH_CONFIG). Checks: with Redis up the limits are shared by all workers;
with Redis down, voting, commenting and reading still work, the limits still apply
in each worker process (at most limit x workers accepted, then 429), a warning is
logged, /healthz answers 200 with redis "degraded", nothing answers 5xx; when Redis
returns, /healthz says "ok" again and limits are shared again.

Prints PASS or FAIL per check and exits 1 on any FAIL; bounded by --time-limit.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.harness import (  # noqa: E402
    HOST,
    WARM_MODELS_CONFIG,
    Browser,
    Server,
    bound_run,
    exchange,
    free_port,
    gunicorn_path,
    http_request,
    publish_article,
    seeding,
    sign_in,
    split_response,
)

SLUG = "bench-faults"
DB_MESSAGE = "The database is unreachable right now; please try again in a moment."
COMMENT_LIMIT, VOTE_LIMIT = 3, 5  # per hour, for the Redis part
# Poll results and a signed-out reader's thread may be answered from a worker's cache
# for a second (RESULTS_CACHE_SECONDS, THREAD_CACHE_SECONDS): a 200 that soon after the
# database went is right, so the probes start once those answers have expired.
CACHES_EXPIRE = 1.2


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


# --- private servers ----------------------------------------------------------------------


def _postgres_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise SystemExit(f"PostgreSQL's {name} is not installed under /usr/lib/postgresql")
    return str(found[-1])


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of this run's own, run as the postgres OS user."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pulse-faults-pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self.database = "postgres"
        self.url = f"postgresql://postgres@{HOST}:{self.port}/{self.database}"
        atexit.register(self.destroy)
        self._as_postgres(
            _postgres_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", timeout=120,
        )  # fmt: skip

    def _as_postgres(self, *command: str, timeout: float = 60) -> None:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr or result.stdout}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses={HOST} -c fsync=off "
            "-c max_connections=40 -c shared_buffers=16MB"
        )
        self._as_postgres(
            _postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(
            _postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def _admin(self, sql: str) -> int:
        """Run one statement from another database (the app's refuses connections)."""
        engine = sa.create_engine(
            self.url.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
            + "/template1",
            isolation_level="AUTOCOMMIT",
            poolclass=sa.pool.NullPool,
        )
        try:
            with engine.connect() as connection:
                result = connection.execute(sa.text(sql))
                return int(result.scalar() or 0) if result.returns_rows else 0
        finally:
            engine.dispose()

    def refuse_connections(self) -> int:
        """Take the app's database out of service while the server runs; returns how
        many of the app's backends were terminated."""
        self._admin(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false')
        return self._admin(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = '{self.database}'"
        )

    def allow_connections(self) -> None:
        self._admin(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true')

    def destroy(self) -> None:
        if not self.folder.exists():
            return
        if self.running():
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A throwaway redis-server of this run's own: loopback, no persistence."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pulse-faults-redis-"))
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        atexit.register(self.destroy)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
                "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log"),
                "--daemonize", "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        import redis

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.exceptions.RedisError):
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            time.sleep(0.1)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def worker_pids(master: int) -> set[int]:
    pids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            found = re.search(r"^PPid:\s+(\d+)$", status.read_text(), re.MULTILINE)
            if found and int(found.group(1)) == master:
                pids.add(int(status.parent.name))
    return pids


# --- data ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    article_id: int
    poll_id: int
    option_ids: list[int]
    commenters: list[str]
    password: str


def seed(url: str, commenters: int) -> Seeded:
    from webapp.extensions import db
    from webapp.models import Role
    from webapp.services.accounts import create_user

    password = secrets.token_urlsafe(16)
    with seeding(url):
        editor = create_user(
            "faults-editor@example.org", secrets.token_urlsafe(16), Role.EDITOR, "Editor"
        )
        article = publish_article(editor, SLUG)
        users = [
            create_user(f"faults{n}@example.org", password, Role.READER, f"Reader {n}")
            for n in range(commenters)
        ]
        db.session.flush()
        assert article.poll is not None
        return Seeded(
            article.id,
            article.poll.id,
            [option.id for option in article.poll.options],
            [user.email for user in users],
            password,
        )


# --- the load --------------------------------------------------------------------------------


@dataclass
class Record:
    at: float
    action: str
    status: int
    detail: str


@dataclass
class Load:
    """Threads voting, commenting and reading until stopped; every answer recorded."""

    port: int
    seeded: Seeded
    commenters: list[Browser]
    threads: int = 6
    pause: float = 0.02
    records: list[Record] = field(default_factory=list)
    comments: dict[int, str] = field(default_factory=dict)  # accepted id -> its token
    votes_accepted: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def record(self, action: str, status: int, body: bytes) -> None:
        with self._lock:
            detail = body[:200].decode(errors="replace")
            self.records.append(Record(time.monotonic(), action, status, detail))

    def call(
        self, browser: Browser, action: str, method: str, path: str, data: Any = None
    ) -> tuple[int, bytes]:
        try:
            status, _, body = browser.request(method, path, data, timeout=30)
        except OSError as exc:
            status, body = 0, repr(exc).encode()
        self.record(action, status, body)
        return status, body

    def run(self, index: int) -> None:
        reader = Browser(self.port)
        commenter = self.commenters[index % len(self.commenters)]
        option_ids = self.seeded.option_ids
        step = index
        while not self._stop.is_set():
            step += 1
            kind = step % 4
            if kind == 0:
                voter = Browser(self.port)  # a new anonymous voter every time
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    voter.get_token()
                status, _ = self.call(
                    voter, "vote", "POST", f"/api/v1/articles/{SLUG}/poll/votes",
                    {"option_id": option_ids[step % len(option_ids)]},
                )  # fmt: skip
                if status == 201:
                    with self._lock:
                        self.votes_accepted += 1
            elif kind == 1:
                token = f"fault-{uuid.uuid4().hex}"
                status, body = self.call(
                    commenter, "comment", "POST", f"/api/v1/articles/{SLUG}/comments",
                    {"body": f"A comment under load ({token})."},
                )  # fmt: skip
                if status == 201:
                    with self._lock:
                        self.comments[json.loads(body)["id"]] = token
            elif kind == 2:
                self.call(reader, "read api", "GET", f"/api/v1/articles/{SLUG}/comments")
            else:
                self.call(reader, "read page", "GET", f"/articles/{SLUG}")
            time.sleep(self.pause)

    def start(self) -> None:
        self._workers = [
            threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)

    def between(self, start: float, end: float) -> list[Record]:
        with self._lock:
            return [r for r in self.records if start <= r.at < end]


def summary(records: list[Record]) -> str:
    counts = Counter(f"{r.action} {r.status}" for r in records)
    return ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "none"


# --- the database outage --------------------------------------------------------------------


def expect_db_503(
    who: str, browser: Browser, method: str, path: str, data: Any, html: bool
) -> str | None:
    """None when the answer is the contract's 503, else what was wrong."""
    headers = browser.headers(method != "GET", data is not None)
    if html:
        headers["Accept"] = "text/html"
    body_bytes = json.dumps(data).encode() if data is not None else b""
    try:
        status, answer_headers, body = split_response(
            exchange(browser.port, http_request(method, path, headers, body_bytes), timeout=30)
        )
    except OSError as exc:
        return f"{method} {path}: no answer ({exc!r})"
    where = f"{method} {path} ({who})"
    if status != 503:
        return f"{where}: {status} {body[:160]!r}"
    if "retry-after" not in answer_headers:
        return f"{where}: 503 without Retry-After"
    if html:
        text = body.decode(errors="replace")
        kind = answer_headers.get("content-type", [""])[0]
        if (
            "text/html" not in kind
            or DB_MESSAGE not in text
            or "Temporarily unavailable" not in text
        ):
            return f"{where}: 503 but not the HTML page with the message ({kind})"
        return None
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return f"{where}: 503 without the contract's error body: {body[:160]!r}"
    if error.get("code") != "database_unavailable" or not error.get("message"):
        return f"{where}: 503 with {error!r}"
    return None


def outage_probes(port: int, signed_in: Browser, seeded: Seeded) -> list[str]:
    """Every kind of request during the outage, several times (so several workers)."""
    problems = []
    for _ in range(4):
        anonymous = Browser(port)
        anonymous.get_token()  # needs no database
        vote, comment = {"option_id": seeded.option_ids[0]}, {"body": "Anyone there?"}
        for who, browser, method, path, data, html in (
            ("anonymous", anonymous, "GET", f"/api/v1/articles/{SLUG}/comments", None, False),
            ("anonymous", anonymous, "GET", f"/api/v1/articles/{SLUG}/poll/results", None, False),
            ("anonymous", anonymous, "POST", f"/api/v1/articles/{SLUG}/poll/votes", vote, False),
            ("anonymous", anonymous, "GET", f"/articles/{SLUG}", None, True),
            ("signed in", signed_in, "GET", f"/api/v1/articles/{SLUG}/comments", None, False),
            ("signed in", signed_in, "POST", f"/api/v1/articles/{SLUG}/comments", comment, False),
            ("signed in", signed_in, "GET", "/api/v1/auth/me", None, False),
            ("signed in", signed_in, "GET", f"/articles/{SLUG}", None, True),
        ):  # fmt: skip
            problem = expect_db_503(who, browser, method, path, data, html)
            if problem:
                problems.append(problem)
    return sorted(set(problems))


def healthz(port: int) -> tuple[int, dict[str, Any]]:
    try:
        status, _, body = Browser(port).request("GET", "/healthz", keep=False, timeout=10)
        return status, json.loads(body)
    except (OSError, ValueError):
        return 0, {}


def wait_recovered(port: int, signed_in: Browser, limit: float) -> float | None:
    """Seconds until /healthz, an anonymous read and a signed-in comment all succeed."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        with contextlib.suppress(OSError, ValueError):
            ok = healthz(port)[0] == 200
            ok = ok and Browser(port).request("GET", f"/api/v1/articles/{SLUG}/comments")[0] == 200
            ok = ok and signed_in.request("GET", "/api/v1/auth/me")[0] == 200
            if ok:
                return time.monotonic() - began
        time.sleep(0.1)
    return None


def database_outage(
    mode: str, pg: PrivatePostgres, server: Server, load: Load, signed_in: Browser,
    seeded: Seeded, args: argparse.Namespace,
) -> list[Check]:  # fmt: skip
    checks = []
    master, workers = server.process.pid, worker_pids(server.process.pid)
    calm_from = time.monotonic()
    time.sleep(args.phase)
    before = load.between(calm_from, time.monotonic())
    bad = [r for r in before if r.status not in (200, 201)]
    checks.append(
        Check(
            f"[{mode}] before the outage every request succeeds",
            bool(before) and not bad,
            summary(before) + (f"; e.g. {bad[0]}" if bad else ""),
        )
    )

    stop_began = time.monotonic()
    if mode == "refuse":
        terminated = pg.refuse_connections()
        print(f"    refusing connections; {terminated} of the app's backends terminated")
    else:
        pg.stop(mode)
    down_at = time.monotonic()
    time.sleep(CACHES_EXPIRE)
    status, health = healthz(server.port)
    checks.append(
        Check(
            f"[{mode}] during the outage /healthz answers 503, database unavailable",
            status == 503 and health.get("checks", {}).get("database") == "unavailable",
            f"{status} {health}",
        )
    )
    problems = outage_probes(server.port, signed_in, seeded)
    checks.append(
        Check(
            f"[{mode}] during the outage the API answers 503 database_unavailable "
            "and the page the HTML 503 page, anonymous and signed in",
            not problems,
            "; ".join(problems[:6]) or "8 kinds of request x 4, each the contract's 503",
        )
    )
    time.sleep(max(0.0, args.outage - (time.monotonic() - down_at)))
    during = load.between(down_at, time.monotonic())
    wrong = [r for r in during if r.status not in (503,)]
    checks.append(
        Check(
            f"[{mode}] during the outage the load gets 503s, never a 500",
            bool(during) and not [r for r in wrong if r.status >= 500 or r.status == 0],
            summary(during) + (f"; e.g. {wrong[0]}" if wrong else ""),
        )
    )

    if mode == "refuse":
        pg.allow_connections()
    else:
        pg.start()
    up_at = time.monotonic()
    recovered = wait_recovered(server.port, signed_in, args.recovery_limit)
    same_master = server.process.poll() is None and server.process.pid == master
    after_workers = worker_pids(master)
    checks.append(
        Check(
            f"[{mode}] recovers by itself within {args.recovery_limit:g}s, gunicorn not restarted",
            recovered is not None and same_master,
            (
                f"recovered {recovered:.1f}s after the server was back"
                if recovered is not None
                else "did not recover"
            )
            + f" (down {up_at - stop_began:.1f}s); master {master} "
            + ("still serving" if same_master else "GONE")
            + (
                "; same workers"
                if after_workers == workers
                else f"; workers changed {sorted(workers)} -> {sorted(after_workers)}"
            ),
        )  # fmt: skip
    )
    settled = time.monotonic()
    time.sleep(args.phase)
    after = load.between(settled, time.monotonic())
    bad = [r for r in after if r.status not in (200, 201)]
    checks.append(
        Check(
            f"[{mode}] after recovery every request succeeds",
            bool(after) and not bad,
            summary(after) + (f"; e.g. {bad[0]}" if bad else ""),
        )
    )
    return checks


def no_half_written_rows(url: str, seeded: Seeded, load: Load) -> list[Check]:
    from webapp.config import database_url_from

    engine = sa.create_engine(database_url_from(url))
    with engine.connect() as connection:

        def rows(sql: str) -> dict[Any, Any]:
            return dict(connection.execute(sa.text(sql), {"p": seeded.poll_id}).tuples().all())

        counted = rows(
            "SELECT option_id, count(*) FROM votes WHERE poll_id = :p GROUP BY option_id"
        )
        stored = rows("SELECT id, vote_count FROM poll_options WHERE poll_id = :p")
        rolled = rows(
            "SELECT option_id, sum(votes_cast - votes_withdrawn) FROM poll_daily_tallies "
            "WHERE poll_id = :p GROUP BY option_id"
        )
        comments = dict(
            connection.execute(
                sa.text("SELECT id, body FROM comments WHERE article_id = :a"),
                {"a": seeded.article_id},
            )
            .tuples()
            .all()
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
    engine.dispose()
    votes = sum(counted.values())
    missing = [cid for cid in load.comments if cid not in comments]
    unannounced = [cid for cid in comments if cid not in load.comments]
    return [
        Check(
            "no half-written votes: every accepted vote stored, tallies and rollups = recount",
            votes >= load.votes_accepted
            and all(stored[o] == counted.get(o, 0) == (rolled.get(o) or 0) for o in stored),
            f"{load.votes_accepted} votes answered 201, {votes} stored"
            + (
                f" ({votes - load.votes_accepted} committed but answered with an error)"
                if votes > load.votes_accepted
                else ""
            )
            + f"; tallies {dict(sorted(stored.items()))}, recount {dict(sorted(counted.items()))},"
            f" rollups {dict(sorted(rolled.items()))}",
        ),  # fmt: skip
        Check(
            "no half-written comments: every accepted comment stored, comment_count = recount",
            not missing and comment_count == published,
            f"{len(load.comments)} comments answered 201, {len(comments)} stored"
            + (f" ({len(unannounced)} committed but answered with an error)" if unannounced else "")
            + f"; missing {missing[:10]}; comment_count {comment_count}, recount {published}",
        ),  # fmt: skip
    ]


# --- the Redis outage -------------------------------------------------------------------------


def attempts(
    port: int, kind: str, count: int, commenter: Browser, options: list[int]
) -> Counter[int]:
    statuses: Counter[int] = Counter()
    for n in range(count):
        if kind == "comment":
            status, _, _ = commenter.request(
                "POST", f"/api/v1/articles/{SLUG}/comments", {"body": f"Limit test {n}."}
            )
        else:
            voter = Browser(port)
            voter.get_token()
            status, _, _ = voter.request(
                "POST",
                f"/api/v1/articles/{SLUG}/poll/votes",
                {"option_id": options[n % len(options)]},
            )
        statuses[status] += 1
    return statuses


def limits_shared_again(
    port: int, commenter: Browser, redis: PrivateRedis, workers: int, args: argparse.Namespace
) -> tuple[float | None, Counter[int]]:
    """Seconds until every worker counts comment limits in Redis again, seen from Redis:
    a run of comment posts (answered 201 or 429) that each moved the reader's counter
    there (the reader's limit is counted first, refused or not).

    Flask-Limiter, whose fallback the app's in-view limits share, looks at a dead store
    again only after a back-off (1, 2, 4 ... 32 s) and only when a request comes, so
    light traffic runs meanwhile for every worker to have its look.
    """
    import redis as redis_client

    store = redis_client.Redis.from_url(redis.url, socket_timeout=2)

    def counted() -> int:
        return sum(int(store.get(key) or 0) for key in store.scan_iter("*comment-reader*"))

    began, streak, statuses = time.monotonic(), 0, Counter[int]()
    while time.monotonic() - began < args.limiter_recovery:
        before = counted()
        statuses[
            commenter.request("POST", f"/api/v1/articles/{SLUG}/comments", {"body": "Again."})[0]
        ] += 1
        streak = streak + 1 if counted() > before else 0
        if streak >= 3 * workers:
            return time.monotonic() - began, statuses
        for _ in range(workers):
            Browser(port).request("GET", "/api/v1/csrf", keep=False)
        time.sleep(0.2)
    return None, statuses


def redis_outage(
    url: str, commenter: Browser, options: list[int], args: argparse.Namespace
) -> list[Check]:
    checks = []
    redis = PrivateRedis()
    redis.start()
    folder = Path(tempfile.mkdtemp(prefix="pulse-faults-gunicorn-"))
    settings = {
        "RATELIMIT_COMMENT": f"{COMMENT_LIMIT} per hour",
        "RATELIMIT_VOTE": f"{VOTE_LIMIT} per hour",
    }
    env = {
        "REDIS_URL": redis.url,
        "RATELIMIT_ENABLED": "1",
        "PULSE_BENCH_CONFIG": json.dumps(settings),
    }
    workers = args.workers
    server = Server(url, workers, folder, env=env, config_text=WARM_MODELS_CONFIG)
    try:
        server.wait_ready()
        port = server.port
        commenter.port = port
        status, health = healthz(port)
        up = {
            "comment": attempts(port, "comment", COMMENT_LIMIT + 3, commenter, options),
            "vote": attempts(port, "vote", VOTE_LIMIT + 3, commenter, options),
        }
        checks.append(
            Check(
                "[redis up] /healthz ok; limits shared by all workers (limit accepted, then 429)",
                status == 200
                and health.get("checks", {}).get("redis") == "ok"
                and up["comment"] == Counter({201: COMMENT_LIMIT, 429: 3})
                and up["vote"] == Counter({201: VOTE_LIMIT, 429: 3}),
                f"healthz {status} {health.get('checks')}; comments {dict(up['comment'])} "
                f"(limit {COMMENT_LIMIT}/hour), votes {dict(up['vote'])} (limit {VOTE_LIMIT}/hour)",
            )
        )

        redis.stop()
        log_before = len(server.log_text())
        status, health = healthz(port)
        down = {
            "comment": attempts(port, "comment", COMMENT_LIMIT * workers + 2, commenter, options),
            "vote": attempts(port, "vote", VOTE_LIMIT * workers + 2, commenter, options),
        }
        reads = Counter(
            Browser(port).request("GET", path)[0]
            for path in (f"/api/v1/articles/{SLUG}/comments", f"/articles/{SLUG}") * 3
        )
        checks.append(
            Check(
                "[redis down] /healthz 200 with redis degraded",
                status == 200
                and health.get("status") == "ok"
                and health.get("checks", {}).get("redis") == "degraded",
                f"{status} {health}",
            )
        )
        per_process = all(
            set(down[kind]) <= {201, 429}
            and 1 <= down[kind][201] <= limit * workers
            and down[kind][429] >= 1
            for kind, limit in (("comment", COMMENT_LIMIT), ("vote", VOTE_LIMIT))
        )
        checks.append(
            Check(
                "[redis down] voting and commenting work; limits still apply per process",
                per_process and set(reads) == {200},
                f"comments {dict(down['comment'])} (at most {COMMENT_LIMIT} x {workers} "
                f"workers may pass), votes {dict(down['vote'])} (at most {VOTE_LIMIT} x "
                f"{workers}); reads {dict(reads)}",
            )
        )
        log = server.log_text()[log_before:]
        warnings = {
            "comments": "rate limit store unavailable" in log,
            "votes (Flask-Limiter)": "falling back to in-memory storage" in log,
            "health check": "health check: redis unavailable" in log,
        }
        checks.append(
            Check(
                "[redis down] a warning is logged",
                warnings["comments"] and warnings["votes (Flask-Limiter)"],
                ", ".join(f"{k}: {'logged' if v else 'NOT logged'}" for k, v in warnings.items()),
            )
        )

        redis.start()
        began = time.monotonic()
        status, health = 0, {}
        while time.monotonic() - began < args.recovery_limit:
            status, health = healthz(port)
            if health.get("checks", {}).get("redis") == "ok":
                break
            time.sleep(0.2)
        checks.append(
            Check(
                f"[redis back] /healthz says redis ok within {args.recovery_limit:g}s",
                health.get("checks", {}).get("redis") == "ok",
                f"{status} {health.get('checks')} after {time.monotonic() - began:.1f}s",
            )
        )
        shared, statuses = limits_shared_again(port, commenter, redis, workers, args)
        checks.append(
            Check(
                f"[redis back] limits shared again within {args.limiter_recovery:g}s, "
                "nothing breaks",
                shared is not None and set(statuses) <= {201, 429},
                (
                    f"every worker counts in Redis again {shared:.1f}s after it returned"
                    if shared is not None
                    else "workers still counting in memory"
                )
                + f"; comments meanwhile {dict(statuses)}",
            )  # fmt: skip
        )
    except BaseException:
        print(server.log_tail(), file=sys.stderr)
        raise
    finally:
        server.stop()
        redis.destroy()
        shutil.rmtree(folder, ignore_errors=True)
    return checks


# --- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[Check]:
    checks: list[Check] = []
    pg = PrivatePostgres()
    try:
        pg.start()
        print(f"  private PostgreSQL on {HOST}:{pg.port}, data in {pg.folder}", flush=True)
        seeded = seed(pg.url, args.commenters)
        folder = Path(tempfile.mkdtemp(prefix="pulse-faults-gunicorn-"))
        server = Server(pg.url, args.workers, folder, config_text=WARM_MODELS_CONFIG)
        try:
            server.wait_ready()
            commenters = [sign_in(server.port, e, seeded.password) for e in seeded.commenters]
            load = Load(server.port, seeded, commenters, threads=args.threads)
            load.start()
            try:
                for mode in args.outages:
                    print(f"  database outage ({mode}) ...", flush=True)
                    checks += database_outage(mode, pg, server, load, commenters[0], seeded, args)
            finally:
                load.stop()
            checks += no_half_written_rows(pg.url, seeded, load)
            errors = server.log_text().count("database unavailable:")
            print(f"  the app logged {errors} 'database unavailable' errors", flush=True)
        except BaseException:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)
        print("  redis outage ...", flush=True)
        checks += redis_outage(pg.url, commenters[1], seeded.option_ids, args)
    finally:
        pg.destroy()
    return checks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--outages",
        default="fast,immediate,refuse",
        help="pg_ctl stop modes (fast, immediate) or refuse (ALLOW_CONNECTIONS false), "
        "one outage each",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=6, help="load threads")
    parser.add_argument("--commenters", type=int, default=6, help="signed-in readers")
    parser.add_argument("--phase", type=float, default=3.0, help="s of load before and after")
    parser.add_argument("--outage", type=float, default=4.0, help="s the database stays down")
    parser.add_argument("--recovery-limit", type=float, default=10.0, help="s allowed to recover")
    parser.add_argument(
        "--limiter-recovery",
        type=float,
        default=45.0,
        help="s allowed for every worker's rate limiter to use Redis again",
    )
    parser.add_argument(
        "--time-limit", type=float, default=300, help="stop everything after this many seconds"
    )
    args = parser.parse_args(argv)
    args.outages = [mode.strip() for mode in args.outages.split(",") if mode.strip()]
    if not set(args.outages) <= {"fast", "immediate", "smart", "refuse"} or not args.outages:
        parser.error("--outages: fast, immediate, refuse (comma-separated)")
    if not 1 <= args.workers <= 8 or not 1 <= args.threads <= 32 or args.commenters < 2:
        parser.error("--workers 1-8, --threads 1-32, --commenters at least 2")
    if not 0 < args.phase <= 30 or not 0 < args.outage <= 60:
        parser.error("--phase and --outage must be short (at most 30 and 60 s)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bound_run(args.time_limit)
    gunicorn_path()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    print(
        f"Pulse fault test: private PostgreSQL and Redis; gunicorn {args.workers} sync workers; "
        f"{args.threads} load threads; database outages: {', '.join(args.outages)}",
        flush=True,
    )
    checks = run(args)
    signal.alarm(0)
    print()
    for check in checks:
        print(f"{'PASS' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    failed = [check for check in checks if not check.ok]
    print(f"\n{'FAIL' if failed else 'PASS'}: {len(checks) - len(failed)} of {len(checks)} checks")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
