"""The app as gunicorn serves it, plus the benchmark's own reference endpoints.

``gunicorn bench.bench_app:app`` serves exactly what ``wsgi:app`` serves, with a few
more endpoints that only the benchmark uses. They are never part of the real app:
only this module registers them, and only the scripts in ``bench/`` start it.

- POST /bench/minimal-vote stores one vote row for a fresh voter with one INSERT
  and commits: the least any durable vote costs through this stack (gunicorn,
  Flask, the session cookie, SQLAlchemy, the database's commit). The row goes to
  ``bench_votes`` (bench/floors.py), the ``votes`` table without its tally
  triggers, so the floor pays for the row alone. The contract's vote endpoint is
  measured against it.
- POST /bench/tally-vote stores the same row with the same one INSERT, but into
  the real ``votes`` table, whose triggers move the two stored tallies every
  counted vote moves (the option's tally and its day's rollup) in that statement:
  the least a vote costs that keeps the tallies in step, as the issue requires,
  with none of the endpoint's other work (CSRF, cookie, checks, results).
- GET /bench/minimal-read reads one poll's stored tallies with one SELECT: the
  floor of any answer that reads the database.

The last two are reference points that explain the figures; no target is set
against them. All are CSRF-exempt and take what they need in the request.

For ``bench/comments.py``:

- POST /bench/minimal-comment stores one top-level comment with one INSERT of a
  row whose HTML the client sends already rendered, and commits: the least any
  durable comment costs through this stack. The row goes to ``bench_comments``
  (bench/floors.py), the ``comments`` table without its count triggers. The
  contract's comment endpoint (which also renders, sanitises, scores, checks,
  counts and loads the signed-in user) is measured against it.
- GET /bench/empty answers a page with nothing in it through every hook a Pulse
  response passes: the floor of any page of the app (bench/read_path.py).
- GET /bench/comments-read?article=ID reads a whole thread's stored HTML and
  authors with one SELECT and answers it as JSON: the floor of any thread answer
  that reads the database (reference, no target).
- GET /bench/article-all/<slug> is the article page exactly as /articles/<slug>
  renders it, but with 100 top-level comments a page instead of 30, so a
  200-comment thread of 100 top-level comments is all on one page (reference).

``PULSE_BENCH_CONFIG`` (JSON object), when set, is handed to ``create_app`` as
settings, e.g. low rate limits for bench/faults.py.
"""

from __future__ import annotations

import json
import os
import secrets

from flask import jsonify, request
from sqlalchemy import text

from bench.floors import bench_comments_table, bench_votes_table
from webapp import create_app
from webapp.extensions import csrf, db
from webapp.models import Vote, utcnow

app = create_app(json.loads(os.environ.get("PULSE_BENCH_CONFIG") or "{}"))

_INSERT_VOTE = bench_votes_table().insert()
_INSERT_COUNTED_VOTE = Vote.__table__.insert()
_TALLIES = text("SELECT id, vote_count FROM poll_options WHERE poll_id = :poll ORDER BY id")


def _store_vote(insert) -> None:  # type: ignore[no-untyped-def]
    payload = request.get_json(force=True, silent=True) or {}
    now = utcnow()
    db.session.execute(
        insert,
        {
            "poll_id": int(payload["poll_id"]),
            "option_id": int(payload["option_id"]),
            "voter_key": f"m:{secrets.token_hex(16)}",
            "user_id": None,
            "client_hash": None,
            "created_at": now,
            "updated_at": now,
        },
    )
    db.session.commit()


@csrf.exempt
def minimal_vote():  # type: ignore[no-untyped-def]
    """One vote row for a fresh voter, in one statement, committed."""
    _store_vote(_INSERT_VOTE)
    return jsonify(stored=True), 201


@csrf.exempt
def tally_vote():  # type: ignore[no-untyped-def]
    """The same row into ``votes``, whose triggers move its tallies, committed."""
    _store_vote(_INSERT_COUNTED_VOTE)
    return jsonify(stored=True), 201


def minimal_read():  # type: ignore[no-untyped-def]
    """One poll's stored tallies, one SELECT."""
    rows = db.session.execute(_TALLIES, {"poll": int(request.args["poll"])}).all()
    return jsonify(tallies=[{"id": row.id, "votes": row.vote_count} for row in rows])


_INSERT_COMMENT = bench_comments_table().insert()
_THREAD = text(
    "SELECT c.id, c.parent_id, c.html, c.created_at, c.score, u.id AS author_id, "
    "u.display_name FROM comments c JOIN users u ON u.id = c.author_id "
    "WHERE c.article_id = :article AND c.status = 'published' ORDER BY c.id"
)


@csrf.exempt
def minimal_comment():  # type: ignore[no-untyped-def]
    """One top-level comment with its HTML already rendered, one INSERT, committed."""
    payload = request.get_json(force=True, silent=True) or {}
    db.session.execute(
        _INSERT_COMMENT,
        {
            "article_id": int(payload["article_id"]),
            "author_id": int(payload["author_id"]),
            "body": str(payload["body"]),
            "html": str(payload["html"]),
            "status": "published",
            "created_at": utcnow(),
        },
    )
    db.session.commit()
    return jsonify(stored=True), 201


def comments_read():  # type: ignore[no-untyped-def]
    """A whole thread's stored HTML and authors, one SELECT, as JSON."""
    rows = db.session.execute(_THREAD, {"article": int(request.args["article"])}).all()
    return jsonify(
        items=[
            {
                "id": row.id,
                "parent_id": row.parent_id,
                "author": {"id": row.author_id, "display_name": row.display_name},
                "html": row.html,
                "created_at": str(row.created_at),
                "score": row.score,
            }
            for row in rows
        ]
    )


def article_all(slug: str):  # type: ignore[no-untyped-def]
    """/articles/<slug>, with 100 top-level comments a page instead of 30."""
    from webapp.public import routes

    shown = routes.COMMENTS_PER_PAGE
    routes.COMMENTS_PER_PAGE = 100  # a sync worker serves one request at a time
    try:
        return routes.article(slug)
    finally:
        routes.COMMENTS_PER_PAGE = shown


def empty_page():  # type: ignore[no-untyped-def]
    """A page with nothing in it, through everything every Pulse response passes (its
    WSGI middleware, request hooks, security and cache headers, the request log): the
    least any page of this app costs, no database, no template."""
    return "<!doctype html><title>Nothing</title>"


app.add_url_rule("/bench/empty", view_func=empty_page, methods=["GET"])
app.add_url_rule("/bench/minimal-comment", view_func=minimal_comment, methods=["POST"])
app.add_url_rule("/bench/comments-read", view_func=comments_read, methods=["GET"])
app.add_url_rule("/bench/article-all/<slug>", view_func=article_all, methods=["GET"])
app.add_url_rule("/bench/minimal-vote", view_func=minimal_vote, methods=["POST"])
app.add_url_rule("/bench/tally-vote", view_func=tally_vote, methods=["POST"])
app.add_url_rule("/bench/minimal-read", view_func=minimal_read, methods=["GET"])
