"""Read-path benchmark: what signed-out readers open, as ratios against bare Flask.

    .venv/bin/python bench/read_path.py                 # SQLite and PostgreSQL, about 6 minutes
    .venv/bin/python bench/read_path.py --db sqlite --quick

For each database it makes a throwaway database (a temporary SQLite file, or a
PostgreSQL schema of its own, dropped afterwards), loads the demo (the ceasefire
article with its poll and conversation, ``webapp.demo``) and 30 more published
articles with polls through the service layer, and starts, side by side with the
same gunicorn settings (sync workers, 127.0.0.1 only, rate limits off, a fixed
SECRET_KEY):

- bench/hello_app.py: bare Flask with one route, GET /hello, the floor;
- Pulse (bench/bench_app.py, which serves what wsgi:app serves);
- Varnish from Debian's package (``varnishd``) in front of that Pulse, with the
  repository's deploy/varnish/pulse.vcl (its backend pointed at the Pulse under
  test), when both are there; otherwise the run says why and measures the rest.

Then, without cookies (a signed-out reader), in the same run:

- hello: GET /hello (bare Flask);
- healthz: GET /healthz (one SELECT 1 on the database);
- static: GET /static/pulse.js?v=<hash>, the versioned URL the pages link;
- article: GET /articles/<demo slug>, the article page, straight from gunicorn (no
  HTTP cache; each worker keeps the page signed-out readers share for
  THREAD_CACHE_SECONDS, keyed by the article's state, webapp.public.routes, and
  answers it before Flask once sent, webapp.shared_pages);
- rendered: the same from a second Pulse with THREAD_CACHE_SECONDS=0, which renders
  the page, its thread and its sides for every request (a reference, no target);
- empty: GET /bench/empty, a page with nothing in it through every hook of Pulse's
  (middleware, security and cache headers, the request log): the floor of any page
  of the app (a reference, no target);
- api: GET /api/v1/articles (the first page, 20 articles);
- home: GET / (the home page);
- varnish: GET /articles/<demo slug> through Varnish (checked to be a hit first).

Targets (issue 18), as ratios against /hello in the same run: /healthz >= 0.6x;
the article page without an HTTP cache >= 0.3x; the article page through Varnish >= 5x.

The load comes from wrk (Debian package ``wrk``; 2 threads, 32 connections, as
the issue measured) when it is installed, else from the Python client of
bench/harness.py (``fire``), which cannot send fast enough to show what Varnish
does (the run says which it used). Throughput is measured in short rounds, every
other one in the mirrored order, so drift on a shared machine falls on every
endpoint alike; each ratio comes with the lowest and highest ratio of single
rounds. Everything runs on the same machine as the load generator, so figures
are ratios of one run, never absolute promises.

Every phase is bounded in time, the whole run by --time-limit; gunicorn and
varnishd run in process groups of their own and are stopped on every way out.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    HOST,
    Sample,
    Server,
    add_common_args,
    check_common_args,
    exchange,
    finish_run,
    fire,
    free_port,
    http_request,
    publish_article,
    seeding,
    split_response,
    start_run,
    throwaway_database,
)

VCL_PATH = ROOT / "deploy" / "varnish" / "pulse.vcl"
EXTRA_ARTICLES = 30
TARGETS = {"healthz": 0.6, "article": 0.3, "varnish": 5.0}
LABELS = {
    "hello": "bare Flask: GET /hello",
    "healthz": "GET /healthz",
    "static": "static file: GET /static/pulse.js?v=...",
    "article": "article page, signed out, no HTTP cache: GET /articles/{slug}",
    "rendered": "(reference) the same, rendered for every request: THREAD_CACHE_SECONDS=0",
    "empty": "(reference) an empty page through all of Pulse's hooks: GET /bench/empty",
    "api": "GET /api/v1/articles",
    "home": "home page: GET /",
    "varnish": "article page through Varnish: GET /articles/{slug}",
}


# --- the database -------------------------------------------------------------------------


def seed(url: str) -> str:
    """The demo and EXTRA_ARTICLES more published articles; the demo article's slug."""
    from webapp.demo.loader import load_demo
    from webapp.models import Role
    from webapp.services.accounts import create_user

    with seeding(url):
        report = load_demo()
        editor = create_user("bench-editor@example.org", "bench-editor-pw-1", Role.EDITOR, "Bench")
        for number in range(EXTRA_ARTICLES):
            publish_article(editor, f"bench-story-{number}")
    return report.article_slug


# --- the servers --------------------------------------------------------------------------


class HelloServer(Server):
    """gunicorn serving bench/hello_app.py with the settings ``Server`` gives Pulse.

    ``Server`` always serves bench.bench_app: this starts it, then serves the hello
    app instead from a config hook that swaps each worker's app before it answers
    anything (``post_worker_init``), so both run exactly the same gunicorn."""

    def __init__(self, workers: int, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(
            "sqlite://",
            workers,
            folder,
            config_text=(
                "def post_worker_init(worker):\n"
                "    from bench.hello_app import app\n"
                "    worker.wsgi = app\n"
            ),
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        request = http_request("GET", "/hello")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn (hello) exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if split_response(exchange(self.port, request, timeout=5))[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn (hello) did not answer:\n{self.log_tail()}")


def varnish_missing() -> str | None:
    """Why Varnish cannot be measured here, or None when it can."""
    if shutil.which("varnishd") is None and not Path("/usr/sbin/varnishd").exists():
        return "varnishd is not installed (Debian: apt-get install varnish varnish-modules)"
    if not VCL_PATH.exists():
        return f"{VCL_PATH.relative_to(ROOT)} is not in the repository yet"
    return None


def backend_vcl(vcl: str, port: int) -> str:
    """The repository's VCL with its default backend pointed at 127.0.0.1:``port``."""
    block = re.search(r"backend\s+default\s*\{.*?\n\}", vcl, flags=re.S)
    if block is None:
        raise RuntimeError(f"{VCL_PATH}: no 'backend default {{ ... }}' block to point")
    body = re.sub(r'\.host\s*=\s*"[^"]*"', f'.host = "{HOST}"', block.group(0))
    body = re.sub(r'\.port\s*=\s*"[^"]*"', f'.port = "{port}"', body)
    return vcl[: block.start()] + body + vcl[block.end() :]


@dataclass
class Varnish:
    """varnishd in the foreground, in a process group of its own, in front of ``backend``."""

    backend: int
    folder: Path
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        vcl = self.folder / "pulse.vcl"
        vcl.write_text(backend_vcl(VCL_PATH.read_text(), self.backend))
        self.log_path = self.folder / "varnishd.log"
        self._log = self.log_path.open("wb")
        varnishd = shutil.which("varnishd") or "/usr/sbin/varnishd"
        self.process = subprocess.Popen(
            [
                varnishd,
                "-F",
                "-j",
                "none",  # no privilege-dropping jail: a throwaway instance of this user
                "-n",
                str(self.folder / "varnish"),
                "-a",
                f"{HOST}:{self.port}",
                "-f",
                str(vcl),
                "-s",
                "malloc,64m",
            ],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        atexit.register(self.stop)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        return ""

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"varnishd exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if split_response(exchange(self.port, http_request("GET", path), 5))[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"varnishd did not answer within {timeout:.0f}s:\n{self.log_tail()}")

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


# --- the load -----------------------------------------------------------------------------


@dataclass
class Target:
    port: int
    path: str


_WRK_LINE = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(name: str, target: Target, args: argparse.Namespace, duration: float) -> Sample:
    """One timed run of wrk; its answers other than 2xx/3xx and socket errors are errors."""
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        f"http://{HOST}:{target.port}{target.path}",
    ]
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    found = _WRK_LINE.search(out)
    if found is None:
        raise RuntimeError(f"wrk said nothing of its requests:\n{out}")
    total, elapsed = int(found.group(1)), _seconds(found.group(2) + found.group(3))
    sample = Sample(name, elapsed=elapsed)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        sample.errors["HTTP non-2xx/3xx"] += int(bad.group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)", out)
    if sockets:
        for kind, count in zip(("connect", "write", "timeout"), sockets.groups(), strict=True):
            if int(count):
                sample.errors[f"socket {kind}"] += int(count)
    sample.ok = total - sum(sample.errors.values())
    median = re.search(r"^\s+50%\s+(\S+)", out, flags=re.M)
    if median:
        sample.latencies.append(_seconds(median.group(1)))
    return sample


def measure_once(name: str, target: Target, args: argparse.Namespace, duration: float) -> Sample:
    if args.client == "wrk":
        return wrk(name, target, args, duration)
    payload = http_request("GET", target.path)
    return fire(name, target.port, lambda _n: payload, 200, args.concurrency, duration)


# --- one database, start to end -------------------------------------------------------------


@dataclass
class Run:
    db: str
    samples: dict[str, Sample]
    notes: list[str]

    def ratio(self, top: str) -> float:
        below = self.samples["hello"].rate
        return self.samples[top].rate / below if below else 0.0

    def spread(self, top: str) -> str:
        pairs = zip(self.samples[top].per_round, self.samples["hello"].per_round, strict=True)
        ratios = [a / b for a, b in pairs if b]
        return f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"


def first_look(target: Target) -> dict[str, list[str]]:
    """One request as the load will send it: 200, and its headers."""
    status, headers, _ = split_response(exchange(target.port, http_request("GET", target.path)))
    if status != 200:
        raise RuntimeError(f"GET {target.path} on port {target.port} answered {status}")
    return headers


@contextlib.contextmanager
def servers(url: str, args: argparse.Namespace, folder: Path) -> Iterator[dict[str, Any]]:
    hello = HelloServer(args.workers, folder / "hello")
    pulse = Server(url, args.workers, folder)
    # The same app with the per-worker thread and page cache off: what rendering the
    # article page for every request costs (a reference, no target).
    (folder / "rendered").mkdir()
    rendered = Server(url, args.workers, folder / "rendered", env={"THREAD_CACHE_SECONDS": "0"})
    varnish = None
    try:
        hello.wait_ready()
        pulse.wait_ready()
        rendered.wait_ready()
        if args.varnish_missing is None:
            (folder / "v").mkdir()
            varnish = Varnish(pulse.port, folder / "v")
        yield {"hello": hello, "pulse": pulse, "rendered": rendered, "varnish": varnish}
    except BaseException:
        print(pulse.log_tail(), file=sys.stderr)
        if varnish is not None:
            print(varnish.log_tail(), file=sys.stderr)
        raise
    finally:
        if varnish is not None:
            varnish.stop()
        rendered.stop()
        pulse.stop()
        hello.stop()


def load_average() -> str:
    """The machine's 1-minute load average: how busy it was besides this run."""
    return f"{os.getloadavg()[0]:.1f}"


def bench_database(kind: str, args: argparse.Namespace) -> Run:
    started = time.perf_counter()
    notes: list[str] = []
    load_before = load_average()
    with throwaway_database(kind, args.postgres_url) as url, tempfile.TemporaryDirectory() as tmp:
        slug = seed(url)
        print(f"  [{kind}] demo and {EXTRA_ARTICLES} articles stored", flush=True)
        with servers(url, args, Path(tmp)) as running:
            pulse = running["pulse"].port
            home = split_response(exchange(pulse, http_request("GET", "/")))[2].decode()
            script = re.search(r'src="(/static/pulse\.js[^"]*)"', home)
            if script is None:
                raise RuntimeError("the home page links no pulse.js")
            targets = {
                "hello": Target(running["hello"].port, "/hello"),
                "healthz": Target(pulse, "/healthz"),
                "static": Target(pulse, script.group(1).replace("&amp;", "&")),
                "article": Target(pulse, f"/articles/{slug}"),
                "rendered": Target(running["rendered"].port, f"/articles/{slug}"),
                "empty": Target(pulse, "/bench/empty"),
                "api": Target(pulse, "/api/v1/articles"),
                "home": Target(pulse, "/"),
            }
            for name, target in targets.items():
                headers = first_look(target)
                if name in ("article", "home", "api") and "set-cookie" in headers:
                    notes.append(f"{kind}: signed-out GET {target.path} sets a cookie")
                if name == "static":
                    notes.append(
                        f"{kind}: {target.path} is served with Cache-Control: "
                        f"{', '.join(headers.get('cache-control', ['(none)']))}"
                    )
            varnish = running["varnish"]
            if varnish is not None:
                varnish.wait_ready(f"/articles/{slug}")
                targets["varnish"] = Target(varnish.port, f"/articles/{slug}")
                headers = first_look(targets["varnish"])
                age = headers.get("age", ["0"])[0]
                hit = int(age) > 0 or len(headers.get("x-varnish", [""])[0].split()) > 1
                notes.append(
                    f"{kind}: second signed-out view through Varnish: "
                    f"{'a hit' if hit else 'NOT a hit (it passed or missed)'} "
                    f"(X-Varnish: {headers.get('x-varnish', ['-'])[0]}, Age: {age})"
                )
            samples = measure(kind, targets, args)
    cpu = sum(s.client_cpu for s in samples.values())
    wall = sum(s.elapsed for s in samples.values())
    if args.client == "python":
        notes.append(f"{kind}: the Python load client used {100 * cpu / wall:.0f}% of one core")
    notes.append(
        f"{kind}: whole run {time.perf_counter() - started:.0f}s; load average "
        f"{load_before} before it, {load_average()} after (on {os.cpu_count()} cores)"
    )
    errors = {name: dict(s.errors) for name, s in samples.items() if s.errors}
    if errors:
        notes.append(f"{kind}: errors {errors}")
    return Run(kind, samples, notes)


def measure(kind: str, targets: dict[str, Target], args: argparse.Namespace) -> dict[str, Sample]:
    samples = {name: Sample(name) for name in targets}
    for name, target in targets.items():  # every worker opens its connections, warms caches
        measure_once(name, target, args, args.warmup)
    for round_number in range(args.rounds):
        order = list(targets) if round_number % 2 == 0 else list(reversed(targets))
        for name in order:
            sample = measure_once(name, targets[name], args, args.duration)
            samples[name].add(sample)
            samples[name].per_round.append(sample.rate)
        print(f"  [{kind}] round {round_number + 1}/{args.rounds} done", flush=True)
    return samples


# --- reporting ----------------------------------------------------------------------------


def report(runs: list[Run], args: argparse.Namespace) -> str:
    lines = [
        "| database | measurement | requests/s | vs /hello | single rounds | p50 ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for run in runs:
        for name, label in LABELS.items():
            if name not in run.samples:
                continue
            s = run.samples[name]
            lines.append(
                f"| {run.db} | {label} | {s.rate:,.0f} | {run.ratio(name):.2f}x | "
                f"{run.spread(name)} | {s.p50:.2f} |"
            )
    lines += [
        "",
        "| database | target | measured | single rounds | needed | verdict |",
        "|---|---|---:|---:|---:|---|",
    ]
    for run in runs:
        for name, needed in TARGETS.items():
            if name not in run.samples:
                lines.append(f"| {run.db} | {LABELS[name]} | - | - | >= {needed}x | NOT RUN |")
                continue
            value = run.ratio(name)
            verdict = "PASS" if value >= needed else "MISS"
            lines.append(
                f"| {run.db} | {LABELS[name]} | {value:.2f}x | {run.spread(name)} | "
                f">= {needed}x | {verdict} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_common_args(parser, "read-path-latest.md", "smoke run: 1 s phases, 2 rounds")
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when installed (auto), or the Python client",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk's connections")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--no-varnish", action="store_true", help="leave Varnish out")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 1.0, 2, 0.5
    check_common_args(parser, args)
    if not 1 <= args.connections <= 256 or not 1 <= args.wrk_threads <= 8:
        parser.error("--connections must be 1-256 and --wrk-threads 1-8")
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    elif args.client == "wrk" and shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    args.varnish_missing = "left out (--no-varnish)" if args.no_varnish else varnish_missing()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = start_run(args, "Pulse read-path benchmark")
    client = (
        f"wrk, {args.wrk_threads} threads, {args.connections} connections"
        if args.client == "wrk"
        else f"the Python client, {args.concurrency} connections"
    )
    print(f"  load from {client}", flush=True)
    if args.varnish_missing:
        print(f"  Varnish not measured: {args.varnish_missing}", flush=True)
    runs = [bench_database(kind, args) for kind in kinds]
    setting = f"; load from {client}"
    if args.varnish_missing:
        setting += f"; Varnish not measured: {args.varnish_missing}"
    finish_run(args, report(runs, args), runs, setting)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
