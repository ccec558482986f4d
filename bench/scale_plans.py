"""What each route asks the database, in process: statements per request, and plans.

``Capture`` serves the benchmark's GET routes with the app in this process (Flask's
test client, caches off, the same accounts signed in through the API) and records
every statement each request sends (a ``before_cursor_execute`` listener). On the
large site each SELECT that reads ``comments`` or ``votes`` is then explained with
its own parameters: ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY
PLAN`` on SQLite. A plan is flagged when it reads either table whole: a sequential
scan (``Seq Scan``; SQLite's ``SCAN``, with or without an index, which walks all of
it) or, on PostgreSQL, an index scan with no ``Index Cond`` that reads at least
``WALK_FLAGGED_FROM`` entries (a walk of a whole index, such as a count over a
queue's partial index; a walk in order that a LIMIT stops after a page is not one).

The hot paths' plans are printed in full; for every other route only the flagged ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bench.harness import SECRET_KEY
from bench.scale_data import Site
from bench.scale_routes import ROUTES, Route

#: The issue's hot paths: which route's statements show each one's main query.
HOT_PATHS = {
    "comments API oldest, first page": "thread top-level page, commenter votes",
    "comments API top, first page": "top sort",
    "sentiment API": "tone by vote",
    "queue pending": "pending queue, and the queue counts of every moderation page",
    "queue reported": "reported queue",
}
_READS = re.compile(r"\b(?:FROM|JOIN)\s+(comments|votes)\b(?:\s+(?:AS\s+)?(\w+))?", re.IGNORECASE)
_COLUMNS = re.compile(r"SELECT (?:(?!\bSELECT\b|\bFROM\b).)+? FROM ")
_LISTS = re.compile(r"N(?:, N)+")
_NOT_ALIAS = {"where", "on", "join", "left", "inner", "order", "group", "limit", "cross", "using"}


@dataclass
class Statement:
    sql: str
    parameters: Any
    plan: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)

    @property
    def short(self) -> str:
        """The statement on one line, its column lists elided."""
        flat = _COLUMNS.sub("SELECT … FROM ", " ".join(self.sql.split()))
        return flat if len(flat) <= 400 else flat[:400] + " …"

    @property
    def shape(self) -> str:
        """The statement with its numbers taken out: the same query for other ids."""
        return _LISTS.sub("N…", re.sub(r"\b\d+\b", "N", self.sql))


@dataclass
class RouteQueries:
    count: int
    statements: list[Statement]


def _reads(sql: str) -> set[str]:
    """The names (table and aliases) under which the statement reads comments or votes."""
    names = set()
    for table, alias in _READS.findall(sql):
        names.add(table.lower())
        if alias and alias.lower() not in _NOT_ALIAS:
            names.add(alias.lower())
    return names


#: An index walked with no condition is flagged when it reads at least this many
#: entries (a LIMITed walk of a queue's index in order reads a page and stops).
WALK_FLAGGED_FROM = 1_000
_SEQ = re.compile(r"Seq Scan on (comments|votes)\b")
_INDEX = re.compile(r"Index (?:Only )?Scan(?: Backward)? using (\S+) on (comments|votes)\b")
_ACTUAL = re.compile(r"actual time=\S+ rows=(\d+) loops=(\d+)")


def flag(dialect: str, plan: list[str], names: set[str]) -> list[str]:
    """What in the plan reads comments or votes whole, one short line each."""
    if not names:
        return []
    if dialect == "sqlite":
        table = "|".join(re.escape(name) for name in sorted(names))
        scan = re.compile(rf"^\s*(SCAN ({table})\b.*)", re.IGNORECASE)
        return [found.group(1).strip() for line in plan if (found := scan.search(line))]
    flagged = []
    for number, line in enumerate(plan):
        actual = _ACTUAL.search(line)
        read = int(actual.group(1)) * int(actual.group(2)) if actual else None
        rows = f"{read:,} rows" if read is not None else "rows not measured"
        if seq := _SEQ.search(line):
            flagged.append(f"Seq Scan on {seq.group(1)} ({rows})")
        elif index := _INDEX.search(line):
            details = []
            for following in plan[number + 1 :]:
                if "->" in following:
                    break
                details.append(following)
            walked = not any("Index Cond" in detail for detail in details)
            if walked and (read is None or read >= WALK_FLAGGED_FROM):
                flagged.append(
                    f"{index.group(1)} on {index.group(2)} walked with no Index Cond ({rows})"
                )
    return flagged


class Capture:
    """The app in process on one site, signed in as the benchmark's accounts."""

    def __init__(self, site: Site) -> None:
        from webapp import create_app
        from webapp.config import CACHE_SETTINGS
        from webapp.extensions import db

        config: dict[str, Any] = {
            "DATABASE_URL": site.url,
            "SECRET_KEY": SECRET_KEY,
            "RATELIMIT_ENABLED": False,
            "REQUEST_LOG": False,
            "INTEGRITY_RUNNER": False,
        }
        config.update(dict.fromkeys(CACHE_SETTINGS, 0))
        self.app = create_app(config)
        self.site = site
        with self.app.app_context():
            self.engine = db.engine
        self.dialect = self.engine.dialect.name
        self.recording: list[Statement] | None = None
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        self.clients = {"anonymous": self.app.test_client()}
        for role in ("reader", "editor", "moderator"):
            client = self.app.test_client()
            token = client.get("/api/v1/csrf").get_json()["csrf_token"]
            answer = client.post(
                "/api/v1/auth/login",
                json={"email": site.accounts[role], "password": site.password},
                headers={"X-CSRFToken": token},
            )
            if answer.status_code != 200:
                raise RuntimeError(f"in-process sign-in of {role}: {answer.status_code}")
            self.clients[role] = client

    def _record(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        if self.recording is not None and not executemany:
            self.recording.append(Statement(statement, parameters))

    def queries(self, route: Route, path: str) -> RouteQueries | None:
        """The statements one request of the route sends (after one request to warm)."""
        client = self.clients[route.role]
        headers = {"Accept": "application/json" if path.startswith("/api/") else "text/html"}
        if not route.stream:  # an export is read whole once: it may be a million rows
            client.get(path, headers=headers)
        self.recording = []
        try:
            answer = client.get(path, headers=headers)
            answer.get_data()
        finally:
            recorded, self.recording = self.recording, None
        if answer.status_code != route.expect:
            return None
        return RouteQueries(len(recorded), recorded)

    def explain(self, statement: Statement) -> None:
        """Fill the statement's plan and flags, if it is a read of comments or votes."""
        sql = statement.sql.lstrip()
        names = _reads(sql)
        if not names or not re.match(r"(SELECT|WITH)\b", sql, re.IGNORECASE):
            return
        prefix = (
            "EXPLAIN (ANALYZE, BUFFERS) " if self.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
        )
        try:
            with self.engine.connect() as connection:
                rows = connection.exec_driver_sql(prefix + sql, statement.parameters).all()
        except sa.exc.DBAPIError as exc:
            statement.plan = [f"(could not explain: {str(exc.orig).splitlines()[0]})"]
            return
        if self.dialect == "postgresql":
            statement.plan = [row[0] for row in rows]
        else:
            depth: dict[int, int] = {}
            lines = []
            for row in rows:  # (id, parent, notused, detail)
                depth[row[0]] = depth.get(row[1], -1) + 1
                lines.append("  " * depth[row[0]] + str(row[3]))
            statement.plan = lines
        statement.flagged = flag(self.dialect, statement.plan, names)

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)
        self.engine.dispose()


@dataclass
class Plans:
    counts: dict[str, int]  # route name -> statements per request
    statements: dict[str, list[Statement]]  # route name -> its statements (explained)


def capture(site: Site, paths: dict[str, str | None], explain: bool) -> Plans:
    """Statements per request of every GET route; with ``explain``, their plans."""
    capture = Capture(site)
    counts: dict[str, int] = {}
    statements: dict[str, list[Statement]] = {}
    try:
        for route in ROUTES:
            path = paths.get(route.name)
            if route.write or path is None:
                continue
            found = capture.queries(route, path)
            if found is None:
                continue
            counts[route.name] = found.count
            statements[route.name] = found.statements
            if explain:  # each query once per route (an export repeats its batch's)
                shapes: set[str] = set()
                for statement in found.statements:
                    if statement.shape not in shapes:
                        shapes.add(statement.shape)
                        capture.explain(statement)
    finally:
        capture.close()
    return Plans(counts, statements)


def report(kind: str, plans: Plans) -> list[str]:
    """The hot paths' plans in full, then every flagged plan of any route."""
    lines = [f"#### {kind}: plans of the hot paths' reads of comments and votes (large site)", ""]
    shown: set[str] = set()
    for route_name, path_name in HOT_PATHS.items():
        for statement in plans.statements.get(route_name, []):
            if not statement.plan or statement.shape in shown:
                continue
            shown.add(statement.shape)
            verdict = "SCANS " + "; ".join(statement.flagged) if statement.flagged else "indexed"
            lines += [
                f"- {path_name} ({route_name}): {verdict}",
                f"  `{statement.short}`",
                "",
                "```",
            ]
            lines += [line.rstrip() for line in statement.plan] + ["```", ""]
    lines += [f"#### {kind}: whole reads of comments or votes, any route (large site)", ""]
    flagged: dict[str, tuple[Statement, list[str]]] = {}
    for route_name, found in plans.statements.items():
        for statement in found:
            if statement.flagged:
                flagged.setdefault(statement.shape, (statement, []))[1].append(route_name)
    if not flagged:
        lines.append("- none: every read of comments and votes on every GET route uses an index")
    for statement, routes in flagged.values():
        lines.append(
            f"- {'; '.join(statement.flagged)}, on {', '.join(routes)}: `{statement.short}`"
        )
    return lines
