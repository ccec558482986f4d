"""Scale benchmark: every page and API route on a fresh site and on a busy newsroom's.

    .venv/bin/python bench/scale.py                      # both databases; see README
    .venv/bin/python bench/scale.py --db sqlite --quick  # smoke run, ~20x smaller

For each database it makes two throwaway databases (temporary SQLite files, or
PostgreSQL schemas of their own, dropped afterwards) and loads them with set-based
SQL (bench/scale_data.py, bench/scale_rows.py):

- small, a fresh site: 12 articles, 50 readers, 400 votes, 300 comments;
- large, the issue's newsroom: 2,000 articles; 1,000,000 votes, 900,000 on one hot
  article; 200,000 comments, 20,000 on the hot article, 50,000 pending; 10,000
  readers; 100,000 reports; 100,000 audit entries (``--quick``: 20 times fewer).

It checks the load kept every stored count right (``flask polls recount`` finds no
drift, the daily rollups add up, the comment counts equal the rows), serves both
sites at once under gunicorn (2 sync workers each, every cache off:
``RESULTS_CACHE_SECONDS`` and the others at 0, which is what signed-in readers always
get), signs in a reader, an editor and a moderator on each, and times every route of
bench/scale_routes.py one request at a time, small and large in turns. It reports
p50 and p95 on each site and the growth (large p50 / small p50) against the target
of 1.5x, the statements each request sends on each site (in process), each worker's
memory before and after, and the plans of the hot paths' queries on the large site
with every whole read of ``comments`` or ``votes`` flagged (bench/scale_plans.py).
Afterwards the stored counts are checked again (the timed writes went through the app).

Every phase is bounded by --time-limit; gunicorn runs in process groups of its own
and is stopped on every way out.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import scale_plans  # noqa: E402
from bench.harness import (  # noqa: E402
    DEFAULT_POSTGRES_URL,
    WARM_MODELS_CONFIG,
    Server,
    bound_run,
    check_postgres,
    gunicorn_path,
    throwaway_database,
)
from bench.scale_data import LARGE, SMALL, Site, check, load  # noqa: E402
from bench.scale_routes import ROUTES, Client, Timing, measure  # noqa: E402

TARGET = 1.5
FIRST_BYTE_MS = 1000.0  # an export's first byte, at p95 on the large site
SITES = ("small", "large")
MEMORY_TARGET = 1.2


@dataclass
class Run:
    kind: str
    results: dict[str, dict[str, Timing]]
    counts: dict[str, dict[str, int]]  # site -> route -> statements per request
    plans: list[str]
    memory: dict[str, tuple[int, int]]  # site -> (largest worker RSS fresh, after), kB
    notes: list[str] = field(default_factory=list)
    consistent: bool = True
    #: Later-page routes the small site has no later page for: timed on its first page.
    first_page_only: set[tuple[str, str]] = field(default_factory=set)  # (site, route)


def worker_rss(server: Server) -> int:
    """The largest resident set (kB) among the server's workers."""
    largest = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(server.process.pid):
            largest = max(largest, int(fields.get("VmRSS", "0 kB").split()[0]))
    return largest


def bench_database(kind: str, args: argparse.Namespace) -> Run:
    started = time.perf_counter()
    notes: list[str] = []
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(throwaway_database(kind, args.postgres_url))
            for name in ("small", "large")
        }
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        sites: dict[str, Site] = {}
        consistent = True
        for name, scale in (("small", SMALL), ("large", args.large)):
            print(f"  [{kind}] loading the {name} site", flush=True)
            sites[name] = load(urls[name], scale)
            ok, said = check(sites[name])
            consistent &= ok
            notes += [f"{kind}: {line}" for line in sites[name].notes + said]
            print(f"  [{kind}] {said[0]}", flush=True)
        servers = {name: _serve(urls[name], folder / name, args.workers) for name in sites}
        for server in servers.values():
            stack.callback(server.stop)
        try:
            for server in servers.values():
                server.wait_ready()
            fresh = {name: worker_rss(server) for name, server in servers.items()}
            clients = [Client(name, sites[name], servers[name].port) for name in sites]
            results = measure(
                clients,
                args.rounds,
                args.requests,
                args.batch_seconds,
                lambda route: print(f"  [{kind}] {route}", flush=True),
                workers=args.workers,
            )
            after = {name: worker_rss(server) for name, server in servers.items()}
        except BaseException:
            for name, server in servers.items():
                print(f"--- {name} gunicorn log ---\n{server.log_tail()}", file=sys.stderr)
            raise
        for server in servers.values():
            server.stop()
        first_only = {(client.name, name) for client in clients for name in client.first_page_only}
        counts, plans = {}, []
        for client in clients:
            captured = scale_plans.capture(
                sites[client.name], client.paths, explain=client.name == "large" and args.explain
            )
            counts[client.name] = captured.counts
            if client.name == "large" and args.explain:
                plans = scale_plans.report(kind, captured)
        for site in sites.values():
            ok, said = check(site)
            consistent &= ok
            notes += [f"{kind}: after the timed writes: {line}" for line in said]
    notes.append(f"{kind}: whole run {time.perf_counter() - started:.0f}s")
    memory = {name: (fresh[name], after[name]) for name in fresh}
    return Run(kind, results, counts, plans, memory, notes, consistent, first_only)


def _serve(url: str, folder: Path, workers: int) -> Server:
    from webapp.config import CACHE_SETTINGS

    folder.mkdir()
    # Every cache off; models warmed in the master; the production worker timeout.
    return Server(
        url,
        workers,
        folder,
        env=dict.fromkeys(CACHE_SETTINGS, "0"),
        config_text=WARM_MODELS_CONFIG,
        timeout=30,
    )


# --- reporting --------------------------------------------------------------------------------


def _ms(values: list[float], share: float) -> float | None:
    if not values:
        return None
    if share == 0.5:
        return statistics.median(values) * 1000
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


@dataclass
class Row:
    group: str
    name: str
    route: str
    part: str  # "" for a page, "first byte" or "whole" for an export
    small: Timing | None
    large: Timing | None

    def values(self, timing: Timing | None) -> list[float]:
        if timing is None:
            return []
        return timing.first if self.part == "first byte" else timing.whole


def _rows(run: Run) -> Iterator[Row]:
    for route in ROUTES:
        sites = run.results.get(route.name, {})
        small, large = sites.get("small"), sites.get("large")
        for part in ("first byte", "whole") if route.stream else ("",):
            name = f"{route.name} ({part})" if part else route.name
            yield Row(route.group, name, route.name, part, small, large)


def _kb(size: int) -> str:
    return f"{size / 1024:,.0f} kB" if size < 1024 * 1024 else f"{size / 1048576:,.1f} MB"


def _verdict(row: Row, growth: float | None, large_p95: float | None) -> tuple[str, bool | None]:
    """The row's verdict, and whether it counts as a pass (None: not counted)."""
    if row.name.startswith("(reference)"):
        return "reference", None
    if row.part == "whole":  # an export's whole file grows with what it holds
        sizes = [_kb(t.size) if t is not None else "-" for t in (row.small, row.large)]
        return f"file {sizes[0]} / {sizes[1]} (not counted)", None
    if growth is None:
        return "-", None
    ok = growth <= TARGET
    verdict = "PASS" if ok else "MISS"
    if row.part == "first byte" and large_p95 is not None:
        quick = large_p95 <= FIRST_BYTE_MS
        ok = ok and quick
        verdict = f"{'PASS' if ok else 'MISS'} (first byte {'within' if quick else 'over'} 1 s)"
    return verdict, ok


def table(run: Run) -> tuple[list[str], int, int]:
    lines = [
        f"#### {run.kind}",
        "",
        "| group | route | small p50 ms | small p95 ms | large p50 ms | large p95 ms | growth "
        "| statements small / large | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    passed = total = 0
    for row in _rows(run):
        small, large = row.values(row.small), row.values(row.large)
        counts = [run.counts.get(site, {}).get(row.route) for site in SITES]
        queries = " / ".join("-" if c is None else str(c) for c in counts)
        s50, l50, l95 = _ms(small, 0.5), _ms(large, 0.5), _ms(large, 0.95)
        star = {site: "*" if (site, row.route) in run.first_page_only else "" for site in SITES}
        growth = l50 / s50 if s50 and l50 is not None else None
        verdict, ok = _verdict(row, growth, l95)
        if ok is not None:
            total += 1
            passed += ok
        errors = [
            f"{site}: {dict(t.errors)}"
            for site, t in (("small", row.small), ("large", row.large))
            if t is not None and t.errors
        ]
        if errors:
            verdict += f" (errors {'; '.join(errors)})"
        times = "-" if growth is None else f"{growth:.2f}x"
        lines.append(
            f"| {row.group} | {row.name} | {_cell(s50)}{star['small']} | "
            f"{_cell(_ms(small, 0.95))} | {_cell(l50)}{star['large']} | {_cell(l95)} | "
            f"{times} | {queries} | {verdict} |"
        )
    return lines, passed, total


def report(runs: list[Run], args: argparse.Namespace) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {when} on {os.cpu_count()} cores (shared); gunicorn {args.workers} sync workers "
        f"per site, every cache off; one request at a time, {args.rounds} round(s) of up to "
        f"{args.requests} requests per route and site{' (--quick)' if args.quick else ''}.",
        f"Small: {SMALL.describe()}.",
        f"Large: {args.large.describe()}.",
        "",
    ]
    for run in runs:
        rows, passed, total = table(run)
        lines += rows
        if run.first_page_only:
            lines.append(
                "\n\\* that site has no second page of this list: its first page was timed."
            )
        lines.append("")
        lines.append(
            f"{run.kind}: {passed} of {total} routes within {TARGET}x from small to large "
            "(exports: their first byte, also within 1 s)."
        )
        for name, (fresh, after) in run.memory.items():
            ratio = after / fresh if fresh else float("nan")
            lines.append(
                f"{run.kind}, {name} site: largest worker RSS {fresh / 1024:.0f} MB fresh, "
                f"{after / 1024:.0f} MB after every route ({ratio:.2f}x; target <= "
                f"{MEMORY_TARGET}x: {'PASS' if ratio <= MEMORY_TARGET else 'MISS'})."
            )
        lines.append("")
    for run in runs:
        lines += run.plans + [""]
    lines += [f"- {note}" for run in runs for note in run.notes]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20x smaller, 3 requests")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per site")
    parser.add_argument("--rounds", type=int, default=3, help="turns per route and site")
    parser.add_argument("--requests", type=int, default=10, help="requests per turn")
    parser.add_argument("--batch-seconds", type=float, default=6.0, help="longest turn, s")
    parser.add_argument("--no-explain", dest="explain", action="store_false")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--time-limit", type=float, default=5400, help="stop after this many s")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results" / "scale-latest.md",
        help="also write the report here (bench/results/ is not committed)",
    )
    args = parser.parse_args(argv)
    args.large = LARGE
    if args.quick:
        args.rounds, args.requests, args.batch_seconds = 1, 3, 3.0
        args.large = LARGE.divided(20)
    if not 1 <= args.workers <= 8 or not 1 <= args.rounds <= 10 or not 1 <= args.requests <= 200:
        parser.error("--workers 1-8, --rounds 1-10, --requests 1-200")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bound_run(args.time_limit)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    gunicorn_path()
    if "postgresql" in kinds:
        check_postgres(args.postgres_url)
    print(f"Pulse scale benchmark: {', '.join(kinds)}", flush=True)
    runs = [bench_database(kind, args) for kind in kinds]
    signal.alarm(0)
    text = report(runs, args)
    print()
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    if not all(run.consistent for run in runs):
        print("\nFAIL: a stored count does not equal its rows", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
