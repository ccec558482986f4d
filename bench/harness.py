"""What the scripts in bench/ share: the load client, throwaway databases, gunicorn.

- ``fire`` runs N client threads against one endpoint for a fixed time and keeps
  per-status counts and latencies (``Sample``); ``exchange`` is one request on a
  fresh loopback connection (gunicorn's sync workers close it after each answer).
- ``throwaway_database`` gives a database URL that exists only for one run: a
  temporary SQLite file, or a PostgreSQL schema of its own, dropped afterwards.
- ``Server`` runs gunicorn (sync workers, 127.0.0.1 only, rate limits off unless
  told otherwise, a fixed SECRET_KEY) in a process group of its own, stopped on
  every way out (``atexit`` too).
- ``browser_session`` and ``sign_in`` give the cookies and CSRF token a browser
  script would hold, anonymous or signed in.

Used by bench/polls.py, bench/comments.py, bench/burst.py and bench/faults.py.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

HOST = "127.0.0.1"  # loopback only, always
SECRET_KEY = "pulse-bench-secret-key-not-for-production"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

# A gunicorn config that does what scripts/gunicorn.conf.py does for the models, with
# the same hooks: load the app in the master, warm the sentiment and toxicity models
# there before forking, and give every worker its own database connections.
WARM_MODELS_CONFIG = """\
preload_app = True
from webapp.gunicorn_hooks import post_fork, when_ready
"""


# --- the load generator ---------------------------------------------------------------


@dataclass
class Sample:
    """What one endpoint did over one or more timed runs."""

    name: str
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0
    # requests/s (or p50 latency, for one connection) of each round, in order
    per_round: list[float] = field(default_factory=list)

    def add(self, other: Sample) -> None:
        self.ok += other.ok
        self.errors.update(other.errors)
        self.elapsed += other.elapsed
        self.latencies.extend(other.latencies)
        self.client_cpu += other.client_cpu

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000


def http_request(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def exchange(port: int, payload: bytes, timeout: float = 30.0) -> bytes:
    """Send one request on a fresh connection and read the answer to the end.

    gunicorn's sync workers close the connection after every answer, so each
    request is a connect, one send and reads until the server closes.
    """
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split_response(raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split(" ", 2)[1]), headers, body


def fire(
    name: str,
    port: int,
    make_request: Callable[[int], bytes],
    expect: int,
    concurrency: int,
    duration: float,
) -> Sample:
    """``concurrency`` threads sending requests back to back for ``duration`` seconds.

    Only answers with the ``expect``ed status count (and have their latency kept);
    anything else is counted as an error by kind.
    """
    barrier = threading.Barrier(concurrency + 1)
    parts = [Sample(name) for _ in range(concurrency)]
    deadline = 0.0

    def run(index: int) -> None:
        sample, counter = parts[index], index
        barrier.wait()
        while (started := time.perf_counter()) < deadline:
            payload = make_request(counter)
            counter += concurrency
            try:
                raw = exchange(port, payload)
            except OSError as exc:
                sample.errors[type(exc).__name__] += 1
                time.sleep(0.01)
                continue
            finished = time.perf_counter()
            status = int(raw[9:12]) if raw[:5] == b"HTTP/" else 0
            if status == expect:
                sample.ok += 1
                sample.latencies.append(finished - started)
            else:
                sample.errors[f"HTTP {status}"] += 1

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    deadline = began + duration
    barrier.wait()
    for thread in threads:
        thread.join(timeout=duration + 60)
    total = Sample(name, elapsed=time.perf_counter() - began)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    for part in parts:
        total.add(part)
    total.elapsed = time.perf_counter() - began
    total.client_cpu = (
        cpu_after.ru_utime - cpu_before.ru_utime + cpu_after.ru_stime - cpu_before.ru_stime
    )
    return total


def spread(tops: list[float], bottoms: list[float]) -> str:
    """Lowest and highest ratio of single rounds: how much the machine wavered."""
    ratios = [a / b for a, b in zip(tops, bottoms, strict=True) if b]
    return f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"


# --- the database -----------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str) -> Iterator[str]:
    """A database URL that exists only for this run, and is removed afterwards."""
    from webapp.config import database_url_from

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pulse-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    base = database_url_from(postgres_url)
    schema = f"pulse_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def seeding(url: str) -> Iterator[None]:
    """An app context on ``url``, its schema created, for making a run's data through
    the service layer; commits at the end and closes every connection it opened."""
    from webapp import create_app
    from webapp.config import database_url_from
    from webapp.extensions import db
    from webapp.models import Base

    engine = sa.create_engine(database_url_from(url))
    Base.metadata.create_all(engine)
    engine.dispose()
    # No background integrity pass: its thread would outlive the seeding and query a
    # throwaway database after the run dropped it.
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "RATELIMIT_ENABLED": False,
            "INTEGRITY_RUNNER": False,
        }
    )
    with app.app_context():
        try:
            yield
            db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()


def publish_article(editor: Any, slug: str, body: str = "An article to read and discuss.") -> Any:
    """A published article open for comments, with a three-option poll that takes
    anonymous votes and always shows its results (flushed, not committed)."""
    from webapp.extensions import db
    from webapp.services import articles

    article = articles.create_article(
        editor,
        articles.ArticleChanges(
            title=f"Benchmark {slug}",
            slug=slug,
            body=body,
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
    return article


def check_postgres(url: str) -> None:
    from webapp.config import database_url_from

    engine = sa.create_engine(database_url_from(url))
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        raise SystemExit(f"PostgreSQL is not reachable at {url}: {exc.orig}") from None
    finally:
        engine.dispose()


# --- the server ---------------------------------------------------------------------------


def gunicorn_path() -> str:
    beside = Path(sys.executable).with_name("gunicorn")
    found = str(beside) if beside.exists() else shutil.which("gunicorn")
    if found is None:
        raise SystemExit("gunicorn is not installed: pip install -e '.[prod]'")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """gunicorn serving bench.bench_app, in a process group of its own.

    ``env`` adds to (or, with None values, removes from) the environment the app
    sees; by default REDIS_URL is removed and rate limits are off.
    ``config_text`` is the gunicorn config file (e.g. ``WARM_MODELS_CONFIG``).
    """

    def __init__(
        self,
        url: str,
        workers: int,
        folder: Path,
        *,
        env: Mapping[str, str | None] | None = None,
        config_text: str = "# every setting is on the command line\n",
        timeout: int = 60,
    ) -> None:
        self.port = free_port()
        self.log_path = folder / "gunicorn.log"
        config = folder / "gunicorn.conf.py"
        config.write_text(config_text)
        environment = dict(os.environ)
        environment.pop("REDIS_URL", None)
        environment.update(
            DATABASE_URL=url,
            SECRET_KEY=SECRET_KEY,
            RATELIMIT_ENABLED="0",
            WEBAPP_ENV="development",
            PYTHONPATH=str(ROOT),
        )
        for name, value in (env or {}).items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        command = [
            gunicorn_path(),
            f"--config={config}",
            f"--workers={workers}",
            "--worker-class=sync",
            f"--bind={HOST}:{self.port}",
            f"--chdir={ROOT}",
            "--log-level=warning",
            f"--timeout={timeout}",
            "bench.bench_app:app",
        ]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            env=environment,
            cwd=ROOT,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        atexit.register(self.stop)

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        request = http_request("GET", "/api/v1/csrf")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if split_response(exchange(self.port, request, timeout=5))[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()


# --- sessions as a browser holds them -------------------------------------------------------


def _session_cookie(headers: dict[str, list[str]]) -> str | None:
    for cookie in headers.get("set-cookie", []):
        if cookie.startswith("session="):
            return cookie.split(";", 1)[0]
    return None


def session_for(port: int, settle_path: str) -> tuple[str, str]:
    """A session cookie and the CSRF token bound to it, as a browser script gets them.

    Then one read of ``settle_path``, keeping the cookie the app sends back (the
    first look at who is signed in marks an anonymous session), as a browser's
    cookie jar would; after that the load leaves the session cookie as it is.
    """
    status, headers, body = split_response(exchange(port, http_request("GET", "/api/v1/csrf")))
    cookie = _session_cookie(headers)
    if status != 200 or cookie is None:
        raise RuntimeError(f"GET /api/v1/csrf answered {status} without a session cookie")
    token = json.loads(body)["csrf_token"]
    status, headers, _ = split_response(
        exchange(port, http_request("GET", settle_path, {"Cookie": cookie}))
    )
    if status != 200:
        raise RuntimeError(f"GET {settle_path} answered {status}")
    return _session_cookie(headers) or cookie, token


class Browser:
    """One reader's cookie jar and CSRF token, for scripted requests to the app."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def keep_cookies(self, headers: dict[str, list[str]]) -> None:
        for cookie in headers.get("set-cookie", []):
            pair = cookie.split(";", 1)[0]
            name, _, value = pair.partition("=")
            self.cookies[name.strip()] = value.strip()

    def headers(self, unsafe: bool = False, json_body: bool = False) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        if unsafe:
            headers["X-CSRFToken"] = self.token
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def request(
        self, method: str, path: str, data: Any = None, timeout: float = 30.0, keep: bool = True
    ) -> tuple[int, dict[str, list[str]], bytes]:
        unsafe = method not in ("GET", "HEAD")
        body = json.dumps(data).encode() if data is not None else b""
        payload = http_request(method, path, self.headers(unsafe, data is not None), body)
        status, headers, answer = split_response(exchange(self.port, payload, timeout))
        if keep:
            self.keep_cookies(headers)
        return status, headers, answer

    def get_token(self) -> str:
        status, _, body = self.request("GET", "/api/v1/csrf")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/csrf answered {status}")
        self.token = json.loads(body)["csrf_token"]
        return self.token


def sign_in(port: int, email: str, password: str) -> Browser:
    """A browser signed in through POST /api/v1/auth/login, with its CSRF token."""
    browser = Browser(port)
    browser.get_token()
    status, _, body = browser.request(
        "POST", "/api/v1/auth/login", {"email": email, "password": password}
    )
    if status != 200:
        raise RuntimeError(f"sign-in of {email} answered {status}: {body[:200]!r}")
    # The token is bound to the session, which signing in keeps; ask again to be sure.
    browser.get_token()
    return browser


# --- bounded runs ------------------------------------------------------------------------------


def stop_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def bound_run(time_limit: float) -> None:
    """Turn SIGTERM, SIGHUP and, after ``time_limit`` seconds, SIGALRM into SystemExit,
    so every ``finally`` and ``atexit`` clean-up runs."""
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, stop_on_signal)
    signal.alarm(int(time_limit))


def reference_table(runs: list[Any], pairs: tuple[tuple[str, str, str], ...]) -> list[str]:
    """The "where the time goes" table: ratios between reference endpoints, no targets."""
    lines = [
        "",
        "| database | where the time goes (reference, no target) | measured | single rounds |",
        "|---|---|---:|---:|",
    ]
    for run in runs:
        for label, top, bottom in pairs:
            lines.append(
                f"| {run.db} | {label} | {run.ratio(top, bottom):.2f}x | "
                f"{run.spread(top, bottom)} |"
            )
    return lines


def add_common_args(parser: Any, out_name: str, quick_help: str) -> None:
    """The flags every benchmark script takes, with the same defaults."""
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=float, default=2.0, help="s per endpoint per round")
    parser.add_argument("--rounds", type=int, default=6, help="rounds over all endpoints")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections at once")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--warmup", type=float, default=1.0, help="s per endpoint before rounds")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server and database to make a throwaway schema in (default: as the tests)",
    )
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(
        "--time-limit", type=float, default=900, help="stop everything after this many seconds"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results" / out_name,
        help="also write the report here (bench/results/ is not committed)",
    )


def check_common_args(parser: Any, args: Any) -> None:
    """Refuse the shared flags out of their bounds (parser.error exits)."""
    if not 1 <= args.concurrency <= 64 or not 1 <= args.workers <= 16:
        parser.error("--concurrency must be 1-64 and --workers 1-16")
    if not 0 < args.duration <= 60 or not 1 <= args.rounds <= 20:
        parser.error("--duration must be at most 60 s and --rounds 1-20")


def start_run(args: Any, title: str) -> list[str]:
    """Bound the run, check what it needs and say what it measures; the databases."""
    bound_run(args.time_limit)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    gunicorn_path()
    if "postgresql" in kinds:
        check_postgres(args.postgres_url)
    print(
        f"{title}: {', '.join(kinds)}; gunicorn {args.workers} sync workers; "
        f"{args.concurrency} client connections; {args.rounds} x {args.duration:g}s per endpoint",
        flush=True,
    )
    return kinds


def finish_run(args: Any, report: str, runs: list[Any], setting: str = "") -> None:
    """Print the report, headed by when and how it ran and followed by each run's notes,
    and write it to --out."""
    signal.alarm(0)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            f"Run {when} on {os.cpu_count()} cores (shared); gunicorn {args.workers} sync "
            f"workers, {args.concurrency} client connections, {args.rounds} rounds x "
            f"{args.duration:g}s per endpoint{' (--quick)' if args.quick else ''}{setting}.",
            "",
            report,
            "",
            *(f"- {note}" for run in runs for note in run.notes),
        ]
    )
    print()
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
