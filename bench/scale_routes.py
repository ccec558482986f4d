"""Every route the scale benchmark times, who asks for it, and how it is timed.

``ROUTES`` lists the public, reader, editor and moderator pages and API routes and
the writes (voting, posting, signing in after an anonymous vote). ``Client`` signs the
right accounts in on one served site (through POST /api/v1/auth/login with its CSRF
token, as bench/polls.py and bench/comments.py do) and turns a route into requests:
a route marked ``later`` is the page its first page links to ("More comments", "Next
page", "Older entries", rel="next") or its ``next_cursor`` names, found once.

``measure`` times each request on a fresh connection (gunicorn's sync workers close
it after each answer), one at a time: the time to the first byte of the answer and
to its last, and takes the two sites in turns, every other round in the mirrored
order, so the machine's drift falls on both alike.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bench.comments import BODIES
from bench.harness import (
    HOST,
    Browser,
    exchange,
    http_request,
    session_for,
    sign_in,
    split_response,
)
from bench.scale_data import Site


@dataclass(frozen=True)
class Route:
    name: str
    group: str
    role: str  # anonymous, reader, editor or moderator
    path: str  # {hot} {hot_id} {cold} {label} {prolific} filled per site
    later: bool = False  # the page the first page links to next
    stream: bool = False  # an export: report the first byte too
    write: str = ""  # vote, move, post or sign_in: a write made fresh for every request
    expect: int = 200


HOT = "/api/v1/articles/{hot}"
P, E, M, W = "public and reader", "editor", "moderator", "writes"
ROUTES: list[Route] = [
    Route("home", P, "reader", "/"),
    Route("home, page 2", P, "reader", "/", later=True),
    Route("label", P, "reader", "/labels/{label}"),
    Route("article page, hot", P, "reader", "/articles/{hot}"),
    Route("article page, hot, signed out", P, "anonymous", "/articles/{hot}"),
    Route("article page, hot, next comments", P, "reader", "/articles/{hot}", later=True),
    Route("article page, cold", P, "reader", "/articles/{cold}"),
    Route("feed", P, "anonymous", "/feed.atom"),
    Route("articles API", P, "reader", "/api/v1/articles"),
    Route("articles API, page 2", P, "reader", "/api/v1/articles", later=True),
    Route("article API, hot", P, "reader", HOT),
    Route("poll API", P, "reader", HOT + "/poll"),
    Route("results API", P, "reader", HOT + "/poll/results"),
    *(
        Route(
            f"comments API {sort}{', page 2' if later else ', first page'}",
            P,
            "reader",
            HOT + f"/comments?sort={sort}",
            later=later,
        )
        for sort in ("oldest", "newest", "top")
        for later in (False, True)
    ),
    Route("sentiment API", P, "reader", HOT + "/sentiment"),
    Route("(reference) bare: GET /api/v1/csrf", P, "anonymous", "/api/v1/csrf"),
    Route("dashboard", E, "editor", "/editor/"),
    Route("dashboard, page 2", E, "editor", "/editor/", later=True),
    Route("edit article, hot", E, "editor", "/editor/articles/{hot_id}/edit"),
    Route("results page, hot", E, "editor", "/editor/articles/{hot_id}/results"),
    Route("overview", E, "editor", "/editor/overview"),
    Route("overview, page 2", E, "editor", "/editor/overview", later=True),
    Route("overview with a trend", E, "editor", "/editor/overview?label={label}&option=Yes"),
    Route("votes CSV, hot", E, "editor", "/editor/articles/{hot_id}/votes.csv", stream=True),
    Route(
        "sentiment CSV, hot", E, "editor", "/editor/articles/{hot_id}/sentiment.csv", stream=True
    ),
    Route(
        "tone CSV, hot",
        E,
        "editor",
        "/editor/articles/{hot_id}/sentiment.csv?table=tone",
        stream=True,
    ),
    Route("overview CSV", E, "editor", "/editor/overview.csv", stream=True),
    Route(
        "trend CSV", E, "editor", "/editor/overview/trend.csv?label={label}&option=Yes", stream=True
    ),
    *(
        Route(f"queue {name}", M, "moderator", f"/moderation/queue/{name}")
        for name in ("pending", "reported", "rejected", "approved")
    ),
    Route("queue pending, page 2", M, "moderator", "/moderation/queue/pending", later=True),
    Route("queue API pending", M, "moderator", "/api/v1/moderation/queue?status=pending"),
    Route("queue API reported", M, "moderator", "/api/v1/moderation/queue?status=reported"),
    Route("audit log", M, "moderator", "/moderation/log"),
    Route("audit log, page 2", M, "moderator", "/moderation/log", later=True),
    Route("audit log API", M, "moderator", "/api/v1/moderation/log"),
    Route("user page (busiest commenter)", M, "moderator", "/moderation/users/{prolific}"),
    Route("settings", M, "moderator", "/moderation/settings"),
    Route(
        "vote, new anonymous voter", W, "anonymous", HOT + "/poll/votes", write="vote", expect=201
    ),
    Route("vote, reader moves their vote", W, "reader", HOT + "/poll/votes", write="move"),
    Route("post a comment", W, "reader", HOT + "/comments", write="post", expect=201),
    Route("sign in after an anonymous vote", W, "anonymous", "/api/v1/auth/login", write="sign_in"),
]

_NEXT = re.compile(
    r"<a\b[^>]*\bhref=\"([^\"]+)\"[^>]*>\s*"
    r"(?:More comments|Next page|Older entries|Older articles)",
    re.IGNORECASE,
)
_REL_NEXT = re.compile(r"<a\b(?=[^>]*\brel=\"next\")[^>]*\bhref=\"([^\"]+)\"", re.IGNORECASE)


def next_link(page: bytes) -> str | None:
    text = page.decode("utf-8", "replace")
    found = _NEXT.search(text) or _REL_NEXT.search(text)
    return html.unescape(found.group(1)).split("#", 1)[0] if found else None


@dataclass
class Timing:
    first: list[float] = field(default_factory=list)  # seconds to the first byte
    whole: list[float] = field(default_factory=list)  # seconds to the last byte
    errors: Counter[str] = field(default_factory=Counter)
    size: int = 0


def timed(port: int, payload: bytes, timeout: float = 120.0) -> tuple[int, float, float, int]:
    """(status, seconds to the first byte, to the last, bytes) of one request, the
    answer counted as it arrives, not kept."""
    started = time.perf_counter()
    first_at = None
    head = b""
    size = 0
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(payload)
        while chunk := sock.recv(262_144):
            if first_at is None:
                first_at = time.perf_counter()
            if len(head) < 16:
                head += chunk[:16]
            size += len(chunk)
    done = time.perf_counter()
    status = int(head[9:12]) if head[:5] == b"HTTP/" else 0
    return status, (first_at or done) - started, done - started, size


class Client:
    """The signed-in browsers of one served site and the requests of each route."""

    def __init__(self, name: str, site: Site, port: int) -> None:
        self.name, self.site, self.port = name, site, port
        self.counter = 0
        self.cookie, self.token = session_for(port, "/")
        self.browsers: dict[str, Browser] = {
            role: sign_in(port, site.accounts[role], site.password)
            for role in ("reader", "editor", "moderator")
        }
        poll = self._json("reader", f"/api/v1/articles/{site.hot_slug}/poll")
        self.options = [option["id"] for option in poll["options"]]
        status, _, body = self.browsers["reader"].request(
            "POST", f"/api/v1/articles/{site.hot_slug}/poll/votes", {"option_id": self.options[0]}
        )
        if status not in (200, 201):
            raise RuntimeError(f"{name}: the reader could not vote: {status} {body[:200]!r}")
        self.paths: dict[str, str | None] = {}
        #: Routes whose first page has no next one here, timed on that first page.
        self.first_page_only: set[str] = set()

    def headers(self, role: str, path: str) -> dict[str, str]:
        accept = "application/json" if path.startswith("/api/") else "text/html"
        if role == "anonymous":
            return {"Cookie": self.cookie, "Accept": accept}
        return {"Cookie": self.browsers[role].cookie_header(), "Accept": accept}

    def _get(self, role: str, path: str) -> tuple[int, bytes]:
        status, _, body = split_response(
            exchange(self.port, http_request("GET", path, self.headers(role, path)))
        )
        return status, body

    def _json(self, role: str, path: str) -> dict[str, Any]:
        status, body = self._get(role, path)
        if status != 200:
            raise RuntimeError(f"{self.name}: GET {path} answered {status}")
        answer: dict[str, Any] = json.loads(body)
        return answer

    def path(self, route: Route) -> str | None:
        """The route's path on this site, found once (a later page's, or its first
        page's when there is no later one: ``first_page_only``)."""
        if route.name not in self.paths:
            site = self.site
            path = route.path.format(
                hot=site.hot_slug,
                hot_id=site.hot_id,
                cold=site.cold_slug,
                label=site.label_slug,
                prolific=site.prolific_id,
            )
            if route.later:
                found = self._later(route.role, path)
                if found is None:  # a fresh site may have one page: time its first
                    self.first_page_only.add(route.name)
                path = found or path
            self.paths[route.name] = path
        return self.paths[route.name]

    def _later(self, role: str, path: str) -> str | None:
        status, body = self._get(role, path)
        if status != 200:
            raise RuntimeError(f"{self.name}: GET {path} answered {status}")
        if path.startswith("/api/"):
            cursor = json.loads(body).get("next_cursor")
            if not cursor:
                return None
            return f"{path}{'&' if '?' in path else '?'}cursor={quote(cursor)}"
        return next_link(body)

    def request(self, route: Route) -> Callable[[], bytes] | None:
        """What makes the route's next request (a write's untimed preparation runs in it)."""
        path = self.path(route)
        if path is None:
            return None
        if not route.write:
            payload = http_request("GET", path, self.headers(route.role, path))
            return lambda: payload
        return lambda: self._write(route, path)

    def _write(self, route: Route, path: str) -> bytes:
        self.counter += 1
        n = self.counter
        if route.write == "vote":
            headers = {**self.headers("anonymous", path), "X-CSRFToken": self.token}
            data: dict[str, object] = {"option_id": self.options[n % len(self.options)]}
        elif route.write in ("move", "post"):
            reader = self.browsers["reader"]
            headers = reader.headers(unsafe=True)
            if route.write == "move":
                data = {"option_id": self.options[n % len(self.options)]}
            else:
                data = {"body": f"{BODIES[n % len(BODIES)]} ({self.name} {n})"}
        else:  # sign in, after voting anonymously with a fresh browser
            fresh = Browser(self.port)
            fresh.get_token()
            status, _, _ = fresh.request(
                "POST",
                f"/api/v1/articles/{self.site.hot_slug}/poll/votes",
                {"option_id": self.options[n % len(self.options)]},
            )
            if status != 201:
                raise RuntimeError(f"{self.name}: an anonymous vote before signing in: {status}")
            headers = fresh.headers(unsafe=True)
            data = {"email": self.site.accounts["reader"], "password": self.site.password}
        headers["Content-Type"] = "application/json"
        return http_request("POST", path, headers, json.dumps(data).encode())


def measure(
    clients: list[Client],
    rounds: int,
    per_round: int,
    batch_seconds: float,
    progress: Callable[[str], None],
    workers: int = 2,
) -> dict[str, dict[str, Timing]]:
    """route name -> site name -> Timing; every route on every site, in turns, after
    untimed requests that reach every one of the ``workers`` (a worker's first request
    of a page compiles its templates: some hundreds of milliseconds)."""
    results: dict[str, dict[str, Timing]] = {}
    for route in ROUTES:
        makers = {client.name: client.request(route) for client in clients}
        timings = {client.name: Timing() for client in clients if makers[client.name]}
        results[route.name] = timings
        for client in clients:  # untimed first: each worker compiles templates, connects
            make = makers[client.name]
            if make is not None:
                for _ in range(2):
                    _warm(client.port, make, workers)
        for number in range(rounds):
            order = clients if number % 2 == 0 else list(reversed(clients))
            for client in order:
                make = makers[client.name]
                if make is not None:
                    _run(
                        client.port,
                        make,
                        route.expect,
                        timings[client.name],
                        per_round,
                        batch_seconds,
                    )
        progress(route.name)
    return results


def _warm(port: int, make: Callable[[], bytes], workers: int) -> None:
    """One request per worker, all at once, so each sync worker takes one."""
    payloads = [make() for _ in range(workers)]
    threads = [
        threading.Thread(target=_quietly, args=(port, payload), daemon=True) for payload in payloads
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=150)


def _quietly(port: int, payload: bytes) -> None:
    with contextlib.suppress(OSError):
        timed(port, payload)


def _run(
    port: int, make: Callable[[], bytes], expect: int, timing: Timing, count: int, seconds: float
) -> None:
    """Up to ``count`` requests one after another, and none started after ``seconds``."""
    deadline = time.perf_counter() + seconds
    for _ in range(count):
        payload = make()
        try:
            status, first, whole, size = timed(port, payload)
        except OSError as exc:
            timing.errors[type(exc).__name__] += 1
            continue
        if status == expect:
            timing.first.append(first)
            timing.whole.append(whole)
            timing.size = size
        else:
            timing.errors[f"HTTP {status}"] += 1
        if time.perf_counter() >= deadline:
            break
