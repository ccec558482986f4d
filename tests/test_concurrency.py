"""Exactness under concurrent load, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import http.client
import json
import os
import subprocess  # nosec B404 - starts this test's own workers
import sys
import threading
import time
import uuid
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import Api
from webapp import caching
from webapp.config import CACHE_SETTINGS, DEFAULTS
from webapp.models import Vote
from webapp.services import polls

# Off, every vote reads the poll in its own transaction; on (and warmed), a first vote
# starts from the cached poll and its INSERT checks it (polls.vote).
RESULTS_CACHE = pytest.mark.parametrize(
    "results_cache", [0, 30], ids=["read", "cached"], indirect=True
)


@pytest.fixture
def results_cache(request, app):
    caching.results.clear()
    app.config["RESULTS_CACHE_SECONDS"] = request.param
    yield request.param
    caching.results.clear()


def _warm(client, article, results_cache):
    if results_cache:
        url = f"/api/v1/articles/{article.slug}/poll/results"
        assert client.get(url).status_code == 200


def _run_together(count, work):
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    results: list = [None] * count

    def runner(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@RESULTS_CACHE
def test_forty_voters_at_once_give_exactly_forty_votes(app, db, make_article, results_cache):
    article = make_article(poll={"allow_anonymous": True})
    option_ids = [o.id for o in article.poll.options]
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    clients = [Api(app.test_client()) for _ in range(40)]
    for client in clients:
        assert client.token  # fetch CSRF tokens before the burst
    _warm(clients[0], article, results_cache)
    db.session.rollback()

    def vote(i):
        return clients[i].post(url, {"option_id": option_ids[i % 3]}).status_code

    statuses = _run_together(40, vote)
    assert statuses == [201] * 40
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 40
    assert polls.results(article.poll).total == 40
    assert [o.votes for o in polls.results(article.poll).options] == [14, 13, 13]
    assert polls.recount() == []


@RESULTS_CACHE
def test_one_voter_sending_twenty_votes_at_once_leaves_one_vote(
    app, db, make_article, make_user, results_cache
):
    article = make_article(poll=True)
    option_ids = [o.id for o in article.poll.options]
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    user = make_user()
    api = Api(app.test_client())
    api.login(user)
    _warm(api.client, article, results_cache)
    db.session.rollback()

    # Every request carries the same signed-in session, as twenty tabs would.
    cookie = api.client.get_cookie("session").value
    token = api.token
    clients = []
    for _ in range(20):
        client = app.test_client()
        client.set_cookie("session", cookie)
        clients.append(client)

    def vote(i):
        return (
            clients[i]
            .post(url, json={"option_id": option_ids[i % 3]}, headers={"X-CSRFToken": token})
            .status_code
        )

    statuses = _run_together(20, vote)
    assert sorted(set(statuses)) <= [200, 201]
    assert statuses.count(201) == 1
    db.session.expire_all()
    votes = db.session.scalars(select(Vote)).all()
    assert len(votes) == 1
    assert polls.results(article.poll).total == 1
    assert polls.recount() == []


def test_concurrent_moves_and_withdrawals_keep_tallies_equal_to_a_recount(app, db, make_article):
    article = make_article(poll=True)
    poll_id = article.poll.id
    option_ids = [o.id for o in article.poll.options]
    db.session.rollback()

    def churn(i):
        from webapp.extensions import db as database
        from webapp.models import Poll

        with app.app_context():
            poll = database.session.get(Poll, poll_id)
            key = f"a:churn{i % 8}"
            for step in range(6):
                if step == 4 and i % 2:
                    polls.withdraw_vote(poll, key)
                else:
                    polls.cast_vote(poll, polls.Voter(key, None), option_ids[(i + step) % 3])
                database.session.commit()

    _run_together(16, churn)
    db.session.expire_all()
    assert polls.recount() == []
    assert db.session.scalar(select(func.count()).select_from(Vote)) <= 8


# --- against real servers: results never go backwards ----------------------------------
#
# Forty distinct anonymous voters vote at once while readers keep asking for the
# results, through servers as production runs them (caches at their defaults): one
# threaded server, and two worker processes sharing Redis. What a person could check:
# no answer (a vote's or a results read's) shows a lower total than an answer that
# finished before it began, and once every vote is acknowledged the results say 40.

VOTERS = 40
READERS = 4
PRODUCTION_CACHES = {name: DEFAULTS[name] for name in CACHE_SETTINGS}


@dataclass(frozen=True)
class Seen:
    """One answer that showed a total: when it was asked for and when it came back."""

    start: float
    end: float
    total: int
    what: str


class Visitor:
    """One browser on this machine: its own cookies, one request at a time, taking
    turns between the servers it is given (so its requests reach every worker)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = 0
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def request(self, method: str, path: str, body: object = None) -> tuple[int, dict]:
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if self.token and method != "GET":
            headers["X-CSRFToken"] = self.token
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie, _, rest = value.partition("=")
                    self.cookies[cookie.strip()] = rest.split(";")[0]
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw.startswith(b"{") else {}

    def fetch_token(self) -> None:
        status, body = self.request("GET", "/api/v1/csrf")
        assert status == 200
        self.token = body["csrf_token"]


def _assert_never_backwards(seen: list[Seen]) -> None:
    """No answer shows less than an answer that had finished before it was asked for."""
    finished = sorted(seen, key=lambda s: s.end)
    ends = [s.end for s in finished]
    highest: list[Seen] = []  # highest[i]: the highest total among finished[: i + 1]
    for answer in finished:
        highest.append(answer if not highest or answer.total > highest[-1].total else highest[-1])
    for answer in seen:
        before = bisect_left(ends, answer.start)
        if before:
            earlier = highest[before - 1]
            assert answer.total >= earlier.total, (
                f"{answer.what} showed {answer.total} after {earlier.what} "
                f"had shown {earlier.total}"
            )


def _vote_and_read_at_once(ports: list[int], slug: str, option_ids: list[int]) -> list[Seen]:
    """VOTERS new anonymous voters vote at once while READERS read the results
    throughout; returns every total shown. Every vote must be acknowledged 201."""
    results_url = f"/api/v1/articles/{slug}/poll/results"
    votes_url = f"/api/v1/articles/{slug}/poll/votes"
    voters = [Visitor(ports[i % len(ports) :] + ports[: i % len(ports)]) for i in range(VOTERS)]
    for voter in voters:
        voter.fetch_token()  # on one worker; the vote goes to the next
    # Warm the cache (every worker's), as a busy poll's is.
    for port in ports:
        assert Visitor([port]).request("GET", results_url)[0] == 200
    seen: list[Seen] = []
    statuses: list[int] = []
    voting = threading.Event()
    voting.set()
    barrier = threading.Barrier(VOTERS + READERS)
    errors: list[BaseException] = []

    def vote(voter: Visitor, option_id: int) -> None:
        barrier.wait(timeout=30)
        start = time.monotonic()
        status, body = voter.request("POST", votes_url, {"option_id": option_id})
        statuses.append(status)
        assert "total" in body, (status, body)
        seen.append(Seen(start, time.monotonic(), body["total"], f"a vote ({status})"))

    def read(reader: Visitor) -> None:
        barrier.wait(timeout=30)
        deadline = time.monotonic() + 30
        while voting.is_set() and time.monotonic() < deadline:
            start = time.monotonic()
            status, body = reader.request("GET", results_url)
            assert status == 200, body
            seen.append(Seen(start, time.monotonic(), body["total"], "a results read"))
            time.sleep(0.005)  # a crowd of readers, not a busy loop starving the voters

    def guarded(work, *args) -> None:  # type: ignore[no-untyped-def]
        try:
            work(*args)
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [
        threading.Thread(target=guarded, args=(vote, voter, option_ids[i % len(option_ids)]))
        for i, voter in enumerate(voters)
    ]
    readers = [
        threading.Thread(target=guarded, args=(read, Visitor(ports[i % len(ports) :] + ports)))
        for i in range(READERS)
    ]
    for thread in threads + readers:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    voting.clear()
    for thread in readers:
        thread.join(timeout=60)
    assert not errors, errors
    assert statuses == [201] * VOTERS
    # Every vote acknowledged: the results say so at once, on every worker.
    for port in ports:
        start = time.monotonic()
        status, body = Visitor([port]).request("GET", results_url)
        assert status == 200
        seen.append(Seen(start, time.monotonic(), body["total"], f"the read after, on {port}"))
        assert body["total"] == VOTERS, body
    return seen


def _check_stored(db) -> None:  # type: ignore[no-untyped-def]
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Vote)) == VOTERS
    assert polls.recount() == []


# Each worker: a threaded server in a process of its own, on the test's database.
_WORKER = """
import json, sys
from werkzeug.serving import make_server
from webapp import create_app

server = make_server("127.0.0.1", 0, create_app(json.loads(sys.argv[1])), threaded=True)
print(server.port, flush=True)
server.serve_forever()
"""

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {url} ({exc}); set PULSE_TEST_REDIS_URL"
        if os.environ.get("PULSE_REQUIRE_REDIS") == "1":
            pytest.fail(f"PULSE_REQUIRE_REDIS=1 but {reason}")
        pytest.skip(reason)


@contextmanager
def _worker_processes(count: int, config: dict):  # type: ignore[no-untyped-def]
    root = Path(__file__).resolve().parent.parent
    workers = []
    try:
        for _ in range(count):
            workers.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and code
                    [sys.executable, "-c", _WORKER, json.dumps(config)],
                    cwd=root,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
        ports = []
        for worker in workers:
            line = worker.stdout.readline() if worker.stdout else ""
            assert line.strip().isdigit(), "a worker did not start"
            ports.append(int(line))
        yield ports
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)


def test_results_never_go_backwards_across_workers_sharing_redis(make_app, make_article, backend):
    _redis_or_skip(REDIS_URL)
    app = make_app(REDIS_URL=REDIS_URL, **PRODUCTION_CACHES)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True}, title=f"workers {uuid.uuid4()}")
        slug, option_ids = article.slug, [o.id for o in article.poll.options]
        db.session.rollback()  # outside a request SQLite would hold the write lock
        try:
            with _worker_processes(2, _worker_config(app, backend, REDIS_URL=REDIS_URL)) as ports:
                seen = _vote_and_read_at_once(ports, slug, option_ids)
            _assert_never_backwards(seen)
            _check_stored(db)
        finally:
            caching.results.forget(slug)


def _worker_config(app, backend, **settings) -> dict:  # type: ignore[no-untyped-def]
    return {
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DATABASE_URL": backend.url,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "REQUEST_LOG": False,
        **PRODUCTION_CACHES,
        **settings,
    }


def test_results_never_go_backwards_on_a_threaded_server(make_app, make_article, backend):
    # One worker process, many threads, its own results cache (no Redis).
    app = make_app(**PRODUCTION_CACHES)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True}, title=f"burst {uuid.uuid4()}")
        slug, option_ids = article.slug, [o.id for o in article.poll.options]
        db.session.rollback()  # outside a request SQLite would hold the write lock
        with _worker_processes(1, _worker_config(app, backend)) as ports:
            seen = _vote_and_read_at_once(ports, slug, option_ids)
        _assert_never_backwards(seen)
        _check_stored(db)
