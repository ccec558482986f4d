"""Work per request, counted rather than timed: Python function calls and SQL statements.

    .venv/bin/python bench/calls.py                     # this checkout
    .venv/bin/python bench/calls.py --root /tmp/older   # another checkout, to compare

Throughput on a shared machine moves by 10-20 % from one run to the next, which hides
a change of a few per cent. These counts do not move between runs: the same code does
the same calls and statements whatever else the machine is doing. So a refactoring
that must not slow the hot paths (issue 14) is checked here exactly, and
bench/polls.py and bench/comments.py give the throughput ratios.

Each path runs in-process (Flask's test client, no server), on a fresh SQLite file
with every cache off, rate limits off and the cheapest password hashing; after a
warm-up, ``--requests`` requests are profiled with cProfile (only to count calls) and
their SQL statements counted by a listener on the engine. Printed per request.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--requests", type=int, default=300)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    import sqlalchemy as sa
    from flask import Flask
    from flask.testing import FlaskClient

    from bench import comments as bench_comments
    from bench import polls as bench_polls
    from webapp import create_app
    from webapp.config import CACHE_SETTINGS
    from webapp.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="pulse-calls-"))
    # Two databases: each bench seed makes its own editor and articles.
    polls_url = f"sqlite:///{folder / 'polls.db'}"
    comments_url = f"sqlite:///{folder / 'comments.db'}"
    poll_slugs = bench_polls.seed(polls_url)
    seeded = bench_comments.seed(comments_url, users=2)
    caches_off = dict.fromkeys(CACHE_SETTINGS, 0)
    statements = [0]

    def app_on(url: str) -> Flask:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "pulse-calls-" + "x" * 20,
                "RATELIMIT_ENABLED": False,
                "ARGON2_PROFILE": "CHEAPEST",
                "REQUEST_LOG": False,
                "INTEGRITY_RUNNER": False,
                **caches_off,
            }
        )
        with app.app_context():
            sa.event.listen(
                db.engine,
                "before_cursor_execute",
                lambda *_a, **_k: statements.__setitem__(0, statements[0] + 1),
            )
        return app

    polls_app, comments_app = app_on(polls_url), app_on(comments_url)

    def session(app: Flask, email: str | None) -> dict[str, str]:
        client = app.test_client(use_cookies=False)
        answer = client.get("/api/v1/csrf")
        cookie = answer.headers["Set-Cookie"].split(";")[0]
        token = answer.get_json()["csrf_token"]
        headers = {"Cookie": cookie, "X-CSRFToken": token, "Accept": "application/json"}
        if email is None:
            return headers
        signed = client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": seeded.password},
            headers=headers,
        )
        assert signed.status_code == 200, signed.get_data()
        cookie = signed.headers["Set-Cookie"].split(";")[0]
        token = client.get("/api/v1/csrf", headers={"Cookie": cookie}).get_json()["csrf_token"]
        return {"Cookie": cookie, "X-CSRFToken": token, "Accept": "application/json"}

    client = polls_app.test_client(use_cookies=False)
    commenting = comments_app.test_client(use_cookies=False)
    anonymous = session(polls_app, None)
    reader = session(comments_app, seeded.readers[0][1])
    votes = poll_slugs[bench_polls.VOTES]

    def vote(n: int) -> None:
        answer = client.post(
            f"/api/v1/articles/{votes.slug}/poll/votes",
            json={"option_id": votes.option_ids[n % len(votes.option_ids)]},
            headers=anonymous,
        )
        assert answer.status_code == 201, answer.get_data()

    def vote_form(n: int) -> None:
        form = {
            "option_id": str(votes.option_ids[n % len(votes.option_ids)]),
            "csrf_token": anonymous["X-CSRFToken"],
        }
        answer = client.post(
            f"/articles/{votes.slug}/poll",
            data=form,
            headers={"Cookie": anonymous["Cookie"]},
        )
        assert answer.status_code == 302, answer.get_data()

    def post_comment(n: int) -> None:
        body = f"{bench_comments.BODIES[n % len(bench_comments.BODIES)]} ({n})"
        answer = commenting.post(
            f"/api/v1/articles/{bench_comments.POSTING}/comments",
            json={"body": body},
            headers=reader,
        )
        assert answer.status_code == 201, answer.get_data()

    def read(path: str, on: FlaskClient) -> Callable[[int], None]:
        def get(_n: int) -> None:
            answer = on.get(path, headers={"Accept": "application/json"})
            assert answer.status_code == 200, answer.get_data()

        return get

    paths: dict[str, Callable[[int], None]] = {
        "first vote (API)": vote,
        "first vote (page form)": vote_form,
        "comment (API)": post_comment,
        "thread, 200 comments (API, signed out)": read(
            f"/api/v1/articles/{bench_comments.THREAD}/comments?limit=100", commenting
        ),
        "article page with the thread (signed out)": read(
            f"/articles/{bench_comments.THREAD}", commenting
        ),
        "poll results (API)": read(f"/api/v1/articles/{votes.slug}/poll/results", client),
        "bare: GET /api/v1/csrf": read("/api/v1/csrf", client),
    }
    print(f"Work per request in {root} (SQLite, caches off, {args.requests} requests each)\n")
    print("| path | Python calls | SQL statements |")
    print("|---|---:|---:|")
    counter = 0
    for name, run in paths.items():
        for _ in range(10):  # warm-up: first connections, compiled statements
            counter += 1
            run(counter)
        statements[0] = 0
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            counter += 1
            run(counter)
        profile.disable()
        calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        print(f"| {name} | {calls / args.requests:,.0f} | {statements[0] / args.requests:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
